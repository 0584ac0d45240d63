#!/usr/bin/env python3
"""Turns bench/run.sh's results (TSV: scenario, tool, run, metric, value) into Markdown:
medians over the runs, planrun's ratio to each peer, and the issue's goals.

    table.py RESULTS.tsv                   # the tables
    table.py RESULTS.tsv --against OLD.tsv # also: how far each ratio moved since OLD
"""
import statistics
import sys
from collections import defaultdict

PEERS = ["wrk", "oha", "goose", "locust"]
NAMES = {"wrk": "wrk", "oha": "oha", "goose": "Goose", "locust": "Locust FastHttpUser",
         "planrun": "planrun", "planrun-base": "planrun-base"}


def load(path):
    """{(scenario, tool, metric): {run: value}}, with CPU per 10k requests derived."""
    cells = defaultdict(dict)
    for line in open(path):
        scenario, tool, run, metric, value = line.rstrip("\n").split("\t")
        try:
            cells[(scenario, tool, metric)][run] = float(value)
        except ValueError:
            pass  # a tool that failed to report leaves its cell empty
    for (scenario, tool, metric), by_run in list(cells.items()):
        # (d): how much later than the target's own held time each tool saw the answer,
        # run by run; the target's timing differs with the arrival pattern each tool makes.
        own = cells.get((scenario, f"server-{tool}", metric))
        if scenario == "d" and own:
            cells[(scenario, tool, f"{metric}_over_target")] = {
                run: value - own[run] for run, value in by_run.items() if run in own}
    for (scenario, tool, metric), by_run in list(cells.items()):
        if metric != "cpu_s":
            continue
        requests = cells.get((scenario, tool, "requests"), {})
        cells[(scenario, tool, "cpu_per_10k")] = {
            run: cpu * 10_000 / requests[run] for run, cpu in by_run.items() if requests.get(run)}
    return cells


def median(cells, scenario, tool, metric):
    values = list(cells.get((scenario, tool, metric), {}).values())
    return statistics.median(values) if values else None


# (scenario, metric, label, format, better): the rows of the table.
ROWS = [
    ("a", "rps", "(a) max closed-loop req/s, 50 users, no think time", "{:,.0f}", "higher"),
    ("a", "cpu_per_10k", "(a) CPU-s per 10k requests", "{:.3f}", "lower"),
    ("a", "rss_mb", "(a) peak RSS, MB", "{:.1f}", "lower"),
    ("b", "cpu_per_10k", "(b) CPU-s per 10k requests at 2,000 req/s", "{:.3f}", "lower"),
    ("b", "rps", "(b) req/s achieved", "{:,.0f}", "higher"),
    ("b", "rss_mb", "(b) peak RSS, MB", "{:.1f}", "lower"),
    ("c", "rss_mb", "(c) 10,000 users, 1–3 s think: peak RSS, MB", "{:.1f}", "lower"),
    ("c", "cpu_s", "(c) CPU-s for the whole run", "{:.1f}", "lower"),
    ("c", "rps", "(c) req/s served", "{:,.0f}", "higher"),
    ("d", "p50_ms", "(d) 20 ms target at 200 req/s: p50, ms", "{:.3f}", "closer"),
    ("d", "p99_ms", "(d) p99, ms", "{:.3f}", "closer"),
    ("d", "p50_ms_over_target", "(d) p50 beyond the target's own held time, ms", "{:+.3f}", "closer"),
    ("d", "p99_ms_over_target", "(d) p99 beyond the target's own held time, ms", "{:+.3f}", "closer"),
    ("e", "cpu_per_10k", "(e) plans/peak.yaml, 100 users: CPU-s per 10k requests", "{:.3f}", "lower"),
    ("e", "rss_mb", "(e) peak RSS, MB", "{:.1f}", "lower"),
    ("e2", "cpu_per_10k", "(e2) the same mix at 2,000 req/s: CPU-s per 10k requests", "{:.3f}", "lower"),
    ("e2", "rss_mb", "(e2) peak RSS, MB", "{:.1f}", "lower"),
]


def fmt(value, pattern):
    return "" if value is None else pattern.format(value)


def ratios(cells):
    """{(row label, peer): planrun ÷ peer} for every row both measured."""
    out = {}
    for scenario, metric, label, _, better in ROWS:
        mine = median(cells, scenario, "planrun", metric)
        for peer in PEERS:
            theirs = median(cells, scenario, peer, metric)
            if mine is not None and theirs and better != "closer":
                out[(label, peer)] = mine / theirs
    return out


def goals(cells):
    """[(goal, measured, met)] for the issue's five goals."""
    out = []
    m = lambda s, t, k: median(cells, s, t, k)  # noqa: E731
    best = max(filter(None, [m("a", "wrk", "rps"), m("a", "oha", "rps")]), default=None)
    mine = m("a", "planrun", "rps")
    if best and mine:
        out.append(("(a) req/s ≥ 0.9× the better of wrk and oha", f"{mine / best:.2f}×", mine / best >= 0.9))
    mine = m("b", "planrun", "cpu_per_10k")
    peers = [v for v in (m("b", p, "cpu_per_10k") for p in PEERS) if v]
    if mine and peers:
        out.append(("(b) CPU per request ≤ the lowest peer's",
                    f"{mine:.3f} vs {min(peers):.3f} CPU-s/10k ({mine / min(peers):.2f}×)",
                    mine <= min(peers)))
    mine = m("c", "planrun", "rss_mb")
    if mine:
        out.append(("(c) 10,000 users in ≤ 64 MB", f"{mine:.1f} MB", mine <= 64))
    for q in ("p50_ms", "p99_ms"):
        mine, theirs = m("d", "planrun", q), m("d", "oha", q)
        extra, extra_oha = m("d", "planrun", q + "_over_target"), m("d", "oha", q + "_over_target")
        if mine is not None and theirs is not None:
            out.append((f"(d) {q[:3]} within 0.3 ms of oha's", f"{mine - theirs:+.3f} ms", abs(mine - theirs) <= 0.3))
        if extra is not None and extra_oha is not None:
            out.append((f"(d) {q[:3]} beyond the target's own time, within 0.3 ms of oha's",
                        f"{extra:+.3f} vs {extra_oha:+.3f} ms ({extra - extra_oha:+.3f})",
                        abs(extra - extra_oha) <= 0.3))
    base = m("b", "planrun", "cpu_per_10k")
    for scenario, label in (("e", "(e) realistic mix, 100 users (~40 req/s), ≤ 2× (b) per request"),
                            ("e2", "(e2) realistic mix at (b)'s 2,000 req/s, ≤ 2× (b) per request")):
        mine = m(scenario, "planrun", "cpu_per_10k")
        if mine and base:
            out.append((label, f"{mine / base:.2f}×", mine <= 2 * base))
    return out


def print_against_base(cells):
    """planrun ÷ planrun-base per row (bench/run.sh --baseline): a change's cost, same run."""
    print()
    print("planrun ÷ planrun-base (the --baseline binary), medians of the same run:")
    print()
    print("| measurement | planrun | planrun-base | ratio | better is |")
    print("|---|---|---|---|---|")
    for scenario, metric, label, pattern, better in ROWS:
        mine = median(cells, scenario, "planrun", metric)
        base = median(cells, scenario, "planrun-base", metric)
        if mine is not None and base:
            print(f"| {label} | {fmt(mine, pattern)} | {fmt(base, pattern)} | {mine / base:.3f} | {better} |")


def main():
    cells = load(sys.argv[1])
    tools = PEERS + ["planrun"]
    if any(tool == "planrun-base" for _, tool, _ in cells):
        tools.append("planrun-base")
    print("| measurement | " + " | ".join(NAMES[t] for t in tools) + " | the target's own |")
    print("|---|" + "---|" * (len(tools) + 1))
    for scenario, metric, label, pattern, _ in ROWS:
        values = [median(cells, scenario, t, metric) for t in tools]
        if all(v is None for v in values):
            continue
        own = ""
        if scenario == "d" and metric in ("p50_ms", "p99_ms"):
            own = " / ".join(f"{fmt(median(cells, 'd', f'server-{t}', metric), pattern)} under {t}"
                             for t in ("oha", "planrun"))
        print(f"| {label} | " + " | ".join(fmt(v, pattern) for v in values) + f" | {own} |")
    print()
    found = ratios(cells)
    print("planrun ÷ peer (medians of the same run; for req/s higher is better, else lower):")
    print()
    print("| measurement | " + " | ".join(NAMES[p] for p in PEERS) + " |")
    print("|---|" + "---|" * len(PEERS))
    for _, _, label, _, _ in ROWS:
        row = [found.get((label, p)) for p in PEERS]
        if any(v is not None for v in row):
            print(f"| {label} | " + " | ".join(fmt(v, "{:.2f}") for v in row) + " |")
    print()
    print("| goal | measured | met |")
    print("|---|---|---|")
    for goal, measured, met in goals(cells):
        print(f"| {goal} | {measured} | {'yes' if met else '**no**'} |")
    if "planrun-base" in tools:
        print_against_base(cells)
    if len(sys.argv) > 3 and sys.argv[2] == "--against":
        old = ratios(load(sys.argv[3]))
        print()
        print("| ratio | this run | other run | change |")
        print("|---|---|---|---|")
        for key, value in found.items():
            if key in old:
                change = value / old[key] - 1
                print(f"| {key[0]} ÷ {NAMES[key[1]]} | {value:.2f} | {old[key]:.2f} | {change:+.0%} |")


if __name__ == "__main__":
    main()
