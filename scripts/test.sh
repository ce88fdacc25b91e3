#!/usr/bin/env bash
# Sets up (Chromium included) and runs every test: cargo's unit and integration tests on SQLite and again on
# a throw-away PostgreSQL cluster (scripts/postgres.sh; installed when missing), then the Playwright suite
# against the release bundle. Prints how long each phase took and the bundle size report.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
source scripts/env.sh
export CARGO_TERM_COLOR=never

phase() { printf '\n== %s\n' "$*"; phase_started=$SECONDS; }
took() { printf '== %s took %ss\n' "$1" $((SECONDS - phase_started)); }

phase "PostgreSQL cluster (scripts/postgres.sh)"
pg_dir=$(mktemp -d /tmp/card-checkout-pg.XXXXXX)
pg_port=54329
# The first port from 54329 nobody listens on.
while (exec 3<>"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null; do pg_port=$((pg_port + 1)); done
setup=
trap 'scripts/postgres.sh stop "$pg_dir"; [[ -z $setup ]] || kill $setup 2>/dev/null || true' EXIT
postgres_url=$(scripts/postgres.sh start "$pg_dir" "$pg_port")
took "PostgreSQL cluster"

# cargo test needs none of the set-up's tools, so on a fresh machine they install while it runs: each has
# single-threaded stretches (linking, the tools' last crates) the other fills. (After the cluster: both may
# use apt-get, which takes one lock.)
phase "set-up (in the background) and cargo test (SQLite)"
setup_log=$(mktemp)
scripts/setup.sh --browser >"$setup_log" 2>&1 &
setup=$!
cargo test --locked
took "cargo test (SQLite)"

# Every integration test again with its app on a PostgreSQL database of its own; the tests that need
# PostgreSQL (schema, multi-instance) fail rather than pass without it.
phase "cargo test (PostgreSQL)"
TEST_DATABASE="$postgres_url" TEST_REQUIRE_POSTGRES=1 cargo test --locked --test '*'
took "cargo test (PostgreSQL)"

phase "set-up"
wait $setup || { cat "$setup_log"; echo "== set-up failed"; exit 1; }
setup=
cat "$setup_log"
took "set-up (waited for)"

# The browser gets the release bundle (the wasm shoppers download, measured below); the server under test is
# the debug build `cargo test` made above (same code and features), not a second, optimized compile of every
# crate: that compile was a third of a first run's time (384 s of 1,093 s on a fresh 2-core machine).
phase "release bundle (cargo leptos build --release --frontend-only)"
cargo leptos build --release --frontend-only
took "release bundle"

server=$(realpath -m "${CARGO_TARGET_DIR:-target}/debug/card-checkout")
SERVER_BIN="$server" scripts/size-report.sh

phase "Playwright end-to-end tests"
(cd end2end && E2E_SERVER_BIN="$server" npx playwright test)
took "Playwright"

printf '\n== all tests passed in %ss\n' $((SECONDS - started))
