"""The Locust peer of bench/run.sh: FastHttpUser GETs /data.json.

BENCH_WAIT picks the wait time: `none` (closed loop, scenario a), `throughput:N`
(N tasks a second per user, scenario b) or `between:A:B` seconds (idle users, scenario c).
"""
import os

from locust import FastHttpUser, between, constant, constant_throughput, task

kind, *args = os.environ.get("BENCH_WAIT", "none").split(":")


class Json(FastHttpUser):
    if kind == "throughput":
        wait_time = constant_throughput(float(args[0]))
    elif kind == "between":
        wait_time = between(float(args[0]), float(args[1]))
    else:
        wait_time = constant(0)

    @task
    def json(self):
        self.client.get("/data.json")
