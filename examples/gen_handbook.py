# Generates examples/handbook.json: python3 examples/gen_handbook.py > examples/handbook.json
import json
chapters = [
  ("Welcome", "welcome", [
    ("About this handbook", ["This handbook describes how the studio works: how we plan projects, write and review documents, and ship them to our clients.", "It is meant to be read once from start to finish and then used as a reference."]),
    ("Who we are", ["We are a small team of editors, designers and engineers. Most of us work remotely, some in the office in Lisbon."]),
  ]),
  ("Planning work", "planning", [
    ("Projects and milestones", ["Every project starts with a short brief that names the client, the audience, the deliverables and the dates.", "Milestones are reviewed every second week."]),
    ("Estimates", ["Estimates are given in days, never in hours, and always as a range."]),
    ("Risks", ["Risks are written down with their owner and the date they will be looked at again."]),
  ]),
  ("Writing", "writing", [
    ("Style", ["Write short sentences. Prefer the active voice. Name things the way the reader names them."]),
    ("Citations", ["Quote sources precisely and give the page."]),
    ("Review", ["Every document is read by someone who did not write it before it leaves the studio."]),
  ]),
  ("Production", "production", [
    ("Typesetting", ["Documents are typeset from structured data, so that the same content can become a PDF, a web page or a printed book."]),
    ("Accessibility", ["Every PDF we deliver is tagged, has a title and a language, and describes its images."]),
    ("Archiving", ["Final files are archived as PDF/A together with their sources."]),
  ]),
  ("Appendix", "appendix", [
    ("Glossary", ["Brief: a one-page description of a project.", "Milestone: a date on which something is delivered."]),
    ("Contacts", ["The office manager keeps the list of contacts up to date."]),
  ]),
]
notes = {
  "About this handbook": "The first edition was written in 2019 and has been revised every year since.",
  "Who we are": "Remote work is organised around two shared hours a day, from 14:00 to 16:00 Lisbon time.",
  "Projects and milestones": "A brief longer than one page is a sign that the project is not yet understood.",
  "Estimates": "Ranges communicate uncertainty honestly; a single number suggests a precision nobody has.",
  "Style": ["See also the ", {"text": "Plain Language Guidelines", "italic": True}, ", which we follow for public-sector clients."],
  "Citations": "Page numbers in citations refer to the edition the author used, which the bibliography names.",
  "Review": "Reviews are recorded in the project's log with the reviewer's name and the date.",
  "Typesetting": "Structured sources also make translations cheaper: translators work on the text, not on the layout.",
  "Accessibility": "PDF/UA-1 for accessibility and PDF/A-2b for archiving are the standards our clients ask for most.",
}
filler = ("Good documents are planned before they are written. The team agrees on the audience, the tone and the "
          "structure, then drafts the sections in parallel and reads each other's work early. Small changes "
          "made early are cheap; the same changes made after layout are not.")
long_note = ("This note is deliberately long, to show how a footnote that does not fit at the bottom of its page continues on the next one. " * 14).strip()
content = []
content.append({"type": "absolute", "x": "82mm", "y": "9mm", "width": "50mm", "content": [
    {"type": "paragraph", "text": "NORTHWIND STUDIO", "align": "right", "weight": "bold", "color": "#1e3a8a", "space_after": 0},
    {"type": "paragraph", "text": "Internal · 2026 edition", "align": "right", "size": 8, "color": "#6b7280"}]})
content.append({"type": "paragraph", "style": "title", "text": "Studio Handbook", "space_before": 60})
content.append({"type": "paragraph", "content": ["How we plan, write and produce documents. The chapter on production starts on page ",
    {"field": "page_of", "anchor": "production"}, "; the glossary is on page ", {"field": "page_of", "anchor": "glossary"}, "."]})
content.append({"type": "toc", "title": "Contents", "levels": 2, "space_before": 24})
content.append({"type": "page_break"})
n = 0
for ci, (title, anchor, sections) in enumerate(chapters):
    content.append({"type": "heading", "level": 1, "text": f"{ci+1}. {title}", "anchor": anchor})
    for si, (stitle, paras) in enumerate(sections):
        h = {"type": "heading", "level": 2, "text": f"{ci+1}.{si+1} {stitle}"}
        if stitle == "Glossary":
            h["anchor"] = "glossary"
        content.append(h)
        for pi, p in enumerate(paras):
            inl = [p]
            if stitle in notes and pi == 0:
                inl.append({"footnote": notes[stitle]})
            inl.append(" " + filler)
            content.append({"type": "paragraph", "content": inl})
        content.append({"type": "paragraph", "text": filler + " " + filler})
        if (ci, si) == (1, 1):
            content.append({"type": "table", "columns": ["2fr", "1fr", "1fr"], "header_rows": 1, "rows": [
                ["Kind of work", "Low", "High"],
                [{"content": [{"type": "paragraph", "content": ["Short report", {"footnote": "Up to twenty pages, one round of review."}]}]}, "3 days", "5 days"],
                ["Handbook", "10 days", "20 days"],
                ["Annual report", "15 days", "30 days"]]})
        if (ci, si) == (2, 0):
            content.append({"type": "list", "items": [
                [{"type": "paragraph", "content": ["Use the reader's words", {"footnote": "Not the ones in the internal tracker."}]}],
                "One idea per paragraph",
                "Numbers as digits"]})
        if stitle == "Glossary":
            terms = [("Anchor", "A name that links and cross-references point at."),
                     ("Brief", "A one-page description of a project."),
                     ("Footnote", "A note at the bottom of the page of its reference."),
                     ("Leader", "The dots between an entry of the contents and its page number."),
                     ("Milestone", "A date on which something is delivered."),
                     ("Orphan", "A paragraph's first line alone at the bottom of a page."),
                     ("Proof", "A draft printed or exported for checking."),
                     ("Widow", "A paragraph's last line alone at the top of a page.")]
            content.append({"type": "columns", "count": 2, "gap": "6mm", "align": "left", "content": [
                {"type": "paragraph", "content": [{"text": t + ". ", "bold": True}, d]} for t, d in terms]})
        if (ci, si) == (2, 1):
            content.append({"type": "paragraph", "content": ["The conventions for citations are summarised in the glossary (page ",
                {"field": "page_of", "anchor": "glossary"}, ").", {"footnote": long_note}]})
doc = {"ode": 1,
  "metadata": {"title": "Studio Handbook", "author": "Northwind Studio", "language": "en", "created": "2026-01-15"},
  "page": {"size": "A5", "margins": {"top": "22mm", "right": "16mm", "bottom": "22mm", "left": "16mm"}},
  "styles": {"default": {"font": "serif", "size": 10, "align": "justify"}, "heading": {"font": "sans", "color": "#1e3a8a"}},
  "footer": {"content": [{"type": "paragraph", "align": "center", "content": ["Page ", {"field": "page_number"}, " of ", {"field": "page_count"}]}],
             "first_page": []},
  "content": content}
print(json.dumps(doc, indent=1, ensure_ascii=False))
