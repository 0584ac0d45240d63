#!/usr/bin/env bash
# Core performance figures (issue 2), measured in one run on this machine:
#  1. resident memory of 10,000 virtual users with 1–3 s think time;
#  2. CPU time per request at a fixed 2,000 req/s, planrun vs oha, same target.
# Target: the bundled sample API in its own process on 127.0.0.1 (a static JSON endpoint).
# Usage: bench/core.sh [seconds-per-measurement]   (installs oha with cargo if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
command -v oha >/dev/null || cargo install oha --locked
cargo build --release --quiet
bin=target/release/planrun
work=$(mktemp -d)
trap 'kill $api_pid 2>/dev/null || true; rm -rf "$work"' EXIT

port=18080
$bin sample-api --port $port > "$work/api.log" &
api_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/v1/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# CPU seconds (user+sys) and peak RSS (MB) from GNU time's -v report.
cpu_of() { awk '/User time/ {u=$4} /System time/ {s=$4} END {printf "%.3f", u+s}' "$1"; }
rss_of() { awk '/Maximum resident/ {printf "%.1f", $6/1024}' "$1"; }
# Runs $work/NAME.yaml against the sample API under GNU time: NAME.out, NAME.time.
run_planrun() {
  /usr/bin/time -v $bin "$work/$1.yaml" --host "http://127.0.0.1:$port" --progress off --out "$work/r" \
    > "$work/$1.out" 2> "$work/$1.time" || true
}
requests_of() { grep -E '^Aggregated' "$1" | awk '{print $2}'; }

cat > "$work/idle.yaml" <<PLAN
classes:
  Idle:
    think-time: between 1s 3s
    tasks: { health: { path: /api/v1/healthz } }
load: { users: 10000, spawn-rate: 1000/s, run-time: ${secs}s, graceful-stop: 3s }
PLAN
run_planrun idle
idle_requests=$(requests_of "$work/idle.out")
idle_rss=$(rss_of "$work/idle.time")
idle_cpu=$(cpu_of "$work/idle.time")

users=200
cat > "$work/fixed.yaml" <<PLAN
classes:
  Fixed:
    think-time: pacing 100ms
    tasks: { health: { path: /api/v1/healthz } }
load: { users: $users, spawn-rate: 10000/s, run-time: ${secs}s, graceful-stop: 2s }
PLAN
run_planrun fixed
planrun_requests=$(requests_of "$work/fixed.out")
planrun_cpu=$(cpu_of "$work/fixed.time")
planrun_rss=$(rss_of "$work/fixed.time")

/usr/bin/time -v oha --no-tui -q 2000 -z "${secs}s" -c $users "http://127.0.0.1:$port/api/v1/healthz" \
  > "$work/oha.out" 2> "$work/oha.time" || true
oha_requests=$(awk '/\[200\]/ {print $2}' "$work/oha.out" | head -1)
oha_cpu=$(cpu_of "$work/oha.time")
oha_rss=$(rss_of "$work/oha.time")

per10k() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.3f", c * 10000 / n; else print "n/a" }'; }
p10=$(per10k "$planrun_cpu" "$planrun_requests"); o10=$(per10k "$oha_cpu" "$oha_requests")
ratio=$(awk -v a="$p10" -v b="$o10" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')

echo "## planrun core figures ($(date -u +%Y-%m-%d), $(nproc) cores, ${secs}s per measurement)"
echo
echo "| measurement | planrun | oha | planrun / oha |"
echo "|---|---|---|---|"
echo "| 10,000 users, 1–3 s think: peak RSS | ${idle_rss} MB (${idle_requests} requests, ${idle_cpu} CPU-s) | | |"
echo "| fixed 2,000 req/s: requests completed | ${planrun_requests} | ${oha_requests} | |"
echo "| fixed 2,000 req/s: CPU-s per 10k requests | ${p10} | ${o10} | ${ratio} |"
echo "| fixed 2,000 req/s: peak RSS | ${planrun_rss} MB | ${oha_rss} MB | |"
