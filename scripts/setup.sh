#!/usr/bin/env bash
# Installs what building and testing need, skipping what is there already. Tools go under a cache folder
# outside the checkout ($CHECKOUT_TOOLS_DIR, default ~/.cache/checkout-tools) so repeat runs are fast.
#   scripts/setup.sh            build tools + npm packages
#   scripts/setup.sh --browser  also Debian's Chromium for the end-to-end tests
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

want_browser=false
[[ "${1:-}" == "--browser" ]] && want_browser=true

step() { printf '\n== %s\n' "$*"; }

# version_of CMD: prints the version a tool reports, or nothing.
version_of() { "$@" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1 || true; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

install_crate() { # NAME VERSION BINARY [extra cargo install flags]
  local name=$1 version=$2 bin=$3; shift 3
  if [[ "$(version_of "$TOOLS_DIR/bin/$bin")" != "$version" ]]; then
    step "installing $name $version into $TOOLS_DIR (one time, several minutes)"
    cargo install "$name" --version "$version" --root "$TOOLS_DIR" "$@"
  fi
}
# Unoptimized (`--debug`, no debug info): it only drives cargo, wasm-bindgen and wasm-opt, so its own speed does
# not show, and it compiles in a fraction of the CPU time of its LTO release profile (figures in the README).
CARGO_PROFILE_DEV_DEBUG=0 install_crate cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-leptos --locked --debug
# wasm-bindgen-cli must match the wasm-bindgen crate pinned in Cargo.toml; it does not build with --locked.
install_crate wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
# OpenPGP.js v4 for the sandbox's verifone.js emulation (cargo-leptos copies public/ into the site), and
# binaryen 116's wasm-opt, found on PATH through node_modules/.bin (Debian's binaryen is too old: its output
# never hydrates; compiling binaryen takes ~10 minutes, the npm build gives the same bytes).
if [[ ! -x node_modules/.bin/wasm-opt ]] || [[ ! -f node_modules/openpgp/dist/lightweight/openpgp.min.js ]] \
  || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  step "installing npm packages (browser vendor code)"
  npm ci --no-audit --no-fund
fi
mkdir -p public/vendor
cp -u node_modules/openpgp/dist/lightweight/openpgp.min.js public/vendor/openpgp.min.js

if [[ ! -d end2end/node_modules/@playwright/test ]] || [[ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
  step "installing npm packages (end2end)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# Debian's Chromium for Playwright, and sqlite3 for the specs to read the stored orders.
if $want_browser && { [[ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]] || ! command -v sqlite3 >/dev/null; }; then
  step "installing Debian's Chromium and sqlite3"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium sqlite3
fi
