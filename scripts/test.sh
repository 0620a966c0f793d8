#!/usr/bin/env bash
# Run every check and test of the ODE workspace: the one command of the README quick start.
#
#   ./scripts/test.sh
#
# Steps: system tools, local services, wasm32 target, rustfmt, clippy, wasm32 build of
# ode-core, the npm package (wasm/) and its Node tests, the viewer (shells/viewer) and its
# browser tests, the infrastructure checks, the rehearsal, API fuzzing, ode-core's fuzz
# targets, doctests, then
# nextest (last, so the output ends with nextest's summary).
# Installs what is missing (apt, rustup, cargo install), so it also runs on a fresh machine.
# CI runs it through .ci/run with CI=true, which selects the nextest `ci` profile.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Shared, warm target dir outside the clone: CI clones and developers reuse one build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/ode-target}"
export DEBIAN_FRONTEND=noninteractive

STEP=""
step() {
    STEP="$*"
    printf '\n==> %s\n' "$*"
}
warn() { printf 'warning: %s\n' "$*" >&2; }
on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '\nFAILED (exit %d) in step: %s\n' "$rc" "$STEP" >&2
    fi
}
trap on_exit EXIT

# Root runs apt directly; a non-root user (e.g. a GitHub runner) goes through sudo.
SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
fi

APT_UPDATED=0
# apt_install PKG...: quiet, idempotent; runs `apt-get update` at most once per script run.
apt_install() {
    local log
    log="$(mktemp)"
    if [ "$APT_UPDATED" -eq 0 ]; then
        if ! "${SUDO[@]}" apt-get update -qq >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            return 1
        fi
        APT_UPDATED=1
    fi
    if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# missing_cmds CMD...: prints the commands that are not on PATH.
missing_cmds() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || printf '%s ' "$c"
    done
}

# ---------------------------------------------------------------------------------------
# zbarimg (zbar-tools) reads back the QR codes and barcodes the tests render; GNU time
# and strace watch the hostile corpus's memory and file access (shells/cli/tests/hostile.rs).
step "System tools (poppler-utils, qpdf, zbar-tools, time, strace)"
missing="$(missing_cmds pdftotext pdfinfo pdffonts pdftoppm qpdf zbarimg strace)"
if [ ! -x /usr/bin/time ]; then
    missing="${missing}/usr/bin/time "
fi
if [ -n "$missing" ]; then
    echo "missing: $missing- installing poppler-utils qpdf zbar-tools time strace"
    apt_install poppler-utils qpdf zbar-tools time strace
    missing="$(missing_cmds pdftotext pdfinfo pdffonts pdftoppm qpdf zbarimg strace)"
    if [ -n "$missing" ]; then
        echo "error: still missing after install: $missing" >&2
        exit 1
    fi
fi
echo "pdftotext: $(command -v pdftotext); qpdf: $(command -v qpdf)"

# Fonts for the script tests (ode-core/tests/scripts.rs): Arabic, Hebrew, Devanagari and
# Thai from fonts-noto-core, Chinese and Japanese from fonts-noto-cjk.
step "Noto fonts (fonts-noto-core, fonts-noto-cjk)"
if [ ! -f /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ] ||
    [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then
    echo "installing fonts-noto-core fonts-noto-cjk"
    apt_install fonts-noto-core fonts-noto-cjk
fi

# Headless Chromium loads the npm package's browser entry points (wasm/test/browser.test.js).
step "Chromium"
if ! command -v chromium >/dev/null 2>&1; then
    echo "chromium not found - installing"
    apt_install chromium
fi
chromium --version

# ---------------------------------------------------------------------------------------
# The service's integration tests run against real PostgreSQL, Redis and an S3 server
# (moto, in a venv, see scripts/moto.sh): each is installed and started when missing.
step "Services (PostgreSQL, Redis, S3 on moto)"
pg_up() { pg_isready -q -h 127.0.0.1 >/dev/null 2>&1; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 ping 2>/dev/null)" = "PONG" ]; }
wait_for() { # wait_for SECONDS CHECK
    local i
    for ((i = 0; i < $1 * 2; i++)); do
        "$2" && return 0
        sleep 0.5
    done
    return 1
}

start_postgres() {
    if ! command -v pg_isready >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null 2>&1; then
        echo "PostgreSQL not installed - installing postgresql"
        apt_install postgresql || return 1
    fi
    pg_up && return 0
    local versions=(/etc/postgresql/*/)
    [ -d "${versions[0]}" ] || return 1
    local version
    version="$(basename "${versions[${#versions[@]} - 1]}")"
    echo "starting PostgreSQL $version"
    "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    wait_for 30 pg_up
}

start_redis() {
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        echo "Redis not installed - installing redis-server"
        apt_install redis-server || return 1
    fi
    redis_up && return 0
    echo "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
    wait_for 15 redis_up
}

if start_postgres; then
    echo "PostgreSQL: up on 127.0.0.1:5432"
else
    echo "error: PostgreSQL is not running on 127.0.0.1:5432 and could not be started" >&2
    exit 1
fi
if start_redis; then
    echo "Redis: up on 127.0.0.1:6379"
else
    echo "error: Redis is not running on 127.0.0.1:6379 and could not be started" >&2
    exit 1
fi
# runuser starts a private PostgreSQL for the outage test (shells/api/tests/api/resilience.rs).
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    apt_install python3-venv
fi
./scripts/moto.sh
export ODE_TEST_S3_ENDPOINT="http://127.0.0.1:${ODE_MOTO_PORT:-9000}"

# ---------------------------------------------------------------------------------------
step "Rust toolchain (wasm32 target, cargo-nextest)"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
if ! cargo nextest --version >/dev/null 2>&1; then
    echo "cargo-nextest not found - installing"
    # Build it in cargo's own temporary dir, not in the shared CARGO_TARGET_DIR.
    env -u CARGO_TARGET_DIR cargo install cargo-nextest --locked
fi
echo "$(rustc --version); $(cargo nextest --version | head -n1)"
echo "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

# ---------------------------------------------------------------------------------------
step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo build -p ode-core --target wasm32-unknown-unknown"
cargo build -p ode-core --target wasm32-unknown-unknown
step "cargo build -p ode-core --target wasm32-unknown-unknown --all-features"
cargo build -p ode-core --target wasm32-unknown-unknown --all-features

# The npm package @ode/engine: both WebAssembly builds (wasm-bindgen CLI installed at the
# crate's pinned version when missing), then its Node tests, which compare its PDFs and
# page counts with the `ode` binary's, a headless Chromium test of the browser entry
# points, and the type check of a TypeScript consumer.
step "wasm/build.sh (npm package @ode/engine)"
./wasm/build.sh
step "npm test in wasm/test (node $(node --version))"
cargo build -p ode-cli
(cd wasm/test && npm ci --no-audit --no-fund &&
    ODE_BIN="$CARGO_TARGET_DIR/debug/ode" CHROMIUM="$(command -v chromium)" npm test)

# The viewer (shells/viewer, React + the npm package in a Web Worker): type check, Vite
# build (what `ode serve` serves at /), component tests (vitest), then end to end in
# Chromium against `ode serve`: edit, errors, PDF download, save/open/export through the
# API (screenshots in shells/viewer/e2e/artifacts).
step "Viewer: npm ci, build, vitest (shells/viewer)"
(cd shells/viewer && npm ci --no-audit --no-fund && npm run build && npm test)
step "Viewer end to end in Chromium (shells/viewer/e2e)"
(cd shells/viewer && ODE_BIN="$CARGO_TARGET_DIR/debug/ode" CHROMIUM="$(command -v chromium)" npm run e2e)

# Terraform fmt, checkov, kubernetes-validate, hadolint, actionlint, shellcheck and the
# acceptance tests of the infrastructure (infra/tests), in a venv of pinned linters.
step "scripts/infra-check.sh"
./scripts/infra-check.sh

# Two APIs behind nginx and two workers on PostgreSQL, Redis and moto, configured by the
# manifests' variable names: the CD smoke test, then a rolling restart under load.
step "scripts/rehearsal.sh (local rehearsal of the production topology)"
if ! command -v nginx >/dev/null 2>&1; then
    apt_install nginx
fi
./scripts/rehearsal.sh

# schemathesis generates requests from the API's OpenAPI document against `ode serve`:
# no 5xx, every answer as documented.
step "scripts/api-fuzz.sh"
./scripts/api-fuzz.sh

# Fuzzing as a habit: every stored crash input replayed, then each cargo-fuzz target of
# ode-core for a minute (nightly, AddressSanitizer); a crash fails the run.
step "scripts/fuzz.sh"
./scripts/fuzz.sh

# Doctests first (nextest does not run them) so that nextest's summary ends the output.
step "cargo test --workspace --doc"
cargo test --workspace --doc

# The multi-process test (shells/worker/tests/fleet.rs) runs the ode-api and ode-worker
# binaries.
step "cargo build --workspace --bins"
cargo build --workspace --bins

NEXTEST_ARGS=()
if [ "${CI:-}" = "true" ]; then
    NEXTEST_ARGS=(--profile ci)
fi
step "cargo nextest run --workspace ${NEXTEST_ARGS[*]}"
cargo nextest run --workspace "${NEXTEST_ARGS[@]}"
