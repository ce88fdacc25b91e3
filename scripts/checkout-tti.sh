#!/usr/bin/env bash
# Measures the checkout page's time to an enabled Pay button in Chromium with 4× CPU throttling (budget 300 ms):
# starts the release server on a scratch database (embedded sandbox) and runs end2end/perf/tti.mjs against it.
# Run after `cargo leptos build --release` and the end2end npm install. Arguments: [runs] (default 7); the
# environment picks the configuration (e.g. PAYMENT_PROVIDER=bambora).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${CARGO_TARGET_DIR:-target}/release/card-checkout
site=${LEPTOS_SITE_ROOT:-target/site}
port=3290
source scripts/release-server.sh
(cd end2end && node perf/tti.mjs "http://127.0.0.1:$port" "${1:-7}")
