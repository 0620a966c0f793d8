#!/usr/bin/env bash
# End-to-end benchmark of the `ode` command on the W1, W2 and W3 workloads.
#
# Builds `ode` in release mode, then for each workload measures the whole process
# (`ode render benches/corpus/wN.json -o OUT.pdf`): wall time (hyperfine when installed,
# else a Python timer; median of --runs runs), peak resident memory (/usr/bin/time -v,
# median of 3 runs) and output size. Prints a markdown table next to a peer engine's
# figures from the corpus README (Typst by default) with the ratio ODE / peer.
#
# Usage: benches/run.sh [--write] [--runs N] [--warmup N] [--no-build] [--ode PATH]
#                       [--peer NAME] [--corpus-readme PATH] [--install-tools]
#   --write          also write the table to benches/results.md
#   --runs N         timed runs per workload (default 10)
#   --warmup N       untimed runs before timing (default 2)
#   --no-build       use the existing binary
#   --ode PATH       the binary to measure (default $CARGO_TARGET_DIR/release/ode)
#   --peer NAME      peer column of the corpus README to compare with (default "Typst")
#   --corpus-readme  where the peer figures are (default $ODE_BENCH_NEUTRAL/README.md,
#                    ODE_BENCH_NEUTRAL defaulting to /work/shared/bench-corpus)
#   --install-tools  apt-get install hyperfine and time when missing (needs root)
#
# Environment: CARGO_TARGET_DIR (default <repo>/target); ODE_BENCH_TIMER=python forces the
# Python timer even when hyperfine is installed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

WRITE=0
RUNS=10
WARMUP=2
BUILD=1
ODE=""
PEER="Typst"
NEUTRAL="${ODE_BENCH_NEUTRAL:-/work/shared/bench-corpus}"
README="$NEUTRAL/README.md"
INSTALL=0

while [ $# -gt 0 ]; do
    case "$1" in
        --write) WRITE=1 ;;
        --runs) RUNS="$2"; shift ;;
        --warmup) WARMUP="$2"; shift ;;
        --no-build) BUILD=0 ;;
        --ode) ODE="$2"; shift ;;
        --peer) PEER="$2"; shift ;;
        --corpus-readme) README="$2"; shift ;;
        --install-tools) INSTALL=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

case "$RUNS" in ''|*[!0-9]*|0) echo "run.sh: --runs needs a positive number" >&2; exit 2 ;; esac
case "$WARMUP" in ''|*[!0-9]*) echo "run.sh: --warmup needs a number" >&2; exit 2 ;; esac

if [ "$INSTALL" = 1 ]; then
    missing=()
    command -v hyperfine >/dev/null || missing+=(hyperfine)
    [ -x /usr/bin/time ] || missing+=(time)
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get install -y "${missing[@]}" >/dev/null || echo "run.sh: could not install ${missing[*]}" >&2
    fi
fi

if [ -z "$ODE" ]; then
    ODE="$TARGET_DIR/release/ode"
fi

if [ "$BUILD" = 1 ]; then
    echo "Building ode (release) into $TARGET_DIR ..." >&2
    if ! (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release -p ode-cli >&2); then
        echo "run.sh: building ode failed" >&2
        exit 1
    fi
fi
if [ ! -x "$ODE" ]; then
    echo "run.sh: $ODE is missing or not executable (build it, or pass --ode)" >&2
    exit 1
fi

export ODE RUNS WARMUP PEER README WRITE
export CORPUS="$HERE/corpus" RESULTS="$HERE/results.md" ROOT
exec python3 - <<'PYTHON'
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

ODE = os.environ["ODE"]
RUNS = int(os.environ["RUNS"])
WARMUP = int(os.environ["WARMUP"])
PEER = os.environ["PEER"]
README = os.environ["README"]
WRITE = os.environ["WRITE"] == "1"
CORPUS = os.environ["CORPUS"]
RESULTS = os.environ["RESULTS"]
ROOT = os.environ["ROOT"]

WORKLOADS = [("W1", "w1"), ("W2", "w2"), ("W3", "w3")]
# Phrases text extraction must find (from the corpus README).
PHRASES = {
    "W1": ["INV-2024-0042", "Thank you for your business"],
    "W2": ["The final figures confirm sustained efficiency gains across every region", "Chapter 15"],
    "W3": ["SKU-10000", "Grand total"],
}
UNITS = {"ms": 1e-3, "s": 1.0, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---- peer figures ----

def parse_quantity(text):
    """'0.72 s' -> 0.72, '52 KB' -> 53248; None when there is no figure."""
    m = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|B|KB|MB|GB)\b", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def peer_figures(path, peer):
    """{(workload, metric): (text, value, untagged value or None)} for one peer column."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        log(f"run.sh: no peer figures ({e})")
        return None, {}
    rows = [[c.strip() for c in l.strip().strip("|").split("|")] for l in lines if l.strip().startswith("|")]
    header = next((r for r in rows if r and r[0].lower() == "workload"), None)
    if not header:
        log(f"run.sh: no peer table in {path}")
        return None, {}
    col = next((i for i, h in enumerate(header) if h.lower().startswith(peer.lower())), None)
    if col is None:
        log(f"run.sh: no column for peer {peer!r} in {path}; columns: {header[1:]}")
        return None, {}
    out = {}
    for r in rows:
        if len(r) <= col or not re.match(r"W\d", r[0]):
            continue
        label = r[0]
        wl = label.split()[0]
        if label.endswith("time"):
            metric = "time"
        elif "memory" in label:
            metric = "rss"
        elif label.endswith("bytes"):
            metric = "bytes"
        else:
            continue
        text = r[col]
        m = re.search(r"\(([^)]*)untagged\)", text)
        out[(wl, metric)] = (text, parse_quantity(text), parse_quantity(m.group(1)) if m else None)
    return header[col], out


# ---- measurements ----

def render_cmd(src, out):
    return [ODE, "render", src, "-o", out]


def run_once(cmd):
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stderr


def time_hyperfine(cmd, tmp):
    out = os.path.join(tmp, "hyperfine.json")
    subprocess.run(
        ["hyperfine", "--style", "none", "-N", "--warmup", str(WARMUP), "--runs", str(RUNS),
         "--export-json", out, shlex.join(cmd)],
        check=True, stdout=subprocess.DEVNULL,
    )
    with open(out) as f:
        r = json.load(f)["results"][0]
    times = r.get("times") or []
    return r.get("median", statistics.median(times) if times else r["mean"]), times


def time_python(cmd):
    for _ in range(WARMUP):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def peak_rss(cmd, runs=3):
    if not os.access("/usr/bin/time", os.X_OK):
        return None
    values = []
    for _ in range(runs):
        p = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        m = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", p.stderr)
        if p.returncode != 0 or not m:
            return None
        values.append(int(m.group(1)) * 1024)
    return statistics.median(values)


def pdf_pages(data):
    n = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
    return n or None


def text_check(pdf, phrases):
    """'ok', 'missing: …', or None without pdftotext."""
    if not shutil.which("pdftotext"):
        return None
    p = subprocess.run(["pdftotext", "-q", pdf, "-"], capture_output=True, text=True)
    if p.returncode != 0:
        return "pdftotext failed"
    text = re.sub(r"\s+", " ", p.stdout)
    missing = [ph for ph in phrases if ph not in text]
    return "ok" if not missing else "missing: " + "; ".join(missing)


# ---- formatting ----

def fmt_time(s):
    return "–" if s is None else (f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s")


def fmt_bytes(b):
    if b is None:
        return "–"
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if b >= size:
            v = b / size
            return f"{v:.1f} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{int(b)} B"


def ratio(ours, theirs):
    if ours is None or not theirs:
        return "–"
    r = ours / theirs
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def main():
    peer_name, peer = peer_figures(README, PEER)
    peer_name = peer_name or PEER
    tool = os.environ.get("ODE_BENCH_TIMER") or ("hyperfine" if shutil.which("hyperfine") else "python")
    version = subprocess.run([ODE, "--version"], capture_output=True, text=True).stdout.strip() or "ode (version unknown)"
    log(f"{version}; timing with {tool}, {RUNS} runs after {WARMUP} warm-up runs")

    rows, failed = [], False
    with tempfile.TemporaryDirectory(prefix="ode-bench-") as tmp:
        for name, file in WORKLOADS:
            src = os.path.join(CORPUS, f"{file}.json")
            out = os.path.join(tmp, f"{file}.pdf")
            cmd = render_cmd(src, out)
            log(f"{name}: {shlex.join(cmd)}")
            code, err = run_once(cmd)
            if code != 0 or not os.path.exists(out):
                first = (err.strip().splitlines() or ["no message"])[0]
                log(f"{name}: FAILED (exit {code}):\n{err.strip()}")
                rows.append((name, None, f"failed (exit {code}): {first}"))
                failed = True
                continue
            try:
                median, times = time_hyperfine(cmd, tmp) if tool == "hyperfine" else time_python(cmd)
            except subprocess.CalledProcessError as e:
                rows.append((name, None, f"timing failed: {e}"))
                failed = True
                continue
            rss = peak_rss(cmd)
            with open(out, "rb") as f:
                data = f.read()
            m = {
                "time": median,
                "min": min(times) if times else None,
                "max": max(times) if times else None,
                "rss": rss,
                "bytes": len(data),
                "pages": pdf_pages(data),
                "tagged": b"/StructTreeRoot" in data,
                "text": text_check(out, PHRASES[name]),
            }
            log(f"{name}: median {fmt_time(median)}, peak RSS {fmt_bytes(rss)}, {fmt_bytes(len(data))}, "
                f"{m['pages'] or '?'} pages, text check {m['text'] or 'skipped (no pdftotext)'}")
            rows.append((name, m, None))

    head = ("| workload | ODE time | {p} time | ratio | ODE peak RSS | {p} peak RSS | ratio "
            "| ODE bytes | {p} bytes | ratio | pages | text |").format(p=peer_name)
    cols = head.count("|") - 1
    lines = [head, "|" + "---|" * cols]
    for name, m, err in rows:
        if m is None:
            lines.append(f"| {name} | {err} |" + " |" * (cols - 2))
            continue
        pt = peer.get((name, "time"), ("–", None, None))
        pr = peer.get((name, "rss"), ("–", None, None))
        pb = peer.get((name, "bytes"), ("–", None, None))
        # Compare sizes like with like: ODE's untagged output with the peer's untagged figure.
        peer_bytes = pb[1] if m["tagged"] or pb[2] is None else pb[2]
        lines.append(
            f"| {name} | {fmt_time(m['time'])} | {pt[0]} | {ratio(m['time'], pt[1])} "
            f"| {fmt_bytes(m['rss'])} | {pr[0]} | {ratio(m['rss'], pr[1])} "
            f"| {fmt_bytes(m['bytes'])}{'' if m['tagged'] else ' (untagged)'} | {pb[0]} | {ratio(m['bytes'], peer_bytes)} "
            f"| {m['pages'] or '?'} | {m['text'] or '–'} |"
        )
    table = "\n".join(lines)
    spread = "; ".join(
        f"{n} {fmt_time(m['min'])}–{fmt_time(m['max'])}" for n, m, _ in rows if m and m["min"] is not None
    )
    notes = [
        f"Whole process `ode render wN.json -o out.pdf`, median of {RUNS} runs after {WARMUP} warm-up runs "
        f"({tool}); range {spread or 'n/a'}.",
        "Peak RSS: median of 3 runs of `/usr/bin/time -v`. Sizes in KB/MB/GB of 1024.",
        f"{peer_name} figures: {README} (median of 10 runs on this project's machine kind). Ratio = ODE / "
        f"{peer_name}: below 1 is better for ODE. Bytes are compared with the peer's untagged figure when ODE's "
        "output is untagged.",
        "text: pdftotext finds the phrases the corpus README lists (– when pdftotext is not installed).",
    ]
    print(table)
    print()
    for n in notes:
        print(f"- {n}")

    if WRITE:
        try:
            rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        except OSError:
            rev = ""
        cpu = ""
        try:
            with open("/proc/cpuinfo") as f:
                cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
        except OSError:
            pass
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        # Other scripts' sections (`## …`) of the file are kept; only the top part is ours.
        kept = ""
        try:
            with open(RESULTS, encoding="utf-8") as f:
                old = f.read()
            at = old.find("\n## ")
            if at >= 0:
                kept = old[at:]
        except OSError:
            pass
        with open(RESULTS, "w", encoding="utf-8") as f:
            f.write("# ODE end-to-end benchmark results\n\n")
            f.write(f"Generated by `benches/run.sh --write` on {when}: {version}"
                    f"{f', commit {rev}' if rev else ''}; {platform.system()} {platform.machine()}, "
                    f"{os.cpu_count()} CPUs{f' ({cpu})' if cpu else ''}.\n\n")
            f.write(table + "\n\n")
            for n in notes:
                f.write(f"- {n}\n")
            f.write(kept)
        log(f"wrote {RESULTS}")
    return 1 if failed else 0


sys.exit(main())
PYTHON
