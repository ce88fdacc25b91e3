# Sourced by the other scripts: where tools live and which versions the build needs.
export TOOLS_DIR="${CHECKOUT_TOOLS_DIR:-$HOME/.cache/checkout-tools}"
# The checkout's own npm tools come first: wasm-opt is binaryen 116 from the npm registry (package.json).
export PATH="$PWD/node_modules/.bin:$TOOLS_DIR/bin:$HOME/.cargo/bin:$PATH"
export CARGO_LEPTOS_VERSION=0.3.10
export WASM_BINDGEN_VERSION=0.2.130
