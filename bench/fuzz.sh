#!/usr/bin/env bash
# A longer search for inputs that make planrun panic than CI's: the property tests in
# tests/integration/no_panic.rs (arbitrary bytes, near-syntax text, arbitrary plans
# through load and compile) with many more cases, in a release build, for a bounded time.
# A failure prints the minimal input: add it to `regressions()` there, then fix it.
# Usage: bench/fuzz.sh [cases per property, default 100000] [time limit, default 10m]
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-100000}
limit=${2:-10m}
cargo build --release --locked --tests --quiet
status=0
PROPTEST_CASES=$cases timeout "$limit" cargo test --release --locked --test integration no_panic || status=$?
if [ "$status" -eq 124 ]; then
  echo "time limit ($limit) reached before $cases cases: no panic found so far"
  exit 0
fi
exit "$status"
