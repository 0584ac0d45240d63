#!/usr/bin/env bash
# Soak figure (issue 5): does planrun's memory, or its count of open sockets, grow with
# run length? Runs the example plans' user mix (plans/common.yaml: templated bodies,
# payload files, cookies, 70/20/10 classes) with 1,000 users and short think times
# against the bundled sample API in its own process on 127.0.0.1, and samples planrun's
# resident memory, open file descriptors and threads every few seconds.
#
# Accelerated by default: 1,000 users thinking 300-500 ms send about as many requests in
# 10 minutes as 1,000 users thinking 3 s would in an hour. SOAK_THINK sets the think time
# (`SOAK_THINK="between 1s 3s" bench/soak.sh 60m` is the hour as the seed plans it).
#
# Usage: bench/soak.sh [duration, default 10m] [users, default 1000]
# Prints a per-minute table and the growth after warm-up; the samples go to
# $SOAK_CSV (default: a temporary file, path printed).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10m}
users=${2:-1000}
think=${SOAK_THINK:-between 300ms 500ms}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet
bin=target/release/planrun
work=$(mktemp -d)
csv=${SOAK_CSV:-$work/soak.csv}
trap 'kill $api_pid $run_pid 2>/dev/null || true' EXIT

port=18090
# The plans sign their webhooks; the sample API verifies them with these by default.
export WHATSAPP_APP_SECRET=sample-whatsapp-app-secret
export MERCADOPAGO_WEBHOOK_SECRET=sample-mercadopago-webhook-secret
$bin sample-api --port $port > "$work/api.log" &
api_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/v1/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

cat > "$work/soak.yaml" <<PLAN
extends: $PWD/plans/common.yaml
name: soak-bench
classes:
  ReservationUser: { think-time: $think }
  WhatsAppWebhookUser: { think-time: $think }
  MercadoPagoWebhookUser: { think-time: $think }
load: { users: $users, spawn-rate: 200/s, run-time: $duration, graceful-stop: 5s }
PLAN

$bin "$work/soak.yaml" --host "http://127.0.0.1:$port" --progress plain --out "$work/r" \
  > "$work/run.out" 2> "$work/run.err" &
run_pid=$!

# elapsed seconds, RSS in MB, open fds, sockets among them, threads.
echo "second,rss_mb,fds,sockets,threads" > "$csv"
start=$(date +%s)
while kill -0 $run_pid 2>/dev/null; do
  if [ -r /proc/$run_pid/status ]; then
    rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$run_pid/status 2>/dev/null || true)
    threads=$(awk '/Threads/ {print $2}' /proc/$run_pid/status 2>/dev/null || true)
    fds=$(ls /proc/$run_pid/fd 2>/dev/null | wc -l)
    sockets=$(ls -l /proc/$run_pid/fd 2>/dev/null | grep -c 'socket:' || true)
    [ -n "$rss" ] && echo "$(( $(date +%s) - start )),$rss,$fds,$sockets,$threads" >> "$csv"
  fi
  sleep 5
done
wait $run_pid || true
requests=$(grep -E '^Aggregated' "$work/run.out" | awk '{print $2}')
failures=$(grep -E '^Aggregated' "$work/run.out" | awk '{print $3}')

# Warm-up: the ramp (users / 200 per s) and the first minute, whichever is longer.
warm=$(( users / 200 > 60 ? users / 200 : 60 ))
echo "## planrun soak ($(date -u +%Y-%m-%d), $(nproc) cores, $users users thinking $think, $duration, ${requests:-?} requests, ${failures:-?} failures)"
echo
echo "| minute | RSS MB | open fds | sockets | threads |"
echo "|---|---|---|---|---|"
awk -F, 'NR > 1 { m = int($1 / 60); if (!(m in seen)) { seen[m] = 1; printf "| %d | %s | %s | %s | %s |\n", m, $2, $3, $4, $5 } }' "$csv"
echo
awk -F, -v warm="$warm" '
  NR > 1 && $1 >= warm {
    if (first == "") { first = $2; fds0 = $3 }
    last = $2; if ($2 > max) max = $2; if (min == "" || $2 < min) min = $2
    if ($3 > fdmax) fdmax = $3; if (fdmin == "" || $3 < fdmin) fdmin = $3
  }
  END {
    if (first == "") { print "run too short for a figure after warm-up"; exit }
    printf "after warm-up (%ds): RSS %.1f MB at first, %.1f MB at the end, %.1f to %.1f MB throughout: growth %.1f %% (max over first %.1f %%); open fds %d to %d\n",
      warm, first, last, min, max, (last - first) * 100 / first, (max - first) * 100 / first, fdmin, fdmax
  }' "$csv"
# A machine shared with other work shows here: a stall makes every user's request be in
# flight at once, and the allocator keeps that high-water mark.
grep -E "^\[.*users $users \|" "$work/run.err" | awk -F'|' '
  { rate = $2 + 0; if (min == "" || rate < min) { min = rate; at = $1 } }
  END { if (min != "") printf "slowest progress line: %d req/s at %s\n", min, at }'
echo "samples: $csv"
