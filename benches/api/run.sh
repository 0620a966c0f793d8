#!/usr/bin/env bash
# End-to-end benchmark of the hosted HTTP API (`ode serve`) with the `ode-load` generator.
#
# Builds `ode` and `ode-load` (release), then:
#   1. embedded: `ode serve` on a free port with a fresh data dir (SQLite, local blobs,
#      in-memory queue); synchronous invoice renders (POST /v1/render, logo inline) at
#      each concurrency for --duration s after --warmup s; a batch export of --records
#      invoices not merged, and the same merged (wall time from POST to succeeded);
#   2. production: the same binary on a fresh PostgreSQL database, a Redis queue
#      namespace and moto S3 buckets (scripts/moto.sh starts moto when it is not running):
#      renders at the highest concurrency, and both batches.
# Every measurement is repeated --repeat times; the tables give medians. Servers are
# stopped at exit; the database, the Redis keys and the buckets made are removed.
#
# Usage: benches/api/run.sh [--write] [--no-build] [--repeat N] [--duration S]
#                           [--warmup S] [--concurrency "1 4 16"] [--records N]
#                           [--skip-production] [--keep-logs]
#   --write            replace the "## Hosted API" section of benches/results.md
#   --no-build         use the binaries already in $CARGO_TARGET_DIR/release
#   --repeat N         runs of each measurement (default 3)
#   --duration S       measured seconds per render run (default 10)
#   --warmup S         seconds of load before measuring (default 3)
#   --concurrency L    render concurrencies, embedded (default "1 4 16"; the last one
#                      is used for production)
#   --records N        invoices per batch (default 1000)
#   --skip-production  embedded only
#   --keep-logs        keep the temp dir with the server logs and JSON lines
#
# Environment: CARGO_TARGET_DIR (default <repo>/target); ODE_BENCH_PG (default
# postgres://postgres@127.0.0.1:5432), ODE_BENCH_REDIS (default redis://127.0.0.1:6379),
# ODE_BENCH_S3 (default http://127.0.0.1:9000).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PG="${ODE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
REDIS="${ODE_BENCH_REDIS:-redis://127.0.0.1:6379}"
S3="${ODE_BENCH_S3:-http://127.0.0.1:9000}"

WRITE=0
BUILD=1
REPEAT=3
DURATION=10
WARMUP=3
CONCURRENCY="1 4 16"
RECORDS=1000
PRODUCTION=1
KEEP=0

while [ $# -gt 0 ]; do
    case "$1" in
        --write) WRITE=1 ;;
        --no-build) BUILD=0 ;;
        --repeat) REPEAT="$2"; shift ;;
        --duration) DURATION="$2"; shift ;;
        --warmup) WARMUP="$2"; shift ;;
        --concurrency) CONCURRENCY="$2"; shift ;;
        --records) RECORDS="$2"; shift ;;
        --skip-production) PRODUCTION=0 ;;
        --keep-logs) KEEP=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for v in "$REPEAT" "$RECORDS"; do
    case "$v" in ''|*[!0-9]*|0) echo "run.sh: --repeat and --records need a positive number" >&2; exit 2 ;; esac
done
read -r -a CONCS <<< "$CONCURRENCY"
[ ${#CONCS[@]} -gt 0 ] || { echo "run.sh: --concurrency needs at least one value" >&2; exit 2; }
TOP="${CONCS[${#CONCS[@]}-1]}"

if [ "$BUILD" = 1 ]; then
    echo "Building ode and ode-load (release) into $TARGET_DIR ..." >&2
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release -p ode-cli -p ode-benches --bin ode --bin ode-load >&2)
fi
ODE="$TARGET_DIR/release/ode"
LOAD="$TARGET_DIR/release/ode-load"
for b in "$ODE" "$LOAD"; do
    [ -x "$b" ] || { echo "run.sh: $b is missing (build it, or drop --no-build)" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ode-api-bench.XXXXXX")"
RESULTS_JSONL="$WORK/results.jsonl"
: > "$RESULTS_JSONL"
SERVER_PID=""
TAG="odebench$$"
DB_MADE=""
BUCKETS_MADE=0

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

cleanup() {
    stop_server
    if [ -n "$DB_MADE" ]; then
        psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB_MADE" >/dev/null 2>&1 || true
    fi
    if command -v redis-cli >/dev/null; then
        redis-cli -u "$REDIS" --scan --pattern "$TAG*" 2>/dev/null \
            | xargs -r -n 500 redis-cli -u "$REDIS" DEL >/dev/null 2>&1 || true
    fi
    if [ "$BUCKETS_MADE" = 1 ]; then
        delete_buckets || true
    fi
    if [ "$KEEP" = 1 ]; then
        echo "run.sh: logs and results kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Removes the benchmark's buckets from moto (boto3 comes with moto in its venv).
delete_buckets() {
    local py="${ODE_MOTO_VENV:-$HOME/.cache/ode-moto-venv}/bin/python"
    [ -x "$py" ] || return 0
    "$py" - "$S3" "$TAG" <<'PY'
import sys
import boto3
s3 = boto3.resource("s3", endpoint_url=sys.argv[1], aws_access_key_id="test",
                    aws_secret_access_key="test", region_name="us-east-1")
for b in s3.buckets.all():
    if b.name.startswith(sys.argv[2]):
        b.objects.all().delete()
        b.delete()
PY
}

# Starts `ode serve` with the current environment; sets SERVER_PID and URL.
start_server() { # name
    local name="$1" log="$WORK/$1.log"
    mkdir -p "$WORK/$name-data"
    ODE__API__RATE_LIMIT_PER_SEC=1000000 ODE__API__TENANT_RATE_LIMIT_PER_SEC=1000000 ODE__WORKER__METRICS_PORT=0 \
        "$ODE" serve --data-dir "$WORK/$name-data" --port 0 >"$log" 2>&1 &
    SERVER_PID=$!
    URL=""
    for _ in $(seq 1 300); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "run.sh: ode serve ($name) exited:" >&2
            tail -n 30 "$log" >&2
            exit 1
        fi
        if [ -z "$URL" ]; then
            URL="$(sed -n 's|^ODE is running at \(http://[^/]*\)/.*|\1|p' "$log" | head -n 1)"
        fi
        if [ -n "$URL" ] && curl -fsS -o /dev/null --max-time 2 "$URL/ready"; then
            echo "ode serve ($name) ready at $URL (pid $SERVER_PID)" >&2
            return 0
        fi
        sleep 0.2
    done
    echo "run.sh: ode serve ($name) not ready after 60 s:" >&2
    tail -n 30 "$log" >&2
    curl -sS --max-time 3 "$URL/ready" >&2 || true
    exit 1
}

# Runs ode-load; its JSON line goes to the results. Failures are recorded, not fatal.
load() { # label, mode args...
    local label="$1"
    shift
    local out
    if ! out="$("$LOAD" --url "$URL" --key-file "$WORK/$label-data/api-key" \
        --examples "$ROOT/examples" --label "$label" --server-pid "$SERVER_PID" "$@")"; then
        echo "run.sh: ode-load $* failed ($label)" >&2
    fi
    [ -n "$out" ] && printf '%s\n' "$out" >> "$RESULTS_JSONL"
    return 0
}

run_suite() { # label, concurrencies...
    local label="$1"
    shift
    local c i
    for c in "$@"; do
        for i in $(seq 1 "$REPEAT"); do
            echo "[$label] render, concurrency $c, run $i/$REPEAT" >&2
            load "$label" render --concurrency "$c" --duration "$DURATION" --warmup "$WARMUP"
        done
    done
    for i in $(seq 1 "$REPEAT"); do
        echo "[$label] batch of $RECORDS, run $i/$REPEAT" >&2
        load "$label" batch --records "$RECORDS"
        echo "[$label] batch of $RECORDS merged, run $i/$REPEAT" >&2
        load "$label" batch --records "$RECORDS" --merge
    done
}

# Only the settings this script gives reach the server.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^ODE__' || true)

LOADAVG_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

# ---- embedded ----
start_server embedded
run_suite embedded "${CONCS[@]}"
stop_server

# ---- production ----
if [ "$PRODUCTION" = 1 ]; then
    bash "$ROOT/scripts/moto.sh" >&2
    psql "$PG/postgres" -qc "CREATE DATABASE $TAG" >/dev/null
    DB_MADE="$TAG"
    BUCKETS_MADE=1
    export ODE__DATABASE__URL="$PG/$TAG"
    export ODE__QUEUE__URL="$REDIS"
    export ODE__QUEUE__NAMESPACE="$TAG"
    export ODE__BLOBS__BACKEND=s3
    export ODE__BLOBS__S3__ENDPOINT="$S3"
    export ODE__BLOBS__S3__FORCE_PATH_STYLE=true
    export ODE__BLOBS__S3__ACCESS_KEY_ID=test
    export ODE__BLOBS__S3__SECRET_ACCESS_KEY=test
    export ODE__BLOBS__S3__DOCUMENTS_BUCKET="$TAG-documents"
    export ODE__BLOBS__S3__EXPORTS_BUCKET="$TAG-exports"
    export ODE__BLOBS__S3__FONTS_BUCKET="$TAG-fonts"
    export ODE__BLOBS__S3__CREATE_BUCKETS=true
    start_server production
    run_suite production "$TOP"
    stop_server
fi

# ---- report ----
LOADAVG_AFTER="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
export LOADAVG_BEFORE LOADAVG_AFTER
export RESULTS_JSONL WRITE ROOT REPEAT DURATION WARMUP RECORDS
VERSION="$("$ODE" --version 2>/dev/null || echo "ode (version unknown)")"
export VERSION
python3 - <<'PYTHON'
import json
import os
import platform
import re
import statistics
import subprocess
from datetime import datetime, timezone

rows = [json.loads(l) for l in open(os.environ["RESULTS_JSONL"]) if l.strip()]
repeat, duration, warmup = os.environ["REPEAT"], os.environ["DURATION"], os.environ["WARMUP"]
records = int(os.environ["RECORDS"])


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def f(v, fmt="{:.1f}", unit=""):
    return "–" if v is None else fmt.format(v) + unit


render_lines = [
    "| setup | concurrency | runs | requests/s | p50 | p90 | p99 | max | server CPU per request | errors |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
groups = {}
for r in rows:
    if r["mode"] == "render":
        groups.setdefault((r["label"], r["concurrency"]), []).append(r)
for (label, c), rs in groups.items():
    errors = {}
    for r in rs:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    render_lines.append(
        f"| {label} | {c} | {len(rs)} | {f(med(r['rps'] for r in rs), '{:.0f}')} "
        f"| {f(med(r['p50_ms'] for r in rs), unit=' ms')} | {f(med(r['p90_ms'] for r in rs), unit=' ms')} "
        f"| {f(med(r['p99_ms'] for r in rs), unit=' ms')} | {f(med(r['max_ms'] for r in rs), unit=' ms')} "
        f"| {f(med(r.get('server_cpu_ms_per_request') for r in rs), '{:.2f}', ' ms')} "
        f"| {', '.join(f'{k}: {v}' for k, v in sorted(errors.items())) or 'none'} |"
    )

batch_lines = [
    "| setup | batch | runs | succeeded | wall time (POST → succeeded) | min–max | server: queued | server: running | files | pages | server CPU |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]
groups = {}
for r in rows:
    if r["mode"] == "batch":
        groups.setdefault((r["label"], r["records"], r["merge"]), []).append(r)
for (label, n, merge), rs in groups.items():
    ok = [r for r in rs if r["status"] == "succeeded"]
    walls = [r["wall_s"] for r in ok]
    batch_lines.append(
        f"| {label} | {n} invoices, {'merged' if merge else 'one PDF each'} | {len(rs)} | {len(ok)} "
        f"| {f(med(walls), '{:.2f}', ' s')} | {f(min(walls) if walls else None, '{:.2f}')}–{f(max(walls) if walls else None, '{:.2f}', ' s')} "
        f"| {f(med(r['server_queued_ms'] for r in ok), '{:.0f}', ' ms')} | {f(med(r['server_running_ms'] for r in ok), '{:.0f}', ' ms')} "
        f"| {f(med(r['files'] for r in ok), '{:.0f}')} | {f(med(r['pages'] for r in ok), '{:.0f}')} "
        f"| {f(med(r.get('server_cpu_s') for r in ok), '{:.1f}', ' s')} |"
    )

cpu = ""
try:
    with open("/proc/cpuinfo") as fh:
        cpu = next((l.split(":", 1)[1].strip() for l in fh if l.startswith("model name")), "")
except OSError:
    pass
nproc = os.cpu_count()
notes = [
    f"Load generator `ode-load` (benches/load) on the same machine as the server (one client thread); "
    f"renders: closed loop, one request in flight per connection, {duration} s measured after {warmup} s "
    f"of warm-up, `examples/invoice.json` with its logo inline (base64); medians of {repeat} runs.",
    f"Batches: one export of {records} invoices (`examples/invoice-template.json`, records varied from "
    f"`examples/invoice-data.json`), polled every 25 ms; server: queued/running from the export's history.",
    "embedded: SQLite + local blobs + in-memory queue (`ode serve` defaults); production: PostgreSQL + "
    "Redis queue + S3 (moto, an in-memory S3 emulator written in Python), all on this machine.",
    "Server CPU: user + system time of the `ode serve` process in the measured window (/proc).",
    f"Load average (1/5/15 min) before the runs {os.environ['LOADAVG_BEFORE']}, after "
    f"{os.environ['LOADAVG_AFTER']}: other processes on the machine share the {nproc} cores.",
    "Targets (issue): ≥ 400 renders/s with p99 < 50 ms; a batch of 1,000 invoices in < 10 s. "
    "Peer figure from the issue, not measured here: Gotenberg ≈ 20 requests/s per instance.",
]
text = "\n".join(render_lines) + "\n\n" + "\n".join(batch_lines)
print(text)
print()
for n in notes:
    print(f"- {n}")

if os.environ["WRITE"] == "1":
    root = os.environ["ROOT"]
    path = os.path.join(root, "benches", "results.md")
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rev = ""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"## Hosted API\n\nMeasured by `benches/api/run.sh` on {when}: {os.environ['VERSION']}"
        f"{f', commit {rev}' if rev else ''}; {platform.system()} {platform.machine()}, nproc {nproc}"
        f"{f', {cpu}' if cpu else ''}.\n\n{text}\n\n" + "".join(f"- {n}\n" for n in notes)
    )
    try:
        old = open(path, encoding="utf-8").read()
    except OSError:
        old = "# ODE end-to-end benchmark results\n"
    if re.search(r"^## Hosted API\n", old, flags=re.M):
        new = re.sub(r"^## Hosted API\n.*?(?=^## |\Z)", lambda _: section + "\n", old, flags=re.S | re.M)
        new = new.rstrip("\n") + "\n"
    else:
        new = old.rstrip("\n") + "\n\n" + section
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(new)
    print(f"wrote {path}")
PYTHON
