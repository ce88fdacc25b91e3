#!/usr/bin/env bash
# Sets up, builds (release) and serves the app on http://127.0.0.1:3000 against the embedded sandbox,
# with a SQLite database under data/ created on first start. Settings: see README / .env.example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
exec cargo leptos serve --release
