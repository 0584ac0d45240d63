#!/usr/bin/env bash
# planrun's benchmark suite (issue 6): planrun beside wrk, oha, Goose and Locust, measured
# in one run on this machine, tools interleaved, medians and planrun's ratios printed as
# Markdown.
#
#   bench/run.sh [--quick] [--runs N] [--only a,b,c,d,e] [--tools wrk,oha,goose,locust]
#                [--baseline PLANRUN-BINARY]
#
# Scenarios (see docs/benchmarks.md):
#   a  max closed-loop req/s: 50 users/connections, no think time          (15 s)
#   b  CPU per request at a fixed 2,000 req/s                             (15 s)
#   c  memory and CPU of 10,000 mostly idle users, 1–3 s think time        (60 s)
#   d  latency fidelity at 200 req/s against a target that answers in 20 ms (15 s)
#   e  plans/peak.yaml (the seed's realistic mix) at 100 users            (30 s)
# --quick shortens every scenario and runs each cell once: a smoke test of the suite,
# not figures to publish. --tools limits the peers (planrun always runs). --baseline runs
# a second planrun binary (an older build) as the tool `planrun-base` in every scenario,
# interleaved with the rest, so a change is judged by same-run ratios (table.py prints
# planrun ÷ planrun-base).
#
# Every target listens on 127.0.0.1 only and is stopped by PID on exit; every generator
# runs under `timeout`. CPU = user + sys of the generator process (and its children),
# from GNU time; RSS = its peak resident set. Request counts and rates come from the
# target (nginx's access log), so every tool is counted the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

runs=3 quick=0 only=a,b,c,d,e tools=wrk,oha,goose,locust baseline=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --runs) runs=$2; shift ;;
    --only) only=$2; shift ;;
    --tools) tools=$2; shift ;;
    --baseline) baseline=$(realpath "$2"); shift ;;
    *) echo "usage: bench/run.sh [--quick] [--runs N] [--only a,b,c,d,e]" \
      "[--tools wrk,oha,goose,locust] [--baseline PLANRUN-BINARY]" >&2; exit 2 ;;
  esac
  shift
done
if [ $quick = 1 ]; then
  secs_a=5 secs_b=5 secs_c=15 secs_d=5 secs_e=10
  [ "$runs" = 3 ] && runs=1
else
  secs_a=15 secs_b=15 secs_c=60 secs_d=15 secs_e=30
fi

bench=$root/target/bench
work=$(mktemp -d)
results=$bench/results-$(date -u +%Y%m%dT%H%M%SZ).tsv
nginx_port=18481 delay_port=18482 api_port=18483
pids=()
generator=

# Stops the running generator and every server this script started, by PID, and removes
# the scratch directory.
cleanup() {
  [ -n "$generator" ] && kill_tree "$generator"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
# Stops a process and its descendants, children first, by PID.
kill_tree() {
  local child
  for child in $(pgrep -P "$1"); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------------------------------
# Tools. Each is installed only when missing; versions go into the report.

install_tools() {
  mkdir -p "$bench"
  if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null || [ ! -x /usr/bin/time ]; then
    log "installing nginx, wrk and GNU time with apt"
    apt-get install -y -qq nginx-light wrk time >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y -qq nginx-light wrk time >/dev/null; }
  fi
  command -v oha >/dev/null || { log "installing oha"; cargo install oha --locked; }
  if uses locust && [ ! -x "$bench/venv/bin/locust" ]; then
    log "installing Locust into target/bench/venv"
    python3 -m venv "$bench/venv"
    "$bench/venv/bin/pip" install -q locust
  fi
  if uses goose; then
    log "building the Goose peer (bench/goose, its own workspace)"
    (cd bench/goose && CARGO_TARGET_DIR="$bench/goose" cargo build --release --quiet)
  fi
  log "building planrun"
  cargo build --release --quiet
  # The suite runs its own copy, so a rebuild while it runs cannot swap binaries mid-table.
  # (Copied then renamed: a copy still running elsewhere keeps its old file.)
  cp target/release/planrun "$planrun.new" && mv -f "$planrun.new" "$planrun"
  if [ -n "$baseline" ]; then cp "$baseline" "$planrun_base.new" && mv -f "$planrun_base.new" "$planrun_base"; fi
}

# uses TOOL: whether --tools asked for this peer.
uses() { case ,$tools, in *,$1,*) return 0 ;; *) return 1 ;; esac; }

# The tools of one scenario, in the order of its run: the peers --tools asked for, then
# planrun, then planrun-base when --baseline gave one.
tools_of() {
  local run=$1 list="" tool
  for tool in $2; do uses "$tool" && list="$list $tool"; done
  list="$list planrun"
  [ -n "$baseline" ] && list="$list planrun-base"
  order "$run" "${list# }"
}

planrun=$bench/planrun
planrun_base=$bench/planrun-base
goose=$bench/goose/release/planrun-bench-goose
locust=$bench/venv/bin/locust

tool_versions() {
  echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $(oha --version)," \
    "Goose $(grep -A1 'name = "goose"' bench/goose/Cargo.lock | awk -F'"' '/version/ {print $2}')," \
    "Locust $("$locust" --version 2>&1 | awk '{print $2}'), $(nginx -v 2>&1 | sed 's/.*: //')," \
    "planrun $(git rev-parse --short HEAD)${baseline:+, planrun-base $baseline}"
}

# ---------------------------------------------------------------------------------------
# Targets.

# nginx, one process (no master), one worker core's worth: the generator gets the other
# core. It serves a static ~200-byte JSON with keep-alive and logs only `$msec` per
# request, buffered, so counting a run's requests costs it little.
start_nginx() {
  mkdir -p "$work/nginx/html"
  printf '%s' '{"status":"ok","service":"planrun-bench","items":[{"id":1,"name":"alpha","price":120.5},{"id":2,"name":"beta","price":99.0}],"updated":"2026-11-26T00:00:00Z","note":"static keep-alive target"}' \
    > "$work/nginx/html/data.json"
  cat > "$work/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 30000; }
http {
  log_format bench '\$msec';
  access_log $work/nginx/access.log bench buffer=256k flush=1s;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp;
  fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp;
  scgi_temp_path $work/nginx/tmp;
  server {
    listen 127.0.0.1:$nginx_port backlog=4096;
    root $work/nginx/html;
    location = /data.json { default_type application/json; }
  }
}
CONF
  mkdir -p "$work/nginx/tmp"
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  pids+=($!)
  wait_for "http://127.0.0.1:$nginx_port/data.json"
}

start_delay() {
  python3 bench/delay_server.py $delay_port 20 &
  pids+=($!)
  wait_for "http://127.0.0.1:$delay_port/stats"
}

start_api() {
  "$planrun" sample-api --port $api_port > "$work/api.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$api_port/api/v1/healthz"
}

wait_for() {
  for _ in $(seq 100); do curl -sf "$1" >/dev/null 2>&1 && return; sleep 0.1; done
  log "target $1 did not come up"; exit 1
}

# Requests nginx served since the last call, and their rate over the span between the
# first and the last (so tools that take a second to start are not charged for it). The
# log is flushed every second; then it is emptied for the next measurement.
nginx_count() {
  sleep 1.5
  awk 'NR == 1 {first = $1} {last = $1} END {
         span = last - first; printf "%d %.1f\n", NR, (span > 0 ? NR / span : 0) }' \
    "$work/nginx/access.log"
  : > "$work/nginx/access.log"
}

# ---------------------------------------------------------------------------------------
# Measuring one generator run.

# measure SCENARIO TOOL RUN SECONDS -- COMMAND…: runs COMMAND under GNU time, bounded by
# `timeout`, and records cpu_s and rss_mb (and, for nginx targets, requests and rps).
measure() {
  local scenario=$1 tool=$2 run=$3 secs=$4; shift 5
  local tag="$work/$scenario-$tool-$run"
  log "($scenario) run $run: $tool"
  # In the background and waited for, so that Ctrl-C reaches the trap at once; the trap
  # stops the generator's own process (GNU time does not pass signals on).
  timeout -k 10 $((secs + 60)) /usr/bin/time -v -o "$tag.time" "$@" > "$tag.out" 2> "$tag.err" &
  generator=$!
  wait $generator || log "($scenario) $tool exited with $? (see $tag.err)"
  generator=
  record "$scenario" "$tool" "$run" cpu_s \
    "$(awk '/User time/ {u=$4} /System time/ {s=$4} END {printf "%.3f", u+s}' "$tag.time")"
  record "$scenario" "$tool" "$run" rss_mb \
    "$(awk '/Maximum resident/ {printf "%.1f", $6/1024}' "$tag.time")"
  if [ "$scenario" != d ] && [ "$scenario" != e ] && [ "$scenario" != e2 ]; then
    read -r requests rps < <(nginx_count)
    record "$scenario" "$tool" "$run" requests "$requests"
    record "$scenario" "$tool" "$run" rps "$rps"
  fi
}

record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$results"; }

# Writes a planrun plan with one class that GETs /data.json: plan NAME CLASS-KEYS LOAD.
plan() {
  cat > "$work/$1.yaml" <<PLAN
host: http://127.0.0.1:$nginx_port
classes:
  Json:
    think-time: $2
    tasks: { json: { path: /data.json } }
load: $3
PLAN
}

nginx_url=http://127.0.0.1:$nginx_port
# planrun's flags for every run: no progress display, reports into the scratch directory.
run_planrun=("$planrun" --progress off --out "$work/reports")
run_base=("$planrun_base" --progress off --out "$work/reports")

# The order of tools alternates run by run (A B C … then … C B A), so a slow drift of the
# machine's load does not always favour the same tool.
order() { if [ $(($1 % 2)) = 1 ]; then echo "$2"; else echo "$2" | tr ' ' '\n' | tac | tr '\n' ' '; fi; }

scenario_a() {
  local s=$secs_a
  plan a none "{ users: 50, spawn-rate: 10000/s, run-time: ${s}s, graceful-stop: 2s }"
  for run in $(seq "$runs"); do
    for tool in $(tools_of "$run" "wrk oha goose locust"); do
      case $tool in
        wrk) measure a wrk "$run" "$s" -- wrk -t2 -c50 -d"${s}s" "$nginx_url/data.json" ;;
        oha) measure a oha "$run" "$s" -- oha --no-tui -c 50 -z "${s}s" "$nginx_url/data.json" ;;
        goose) measure a goose "$run" "$s" -- "$goose" --host "$nginx_url" --users 50 \
          --increase-rate 50 --run-time "${s}s" --quiet --no-print-metrics ;;
        locust) measure a locust "$run" "$s" -- env BENCH_WAIT=none "$locust" -f bench/locustfile.py \
          --headless -u 50 -r 50 -t "${s}s" -H "$nginx_url" --only-summary --loglevel WARNING ;;
        planrun) measure a planrun "$run" "$s" -- "${run_planrun[@]}" "$work/a.yaml" ;;
        planrun-base) measure a planrun-base "$run" "$s" -- "${run_base[@]}" "$work/a.yaml" ;;
      esac
    done
  done
}

scenario_b() {
  local s=$secs_b
  plan b none "{ rate: 2000/s, run-time: ${s}s }"
  for run in $(seq "$runs"); do
    for tool in $(tools_of "$run" "oha goose locust"); do
      case $tool in
        oha) measure b oha "$run" "$s" -- oha --no-tui -c 50 -q 2000 -z "${s}s" "$nginx_url/data.json" ;;
        goose) measure b goose "$run" "$s" -- "$goose" --host "$nginx_url" --users 50 \
          --increase-rate 50 --run-time "${s}s" --throttle-requests 2000 --quiet --no-print-metrics ;;
        locust) measure b locust "$run" "$s" -- env BENCH_WAIT=throughput:10 "$locust" \
          -f bench/locustfile.py --headless -u 200 -r 200 -t "${s}s" -H "$nginx_url" \
          --only-summary --loglevel WARNING ;;
        planrun) measure b planrun "$run" "$s" -- "${run_planrun[@]}" "$work/b.yaml" ;;
        planrun-base) measure b planrun-base "$run" "$s" -- "${run_base[@]}" "$work/b.yaml" ;;
      esac
    done
  done
}

scenario_c() {
  local s=$secs_c
  plan c "between 1s 3s" "{ users: 10000, spawn-rate: 1000/s, run-time: ${s}s, graceful-stop: 3s }"
  for run in $(seq "$runs"); do
    for tool in $(tools_of "$run" "goose locust"); do
      case $tool in
        goose) measure c goose "$run" "$s" -- env BENCH_WAIT=between:1:3 "$goose" --host "$nginx_url" \
          --users 10000 --increase-rate 1000 --run-time "${s}s" --quiet --no-print-metrics ;;
        locust) measure c locust "$run" "$s" -- env BENCH_WAIT=between:1:3 "$locust" \
          -f bench/locustfile.py --headless -u 10000 -r 1000 -t "${s}s" -H "$nginx_url" \
          --only-summary --loglevel WARNING ;;
        planrun) measure c planrun "$run" "$s" -- "${run_planrun[@]}" "$work/c.yaml" ;;
        planrun-base) measure c planrun-base "$run" "$s" -- "${run_base[@]}" "$work/c.yaml" ;;
      esac
    done
  done
}

# (d) compares service times (sent → answered): oha without its latency correction,
# planrun's `service_percentiles_ms`, and the target's own held time from `/stats`.
scenario_d() {
  local s=$secs_d url=http://127.0.0.1:$delay_port
  plan d none "{ rate: 200/s, run-time: ${s}s }"
  sed -i "s|^host: .*|host: $url|" "$work/d.yaml"
  for run in $(seq "$runs"); do
    for tool in $(order "$run" "$(uses oha && echo "oha ")planrun"); do
      curl -sf "$url/stats" >/dev/null
      case $tool in
        oha) measure d oha "$run" "$s" -- oha --no-tui --output-format json -c 50 -q 200 \
          -z "${s}s" "$url/data.json"
          read -r p50 p99 < <(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["latencyPercentiles"]
print("%.3f %.3f" % (p["p50"]*1000, p["p99"]*1000))' "$work/d-oha-$run.out") ;;
        planrun) rm -rf "$work/reports"; measure d planrun "$run" "$s" -- "${run_planrun[@]}" "$work/d.yaml"
          read -r p50 p99 < <(python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["aggregate"]
p=a.get("service_percentiles_ms") or a["percentiles_ms"]
print("%.3f %.3f" % (p["50"], p["99"]))' "$(find "$work/reports" -name summary.json | head -1)") ;;
      esac
      record d "$tool" "$run" p50_ms "$p50"
      record d "$tool" "$run" p99_ms "$p99"
      read -r p50 p99 < <(curl -sf "$url/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin)
print(s["p50_ms"], s["p99_ms"])')
      record d "server-$tool" "$run" p50_ms "$p50"
      record d "server-$tool" "$run" p99_ms "$p99"
    done
  done
}

# (e) plans/peak.yaml against the sample API in its own process: its requests are
# counted from planrun's own summary (the sample API keeps no access log).
# (e) as the issue words it, plans/peak.yaml at 100 users, runs at about 40 req/s, where
# each request costs mostly the wake-ups of an idle process; (e2) drives the same mix
# (its classes, payload templates, signatures and checks) at (b)'s 2,000 req/s, so the
# two compare per request at the same rate.
scenario_e() {
  local s=$secs_e
  local secrets=(WHATSAPP_APP_SECRET=sample-whatsapp-app-secret
    MERCADOPAGO_WEBHOOK_SECRET=sample-mercadopago-webhook-secret)
  for run in $(seq "$runs"); do
    rm -rf "$work/reports"
    measure e planrun "$run" "$s" -- env "${secrets[@]}" \
      "${run_planrun[@]}" plans/peak.yaml -u 100 -t "${s}s" --host "http://127.0.0.1:$api_port"
    record e planrun "$run" requests "$(requests_in_summary)"
    rm -rf "$work/reports"
    measure e2 planrun "$run" "$s" -- env "${secrets[@]}" \
      "${run_planrun[@]}" plans/peak.yaml --set "load={ rate: 2000/s, run-time: ${s}s }" \
      --host "http://127.0.0.1:$api_port"
    record e2 planrun "$run" requests "$(requests_in_summary)"
  done
}

# The request count of the run just written under $work/reports.
requests_in_summary() {
  python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["aggregate"]["count"])' \
    "$(find "$work/reports" -name summary.json | head -1)"
}

main() {
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  # Other builds share this machine. Raising the suite's priority (targets and every
  # generator alike, so none is favoured) keeps them from stealing the cores mid-run;
  # without root this fails quietly and the interleaving alone has to even things out.
  renice -n -10 $$ >/dev/null 2>&1 || true
  install_tools
  start_nginx
  : > "$work/nginx/access.log"
  case ,$only, in *,d,*) start_delay ;; esac
  case ,$only, in *,e,*) start_api ;; esac
  log "results: $results"
  local s
  for s in a b c d e; do
    case ,$only, in *,$s,*) "scenario_$s" ;; esac
  done
  echo "## planrun beside wrk, oha, Goose and Locust"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end), $runs interleaved run(s) per cell," \
    "durations a ${secs_a}s, b ${secs_b}s, c ${secs_c}s, d ${secs_d}s, e ${secs_e}s."
  echo "Tools: $(tool_versions)."
  echo
  python3 bench/table.py "$results"
}

main
