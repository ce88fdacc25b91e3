#!/usr/bin/env bash
# Checkouts/s and our per-call overhead p99 (round trip minus the provider time the server reports) on
# SQLite, and on a throw-away PostgreSQL cluster (scripts/postgres.sh) with one and with two app instances,
# in one run: RUNS runs of each, reported as median and spread (min–max). Arguments, all optional:
#   scripts/bench-instances.sh [runs=3] [checkouts=400] [concurrency=16]
# The instances share this process (examples/bench_checkout.rs, BENCH_INSTANCES), each with its own pools.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
checkouts=${2:-400}
concurrency=${3:-16}
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --example bench_checkout
bench="$target/release/examples/bench_checkout"

pg_dir=$(mktemp -d /tmp/card-checkout-bench-pg.XXXXXX)
pg_port=54339
while (exec 3<>"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null; do pg_port=$((pg_port + 1)); done
trap 'scripts/postgres.sh stop "$pg_dir"' EXIT
server=$(scripts/postgres.sh start "$pg_dir" "$pg_port")

fresh_pg() {
    local name="bench_$(date +%s%N)"
    psql -q "$server" -c "CREATE DATABASE $name" >/dev/null
    echo "${server%/postgres}/$name"
}

# One line per run: the label and the SUMMARY line's figures.
results=$(mktemp)
for i in $(seq "$runs"); do
    BENCH_SKIP_BARE=1 "$bench" "$checkouts" "$concurrency" | sed -n 's/^SUMMARY /sqlite-1 /p' >>"$results"
    BENCH_SKIP_BARE=1 BENCH_DATABASE_URL=$(fresh_pg) BENCH_INSTANCES=1 "$bench" "$checkouts" "$concurrency" |
        sed -n 's/^SUMMARY /postgres-1 /p' >>"$results"
    BENCH_SKIP_BARE=1 BENCH_DATABASE_URL=$(fresh_pg) BENCH_INSTANCES=2 "$bench" "$checkouts" "$concurrency" |
        sed -n 's/^SUMMARY /postgres-2 /p' >>"$results"
done

echo "$checkouts checkouts, $concurrency at a time, $runs runs each: median (min–max)"
for label in sqlite-1 postgres-1 postgres-2; do
    line="$label:"
    for field in checkouts_per_s start_ours_p99_ms place_ours_p99_ms result_ours_p99_ms; do
        values=$(grep "^$label " "$results" | tr ' ' '\n' | sed -n "s/^$field=//p" | sort -g)
        n=$(echo "$values" | wc -l)
        median=$(echo "$values" | sed -n "$(((n + 1) / 2))p")
        line="$line  $field $median ($(echo "$values" | head -n 1)–$(echo "$values" | tail -n 1))"
    done
    echo "$line"
done
rm -f "$results"
