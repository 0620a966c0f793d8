#!/usr/bin/env python3
"""Shrinks a JSON document that makes a fuzz target fail, keeping the failure.

    python3 reduce_json.py BINARY INPUT.json OUTPUT.json SIGNATURE [--timeout S]

BINARY is a built fuzz target that reads JSON (`render` or `parse`, from
`cargo +nightly fuzz build`); it is run on each candidate. A candidate keeps failing
when the target's output contains SIGNATURE (for a panic, its `file:line`, such as
`layout/inline.rs:452`); when SIGNATURE is `timeout`, when it runs longer than
`--timeout` seconds (default 5); when SIGNATURE is `rss:N`, when its peak resident
memory passes N MB.

The reducer works on the JSON tree rather than on bytes: it drops array elements and
object keys, replaces a block by one of the blocks inside it, shortens strings and
rounds numbers, and repeats until nothing more can go. It writes the smallest failing
document it has found to OUTPUT after every improvement, so it can be stopped at any
time.
"""

import json
import os
import subprocess
import sys
import tempfile


def usage():
    sys.exit(__doc__)


args = sys.argv[1:]
timeout = 5.0
if "--timeout" in args:
    i = args.index("--timeout")
    timeout = float(args[i + 1])
    del args[i : i + 2]
if len(args) != 4:
    usage()
binary, src, out, signature = args

tmpdir = tempfile.mkdtemp(prefix="ode-reduce-")
runs = 0


def fails(doc):
    global runs
    runs += 1
    path = os.path.join(tmpdir, "candidate.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(dump(doc))
    env = dict(os.environ, ASAN_OPTIONS="detect_odr_violation=0:detect_leaks=0")
    if signature.startswith("rss:"):
        limit_kb = int(signature[4:]) * 1024
        proc = subprocess.Popen(
            [binary, "-rss_limit_mb=0", "-malloc_limit_mb=0", path],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        return usage.ru_maxrss > limit_kb
    if signature == "timeout":
        try:
            subprocess.run(
                [binary, path],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout,
                env=env,
            )
            return False
        except subprocess.TimeoutExpired:
            return True
    try:
        p = subprocess.run(
            [binary, path],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=max(timeout, 30),
            env=env,
        )
    except subprocess.TimeoutExpired:
        return False
    return signature in p.stdout.decode("utf-8", "replace")


def dump(doc):
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def size(doc):
    return len(dump(doc).encode("utf-8"))


def children(v, path=()):
    """Every (path, value) in the tree, parents before children."""
    yield path, v
    if isinstance(v, dict):
        for k in list(v):
            yield from children(v[k], path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from children(x, path + (i,))


def get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def replaced(doc, path, new):
    """A copy of doc with the value at path replaced (or removed when new is REMOVE)."""
    if not path:
        return new
    doc = json.loads(json.dumps(doc))
    parent = get(doc, path[:-1])
    if new is REMOVE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return doc


REMOVE = object()


def candidates(doc):
    """Smaller variants of doc, roughly the biggest cuts first."""
    nodes = list(children(doc))
    # Halve arrays.
    for path, v in nodes:
        if isinstance(v, list) and len(v) >= 4:
            h = len(v) // 2
            yield replaced(doc, path, v[:h])
            yield replaced(doc, path, v[h:])
    # Drop single elements and keys.
    for path, v in nodes:
        if isinstance(v, list):
            for i in range(len(v)):
                yield replaced(doc, path, v[:i] + v[i + 1 :])
        elif isinstance(v, dict):
            for k in v:
                yield replaced(doc, path + (k,), REMOVE)
    # Hoist: a value replaced by one of its descendants of the same kind.
    for path, v in nodes:
        if isinstance(v, dict) and "type" in v:
            for sub_path, sub in children(v):
                if sub_path and isinstance(sub, dict) and "type" in sub:
                    yield replaced(doc, path, sub)
        if isinstance(v, list):
            for sub_path, sub in children(v):
                if sub_path and isinstance(sub, list):
                    yield replaced(doc, path, sub)
    # Strings: halves, then single characters out, then a plain word.
    for path, v in nodes:
        if isinstance(v, str) and v:
            if len(v) >= 2:
                h = len(v) // 2
                yield replaced(doc, path, v[:h])
                yield replaced(doc, path, v[h:])
            if len(v) <= 64:
                for i in range(len(v)):
                    yield replaced(doc, path, v[:i] + v[i + 1 :])
    # Numbers: simpler values.
    for path, v in nodes:
        if isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool)):
            for n in (0, 1, 10, 100, round(v), round(v, 1)):
                if n != v and len(str(n)) < len(str(v)) + (0 if n != round(v) else 1):
                    yield replaced(doc, path, n)


def main():
    with open(src, encoding="utf-8") as f:
        doc = json.load(f)
    if not fails(doc):
        sys.exit(f"{src} does not fail with {signature!r}")
    best = doc
    improved = True
    while improved:
        improved = False
        for cand in candidates(best):
            if size(cand) >= size(best):
                continue
            if fails(cand):
                best = cand
                improved = True
                with open(out, "w", encoding="utf-8") as f:
                    f.write(dump(best) + "\n")
                print(f"{size(best)} bytes after {runs} runs", file=sys.stderr)
                break
    with open(out, "w", encoding="utf-8") as f:
        f.write(dump(best) + "\n")
    print(f"done: {size(best)} bytes, {runs} runs", file=sys.stderr)


main()
