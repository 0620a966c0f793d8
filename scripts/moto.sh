#!/usr/bin/env bash
# Makes sure a moto S3 server (an in-memory S3 emulator, used by the tests) listens on
# 127.0.0.1:${ODE_MOTO_PORT:-9000}. Idempotent: when something already answers there it
# does nothing; otherwise it installs moto in a venv (once) and starts it in the background.
#
#   ODE_MOTO_PORT  port to listen on (default 9000)
#   ODE_MOTO_VENV  venv to install moto in (default ~/.cache/ode-moto-venv)
set -euo pipefail

port="${ODE_MOTO_PORT:-9000}"
venv="${ODE_MOTO_VENV:-$HOME/.cache/ode-moto-venv}"
url="http://127.0.0.1:${port}"
log="${venv}/moto-${port}.log"

answers() {
    curl --silent --output /dev/null --max-time 2 "${url}/" 2>/dev/null
}

if answers; then
    echo "moto: already answering at ${url}"
    exit 0
fi

if [[ ! -x "${venv}/bin/python" ]]; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1; then
            echo "moto: installing python3-venv with apt-get" >&2
            apt-get update -qq >/dev/null && apt-get install -y -qq python3-venv >/dev/null
        else
            echo "moto: python3 -m venv is missing and apt-get is not available" >&2
            exit 1
        fi
    fi
    mkdir -p "$(dirname "${venv}")"
    python3 -m venv "${venv}"
fi

if [[ ! -x "${venv}/bin/moto_server" ]]; then
    echo "moto: installing moto[server] into ${venv}" >&2
    "${venv}/bin/pip" install --quiet --disable-pip-version-check 'moto[server]'
fi

nohup "${venv}/bin/moto_server" -H 127.0.0.1 -p "${port}" >"${log}" 2>&1 &
pid=$!

for _ in $(seq 1 60); do
    if answers; then
        echo "moto: S3 server running at ${url} (pid ${pid}, log ${log})"
        exit 0
    fi
    if ! kill -0 "${pid}" 2>/dev/null; then
        echo "moto: the server exited; see ${log}:" >&2
        tail -n 20 "${log}" >&2 || true
        exit 1
    fi
    sleep 0.5
done

echo "moto: no answer at ${url} after 30 s; see ${log}" >&2
exit 1
