#!/usr/bin/env bash
# Peak memory and time of hostile inputs, whole `ode render` processes (release build),
# and of an `ode serve` process through bomb requests. Prints a Markdown table.
#
#   benches/hostile/run.sh [BASELINE_ODE]
#
# BASELINE_ODE: another `ode` binary (an older commit's) measured on the same cases in
# the same run, for the before/after columns. Times are medians of 3 runs; peak memory
# is the maximum resident set (GNU time), which does not vary between runs. A run is
# stopped after LIMIT seconds (default 120) and shows as ">LIMIT".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

baseline="${1:-}"
limit="${LIMIT:-120}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/ode-target}"
cargo build --release -q -p ode-cli
ode="$CARGO_TARGET_DIR/release/ode"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The cases, written by Python (standard library only).
python3 - "$work" <<'PY'
import json, os, struct, sys, zlib
d = sys.argv[1]
def w(name, data):
    with open(os.path.join(d, name), "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
def png(width, height):
    def chunk(t, data):
        return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data))
    z = zlib.compressobj(9)
    row = b"\0" * (width + 1)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
def image(src):
    return json.dumps({"ode": 1, "content": [{"type": "image", "src": src, "width": "5cm"}]})
w("bomb.png", png(20000, 20000))
w("bomb.json", image("bomb.png"))
w("photo.png", png(6000, 4000))
w("photo.json", image("photo.png"))
w("items.json", json.dumps({"items": list(range(1000000))}))
w("loop.json", json.dumps({"ode": 1, "content": [{"$each": "items", "do": {"type": "paragraph", "text": "Item {{ item }}"}}]}))
w("nested.json", json.dumps({"ode": 1, "content": [{"$each": "range(1000)", "as": "i", "do": {"$each": "range(1000)", "as": "j", "do": {"type": "paragraph", "text": "{{ i }} {{ j }}"}}}]}))
laughs = '<g id="l0"><rect width="1" height="1"/></g>'
for i in range(1, 9):
    laughs += f'<g id="l{i}">' + f'<use href="#l{i-1}"/>' * 10 + "</g>"
w("use.svg", f'<svg xmlns="http://www.w3.org/2000/svg">{laughs}</svg>')
w("use.json", image("use.svg"))
rows = [[f"SKU-{i}", f"Item {i}", str(i * 3)] for i in range(100000)]
w("table.json", json.dumps({"ode": 1, "content": [{"type": "table", "columns": ["1fr", "2fr", "1fr"], "header_rows": 1, "rows": [["SKU", "Item", "Qty"]] + rows}]}))
w("word.json", json.dumps({"ode": 1, "content": [{"type": "table", "columns": ["2pt", "1fr"], "rows": [["x" * 200000, "b"]]}]}))
w("pile.json", json.dumps({"ode": 1, "content": [{"type": "paragraph", "text": "a" + "\u0301" * 200000}]}))
w("quotes.md", "> " * 50000 + "deep\n")
PY

# case NAME ARGS...: "peak MB | median s" of the command on this build and the baseline.
measure() { # measure BINARY ARGS... -> "peak_mb median_s exit"
    local bin="$1"
    shift
    local times=() peak=0 code=0
    for _ in 1 2 3; do
        code=0
        /usr/bin/time -f "%M %e" -o "$work/t" timeout "$limit" "$bin" "$@" >/dev/null 2>&1 || code=$?
        read -r kb s < <(tail -n 1 "$work/t")
        peak=$((kb / 1024))
        times+=("$s")
        if [ "$code" -eq 124 ]; then
            echo "$peak >${limit} stopped"
            return
        fi
    done
    local median
    median="$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)"
    echo "$peak $median $code"
}

row() { # row LABEL ARGS...
    local label="$1"
    shift
    read -r p s c < <(measure "$ode" "$@")
    local line="| $label | $p MB | $s s | exit $c |"
    if [ -n "$baseline" ]; then
        read -r bp bs bc < <(measure "$baseline" "$@")
        line="$line $bp MB | $bs s | exit $bc |"
    fi
    echo "$line"
}

out="$work/out.pdf"
if [ -n "$baseline" ]; then
    echo "| input | peak | time | result | baseline peak | baseline time | baseline result |"
    echo "|---|---|---|---|---|---|---|"
else
    echo "| input | peak | time | result |"
    echo "|---|---|---|---|"
fi
row "PNG of 20,000 × 20,000 pixels (400 KB)" render "$work/bomb.json" -o "$out"
row "PNG of 6,000 × 4,000 shown 5 cm wide" render "$work/photo.json" -o "$out"
row "loop over 1,000,000 data items" render "$work/loop.json" --data "$work/items.json" -o "$out"
row "two nested range(1000) loops" render "$work/nested.json" -o "$out"
row "SVG of 10^8 elements by \`use\` (1 KB)" render "$work/use.json" -o "$out"
row "table of 100,000 rows, tagged" render "$work/table.json" -o "$out"
row "table of 100,000 rows, untagged" render "$work/table.json" --untagged -o "$out"
row "one 200,000-letter word in a 2pt column" render "$work/word.json" -o "$out"
row "a letter under 200,000 combining marks" render "$work/pile.json" -o "$out"
row "50,000 nested Markdown quotes" render "$work/quotes.md" -o "$out"

# An `ode serve` process through bomb requests: four nested-loop templates and a PNG
# bomb at once from one tenant, a small render from another tenant 0.2 s later (how
# long it waits behind them), then the process's resident memory once all are answered. This build runs with
# the memory budget a pod with a 512 MiB limit would get by default (60%: 300 MB), here
# set as 200 MB of renders beside the process's own memory.
serve_case() { # serve_case BINARY [VAR=VALUE...] -> "peak_mb after_mb small_s statuses"
    local bin="$1" dir="$work/serve-$RANDOM" port
    shift
    mkdir -p "$dir"
    port=$((20000 + RANDOM % 20000))
    env "$@" "$bin" serve --data-dir "$dir" --port "$port" >"$dir/log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
        sleep 0.1
    done
    local key other
    key="$(cat "$dir/api-key")"
    other="$("$bin" admin --data-dir "$dir" create-tenant other | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')"
    local nested bomb
    nested="$(python3 -c 'import json,sys; print(json.dumps({"template": json.load(open(sys.argv[1])), "data": {}}))' "$work/nested.json")"
    bomb="$(python3 -c 'import base64,json,sys; print(json.dumps({"document": json.load(open(sys.argv[1])), "assets": {"bomb.png": base64.b64encode(open(sys.argv[2],"rb").read()).decode()}}))' "$work/bomb.json" "$work/bomb.png")"
    local clients=()
    for body in "$nested" "$nested" "$nested" "$nested" "$bomb"; do
        curl -s -o /dev/null -w '%{http_code}\n' -H "authorization: Bearer $key" \
            -H 'content-type: application/json' --data-binary @- \
            "http://127.0.0.1:$port/v1/render" <<<"$body" >>"$dir/codes" &
        clients+=("$!")
    done
    sleep 0.2
    local small
    small="$(curl -s -o /dev/null -w '%{time_total}' -H "authorization: Bearer $other" \
        -H 'content-type: application/json' \
        -d '{"markdown": "# Small\n\nA one-line note."}' "http://127.0.0.1:$port/v1/render")"
    wait "${clients[@]}" 2>/dev/null || true
    sleep 2
    local peak after
    peak=$(($(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024))
    after=$(($(awk '/VmRSS/ {print $2}' "/proc/$pid/status") / 1024))
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$peak $after $small $(sort "$dir/codes" | uniq -c | awk '{printf "%s×%s ", $1, $2}')"
}
read -r sp sa ss sc < <(serve_case "$ode" ODE__LIMITS__MEMORY_BUDGET_MB=200)
line="| \`ode serve\`: 4 nested-loop templates and a PNG bomb at once; another tenant's small render | $sp MB peak, $sa MB after | small render: $ss s | $sc|"
if [ -n "$baseline" ]; then
    read -r bp ba bs bc < <(serve_case "$baseline")
    line="$line $bp MB peak, $ba MB after | small render: $bs s | $bc|"
fi
echo "$line"
