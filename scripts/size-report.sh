#!/usr/bin/env bash
# Prints what a browser downloads for the checkout page (release build), raw and gzip -9, against the budget.
# It starts the release server on a scratch database, reads the served page /checkout?tee=1 and measures
# every script and wasm file the page references, plus any other wasm or JS in the site's pkg folder (split
# chunks, which a page fetches on demand), then the stylesheet on its own. The provider SDKs that checkout.js
# loads when the form needs them (Songbird, verifone.js) are the providers' code and are not counted.
# Run after `cargo leptos build --release` (or its `--frontend-only` with SERVER_BIN naming a debug server: the
# page is the same). Environment: SERVER_BIN (default $CARGO_TARGET_DIR/release/card-checkout), LEPTOS_SITE_ROOT
# (default target/site), SIZE_REPORT_PORT (first port tried, default 3190).
set -euo pipefail
cd "$(dirname "$0")/.."
site=${LEPTOS_SITE_ROOT:-target/site}
binary=${SERVER_BIN:-${CARGO_TARGET_DIR:-target}/release/card-checkout}
port=${SIZE_REPORT_PORT:-3190}
budget_kb=150
for f in "$binary" "$site/pkg/card-checkout.css"; do
  [[ -f "$f" ]] || { echo "missing $f: run cargo leptos build --release first" >&2; exit 1; }
done

source scripts/release-server.sh
page=$(curl -fsS "http://127.0.0.1:$port/checkout?tee=1")
grep -q '<leptos-island' <<<"$page" || { echo "the checkout page has no island: is this the release build?" >&2; exit 1; }

# Same-origin paths of <script src>, <link rel=modulepreload> and the wasm preload, in page order.
referenced=$(grep -oE '<(script|link)[^>]*>' <<<"$page" \
  | grep -E '<script[^>]* src=|rel="modulepreload"|type="application/wasm"' \
  | grep -oE '(src|href)="/[^"]*"' | sed -E 's/^(src|href)="(.*)"$/\2/' | sed 's/[?#].*//' | awk '!seen[$0]++')
on_demand=$(find "$site/pkg" -maxdepth 2 -type f \( -name '*.wasm' -o -name '*.js' \) | sed "s|^$site||" | sort \
  | grep -vxF -f <(printf '%s\n' "$referenced") || true)

kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
code=0
row() { # PATH NOTE
  local f=$site$1
  [[ -f "$f" ]] || { echo "the page references $1, which is not in $site" >&2; exit 1; }
  local raw gz
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  [[ "$1" == *.css ]] || code=$((code + gz))
  printf '%-34s %9s %9s  %s\n' "$1" "$(kb "$raw")" "$(kb "$gz")" "$2"
}
printf '\n== checkout page download (release)\n%-34s %9s %9s\n' "file" "raw KB" "gzip KB"
for p in $referenced; do row "$p" "referenced by the page"; done
for p in $on_demand; do row "$p" "split chunk, fetched on demand"; done
row /pkg/card-checkout.css "stylesheet (not in the wasm+JS figure)"
within=$(awk -v c="$code" -v b="$budget_kb" 'BEGIN { print (c <= b * 1024) ? "within" : "OVER" }')
# Other pages load the same wasm and JS on idle (it holds only the checkout's island), without checkout.js.
printf 'checkout page wasm+JS gzip: %s KB, %s the budget of %s KB\n' "$(kb "$code")" "$within" "$budget_kb"
