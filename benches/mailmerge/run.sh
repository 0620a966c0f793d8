#!/usr/bin/env bash
# The mail-merge benchmark: examples/letter-template.json with 100, 250 and 500 records
# of examples/letters.jsonl into one PDF (`ode render … --merge`), and the same 500
# letters set by Typst (letters.typ, through the `typst` package from PyPI) in the same
# run. Whole processes, timed by hyperfine (median of --runs runs); Typst's figure also
# shows the Python interpreter's start-up, measured alone and subtracted.
#
# Usage: benches/mailmerge/run.sh [--runs N] [--no-build] [--write]
#   --write   replace the "Mail merge" section of benches/results.md with the table
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
RUNS=10
BUILD=1
WRITE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift ;;
        --no-build) BUILD=0 ;;
        --write) WRITE=1 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
command -v hyperfine >/dev/null || { echo "run.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
python3 -c "import typst" 2>/dev/null || pip install --quiet typst
if [ "$BUILD" = 1 ]; then
    (cd "$ROOT" && cargo build --release -p ode-cli --quiet)
fi
ODE="$TARGET_DIR/release/ode"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for n in 100 250 500; do head -n "$n" "$ROOT/examples/letters.jsonl" > "$WORK/letters-$n.jsonl"; done
python3 -c "import json,sys; json.dump([json.loads(l) for l in open(sys.argv[1])], open(sys.argv[2],'w'))" \
    "$ROOT/examples/letters.jsonl" "$HERE/letters.json"
cp "$ROOT/examples/assets/logo.svg" "$HERE/logo.svg"

median() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['median'])" "$1"; }
bench() { # name, command
    hyperfine --runs "$RUNS" --warmup 2 --export-json "$WORK/$1.json" --style none "$2" >/dev/null 2>&1
    median "$WORK/$1.json"
}
cd "$ROOT"
declare -A T
for n in 100 250 500; do
    T[ode$n]=$(bench "ode$n" "$ODE render examples/letter-template.json --data $WORK/letters-$n.jsonl --merge -q -o $WORK/ode-$n.pdf")
done
T[dir]=$(bench dir "rm -rf $WORK/out && $ODE render examples/letter-template.json --data $WORK/letters-500.jsonl --out-dir $WORK/out -q")
cd "$HERE"
T[py]=$(bench py "python3 -c 'import typst'")
T[typst]=$(bench typst "python3 typst_compile.py $WORK/typst.pdf")
size() { stat -c %s "$1"; }
pages() { pdfinfo "$1" 2>/dev/null | awk '/^Pages:/ {print $2}'; }
ms() { python3 -c "print(f'{float(\"$1\")*1000:.1f}')"; }
typst_net=$(python3 -c "print(max(0.0, ${T[typst]} - ${T[py]}))")
ratio=$(python3 -c "print(f'{${T[ode500]} / $typst_net:.3f}')")
table="| workload | ODE | Typst 0.15 (typst-py) | ODE / Typst |
|---|---|---|---|
| 500 letters, one PDF: time | $(ms "${T[ode500]}") ms | $(ms "$typst_net") ms (+ $(ms "${T[py]}") ms Python start-up) | $ratio |
| pages | $(pages "$WORK/ode-500.pdf") | $(pages "$WORK/typst.pdf") | |
| bytes | $(size "$WORK/ode-500.pdf") | $(size "$WORK/typst.pdf") | |
| 100 / 250 / 500 letters: time | $(ms "${T[ode100]}") / $(ms "${T[ode250]}") / $(ms "${T[ode500]}") ms | | |
| 500 letters, one PDF each (--out-dir, both cores) | $(ms "${T[dir]}") ms | | |
| time per letter (100 / 250 / 500) | $(python3 -c "print(' / '.join(f'{t/n*1000:.3f}' for t, n in [(${T[ode100]},100),(${T[ode250]},250),(${T[ode500]},500)]))") ms | | |"
echo "$table"
if [ "$WRITE" = 1 ]; then
    python3 - "$ROOT/benches/results.md" "$table" "$RUNS" <<'PY'
import re, sys, datetime
path, table, runs = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
section = (f"## Mail merge\n\nMeasured by `benches/mailmerge/run.sh` on {datetime.date.today()}: "
           f"whole processes, median of {runs} hyperfine runs, both engines in the same run.\n\n{table}\n")
if "## Mail merge" in text:
    text = re.sub(r"## Mail merge\n.*?(?=\n## |\Z)", section, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
PY
fi
