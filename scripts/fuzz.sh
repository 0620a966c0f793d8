#!/usr/bin/env bash
# Fuzzing as part of the test command: replays every stored crash input of ode-core's
# fuzz targets (ode-core/fuzz/regressions), then runs each target for a bounded time
# (FUZZ_SECONDS, default 60). A crash, a timeout or an out-of-memory fails the script,
# and libFuzzer saves the input in ode-core/fuzz/artifacts/<target>/.
#
#   ./scripts/fuzz.sh            # every target
#   FUZZ_SECONDS=600 ./scripts/fuzz.sh font
#
# Needs the nightly toolchain (rustup) and cargo-fuzz, installed here when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../ode-core/fuzz"

seconds="${FUZZ_SECONDS:-60}"
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(parse render render_structured font svg_image)
fi
# Its own target dir: sanitizer builds share nothing with the main build.
export CARGO_TARGET_DIR="${ODE_FUZZ_TARGET_DIR:-${HOME:-/root}/.cache/ode-fuzz-target}"

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz: installing the nightly toolchain"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    env -u CARGO_TARGET_DIR cargo install cargo-fuzz --locked
fi

echo "fuzz: building the targets (nightly, AddressSanitizer)"
cargo +nightly fuzz build

flags=(-rss_limit_mb=2048 -timeout=10)

# Every stored crash input, run once: a regression fails here.
replay() { # replay TARGET FILE...
    local target="$1"
    shift
    [ "$#" -gt 0 ] || return 0
    echo "fuzz: replaying $# stored inputs of $target"
    cargo +nightly fuzz run "$target" "$@" -- "${flags[@]}" >/dev/null 2>"$CARGO_TARGET_DIR/replay-$target.log" || {
        cat "$CARGO_TARGET_DIR/replay-$target.log" >&2
        echo "fuzz: a stored input of $target fails again" >&2
        return 1
    }
}
shopt -s nullglob
replay render regressions/*.json
replay font regressions/font/*
replay svg_image regressions/svg_image/*

for t in "${targets[@]}"; do
    echo "fuzz: $t for ${seconds} s"
    log="$CARGO_TARGET_DIR/fuzz-$t.log"
    if ! cargo +nightly fuzz run "$t" -- "${flags[@]}" -max_total_time="$seconds" >"$log" 2>&1; then
        tail -n 80 "$log" >&2
        echo "fuzz: $t found a problem; its input is in ode-core/fuzz/artifacts/$t/" >&2
        exit 1
    fi
    grep -E '^(#[0-9]+: |Done [0-9]+ runs)' "$log" | tail -n 1 || true
done
echo "fuzz: no crash, timeout or out-of-memory"
