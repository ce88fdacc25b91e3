#!/usr/bin/env bash
# Sets up (Chromium included) and runs every test: cargo's unit and integration tests, then the Playwright
# suite against a release build. Prints how long each phase took and the bundle size report.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
scripts/setup.sh --browser
source scripts/env.sh
export CARGO_TERM_COLOR=never

phase() { printf '\n== %s\n' "$*"; phase_started=$SECONDS; }
took() { printf '== %s took %ss\n' "$1" $((SECONDS - phase_started)); }

phase "cargo test"
cargo test --locked
took "cargo test"

phase "release build (cargo leptos build --release)"
cargo leptos build --release
took "release build"

scripts/size-report.sh

phase "Playwright end-to-end tests"
(cd end2end && npx playwright test)
took "Playwright"

printf '\n== all tests passed in %ss\n' $((SECONDS - started))
