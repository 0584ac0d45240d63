#!/usr/bin/env python3
"""Scenario (d)'s target: answers every GET after 20 ms and measures that time itself.

Why not nginx: stock nginx cannot delay a response without the echo module. Why not
`planrun sample-api --latency 20ms`: it does not report how long it really held each
request, and (d) compares the generators against the server's own measured time.

The time is measured from the moment the request head is parsed to the moment the
response is handed to the socket, with perf_counter_ns. `GET /stats` returns the p50 and
p99 (in ms) of the requests since the previous `/stats` and starts a new tally; it is not
delayed and not counted. Keep-alive, HTTP/1.1 only, bodies ignored: enough for GETs.

Usage: delay_server.py PORT [DELAY_MS]
"""
import asyncio
import sys
import time

BODY = (b'{"status":"ok","service":"bench-delay","delay_ms":20,'
        b'"items":[{"id":1,"name":"alpha"},{"id":2,"name":"beta"}],'
        b'"note":"planrun bench target; every response takes twenty milliseconds"}')
HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\n\r\n" % len(BODY))
held_ns = []


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


async def serve(reader, writer, delay_s):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            start = time.perf_counter_ns()
            if head.startswith(b"GET /stats "):
                stats = b"{}"
                if held_ns:
                    stats = b'{"count":%d,"p50_ms":%.3f,"p99_ms":%.3f}' % (
                        len(held_ns), percentile(held_ns, 0.5), percentile(held_ns, 0.99))
                held_ns.clear()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(stats), stats))
                continue
            await asyncio.sleep(delay_s)
            writer.write(HEAD + BODY)
            held_ns.append(time.perf_counter_ns() - start)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    port = int(sys.argv[1])
    delay_s = float(sys.argv[2] if len(sys.argv) > 2 else 20) / 1000
    server = await asyncio.start_server(lambda r, w: serve(r, w, delay_s), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
