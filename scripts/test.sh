#!/usr/bin/env bash
# Sets up (Chromium included) and runs every test: cargo's unit and integration tests, then the Playwright
# suite against a release build. Prints how long each phase took and the bundle size report.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
source scripts/env.sh
export CARGO_TERM_COLOR=never

phase() { printf '\n== %s\n' "$*"; phase_started=$SECONDS; }
took() { printf '== %s took %ss\n' "$1" $((SECONDS - phase_started)); }

# cargo test needs none of the set-up's tools, so on a fresh machine they install while it runs: each has
# single-threaded stretches (linking, the tools' last crates) the other fills.
phase "set-up (in the background) and cargo test"
setup_log=$(mktemp)
scripts/setup.sh --browser >"$setup_log" 2>&1 &
setup=$!
trap 'kill $setup 2>/dev/null || true' EXIT
cargo test --locked
took "cargo test"
wait $setup || { cat "$setup_log"; echo "== set-up failed"; exit 1; }
cat "$setup_log"
took "set-up and cargo test"

phase "release build (cargo leptos build --release)"
cargo leptos build --release
took "release build"

scripts/size-report.sh

phase "Playwright end-to-end tests"
(cd end2end && npx playwright test)
took "Playwright"

printf '\n== all tests passed in %ss\n' $((SECONDS - started))
