#!/usr/bin/env bash
# Smoke test of a running ODE API: liveness, readiness (database, queue and blob store),
# metrics, and, when SMOKE_API_KEY is set, a real render through the whole stack.
#
#   infra/scripts/smoke-test.sh https://api.ode.example.com
#   SMOKE_API_KEY=ode_... infra/scripts/smoke-test.sh http://127.0.0.1:8080
#
# Retries each probe for SMOKE_TIMEOUT_SECS (60) so it can follow a rollout. Exit 0: healthy.
set -euo pipefail

BASE_URL="${1:?usage: smoke-test.sh BASE_URL}"
BASE_URL="${BASE_URL%/}"
TIMEOUT="${SMOKE_TIMEOUT_SECS:-60}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# expect PATH STATUS: retries until GET PATH answers STATUS.
expect() {
    local path="$1" want="$2" got="" deadline=$((SECONDS + TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        got="$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 10 "$BASE_URL$path" || true)"
        if [ "$got" = "$want" ]; then
            echo "ok   GET $path -> $got"
            return 0
        fi
        sleep 2
    done
    echo "FAIL GET $path -> ${got:-no answer} (wanted $want)" >&2
    head -c 500 "$WORK/body" >&2 2>/dev/null || true
    return 1
}

expect /health 200
expect /ready 200
expect /metrics 200
grep -q '^ode_' "$WORK/body" || {
    echo "FAIL /metrics has no ode_* series" >&2
    exit 1
}
echo "ok   /metrics exposes ode_* series"

# Without a key, /v1 must refuse (401), never 5xx.
expect /v1/documents 401

if [ -n "${SMOKE_API_KEY:-}" ]; then
    status="$(curl -s -o "$WORK/out.pdf" -w '%{http_code}' --max-time 60 \
        -H "Authorization: Bearer $SMOKE_API_KEY" -H 'content-type: application/json' \
        -d '{"markdown": "# Smoke test\n\nRendered by the deploy pipeline."}' \
        "$BASE_URL/v1/render")"
    if [ "$status" != 200 ] || [ "$(head -c 5 "$WORK/out.pdf")" != "%PDF-" ]; then
        echo "FAIL POST /v1/render -> $status" >&2
        exit 1
    fi
    echo "ok   POST /v1/render -> PDF"
else
    echo "skip POST /v1/render (no SMOKE_API_KEY)"
fi
echo "smoke test passed: $BASE_URL"
