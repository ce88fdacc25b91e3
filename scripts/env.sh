# Sourced by the other scripts: where tools live and which versions the build needs.
export TOOLS_DIR="${CHECKOUT_TOOLS_DIR:-$HOME/.cache/checkout-tools}"
export PATH="$TOOLS_DIR/bin:$HOME/.cargo/bin:$PATH"
export CARGO_LEPTOS_VERSION=0.3.10
export WASM_BINDGEN_VERSION=0.2.130
export WASM_OPT_VERSION=0.116.1
