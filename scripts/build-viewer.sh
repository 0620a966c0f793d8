#!/usr/bin/env bash
# Build the viewer (shells/viewer/dist), which `ode serve` serves at `/`:
# the npm package @ode/engine first (wasm/build.sh, when it is missing or older than the
# engine's sources), then `npm ci` and `npm run build` in shells/viewer.
#
#   ./scripts/build-viewer.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/ode-target}"

if ! command -v npm >/dev/null 2>&1; then
    echo "error: the viewer needs Node.js (>= 18) and npm" >&2
    exit 1
fi

wasm="wasm/npm/dist/full/ode_wasm_bg.wasm"
if [ ! -f "$wasm" ] || [ -n "$(find ode-core/src ode-core/Cargo.toml wasm/src wasm/Cargo.toml -newer "$wasm" -print -quit)" ]; then
    ./wasm/build.sh
else
    echo "wasm/npm is up to date"
fi

cd shells/viewer
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
fi
npm run build
echo "built shells/viewer/dist: \`cargo run --release -p ode-cli -- serve\` serves it at /"
