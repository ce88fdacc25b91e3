#!/usr/bin/env bash
# Prints the size of what a browser downloads for the app (release build): wasm, JS and CSS, raw and gzip -9,
# against the budget. Run after `cargo leptos build --release`.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=target/site/pkg
total=0
code=0
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
printf '\n== bundle size (release)\n%-26s %9s %9s\n' "file" "raw KB" "gzip KB"
for f in "$pkg"/card-checkout*.wasm "$pkg"/card-checkout.js "$pkg"/card-checkout.css; do
  [[ -f "$f" ]] || { echo "missing $f: run cargo leptos build --release first" >&2; exit 1; }
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  total=$((total + gz))
  [[ "$f" == *.css ]] || code=$((code + gz))
  printf '%-26s %9s %9s\n' "$(basename "$f")" "$(kb "$raw")" "$(kb "$gz")"
done
# One bundle serves every page: the shell's budget is 250 KB, the checkout page's 300 KB (wasm + JS).
printf 'wasm+js gzip: %s KB (budgets: shell 250 KB, checkout page 300 KB); with css: %s KB\n' "$(kb "$code")" "$(kb "$total")"
