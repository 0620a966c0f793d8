#!/usr/bin/env bash
# A rehearsal of the production topology on one machine: PostgreSQL, Redis and an S3
# server (moto) on loopback, two ode-api processes behind nginx (Debian's, as the
# load balancer), two ode-worker processes, all configured through the ODE__… variables
# the Kubernetes manifests set. It runs the CD pipeline's smoke test against nginx, then
# restarts the API processes one after the other (SIGTERM, wait, start) while clients
# keep sending renders, and fails if any request is lost or answered with an error.
#
#   ./scripts/rehearsal.sh            (the test command runs it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/ode-target}"
BIN="$CARGO_TARGET_DIR/debug"
WORK="$(mktemp -d)"
PIDS=()
DB="ode_rehearsal_$(date +%s)_$$"

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -f "$WORK/nginx.pid" ]; then
        kill -QUIT "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
    fi
    psql -h 127.0.0.1 -U postgres -d postgres -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v nginx >/dev/null 2>&1; then
    echo "error: nginx is needed (apt-get install nginx; scripts/test.sh installs it)" >&2
    exit 1
fi
./scripts/moto.sh >/dev/null
cargo build -q -p ode-api -p ode-worker -p ode-cli --bins

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
API_A="$(free_port)"
API_B="$(free_port)"
LB="$(free_port)"
ID="$(date +%s)$$"

psql -h 127.0.0.1 -U postgres -d postgres -qAtc "CREATE DATABASE $DB"
# The names of infra/k8s/base/00-common.yaml, with local values.
export ODE__DATABASE__URL="postgres://postgres@127.0.0.1:5432/$DB"
export ODE__DATABASE__POOL_SIZE=8
export ODE__QUEUE__URL="redis://127.0.0.1:6379"
export ODE__QUEUE__NAMESPACE="rehearsal-$ID"
export ODE__BLOBS__BACKEND=s3
export ODE__BLOBS__S3__REGION=us-east-1
export ODE__BLOBS__S3__ENDPOINT="http://127.0.0.1:${ODE_MOTO_PORT:-9000}"
export ODE__BLOBS__S3__FORCE_PATH_STYLE=true
export ODE__BLOBS__S3__ACCESS_KEY_ID=test
export ODE__BLOBS__S3__SECRET_ACCESS_KEY=test
export ODE__BLOBS__S3__DOCUMENTS_BUCKET="rehearsal-$ID-documents"
export ODE__BLOBS__S3__EXPORTS_BUCKET="rehearsal-$ID-exports"
export ODE__BLOBS__S3__FONTS_BUCKET="rehearsal-$ID-fonts"
export ODE__BLOBS__S3__CREATE_BUCKETS=true
export ODE__API__HOST=127.0.0.1
export ODE__API__SHUTDOWN_GRACE_SECS=30
# The clients below share one key and one tenant; the rate limits are tested elsewhere
# (auth.rs, ode-sdk/tests/ratelimit.rs).
export ODE__API__RATE_LIMIT_PER_SEC=1000000
export ODE__API__TENANT_RATE_LIMIT_PER_SEC=1000000
export ODE__WORKER__SHUTDOWN_GRACE_SECS=90
export RUST_LOG=warn

wait_ready() { # wait_ready PORT
    local i
    for ((i = 0; i < 120; i++)); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/ready")" = 200 ] && return 0
        sleep 0.5
    done
    echo "error: the API on port $1 never became ready" >&2
    return 1
}

declare -A API_PID
start_api() { # start_api PORT
    ODE__API__PORT="$1" "$BIN/ode-api" >>"$WORK/api-$1.log" 2>&1 &
    API_PID[$1]=$!
    PIDS+=("$!")
    wait_ready "$1"
}

start_api "$API_A"
start_api "$API_B"
for m in 1 2; do
    ODE__WORKER__METRICS_PORT="$(free_port)" "$BIN/ode-worker" >>"$WORK/worker-$m.log" 2>&1 &
    PIDS+=("$!")
done

cat >"$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $WORK/body;
    proxy_temp_path $WORK/proxy;
    fastcgi_temp_path $WORK/fastcgi;
    uwsgi_temp_path $WORK/uwsgi;
    scgi_temp_path $WORK/scgi;
    upstream ode_api {
        server 127.0.0.1:$API_A max_fails=0;
        server 127.0.0.1:$API_B max_fails=0;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$LB;
        client_max_body_size 10m;
        location / {
            proxy_pass http://ode_api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # A process that is shutting down refuses new connections: try the other.
            proxy_next_upstream error timeout http_502 http_503 non_idempotent;
            proxy_next_upstream_tries 4;
        }
    }
}
NGINX
nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
wait_ready "$LB"

KEY="$("$BIN/ode" admin create-tenant rehearsal | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')"
echo "==> smoke test through nginx"
SMOKE_API_KEY="$KEY" SMOKE_TIMEOUT_SECS=30 ./infra/scripts/smoke-test.sh "http://127.0.0.1:$LB"

echo "==> rolling restart of both API processes under load"
cat >"$WORK/load.py" <<'PY'
import json, sys, threading, time, urllib.request, urllib.error
url, key, stop_file, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
counts, lock = {}, threading.Lock()
body = json.dumps({"markdown": "# Rolling\n\nA render during a restart."}).encode()
def client():
    import os
    while not os.path.exists(stop_file):
        req = urllib.request.Request(url + "/v1/render", data=body, method="POST",
            headers={"Authorization": "Bearer " + key, "content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                ok = r.read(5) == b"%PDF-"
                status = str(r.status) if ok else "bad-body"
        except urllib.error.HTTPError as e:
            status = str(e.code)
        except Exception as e:
            status = type(e).__name__
        with lock:
            counts[status] = counts.get(status, 0) + 1
threads = [threading.Thread(target=client) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
json.dump(counts, open(out, "w"))
PY
python3 "$WORK/load.py" "http://127.0.0.1:$LB" "$KEY" "$WORK/stop" "$WORK/counts.json" &
LOAD=$!
sleep 2
for port in "$API_A" "$API_B"; do
    echo "restarting the API on port $port"
    kill -TERM "${API_PID[$port]}"
    wait "${API_PID[$port]}" || true
    sleep 1
    start_api "$port"
    sleep 2
done
touch "$WORK/stop"
wait "$LOAD"
echo "answers during the restarts: $(cat "$WORK/counts.json")"
python3 - "$WORK/counts.json" <<'PY'
import json, sys
counts = json.load(open(sys.argv[1]))
total = sum(counts.values())
lost = {k: v for k, v in counts.items() if k != "200"}
if total < 20 or lost:
    sys.exit(f"error: {total} requests, not answered 200: {lost}")
print(f"ok: {total} renders, every one answered 200")
PY
SMOKE_API_KEY="$KEY" SMOKE_TIMEOUT_SECS=30 ./infra/scripts/smoke-test.sh "http://127.0.0.1:$LB" >/dev/null
echo "rehearsal passed"
