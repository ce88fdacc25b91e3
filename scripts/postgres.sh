#!/usr/bin/env bash
# A throw-away PostgreSQL cluster: its own data folder and port, nothing shared with a system one. Installs
# Debian's `postgresql` when it is missing. PostgreSQL refuses to run as root, so root runs it as `postgres`.
#   scripts/postgres.sh start [DIR] [PORT]   starts it (creating it first) and prints its URL
#   scripts/postgres.sh stop [DIR]           stops it and deletes DIR
#   scripts/postgres.sh url [DIR] [PORT]     prints the URL
# The URL names the `postgres` database; tests create a database of their own in it (TEST_DATABASE).
set -euo pipefail
cmd=${1:-}
dir=${2:-/tmp/card-checkout-pg}
port=${3:-54329}
url="postgres://postgres@127.0.0.1:$port/postgres"

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    if [ -z "$(bin_dir)" ]; then
        apt-get install -y --no-install-recommends postgresql >/dev/null 2>&1 ||
            { apt-get update >/dev/null && apt-get install -y --no-install-recommends postgresql >/dev/null; }
    fi
    bin=$(bin_dir)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    fi
    # Durable as a production server (fsync and synchronous_commit stay on); room for the connections of
    # tests running in parallel, each app keeping a pool.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -h 127.0.0.1 -k $dir -c max_connections=400 -c shared_buffers=256MB" start >/dev/null
    echo "$url"
    ;;
stop)
    bin=$(bin_dir)
    if [ -n "$bin" ] && [ -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
url)
    echo "$url"
    ;;
*)
    echo "usage: $0 start|stop|url [DIR] [PORT]" >&2
    exit 2
    ;;
esac
