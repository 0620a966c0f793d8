#!/usr/bin/env python3
"""Convert the neutral benchmark corpus (wN.model.json) into ODE documents.

The neutral format is described in the corpus README (by default
/work/shared/bench-corpus/README.md). The ODE documents are written to
benches/corpus/wN.json and are meant to be committed.

Usage:
    python3 benches/convert.py [--src DIR] [--out DIR] [--check]

--check converts in memory and fails (exit 1) when a file in --out differs,
so CI can verify that the committed corpus matches the converter.

Mapping (see benches/README.md for the rationale):
    page            A4 (or a custom size), uniform margins
    styles.default  DejaVu Sans, font_size, line_height, space_after = para_gap_pt
    title           heading level 1, style "title_block" (20pt bold)
    h1              page_break (except when it is the first block), heading level 1 (16pt bold)
    h2              heading level 2 (12pt bold)
    p               paragraph, align left/justify
    cols2           2-column table without borders; one cell per column, one paragraph
                    whose first line is bold, lines separated by line breaks
    table           table with "Nfr" columns, per-column align, header_rows 1,
                    size = font_size, 0.5pt borders, 4pt x 2pt padding
    totals          2-column table without borders, right-aligned, last row bold
    ul              bulleted list
    footer          9pt centred paragraph: the text, or "Page X of Y" with fields
Only the Python standard library is used.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SRC = os.environ.get("ODE_BENCH_NEUTRAL", "/work/shared/bench-corpus")
DEFAULT_OUT = os.path.join(HERE, "corpus")
WORKLOADS = ("w1", "w2", "w3")

FONT = "DejaVu Sans"
A4 = (595.28, 841.89)
TITLE_SIZE = 20
H1_SIZE = 16
H2_SIZE = 12
TABLE_BORDER = 0.5
TABLE_PADDING = {"top": 2, "bottom": 2, "left": 4, "right": 4}


class ConvertError(Exception):
    pass


def num(x):
    """A JSON number without a needless fraction (10.0 -> 10)."""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def fr(w):
    """A relative column width such as "1.6fr"."""
    if not isinstance(w, (int, float)) or w <= 0:
        raise ConvertError(f"bad relative width {w!r}")
    return f"{num(round(float(w), 6))}fr"


def align_of(code):
    try:
        return {"l": "left", "r": "right", "c": "center"}[code]
    except KeyError:
        raise ConvertError(f"unknown column alignment {code!r}") from None


def text_of(x):
    if not isinstance(x, str):
        raise ConvertError(f"expected a string, found {x!r}")
    return x


def lines_with_bold_first(lines):
    """One paragraph: the first line bold, the rest plain, separated by line breaks."""
    content = []
    for i, line in enumerate(lines):
        if i:
            content.append({"line_break": True})
        if i == 0:
            content.append({"text": text_of(line), "bold": True})
        else:
            content.append(text_of(line))
    return {"type": "paragraph", "content": content}


def page_setup(page):
    w, h, m = page["width_pt"], page["height_pt"], page["margin_pt"]
    if abs(w - A4[0]) < 0.1 and abs(h - A4[1]) < 0.1:
        size = "A4"
    elif abs(w - A4[1]) < 0.1 and abs(h - A4[0]) < 0.1:
        return {"size": "A4", "orientation": "landscape", "margins": num(m)}
    else:
        size = {"width": num(w), "height": num(h)}
    return {"size": size, "margins": num(m)}


def convert(src):
    for key in ("page", "font_size", "line_height", "para_gap_pt", "blocks"):
        if key not in src:
            raise ConvertError(f"missing top-level field {key!r}")

    styles = {
        "default": {
            "font": FONT,
            "size": num(src["font_size"]),
            "line_height": num(src["line_height"]),
            "space_after": num(src["para_gap_pt"]),
        },
        "title_block": {"size": TITLE_SIZE, "weight": "bold"},
        "heading1": {"size": H1_SIZE, "weight": "bold"},
        "heading2": {"size": H2_SIZE, "weight": "bold"},
    }

    content = []
    title = None
    prev_table_widths = None
    for i, b in enumerate(src["blocks"]):
        t = b.get("t")
        if t == "title":
            title = title or text_of(b["text"])
            content.append({"type": "heading", "level": 1, "style": "title_block", "text": text_of(b["text"])})
        elif t == "h1":
            # h1 starts a new page; a page break at the very start would only add a
            # blank first page, so the first block of the document gets none.
            if content:
                content.append({"type": "page_break"})
            content.append({"type": "heading", "level": 1, "text": text_of(b["text"])})
        elif t == "h2":
            content.append({"type": "heading", "level": 2, "text": text_of(b["text"])})
        elif t == "p":
            align = b.get("align", "left")
            if align not in ("left", "justify", "right", "center"):
                raise ConvertError(f"block {i}: unknown paragraph alignment {align!r}")
            content.append({"type": "paragraph", "align": align, "text": text_of(b["text"])})
        elif t == "cols2":
            content.append({
                "type": "table",
                "columns": ["1fr", "1fr"],
                "border": {"lines": "none"},
                "padding": 0,
                "rows": [[
                    {"content": [lines_with_bold_first(b["left"])]},
                    {"content": [lines_with_bold_first(b["right"])]},
                ]],
            })
        elif t == "table":
            widths, aligns, header = b["widths"], b["align"], b["header"]
            n = len(widths)
            if len(aligns) != n or len(header) != n:
                raise ConvertError(f"block {i}: widths, align and header differ in length")
            rows = [[text_of(c) for c in header]]
            for r, row in enumerate(b["rows"]):
                if len(row) != n:
                    raise ConvertError(f"block {i} row {r}: {len(row)} cells, expected {n}")
                rows.append([text_of(c) for c in row])
            content.append({
                "type": "table",
                "size": num(b.get("font_size", src["font_size"])),
                "columns": [{"width": fr(w), "align": align_of(a)} for w, a in zip(widths, aligns)],
                "header_rows": 1,
                "border": {"width": TABLE_BORDER},
                "padding": dict(TABLE_PADDING),
                "rows": rows,
            })
            prev_table_widths = widths
        elif t == "totals":
            # Right-aligned under the preceding table's last column when there is one,
            # so the amounts line up with that column.
            if prev_table_widths and content and content[-1].get("type") == "table":
                last = prev_table_widths[-1]
                cols = [fr(sum(prev_table_widths) - last), fr(last)]
            else:
                cols = ["3fr", "1fr"]
            rows = []
            pairs = b["rows"]
            for r, pair in enumerate(pairs):
                if len(pair) != 2:
                    raise ConvertError(f"block {i} row {r}: totals rows are label and value pairs")
                if r == len(pairs) - 1:
                    rows.append([{"text": text_of(c), "weight": "bold"} for c in pair])
                else:
                    rows.append([text_of(c) for c in pair])
            content.append({
                "type": "table",
                "columns": [{"width": cols[0], "align": "right"}, {"width": cols[1], "align": "right"}],
                "border": {"lines": "none"},
                "padding": dict(TABLE_PADDING),
                "rows": rows,
            })
        elif t == "ul":
            content.append({"type": "list", "items": [text_of(x) for x in b["items"]]})
        else:
            raise ConvertError(f"block {i}: unknown block type {t!r}")

    doc = {"ode": 1}
    meta = {"language": "en"}
    if title:
        meta = {"title": title, "language": "en"}
    doc["metadata"] = meta
    doc["page"] = page_setup(src["page"])
    doc["styles"] = styles

    footer = src.get("footer")
    if footer is not None:
        size = num(src.get("footer_size", 9))
        kind = footer.get("kind")
        para = {"type": "paragraph", "size": size, "align": "center", "space_after": 0}
        if kind == "text":
            para["text"] = text_of(footer["text"])
        elif kind == "page_x_of_y":
            para["content"] = ["Page ", {"field": "page_number"}, " of ", {"field": "page_count"}]
        else:
            raise ConvertError(f"unknown footer kind {kind!r}")
        doc["footer"] = {"content": [para]}

    doc["content"] = content
    return doc


def is_scalar(v):
    return not isinstance(v, (dict, list))


def depth(v):
    if is_scalar(v):
        return 0
    members = v.values() if isinstance(v, dict) else v
    return 1 + max((depth(m) for m in members), default=0)


def dump(v, indent=0, step=2):
    """JSON with one line per block, per table row and per small object.

    Containers whose members are all scalars, whose compact form is short, or that
    hold only flat containers and are not too long go on one line; the rest are broken one member per line. This keeps the files readable
    and their diffs small without the bulk of fully indented JSON.
    """
    compact = json.dumps(v, ensure_ascii=False, separators=(", ", ": "))
    if is_scalar(v):
        return compact
    members = v.values() if isinstance(v, dict) else v
    if len(compact) <= 100 or all(is_scalar(m) for m in members) or (depth(v) <= 2 and len(compact) <= 320):
        return compact
    pad = " " * (indent + step)
    if isinstance(v, dict):
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {dump(x, indent + step, step)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [f"{pad}{dump(x, indent + step, step)}" for x in v]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default=DEFAULT_SRC, help="directory with wN.model.json (default %(default)s)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default %(default)s)")
    ap.add_argument("--check", action="store_true", help="compare with the files in --out instead of writing")
    args = ap.parse_args()

    status = 0
    if not args.check:
        os.makedirs(args.out, exist_ok=True)
    for name in WORKLOADS:
        src_path = os.path.join(args.src, f"{name}.model.json")
        out_path = os.path.join(args.out, f"{name}.json")
        with open(src_path, encoding="utf-8") as f:
            src = json.load(f)
        try:
            doc = convert(src)
        except (ConvertError, KeyError, TypeError) as e:
            print(f"{src_path}: {e}", file=sys.stderr)
            return 2
        text = dump(doc) + "\n"
        # Round trip: what we write parses back to the same document.
        assert json.loads(text) == doc
        if args.check:
            try:
                with open(out_path, encoding="utf-8") as f:
                    same = f.read() == text
            except FileNotFoundError:
                same = False
            print(f"{out_path}: {'up to date' if same else 'DIFFERS'}")
            status |= 0 if same else 1
        else:
            with open(out_path, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            blocks = len(doc["content"])
            print(f"{src_path} -> {out_path}: {blocks} blocks, {len(text.encode('utf-8')):,} bytes")
    return status


if __name__ == "__main__":
    sys.exit(main())
