#!/usr/bin/env bash
# Build the npm package `@ode/engine` (wasm/npm) from the ode-wasm crate.
#
#   wasm/build.sh            # both builds, sizes printed
#   ODE_WASM_SIZE=1 wasm/build.sh  # opt-level "z": smaller, slower (see npm/README.md)
#   ODE_WASM_OPT=1 wasm/build.sh   # also wasm-opt -Oz (npm binaryen@132): 3 minutes for
#                                  # 8% raw but under 1% gzipped, so off by default
#
# Two builds of the same crate, each through the wasm-bindgen CLI (`--target web`, which
# runs in browsers and, given the bytes, in Node):
#   npm/dist/full  with the DejaVu fonts compiled in (feature `embed-fonts`, the default)
#   npm/dist/lite  without fonts: they come in through `addFont`, e.g. from npm/dist/fonts
# The CLI must be the exact version the crate pins; it is installed when missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
WASM_DIR="$(pwd)"
PKG="$WASM_DIR/npm"
DIST="$PKG/dist"

# The wasm-bindgen version pinned in Cargo.toml (`wasm-bindgen = "=X.Y.Z"`).
WB_VERSION="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' Cargo.toml)"
if [ -z "$WB_VERSION" ]; then
    echo "error: wasm/Cargo.toml does not pin wasm-bindgen exactly" >&2
    exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WB_VERSION" ]; then
    echo "installing wasm-bindgen-cli $WB_VERSION"
    # In cargo's own temporary dir, not in the shared CARGO_TARGET_DIR. `--locked` fails
    # for this version, so it is left out.
    env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

TARGET_DIR="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')}"
OUT="$TARGET_DIR/wasm32-unknown-unknown/wasm/ode_wasm.wasm"

size_line() { # size_line LABEL FILE
    local raw gz
    raw=$(wc -c <"$2")
    gz=$(gzip -9c "$2" | wc -c)
    printf '%-28s %10d bytes raw %10d bytes gzipped\n' "$1" "$raw" "$gz"
}

if [ "${ODE_WASM_SIZE:-0}" = "1" ]; then
    export CARGO_PROFILE_WASM_OPT_LEVEL=z
fi

rm -rf "$DIST"
mkdir -p "$DIST"

# build VARIANT CARGO_ARGS...
build() {
    local variant="$1"
    shift
    echo "==> cargo build --profile wasm --target wasm32-unknown-unknown -p ode-wasm $* ($variant)"
    cargo build --profile wasm --target wasm32-unknown-unknown -p ode-wasm "$@"
    wasm-bindgen --target web --remove-name-section --remove-producers-section \
        --out-dir "$DIST/$variant" "$OUT"
    if [ "${ODE_WASM_OPT:-0}" = "1" ]; then
        echo "==> wasm-opt -Oz ($variant)"
        npx --yes -p binaryen@132 wasm-opt -Oz --enable-bulk-memory \
            --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
            -o "$DIST/$variant/ode_wasm_bg.wasm" "$DIST/$variant/ode_wasm_bg.wasm"
    fi
}

build full
build lite --no-default-features

mkdir -p "$DIST/fonts"
cp ../ode-core/fonts/*.ttf ../ode-core/fonts/LICENSE-DejaVu.txt "$DIST/fonts/"

echo
echo "==> sizes"
size_line "full/ode_wasm_bg.wasm" "$DIST/full/ode_wasm_bg.wasm"
size_line "lite/ode_wasm_bg.wasm" "$DIST/lite/ode_wasm_bg.wasm"
size_line "fonts/DejaVuSans.ttf" "$DIST/fonts/DejaVuSans.ttf"
fonts_gz=$(cat "$DIST"/fonts/*.ttf | gzip -9c | wc -c)
printf '%-28s %10d bytes raw %10d bytes gzipped\n' "fonts/*.ttf (12 faces)" \
    "$(cat "$DIST"/fonts/*.ttf | wc -c)" "$fonts_gz"
