#!/usr/bin/env bash
# The README's main command: builds the viewer when Node.js is there (the first time, or
# after the engine or the viewer changed) and runs `ode serve` on embedded defaults, which
# serves the viewer at http://127.0.0.1:8080/ beside the API.
#
#   ./scripts/serve.sh [ode serve options, e.g. --port 9000]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/ode-target}"

if command -v npm >/dev/null 2>&1; then
    ./scripts/build-viewer.sh
else
    echo "warning: npm not found: starting without the viewer (the API works; install Node.js >= 18 for the viewer)" >&2
fi
exec cargo run --release -p ode-cli -- serve "$@"
