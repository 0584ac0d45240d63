#!/usr/bin/env bash
# Checks the reports the way people and tools use them:
#   1. runs plans/smoke.yaml against the bundled sample API (with 20-50 ms of latency, so
#      the charts have a shape) and checks the run directory holds all seven files;
#   2. runs the seed plan's pandas snippet ("Análisis con Python") unchanged on the
#      Locust-style stats_history.csv: it plots "95%" against "Timestamp" into a PNG;
#   3. opens report.html in headless Chromium, with name resolution disabled (the report
#      must need no network), and takes a screenshot.
# Look at both PNGs afterwards. Installs what it needs: pandas and matplotlib with pip,
# chromium with apt-get (as root, or through sudo).
#
# Usage: scripts/check-reports.sh [OUT_DIR]      (default target/check-reports, not in git)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/check-reports}"
rm -rf "$out"
mkdir -p "$out/reports"
out="$(cd "$out" && pwd)"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! python3 -c 'import pandas, matplotlib' 2>/dev/null; then
    python3 -m pip install --quiet pandas matplotlib
fi
if ! command -v chromium >/dev/null; then
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq chromium >/dev/null
fi

# 1. The smoke run. `--csv` writes the Locust names the seed's snippet reads.
cargo build --locked --quiet
./target/debug/planrun plans/smoke.yaml --sample-api \
    --sample-latency 20ms --sample-jitter 30ms --progress plain \
    --out "$out/runs" --csv "$out/reports/loadtest_peak" --html "$out/report.html"
run_dir="$(find "$out/runs" -mindepth 1 -maxdepth 1 -type d)"
for file in summary.json stats.csv stats_history.csv failures.csv report.html junit.xml summary.md; do
    [ -s "$run_dir/$file" ] || { echo "check-reports: $run_dir/$file is missing or empty" >&2; exit 1; }
done

# 2. The seed's snippet, verbatim, run where its relative paths point into $out.
(
    cd "$out"
    MPLBACKEND=Agg python3 - <<'PY'
import pandas as pd
import matplotlib.pyplot as plt

# Leer stats history
df = pd.read_csv("reports/loadtest_peak_stats_history.csv")

# Plot P95 latency over time
plt.figure(figsize=(12, 6))
plt.plot(df["Timestamp"], df["95%"], label="P95 Latency")
plt.axhline(y=3000, color='r', linestyle='--', label="SLO (3s)")
plt.xlabel("Time")
plt.ylabel("Latency (ms)")
plt.legend()
plt.savefig("reports/p95_latency_timeline.png")
PY
)

# 3. The HTML report in headless Chromium, offline.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$(mktemp -d)" \
    --screenshot="$out/report.png" --window-size=1400,2600 \
    "file://$run_dir/report.html" 2>/dev/null

for png in "$out/reports/p95_latency_timeline.png" "$out/report.png"; do
    [ -s "$png" ] || { echo "check-reports: $png was not written" >&2; exit 1; }
done
echo
echo "check-reports: all seven files in $run_dir"
echo "  pandas plot: $out/reports/p95_latency_timeline.png"
echo "  screenshot:  $out/report.png"
echo "Look at both."
