# Sourced by the report scripts: starts the release server on a scratch SQLite database (embedded sandbox) on the
# first free port from $port, sets $port and $scratch, and stops it when the sourcing script exits. Needs
# $binary and $site; the environment may choose the providers (PAYMENT_PROVIDER=bambora ...).
# The first port from $port on where nothing answers (other servers may be running on this machine).
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" || break
  port=$((port + 1))
done
scratch=$(mktemp -d)
APP_ADDR=127.0.0.1:$port DATABASE_URL="sqlite://$scratch/report.db" LEPTOS_SITE_ROOT="$site" LEPTOS_ENV=PROD \
  LOG_LEVEL=warn "$binary" >"$scratch/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$scratch"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 $server 2>/dev/null || { cat "$scratch/server.log" >&2; exit 1; }
  sleep 0.1
done
kill -0 $server 2>/dev/null || { cat "$scratch/server.log" >&2; exit 1; } # it answered, not another server
