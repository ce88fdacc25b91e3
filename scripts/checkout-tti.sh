#!/usr/bin/env bash
# Measures the checkout page's time to an enabled Pay button in Chromium with 4× CPU throttling (budget 300 ms):
# starts the release server on a scratch database (embedded sandbox) and runs end2end/perf/tti.mjs against it.
# Run after `cargo leptos build --release` and the end2end npm install. Arguments: [runs] (default 7); the
# environment picks the configuration (e.g. PAYMENT_PROVIDER=bambora).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${CARGO_TARGET_DIR:-target}/release/card-checkout
port=3290
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" || break
  port=$((port + 1))
done
scratch=$(mktemp -d)
APP_ADDR=127.0.0.1:$port DATABASE_URL="sqlite://$scratch/tti.db" LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}" \
  LEPTOS_ENV=PROD LOG_LEVEL=warn "$binary" >"$scratch/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$scratch"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 $server 2>/dev/null || { cat "$scratch/server.log" >&2; exit 1; }
  sleep 0.1
done
(cd end2end && node perf/tti.mjs "http://127.0.0.1:$port" "${1:-7}")
