#!/usr/bin/env bash
# Scenario (f) of issue 15: peak RSS and CPU of 10,000 mostly idle users (1–3 s think
# time) over HTTPS against nginx with TLS on loopback, beside the same plan over HTTP, in
# one run, interleaved (HTTP, HTTPS, then HTTPS, HTTP, …).
#
#   bench/tls_idle.sh [--secs S] [--runs N]      (defaults: 60 s, 3 runs)
#
# The CA and nginx's certificate are generated with openssl under a temporary directory
# (nothing is committed); the plan trusts the CA with `tls.ca-file`. nginx listens on
# 127.0.0.1 only and is stopped by PID on exit; planrun runs under `timeout`. RSS is
# planrun's peak resident set and CPU its user + sys time, from GNU time; requests come
# from nginx's access log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

secs=60 runs=3
while [ $# -gt 0 ]; do
  case $1 in
    --secs) secs=$2; shift ;;
    --runs) runs=$2; shift ;;
    *) echo "usage: bench/tls_idle.sh [--secs S] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v nginx >/dev/null || ! command -v openssl >/dev/null || [ ! -x /usr/bin/time ]; then
  apt-get install -y -qq nginx-light openssl time >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq nginx-light openssl time >/dev/null; }
fi
cargo build --release --locked --quiet
planrun=$root/target/release/planrun
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
http_port=18491 https_port=18492
nginx_pid=
cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A CA, and a certificate it signs for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=planrun bench CA" -keyout "$work/ca-key.pem" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$work/server-key.pem" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" \
  -CAcreateserial -days 2 -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null

mkdir -p "$work/nginx/html" "$work/nginx/tmp"
printf '%s' '{"status":"ok","service":"planrun-bench"}' > "$work/nginx/html/data.json"
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
  ssl_session_cache shared:tls:20m;
  server {
    listen 127.0.0.1:$http_port backlog=4096;
    listen 127.0.0.1:$https_port ssl backlog=4096;
    ssl_certificate $work/server.pem;
    ssl_certificate_key $work/server-key.pem;
    root $work/nginx/html;
    location = /data.json { default_type application/json; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in $(seq 50); do
  curl -sf --cacert "$work/ca.pem" "https://127.0.0.1:$https_port/data.json" >/dev/null && break
  sleep 0.1
done

# plan SCHEME: 10,000 users GETting /data.json with 1–3 s think time.
plan() {
  cat > "$work/$1.yaml" <<PLAN
host: $1://127.0.0.1:$([ "$1" = https ] && echo $https_port || echo $http_port)
tls: { ca-file: $work/ca.pem }
connection-idle: 10s
classes:
  Idle:
    think-time: between 1s 3s
    tasks: { json: { path: /data.json } }
load: { users: 10000, spawn-rate: 1000/s, run-time: ${secs}s, graceful-stop: 3s }
PLAN
}
plan http
plan https

printf '| run | scheme | peak RSS, MB | CPU, s | requests | failures |\n|---|---|---|---|---|---|\n'
for run in $(seq "$runs"); do
  order="http https"
  [ $((run % 2)) = 0 ] && order="https http"
  for scheme in $order; do
    : > "$work/nginx/access.log"
    /usr/bin/time -f '%M %U %S' -o "$work/time" \
      timeout $((secs + 60)) "$planrun" "$work/$scheme.yaml" --no-preflight --progress off \
      --out "$work/reports" >/dev/null 2>"$work/stderr" || true
    sleep 1.5 # nginx flushes its log buffer every second
    read -r rss_kb user sys < "$work/time"
    summary=$(ls -d "$work"/reports/*/ | tail -1)summary.json
    failures=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['aggregate']['failures'])" "$summary")
    requests=$(wc -l < "$work/nginx/access.log")
    printf '| %s | %s | %.1f | %.1f | %s | %s |\n' "$run" "$scheme" \
      "$(echo "$rss_kb / 1024" | bc -l)" "$(echo "$user + $sys" | bc -l)" "$requests" "$failures"
  done
done
