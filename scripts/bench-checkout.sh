#!/usr/bin/env bash
# Builds the release app and the CPU benchmark, then runs it: the app pinned to core 1, the standalone
# sandbox and the load generator to core 0 (needs 2 cores and taskset). Arguments, all optional:
#   scripts/bench-checkout.sh [step_secs=5] [runs=5] [run_secs=10] [rate_step=100]
# Figures on stdout; one run's per-second series in target/bench-checkout-series.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --bin card-checkout --example bench_cpu
APP_BIN="$target/release/card-checkout" exec "$target/release/examples/bench_cpu" "$@"
