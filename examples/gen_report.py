#!/usr/bin/env python3
"""Writes examples/report.json, a ~20-page A4 report in the ODE document model.

    python3 examples/gen_report.py

The prose is written out below; the district figures come from a seeded random
generator, so the output is the same on every run. Paragraph strings use a tiny markup
that becomes inline spans: **bold**, *italic*, __underline__ and [text](target), where
the target is a URL or #anchor.
"""

import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "report.json")

TITLE = "State of the Network 2023"
ORG = "Riverside Water Services"
NAVY = "#1e3a8a"
LINK = "#1d4ed8"

# --------------------------------------------------------------------------- helpers

_MARKUP = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|\*(.+?)\*|\[(.+?)\]\((.+?)\)")


def inline(text):
    """Markup string -> ODE inline content."""
    out, pos = [], 0
    for m in _MARKUP.finditer(text):
        if m.start() > pos:
            out.append(text[pos:m.start()])
        bold, underline, italic, label, target = m.groups()
        if bold is not None:
            out.append({"text": bold, "bold": True})
        elif underline is not None:
            out.append({"text": underline, "underline": True})
        elif italic is not None:
            out.append({"text": italic, "italic": True})
        else:
            span = {"text": label, "link": target, "color": LINK}
            if not target.startswith("#"):
                span["underline"] = True
            out.append(span)
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def para(text, style="body", **props):
    b = {"type": "paragraph", "style": style}
    b.update(props)
    content = inline(text)
    if len(content) == 1 and isinstance(content[0], str):
        b["text"] = content[0]
    else:
        b["content"] = content
    return b


def heading(level, text, **props):
    b = {"type": "heading", "level": level, "text": text}
    b.update(props)
    return b


def figure(src, width, caption, anchor, alt):
    """An image and its caption, kept together on one page."""
    return {
        "type": "group",
        "keep_together": True,
        "anchor": anchor,
        "content": [
            {"type": "image", "src": src, "width": width, "align": "center", "alt": alt},
            para(caption, style="caption"),
        ],
    }


def dumps(obj, width=110):
    """JSON with 2-space indents, keeping arrays and objects that fit on one line."""

    def enc(o, ind, used):
        flat = json.dumps(o, ensure_ascii=False, separators=(", ", ": "))
        if used + len(flat) <= width or not isinstance(o, (list, dict)) or not o:
            return flat
        pad = " " * (ind + 2)
        if isinstance(o, list):
            items = [pad + enc(v, ind + 2, ind + 3) for v in o]
            return "[\n" + ",\n".join(items) + "\n" + " " * ind + "]"
        items = []
        for k, v in o.items():
            key = json.dumps(k, ensure_ascii=False) + ": "
            items.append(pad + key + enc(v, ind + 2, ind + 3 + len(key)))
        return "{\n" + ",\n".join(items) + "\n" + " " * ind + "}"

    return enc(obj, 0, 0) + "\n"


def fmt_int(n):
    return f"{n:,}"


# --------------------------------------------------------------------------- data

DISTRICTS = [
    "Northgate", "Eastbank", "Old Town", "Millbrook", "Harbourside", "Kingsmead", "Ashford Vale",
    "Brookfield", "Castle Hill", "Denholme", "Elmstead", "Fairview", "Greenacre", "Hollins",
    "Ivybridge Park", "Juniper Fields", "Kelsall", "Langley Moor", "Marsh End", "Newlands", "Oakwood",
    "Parkside", "Queensway", "Ravenscroft", "Southmere", "Thornbury", "Upper Weir", "Victoria Quay",
    "Westfield", "Willow Bank", "Yarrow Green", "Abbey Mills", "Bellmont", "Cedar Rise",
]
# Character of each district's mains: older, cast-iron districts burst more often.
OLD = {"Old Town", "Castle Hill", "Northgate", "Eastbank", "Millbrook", "Denholme", "Hollins", "Abbey Mills"}
NEW = {"Juniper Fields", "Cedar Rise", "Yarrow Green", "Newlands", "Willow Bank", "Oakwood"}
TOTAL_KM = 1846
TOTAL_BURSTS = 442


def district_rows():
    rng = random.Random(2023)
    raw = []
    for name in DISTRICTS:
        km = rng.uniform(30, 85)
        if name in OLD:
            age, iron = rng.randint(62, 91), rng.randint(55, 78)
        elif name in NEW:
            age, iron = rng.randint(12, 29), rng.randint(0, 9)
        else:
            age, iron = rng.randint(33, 61), rng.randint(18, 49)
        risk = (0.4 + iron / 40) * (0.6 + age / 70)
        if name in ("Harbourside", "Victoria Quay"):
            risk *= 1.8  # high pressure
        raw.append([name, km, age, iron, risk * km * rng.uniform(0.85, 1.15)])
    # Scale lengths and bursts so that the totals are exact.
    km_scale = TOTAL_KM / sum(r[1] for r in raw)
    kms = [round(r[1] * km_scale) for r in raw]
    kms[0] += TOTAL_KM - sum(kms)
    b_scale = TOTAL_BURSTS / sum(r[4] for r in raw)
    bursts = [round(r[4] * b_scale) for r in raw]
    bursts[max(range(len(raw)), key=lambda i: bursts[i])] += TOTAL_BURSTS - sum(bursts)
    rows = []
    for r, km, b in zip(raw, kms, bursts):
        rows.append({"name": r[0], "km": km, "age": r[2], "iron": r[3], "bursts": b, "rate": 100 * b / km})
    return rows


ROWS = district_rows()
AVG_AGE = sum(r["age"] * r["km"] for r in ROWS) / TOTAL_KM
HOTSPOTS = sorted((r for r in ROWS if r["rate"] > 30), key=lambda r: -r["rate"])


def mains_table():
    header = ["District", "Mains (km)", "Average age (years)", "Cast iron (%)", "Bursts", "Bursts per 100 km"]
    rows = [header]
    for r in ROWS:
        rate = {"text": f"{r['rate']:.1f}"}
        if r["rate"] > 30:
            rate.update({"background": "#fee2e2", "weight": "bold", "color": "#991b1b"})
        rows.append([r["name"], fmt_int(r["km"]), str(r["age"]), str(r["iron"]), str(r["bursts"]), rate])
    total_iron = round(sum(r["iron"] * r["km"] for r in ROWS) / TOTAL_KM)
    rows.append({
        "background": "#e0e7ff",
        "cells": [
            {"text": "All districts", "weight": "bold"},
            {"text": fmt_int(TOTAL_KM), "weight": "bold"},
            {"text": f"{AVG_AGE:.0f}", "weight": "bold"},
            {"text": str(total_iron), "weight": "bold"},
            {"text": str(TOTAL_BURSTS), "weight": "bold"},
            {"text": f"{100 * TOTAL_BURSTS / TOTAL_KM:.1f}", "weight": "bold"},
        ],
    })
    return {
        "type": "table",
        "anchor": "table-mains",
        "style": "data",
        "header_rows": 1,
        "header_background": "#dbeafe",
        "border": {"lines": "horizontal", "width": 0.5, "color": "#94a3b8"},
        "columns": [
            {"width": "2fr"},
            {"width": "1fr", "align": "right"},
            {"width": "1fr", "align": "right"},
            {"width": "1fr", "align": "right"},
            {"width": "1fr", "align": "right"},
            {"width": "1fr", "align": "right"},
        ],
        "rows": rows,
    }


def simple_table(header, body, aligns, caption, anchor=None, total=None):
    """A small table and its caption, kept together on one page."""
    cols = [{"width": "2fr"}] + [{"width": "1fr", "align": a} for a in aligns]
    rows = [header] + body
    if total:
        rows.append({"background": "#e0e7ff", "cells": [{"text": c, "weight": "bold"} for c in total]})
    t = {
        "type": "table",
        "style": "data",
        "header_rows": 1,
        "header_background": "#dbeafe",
        "border": {"lines": "horizontal", "width": 0.5, "color": "#94a3b8"},
        "columns": cols,
        "rows": rows,
    }
    if anchor:
        t["anchor"] = anchor
    return {"type": "group", "keep_together": True, "content": [t, para(caption, style="caption")]}


def district_notes():
    """A short paragraph for each burst hotspot, phrased from its figures."""
    openings = [
        "**{name}** recorded {bursts} bursts on {km} km of main, a rate of {rate:.1f} per 100 km.",
        "In **{name}**, {bursts} bursts on {km} km of main give a rate of {rate:.1f} per 100 km.",
        "**{name}** ({km} km of main) had {bursts} bursts, or {rate:.1f} per 100 km.",
        "With {bursts} bursts on {km} km, **{name}** failed at {rate:.1f} bursts per 100 km.",
    ]
    causes_old = [
        "Its mains average {age} years old and {iron} per cent are cast iron, much of it laid before 1920 "
        "without internal lining; most failures were circumferential breaks on 4-inch and 6-inch pipe, the "
        "classic signature of brittle iron under ground movement.",
        "With an average age of {age} years and a cast-iron share of {iron} per cent, the district is "
        "typical of the inner city: corroded iron, shallow cover and heavy traffic loading, which together "
        "explain the clustering of bursts along the main bus routes.",
        "The mains here average {age} years and {iron} per cent are cast iron. Failures followed the frost "
        "closely, with more than a third of the year's bursts falling in the six coldest weeks.",
    ]
    causes_pressure = [
        "The pipes are comparatively young, averaging {age} years, but night pressures were among the "
        "highest in the city until the pressure management scheme was commissioned in September, after "
        "which the burst rate fell by almost half.",
    ]
    causes_mid = [
        "The mains average {age} years and {iron} per cent are cast iron; the failures concentrate in a "
        "few streets on shrinkable clay, where seasonal movement cracks rigid joints.",
        "At an average of {age} years the mains are not old by the city's standards, but {iron} per cent "
        "are cast iron, and a single batch of poorly lined pipe laid in the 1960s accounts for many of "
        "the repairs.",
    ]
    actions = [
        "Renewal of the worst {renew} km is included in the 2024 programme.",
        "The district is a candidate for targeted renewal of about {renew} km in 2024 and 2025.",
        "We will survey the district's valves and hydrants before designing a renewal package of some "
        "{renew} km.",
        "Pending renewal, the district's leak detection frequency has been doubled.",
    ]
    rng = random.Random(7)
    out = []
    for i, r in enumerate(HOTSPOTS):
        if r["name"] in ("Harbourside", "Victoria Quay"):
            cause = causes_pressure[0]
        elif r["name"] in OLD:
            cause = causes_old[i % len(causes_old)]
        else:
            cause = causes_mid[i % len(causes_mid)]
        text = " ".join([
            openings[i % len(openings)],
            cause,
            actions[rng.randrange(len(actions))],
        ]).format(renew=max(2, round(r["km"] * rng.uniform(0.05, 0.12))), **r)
        out.append(para(text))
    return out


# --------------------------------------------------------------------------- prose

def chapter(n, title, blocks):
    out = [] if n == 1 else [{"type": "page_break"}]
    out.append(heading(1, f"{n}  {title}", anchor=f"chapter-{n}"))
    return out + blocks


def section(num, title):
    return heading(2, f"{num}  {title}")


CH1 = [
    section("1.1", "Purpose and scope"),
    para("This report sets out the condition and performance of the drinking-water network operated by "
         f"{ORG} during the calendar year 2023. It is written for the members of the Water Board, for the "
         "regulator, and for the many customers who ask each year how their water reaches them, how "
         "reliable that supply has been, and where the money they pay is spent. Where possible we compare "
         "2023 with the previous five years, because a single year can flatter or disappoint depending on "
         "the weather, and it is the trends, not any one figure, that should guide decisions."),
    para("The report covers the whole of the distribution system, from the outlets of the two treatment "
         "works to the boundary of each customer's property. It does *not* cover private supply pipes, "
         "which remain the responsibility of property owners, nor the wastewater network, which is the "
         "subject of a separate annual statement. Financial figures are stated in nominal terms and have "
         "been reconciled to the audited accounts for the year ending 31 December 2023."),
    para("Three themes run through the chapters that follow. First, the network is ageing faster than it "
         "is being renewed, and the gap, though narrower than five years ago, has not closed. Second, water "
         "quality remains excellent by any reasonable standard, but the handful of failures we did record "
         "point to the same small group of ageing assets. Third, customers noticed the improvement in "
         "reliability: contacts about interruptions to supply fell for the third year in a row, and "
         "satisfaction with the way we handled them rose."),
    section("1.2", "The network at a glance"),
    para("Riverside Water supplies about 412,000 people in 34 supply districts, through "
         f"{fmt_int(TOTAL_KM)} kilometres of distribution mains, 11 service reservoirs and 19 pumping "
         "stations. Average daily demand in 2023 was 118 megalitres, slightly below the five-year mean of "
         "121 megalitres, largely because of the wet summer and the continued installation of customer "
         "meters, which now serve 71 per cent of households."),
    para("Roughly two thirds of the supply comes from the Aldwater treatment works, which abstracts from "
         "the river below Kelsall, and the remainder from the Upper Weir works, fed by the impounding "
         "reservoir of the same name. The two systems have been linked since 2019 by a strategic main that "
         "allows either works to support the other during maintenance or in an emergency; it was used in "
         "that way on nine occasions during the year, twice for more than a week."),
    simple_table(
        ["Measure", "2022", "2023"],
        [
            ["Population served", "409,500", "412,100"],
            ["Mains length (km)", "1,838", fmt_int(TOTAL_KM)],
            ["Average daily demand (Ml/d)", "123", "118"],
            ["Mains bursts", "497", str(TOTAL_BURSTS)],
            ["Leakage (Ml/d)", "23.0", "21.4"],
            ["Water quality compliance (%)", "99.96", "99.97"],
            ["Interruptions over 3 hours (properties)", "3,910", "2,655"],
            ["Written complaints", "1,204", "1,031"],
            ["Capital investment (£m)", "38.2", "41.7"],
        ],
        ["right", "right"],
        "Table 1.1: Headline measures, 2022 and 2023.",
        anchor="table-headline",
    ),
    para("Table 1.1 summarises the headline measures. Most moved in the right direction. The exception is "
         f"the average age of the mains, now {AVG_AGE:.0f} years, which continues to rise because a renewal "
         "rate of 0.8 per cent a year implies a replacement cycle of well over a century, far beyond the "
         "design life of most of the materials in the ground. We return to this in [Chapter 2](#chapter-2) "
         "and again in our recommendations in [Chapter 6](#chapter-6)."),
    section("1.3", "What changed in 2023"),
    para("Several changes in the way we work took effect during the year and affect the figures in this "
         "report. In March we moved all field scheduling onto a single system, replacing three separate "
         "tools inherited from the former district offices. In April the new failure model went live, and "
         "from the summer onwards it has determined the order of mains renewal. In September the first two "
         "pressure management schemes were commissioned, and in October we began sending proactive text "
         "messages to customers affected by interruptions."),
    para("There were also changes outside our control. The summer was the wettest for twenty years, which "
         "reduced demand but increased the colour and turbidity of the river water reaching Aldwater. "
         "Energy prices fell from their 2022 peak, while the prices of treatment chemicals and pipe "
         "materials continued to rise. And the regulator published draft guidance on lead, which signals a "
         "tighter standard from the end of the decade and which has shaped our proposals in Chapter 6."),
    para("Finally, the organisation itself changed. The asset management and network operations teams "
         "were brought together under a single director in January, so that the people who decide what to "
         "renew and the people who live with the consequences now sit in the same meetings. This report is "
         "the first to be produced by the combined team, and its structure reflects that: each chapter "
         "pairs the condition of the assets with the service they deliver."),
    section("1.4", "How this report is organised"),
    para("The remaining chapters follow the path of the water and then the path of the money:", style="body_keep"),
    {
        "type": "list",
        "items": [
            [para("**Chapter 2** describes the condition of the network: its size, age and materials, and "
                  "the bursts and leakage that result.", style="list_body")],
            [para("**Chapter 3** reports on water quality. It is the chapter to read for compliance figures "
                  "and for our work on lead; see [Water Quality](#chapter-3).", style="list_body")],
            [para("**Chapter 4** looks at the service customers experienced: contacts, complaints and "
                  "interruptions to supply.", style="list_body")],
            [
                para("**Chapters 5 and 6** turn to money and to the future, in three steps:", style="list_body"),
                {
                    "type": "list",
                    "ordered": True,
                    "items": [
                        "operating costs against budget, and the reasons for the variances;",
                        "the capital programme, scheme by scheme;",
                        "our priorities for 2024 and our recommendations to the Board.",
                    ],
                },
            ],
        ],
    },
    para("Definitions follow the regulator's reporting guidance unless stated otherwise. Where a measure "
         "has changed definition during the period, earlier years have been restated so that each series "
         "remains comparable. Figures may not sum exactly because of rounding."),
]

CH2 = [
    section("2.1", "Asset inventory"),
    para("The distribution network is made up of pipes laid over more than 140 years. The oldest mains still "
         "in service, in Old Town and Castle Hill, are unlined cast iron laid in the 1880s; the newest are "
         "polyethylene mains laid last year in the Juniper Fields development. Between these extremes lies "
         "a patchwork of materials and ages that reflects the growth of the city and the engineering "
         "fashions of each decade, from the spun iron of the inter-war estates to the asbestos cement and "
         "PVC of the post-war expansion."),
    para("[Table 2.1](#table-mains) lists every supply district with the length of main it contains, the "
         "average age of that main, the share that is cast iron, and the number of bursts recorded in 2023. "
         "The final column normalises bursts by length, which is the fairest way to compare districts of "
         "very different size. Districts with more than **30 bursts per 100 km** are highlighted; they are "
         "the first candidates for the renewal programme described in [Chapter 5](#chapter-5)."),
    mains_table(),
    para("Table 2.1: Distribution mains and bursts by supply district, 2023. The header row repeats when the "
         "table continues on a new page.", style="caption"),
    para("The relationship between age, material and failure is clear in the table, though not perfectly so. "
         "Several of the worst-performing districts combine old cast iron with clay soils that shrink and "
         "swell with the seasons, which stresses rigid joints. Others, such as Victoria Quay, have younger "
         "pipes but high operating pressures, a problem that pressure management can address far more "
         "cheaply than replacement. A few districts with old mains perform well, usually because they lie "
         "on stable sandy ground and carry little heavy traffic."),
    para("The figures in the table are only as good as the asset register behind them. Until recently, "
         "the register recorded the material and date of laying for only 82 per cent of mains by length, "
         "and many of the dates were estimates based on the age of the surrounding housing. A programme of "
         "records research and sampling, in which a short section of pipe is cut out whenever a main is "
         "repaired, has raised that share to 94 per cent. Each sample is photographed, measured and logged, "
         "so that the register now tells us not only what a pipe is made of but how much of its wall is left."),
    para("That evidence has changed some long-held assumptions. Cast-iron mains laid between the wars, "
         "which were thought to be in better condition than their Victorian predecessors, turn out to have "
         "thinner walls and to corrode faster, and several inter-war estates have moved up the renewal "
         "ranking as a result. Conversely, some Victorian mains in well-drained ground have lost less than "
         "a tenth of their wall thickness in 130 years and may serve for decades yet."),
    section("2.2", "Bursts and leakage"),
    para(f"We recorded **{TOTAL_BURSTS} bursts** on distribution mains in 2023, compared with 497 in 2022 "
         f"and a five-year average of 515. The rate of {100 * TOTAL_BURSTS / TOTAL_KM:.1f} bursts per "
         "100 km is the lowest since records in their current form began in 2008. [Figure 2.1](#fig-bursts) "
         "shows the pattern through the year: bursts peaked in the cold snap of late autumn, as they "
         "usually do, but the winter peak was markedly lower than in previous years."),
    figure("assets/chart.png", "150mm",
           "Figure 2.1: Mains bursts (navy) and leaks found by active detection (amber), by two-month "
           "period from January–February to November–December 2023. Gridlines every 20 events.",
           "fig-bursts", "Bar chart of bursts and detected leaks in six two-month periods"),
    para("Leakage, estimated from night flows in each district meter area, averaged 21.4 megalitres a day, "
         "or 18 per cent of the water put into supply. This is still too high. The best-performing "
         "companies lose less than 12 per cent, and every megalitre we lose has already been abstracted, "
         "treated and pumped at a cost. Our active leakage control teams found and repaired 380 leaks that "
         "had not shown at the surface, up from 311 the previous year, helped by the acoustic loggers "
         "deployed across twelve districts in the spring. Leakage is the largest part of what the industry "
         "calls [non-revenue water](https://en.wikipedia.org/wiki/Non-revenue_water)."),
    para("The relationship between leakage and pressure is well established: other things being equal, "
         "leakage rises roughly in proportion to pressure, and burst frequency rises faster still. In 2023 "
         "we completed pressure management schemes in Harbourside and Victoria Quay, reducing average night "
         "pressure by around 15 metres of head. Early results suggest reductions in both leakage and burst "
         "frequency, and we intend to extend the approach to four further districts in 2024."),
    para("Response times improved alongside the burst count. The median time from a burst being reported "
         "to the supply being restored was 4 hours 10 minutes, down from 5 hours 5 minutes, and 93 per cent "
         "of visible leaks were repaired within the target of five working days. The improvement owes much "
         "to the new scheduling system introduced in March, which lets supervisors see every crew's location "
         "and workload at a glance and reassign jobs as priorities change."),
    section("2.3", "Reservoirs, pumps and valves"),
    para("The network's 11 service reservoirs hold a total of 212 megalitres, enough for about 43 hours "
         "of average demand. Storage at this level gives the control room time to respond to a failure at "
         "either treatment works, and in 2023 it was sufficient to ride through both planned outages at "
         "Upper Weir without any customer noticing. Reservoir levels are managed to balance resilience "
         "against water age: water that sits too long loses its chlorine residual and is more likely to "
         "fail a bacteriological test. All 11 reservoirs were inspected internally during the five-year "
         "cycle that ended in 2023; two needed roof repairs, completed in the autumn, and one, at Bellmont, "
         "will be relined in 2025."),
    para("The 19 pumping stations lift water from the valley floor to the reservoirs on the higher ground "
         "to the north and west. They consumed 24.6 gigawatt hours of electricity in 2023, about 60 per "
         "cent of the network's total energy use. Six of the oldest pump sets, installed in the 1980s, "
         "operate well away from their best efficiency point because demand has changed since they were "
         "specified; their replacement, already under way, is one of the best-value investments in the "
         "programme, with a payback period of under four years."),
    para("Valves are the least glamorous assets in the network and among the most important. A valve that "
         "cannot be closed turns a small repair into a large interruption, because the crew must go further "
         "afield to find one that works. Our inspection programme exercised 9,870 valves in 2023, about one "
         "in six of the total, and found 4 per cent inoperable; those on strategic mains were repaired or "
         "replaced within the year."),
    section("2.4", "Pipe materials"),
    para("Cast iron makes up 37 per cent of the network by length, ductile iron 21 per cent, polyethylene "
         "20 per cent, PVC 12 per cent and asbestos cement 10 per cent. Each material fails in its own way. "
         "Cast iron is brittle and corrodes from the outside, so it fails suddenly in cold weather or when "
         "the ground moves. Asbestos cement softens over decades as the lime leaches out, and fails along "
         "its length. Early PVC, laid in the 1970s before the standards were tightened, is prone to fatigue "
         "cracking where pressures fluctuate."),
    para("Polyethylene and ductile iron, which together account for almost all new mains, have performed "
         "well: between them they suffered fewer than one burst per 100 km in 2023. The lesson of the last "
         "fifty years is not that any material is perfect but that workmanship matters as much as the pipe "
         "itself. Most failures on modern materials occur at fittings and joints made in poor conditions, "
         "which is why we have invested in training and in the inspection of contractors' work."),
    para("Our renewal decisions are now driven by a failure model that combines age, material, soil, "
         "pressure and burst history for each individual pipe. The model ranks every length of main by the "
         "expected cost of failure, including the cost to customers of interruptions and discoloured water, "
         "and it is this ranking, rather than age alone, that sets the order of work in the capital programme."),
    section("2.5", "District notes"),
    para(f"The {len(HOTSPOTS)} districts highlighted in Table 2.1 account for a disproportionate share of "
         "the year's bursts. Brief notes on each follow, in order of burst rate, worst first."),
] + district_notes()

CH3 = [
    section("3.1", "Sources and sampling"),
    para("Water quality is monitored at every stage from source to tap. At the treatment works, online "
         "instruments measure turbidity, chlorine, pH and a dozen other parameters continuously, and alarm "
         "to the control room if any strays outside its limits. In the network, samples are taken from "
         "service reservoirs every week and from randomly selected customers' taps throughout the year, so "
         "that the results represent the water people actually drink rather than the water we intended to "
         "deliver."),
    figure("assets/photo.jpg", "110mm",
           "Figure 3.1: Upper Weir impounding reservoir at dusk. The reservoir supplies about a third of the "
           "city's water through the Upper Weir treatment works.",
           "fig-reservoir", "A reservoir among green hills under an evening sky"),
    para("In 2023 we took 14,862 samples and carried out 168,410 individual tests, slightly more than the "
         "regulatory minimum, because we chose to increase sampling in the districts where iron and "
         "manganese have caused discolouration in the past. All samples were analysed by our accredited "
         "laboratory at Aldwater, which took part in every round of the national proficiency testing "
         "scheme and achieved satisfactory scores in all of them."),
    para("The two sources behave very differently. The river water treated at Aldwater varies with the "
         "weather, and the works must respond to sudden changes in colour, turbidity and algae after heavy "
         "rain. The reservoir water treated at Upper Weir is more stable but softer and more acidic, which "
         "makes it more aggressive towards old metal pipes; it is dosed with orthophosphate to form a "
         "protective film on the inside of lead and iron pipework."),
    section("3.2", "Compliance"),
    para("Overall compliance with the drinking-water standards was **99.97 per cent**, up from 99.96 per cent "
         "in 2022. Of the 168,410 tests, 51 failed a standard. None of the failures posed a risk to health, "
         "and each was investigated, its cause identified and, where it lay in our assets, put right. "
         "Table 3.1 breaks the results down by group of parameters."),
    simple_table(
        ["Parameter group", "Tests", "Failures", "Compliance (%)"],
        [
            ["Microbiological (coliforms, E. coli, enterococci)", "29,730", "6", "99.98"],
            ["Chemical (metals, nitrate, pesticides, by-products)", "58,214", "9", "99.98"],
            ["Indicator (iron, manganese, turbidity, colour)", "71,052", "33", "99.95"],
            ["Lead (random daytime samples)", "1,486", "3", "99.80"],
            ["Radioactivity and other", "7,928", "0", "100.00"],
        ],
        ["right", "right", "right"],
        "Table 3.1: Water quality tests and failures by parameter group, 2023.",
        anchor="table-quality",
        total=["All tests", "168,410", "51", "99.97"],
    ),
    para("The six microbiological failures were all single coliform detections with no *E. coli*, in "
         "samples from customers' taps. In four cases the follow-up samples from the same tap and from the "
         "nearest hydrant were clear, pointing to the tap itself; in the other two the source was traced to "
         "a service reservoir hatch that had not sealed properly after an inspection, and the hatch has "
         "since been replaced with a design that cannot be closed incorrectly."),
    para("Indicator failures, mostly for iron and manganese, again made up the largest group. They are "
         "concentrated in the same old cast-iron districts that dominate the burst statistics, and they "
         "share a cause: sediment that builds up in corroded mains is disturbed whenever the flow changes, "
         "for example when a nearby main bursts or a valve is operated. The long-term remedy is renewal; "
         "in the meantime we flush the affected mains on a rolling programme."),
    section("3.3", "Discolouration, taste and odour"),
    para("Customers contacted us 2,218 times about the appearance, taste or smell of their water, 9 per cent "
         "fewer than in 2022. Discoloured water accounted for almost two thirds of these contacts. Taste and "
         "odour complaints rose briefly in August, when an algal bloom in the river produced the earthy "
         "compound geosmin, which people can detect at concentrations of a few nanograms per litre; the "
         "powdered activated carbon dosing at Aldwater was increased within a day and complaints fell back "
         "within the week."),
    para("We have changed the way we respond to discolouration. Rather than flushing a main after "
         "complaints arrive, the network team now uses the failure model and the complaint history to flush "
         "at-risk mains *before* the autumn, when changes in demand are most likely to disturb sediment. "
         "In the eight districts where this was tried in 2023, discolouration contacts fell by 41 per cent."),
    section("3.4", "Catchment protection"),
    para("The cheapest way to treat water is to keep it clean in the first place. Our catchment team "
         "works with the farmers and landowners upstream of both intakes to reduce the run-off of "
         "pesticides, nutrients and soil. In 2023 the team advised on 146 farms, funded buffer strips along "
         "31 kilometres of watercourse, and ran a pesticide amnesty that collected 4.2 tonnes of unwanted "
         "and obsolete products, some of them banned for more than a decade."),
    para("The results can be seen in the raw water. Concentrations of metaldehyde, the slug pellet "
         "ingredient that was once the most frequent cause of pesticide detections at Aldwater, have not "
         "exceeded the standard in raw water since 2020. Peat restoration on the moorland above Upper Weir, "
         "now in its sixth year, has begun to reduce the colour of the reservoir water after heavy rain, "
         "which in turn reduces the amount of coagulant needed to remove it."),
    section("3.5", "Disinfection"),
    para("Every drop of water leaving our treatment works is disinfected with chlorine, and a small residual "
         "is maintained throughout the network to protect the water on its way to the tap. Getting the "
         "balance right is a constant task. Too little chlorine at the far ends of the network leaves the "
         "water vulnerable; too much near the works produces complaints about taste and smell, and raises "
         "the formation of disinfection by-products, which are regulated because of their possible "
         "long-term health effects."),
    para("In 2023 we commissioned two booster stations, at Thornbury and Yarrow Green, which top up the "
         "chlorine residual in water that has travelled furthest from the works. This allowed the dose at "
         "Aldwater to be reduced by about a fifth. Concentrations of trihalomethanes, the most common "
         "by-products, averaged 31 micrograms per litre across the network, less than a third of the "
         "standard, and no sample exceeded it."),
    section("3.6", "Lead"),
    para("Lead enters drinking water from lead service pipes and internal plumbing, almost all of it in "
         "properties built before 1970. There is no safe level of exposure, and the standard will tighten "
         "in the coming years. We estimate that about 31,000 properties in our area still have a lead "
         "service pipe on the public side, the customer's side or both."),
    para("Three lead samples exceeded the standard in 2023. In each case we replaced the public part of "
         "the service pipe free of charge and offered the owner a grant towards replacing the private part; "
         "two owners accepted. Across the whole area we replaced 1,120 lead service pipes during the year, "
         "and we propose in [Chapter 6](#chapter-6) to increase this number substantially over the next "
         "five years, prioritising schools, nurseries and homes with young children."),
]

CH4 = [
    section("4.1", "Contacts and complaints"),
    para("Customers contacted us about 186,000 times in 2023, by telephone, web chat, email and letter. "
         "Most of these contacts were routine: questions about bills, meter readings and payment plans. "
         "Operational contacts, about the water itself or about our work in the street, numbered about "
         "41,000, of which interruptions to supply and discoloured water were the most common reasons."),
    para("Written complaints fell from 1,204 to 1,031. We resolved 94 per cent of them at the first "
         "response, and 61 were escalated to the second stage of our procedure. Eleven customers took "
         "their complaint to the independent consumer body, which found in our favour in eight cases and "
         "asked us to improve our offer of compensation in three. We accepted those findings in full."),
    para("The most common theme in complaints was not the failure itself but the way we communicated "
         "about it. Customers told us they could cope with a few hours without water if they knew what was "
         "happening and when it would end. In response, we now send text messages to affected customers "
         "within 30 minutes of confirming an interruption, with updated estimates every two hours, and the "
         "proportion of complaints mentioning poor information halved in the second half of the year."),
    section("4.2", "Interruptions to supply"),
    para("Interruptions are the service failure that customers notice most. In 2023, 2,655 properties "
         "were without water for more than three hours without warning, compared with 3,910 in 2022. "
         "Averaged over every property we serve, the time lost to unplanned interruptions was 6 minutes "
         "48 seconds, against a target of 9 minutes and a 2022 figure of 10 minutes 12 seconds."),
    para("Two incidents accounted for almost half of that time. In February, a burst on a 450 mm trunk "
         "main in Eastbank left 840 properties without water for up to eleven hours while the main was "
         "isolated and repaired; the repair was complicated by a gas main running alongside. In November, a "
         "power failure at the Kelsall pumping station coincided with a fault on the standby generator, "
         "and 1,100 properties lost pressure for up to five hours until a mobile generator arrived."),
    para("Both incidents were reviewed by an independent engineer. The Eastbank review recommended that "
         "critical trunk mains be provided with additional valves so that a smaller area can be isolated; "
         "the first four valves were installed in December. The Kelsall review found that the generator "
         "had been tested regularly but never under full load, and the testing procedure at all 19 "
         "pumping stations has been changed accordingly."),
    section("4.3", "Customers in vulnerable circumstances"),
    para("Our priority services register lists customers who need extra help during an interruption, "
         "such as those who depend on water for medical treatment at home, those with limited mobility and "
         "families with very young children. The register grew from 14,200 to 19,750 households during the "
         "year, after a campaign run jointly with the electricity network operator, which shares its "
         "register with us with the customers' consent."),
    para("During the two major incidents described above, bottled water was delivered to every registered "
         "household in the affected area within four hours, and bottled water stations were opened at "
         "community centres. Customers on the register also receive bills in large print, braille or audio "
         "on request, and can nominate a relative or friend to be contacted on their behalf."),
    section("4.4", "Metering"),
    para("We installed 6,210 meters in 2023, bringing the proportion of metered households to 71 per cent. "
         "Metered customers use on average 12 per cent less water than unmetered customers in similar "
         "homes, and most of them pay less. Installation is free, and customers who choose a meter can "
         "switch back within two years if they find they are paying more; in 2023 only 38 did so."),
    para("Meters also tell us about the network. The first 20,000 smart meters, installed in four "
         "districts since 2021, report consumption every hour, which lets us separate customer use from "
         "leakage far more precisely than night-flow analysis alone. They revealed that around 3 per cent "
         "of households have continuous flows overnight, almost always a leaking toilet cistern or a "
         "dripping tap, and we now write to those customers offering a free repair."),
    section("4.5", "New connections and growth"),
    para("The population we serve grew by about 2,600 in 2023, mostly in new developments on the southern "
         "and eastern edges of the city. We made 1,940 new connections, laid 9.8 km of new mains to serve "
         "them, and responded to 96 per cent of developers' requests for quotations within the target of "
         "21 days. The largest development, at Juniper Fields, will eventually add 3,200 homes and is served "
         "by a new main from the Kingsmead reservoir completed in the spring."),
    para("Growth brings pressure on resources as well as on the network. Our long-term water resources "
         "plan shows that, with the demand reductions from metering and leakage control that we expect, "
         "the existing sources can meet demand until the late 2030s under all but the most severe droughts. "
         "Beyond that, and earlier if demand reductions fall short, a new source or a transfer from a "
         "neighbouring company will be needed, and the options are being assessed now."),
    section("4.6", "Field operations"),
    para("Our field teams completed 23,400 jobs in 2023, from leak repairs and meter installations to "
         "valve maintenance and hydrant inspections. Street works are the most visible part of what we do, "
         "and the least popular: they disrupt traffic, create noise and leave scars in the road. We "
         "reduced the average duration of an excavation from 3.1 to 2.6 days by ordering materials "
         "before the excavation began and by using rapid-setting reinstatement materials on minor roads."),
    para("The safety of our people and of the public remains our first concern. There were three lost-time "
         "injuries during the year, against five in 2022, and no injuries to members of the public. Each "
         "was investigated and the lessons shared across the organisation. The most serious, a hand injury "
         "caused by a pipe cutter, led to a change of equipment across all teams."),
]

CH5 = [
    section("5.1", "Operating costs"),
    para("Operating costs for the water network were **£64.3 million**, £1.1 million below budget. Energy "
         "costs were the largest source of variance: the price we paid for electricity fell during the "
         "year, and the pump replacements described in Chapter 2 reduced consumption by 4 per cent. "
         "Against this, chemical costs rose sharply, driven by the price of coagulants and of the carbon "
         "used during the summer algal bloom."),
    simple_table(
        ["Cost category", "Budget (£m)", "Actual (£m)", "Variance (£m)"],
        [
            ["Employment", "22.4", "22.7", "+0.3"],
            ["Energy", "11.8", "10.2", "−1.6"],
            ["Chemicals", "4.6", "5.3", "+0.7"],
            ["Contractors and materials", "13.9", "13.6", "−0.3"],
            ["Rates and regulatory fees", "7.1", "7.1", "0.0"],
            ["Other", "5.6", "5.4", "−0.2"],
        ],
        ["right", "right", "right"],
        "Table 5.1: Operating costs against budget, 2023.",
        anchor="table-opex",
        total=["Total", "65.4", "64.3", "−1.1"],
    ),
    para("Employment costs were slightly above budget because we brought forward the recruitment of leakage "
         "technicians planned for 2024, in order to deploy the acoustic loggers more quickly. Contractor "
         "costs were below budget because the mild early winter reduced the number of burst repairs, "
         "though this saving was partly offset by the cost of the two major incidents."),
    section("5.2", "Capital programme"),
    para("We invested **£41.7 million** in the network in 2023, the largest annual programme in the "
         "organisation's history. Mains renewal accounted for £19.8 million, replacing 14.6 km of main, "
         "the highest length for a decade. Other major items were the pressure management schemes "
         "(£3.2 million), the acoustic logger deployment (£1.9 million), lead pipe replacement "
         "(£2.6 million) and the replacement of pump sets and control systems (£5.4 million)."),
    simple_table(
        ["Scheme", "Budget (£m)", "Actual (£m)", "Status"],
        [
            ["Mains renewal (14.6 km)", "19.5", "19.8", "Mostly complete"],
            ["Pump sets and control systems", "5.8", "5.4", "Complete"],
            ["Pressure management, two districts", "3.0", "3.2", "Complete"],
            ["Lead service pipe replacement", "2.5", "2.6", "Complete"],
            ["Acoustic logger deployment", "2.1", "1.9", "Complete"],
            ["Chlorine booster stations", "1.7", "1.8", "Complete"],
            ["Trunk main valves, Eastbank", "0.9", "0.6", "In progress"],
            ["Bellmont reservoir relining", "1.4", "0.3", "Deferred"],
            ["Other schemes", "5.8", "6.1", "Various"],
        ],
        ["right", "right", "left"],
        "Table 5.2: Capital programme by scheme, 2023.",
        anchor="table-capex",
        total=["Total", "42.7", "41.7", ""],
    ),
    para("The programme was delivered within 3 per cent of its budget, and all but three schemes were "
         "completed within the year. The exceptions were the relining of the Bellmont reservoir, deferred "
         "to 2025 to avoid taking it out of service during a dry summer; the new valves on the Eastbank "
         "trunk main, of which the first four were installed in December; and a renewal scheme in Castle "
         "Hill that was delayed by an archaeological investigation when the excavation exposed the remains "
         "of a medieval wall."),
    para("Renewal costs per kilometre rose by 7 per cent, reflecting higher material prices and the "
         "increasing share of work in congested city-centre streets. We have begun to use trenchless methods "
         "where ground conditions allow: pipe bursting, in which a new pipe is pulled through the old one, "
         "and slip-lining, in which a smaller pipe is inserted inside it. In 2023 these methods were used "
         "for 22 per cent of renewals and were on average 30 per cent cheaper than open trench."),
    section("5.3", "Funding and financing"),
    para("The capital programme is funded from three sources: operating cash flow, which provided "
         "£24.9 million in 2023; new borrowing, which provided £12.0 million; and contributions from "
         "developers towards the cost of connecting new homes, which provided £4.8 million. Net debt at the "
         "end of the year was £318 million, 58 per cent of the regulatory capital value, comfortably within "
         "the range the regulator regards as prudent."),
    para("Higher interest rates have increased the cost of new borrowing. Most of our existing debt is at "
         "fixed rates and long maturities, so the effect on 2023 was small, but it will grow as older loans "
         "are refinanced. The increase in the renewal rate that we recommend in Chapter 6 has been tested "
         "against interest rates two percentage points higher than today's, and remains affordable within "
         "the financial ratios agreed with our lenders."),
    section("5.4", "Efficiency and affordability"),
    para("Our cost to serve, the operating cost of the network per property, was £348, compared with "
         "£356 in 2022 in real terms. Benchmarking against comparable companies puts us in the second "
         "quartile, with the largest gap in energy efficiency, which the pump programme is designed to "
         "close, and in the cost of leakage repair, where we are piloting a new contract structure."),
    para("The average household bill for water in 2023 was £214. We know that for some customers this is "
         "a significant burden, especially as other living costs have risen. The social tariff, which caps "
         "bills at 3 per cent of household income, now supports 12,600 households, and a further 8,900 are "
         "on payment plans that spread arrears over up to five years. Every pound we save on operating "
         "costs is a pound that does not have to be recovered from bills."),
]

CH6 = [
    section("6.1", "Priorities for 2024"),
    para("The evidence in this report points in one direction. The network is in better shape than it "
         "was five years ago, and customers are receiving a more reliable service, but the underlying "
         "problem, an ageing network that is renewed too slowly, has not been solved. The improvements of "
         "the last three years owe as much to better operation, faster repairs and pressure management as "
         "to renewal, and there is a limit to how far those measures can go."),
    para("Our priorities for 2024 are therefore to increase the rate of mains renewal, to extend pressure "
         "management to the districts where it will pay for itself, to accelerate the replacement of lead "
         "service pipes, and to continue improving the information we give customers when things go "
         "wrong. Each of these is reflected in the recommendations below."),
    section("6.2", "Recommendations"),
    para("We recommend that the Board:", style="body_keep"),
    {
        "type": "list",
        "ordered": True,
        "anchor": "rec-list",
        "items": [
            [para("**Raises the renewal rate** from 0.8 to 1.2 per cent of the network a year by 2026, "
                  "funded within the current business plan by reprofiling the reservoir programme.",
                  style="list_body")],
            [para("**Extends pressure management** to Northgate, Millbrook, Ashford Vale and Parkside in 2024, "
                  "subject to detailed hydraulic modelling.", style="list_body")],
            [para("**Doubles lead pipe replacement** to 2,400 properties a year, with schools, nurseries and "
                  "families with young children first.", style="list_body")],
            [para("**Adopts the failure model** as the basis for all renewal decisions, with an annual "
                  "review of its performance against observed bursts.", style="list_body")],
            [para("**Publishes district-level performance** on our website each quarter, so that customers "
                  "can see how their own area is served.", style="list_body")],
        ],
    },
    {
        "type": "group",
        "keep_together": True,
        "anchor": "key-recommendation",
        "content": [
            {"type": "rule", "thickness": 2, "line_color": NAVY, "space_before": 10},
            para("Our principal recommendation", style="callout_title"),
            para("Of the five recommendations, the first matters most. At the current renewal rate, the "
                 "average age of the network will pass 55 years by 2030, and the burst rate, which has "
                 "fallen for three years, can be expected to rise again as more of the network reaches the "
                 "end of its life. Raising the renewal rate to 1.2 per cent a year is affordable within "
                 "the current plan and would stabilise the average age within a decade.", style="callout"),
            para("The cost is estimated at an additional £7.5 million a year from 2026, equivalent to about "
                 "£4 on the average annual household bill once the reprofiling of the reservoir programme "
                 "is taken into account.", style="callout"),
            {"type": "rule", "thickness": 2, "line_color": NAVY, "space_after": 10},
        ],
    },
    section("6.3", "The longer view"),
    para("Looking beyond the next business plan, two forces will shape the network over the coming decades. "
         "The first is climate change. Our climate projections suggest hotter, drier summers and wetter "
         "winters, with more intense rainfall. Hot spells raise peak demand and stress the pumps; dry "
         "summers followed by wet winters make clay soils move more, which breaks more pipes; intense rain "
         "washes more soil and organic matter into the river, which makes treatment harder."),
    para("The second is the changing expectations of customers and of society. People increasingly expect "
         "to be told about problems before they notice them, to manage their accounts online, and to see "
         "evidence that the company serving them is acting responsibly towards the environment. The "
         "commitments in this report, to publish district-level performance, to reduce leakage and energy "
         "use, and to remove lead from the network, are a start. Meeting those expectations in full will "
         "require sustained investment for a generation, and the decisions the Board takes this year will "
         "set its pace."),
    section("6.4", "Risks to the plan"),
    para("No plan survives contact with the weather. The recommendations above assume conditions broadly "
         "like those of the last five years, and several developments could knock them off course:",
         style="body_keep"),
    {
        "type": "list",
        "marker": "dash",
        "items": [
            "a severe winter, which could double the burst count and absorb the crews and budget intended "
            "for planned work;",
            "a drought, which would increase demand, reduce the yield of Upper Weir and make it harder to "
            "take mains out of service for renewal;",
            "further rises in the prices of pipe, fittings and energy beyond the allowances in the plan;",
            "shortages of skilled labour, particularly of experienced mains layers and leakage technicians, "
            "for whom we compete with every other utility in the region.",
        ],
    },
    para("Each risk is recorded in the corporate risk register with an owner and a set of mitigations. The "
         "most important mitigation is flexibility: the renewal programme is planned two years ahead but "
         "committed only one year ahead, so that it can be reshaped if a severe winter or a drought changes "
         "the priorities."),
    section("6.5", "Glossary"),
    {
        "type": "table",
        "style": "data",
        "border": {"lines": "horizontal", "width": 0.5, "color": "#cbd5e1"},
        "columns": [{"width": "auto"}, {"width": "1fr"}],
        "rows": [
            [{"text": t, "weight": "bold"}, d]
            for t, d in [
                ("Burst", "A failure of a main that requires a repair, whether or not water reaches the surface."),
                ("District meter area", "A part of the network whose inflows are metered, so that its night "
                 "flow, and hence its leakage, can be estimated."),
                ("Failure model", "A statistical model that predicts the probability and consequence of "
                 "failure for each length of main."),
                ("Megalitre (Ml)", "One million litres, about the volume of a large swimming pool."),
                ("Non-revenue water", "Water put into supply but not billed: leakage, theft, unbilled use "
                 "and meter error."),
                ("Pressure management", "Reducing pressure in the network, usually at night, to cut leakage "
                 "and bursts while keeping enough pressure for customers."),
                ("Service reservoir", "A covered tank that stores treated water close to where it is used."),
                ("Trenchless renewal", "Replacing or lining a main without digging a trench along its length."),
            ]
        ],
    },
    section("6.6", "Conclusion"),
    para("2023 was a good year for the network and for the people it serves: fewer bursts, fewer "
         "interruptions, fewer complaints and water of consistently high quality, delivered for less than "
         "we budgeted. It was also a reminder that much of what keeps the water flowing was built by our "
         "great-grandparents' generation, and that the investment decisions we take now will determine the "
         "service our grandchildren receive."),
    para("We would like to thank the staff of Riverside Water, our contractors and partners, and the "
         "customers who took the time to tell us what we could do better. Comments on this report are "
         "welcome, and can be sent to the Asset Strategy Team at "
         "[reports@riverside-water.example](mailto:reports@riverside-water.example)."),
    {"type": "spacer", "height": "10mm"},
    para("*Helen Okafor*\nDirector of Asset Strategy\n30 April 2024", style="signature"),
    {"type": "rule", "thickness": 0.5, "line_color": "#94a3b8", "space_before": 16, "space_after": 6},
    para("Notes and sources", style="notes_title"),
    para("Population and property figures are from the 2023 billing system, adjusted for void properties. "
         "Leakage is estimated by the bottom-up method from night flows in 262 district meter areas and "
         "reconciled with the top-down water balance. Burst counts include all repairs to mains of 75 mm "
         "diameter and above. Financial figures are from the audited statutory accounts. The data behind "
         "every table in this report is published at "
         "[riverside-water.example/data](https://www.riverside-water.example/data).", style="notes"),
]


def title_page():
    return [
        {"type": "spacer", "height": "20mm"},
        {"type": "image", "src": "assets/logo.svg", "width": "22mm", "align": "left", "alt": f"{ORG} logo"},
        {"type": "spacer", "height": "8mm"},
        heading(1, TITLE, style="title", anchor="top"),
        para("Annual report on the condition and performance of the drinking-water network", style="subtitle"),
        para(f"{ORG} · Asset Strategy Team · April 2024", style="byline"),
        {"type": "rule", "thickness": 1.5, "line_color": NAVY, "space_before": 10, "space_after": 14},
        para("**In brief.** Bursts on the distribution network fell to their lowest level since 2008, "
             "interruptions to supply fell by a third, and water quality compliance reached 99.97 per cent. "
             "But the network is still ageing faster than it is renewed, and this report recommends "
             "raising the renewal rate by half over the next three years.", style="lead"),
        para("Contents", style="contents_title"),
        {
            "type": "list",
            "ordered": True,
            "style": "contents",
            "items": [
                [para(f"[{t}](#chapter-{i})", style="contents_item")]
                for i, t in enumerate(CHAPTER_TITLES, start=1)
            ],
        },
        {"type": "spacer", "height": "6mm"},
    ]


CHAPTER_TITLES = [
    "Introduction",
    "Network Condition",
    "Water Quality",
    "Customer Service",
    "Financial Performance",
    "Outlook and Recommendations",
]


def document():
    content = title_page()
    for n, (title, blocks) in enumerate(zip(CHAPTER_TITLES, [CH1, CH2, CH3, CH4, CH5, CH6]), start=1):
        content += chapter(n, title, blocks)
    return {
        "ode": 1,
        "metadata": {
            "title": f"{TITLE}: {ORG}",
            "author": f"{ORG}, Asset Strategy Team",
            "subject": "Condition and performance of the drinking-water distribution network in 2023",
            "keywords": ["water supply", "distribution network", "leakage", "water quality", "annual report"],
            "language": "en",
            "created": "2024-04-30",
        },
        "page": {
            "size": "A4",
            "margins": {"top": "24mm", "right": "22mm", "bottom": "22mm", "left": "22mm"},
        },
        "styles": {
            "default": {"font": "sans", "size": 10.5, "line_height": 1.45, "color": "#1f2937"},
            "body": {"align": "justify", "space_after": "2.5mm"},
            "body_keep": {"parent": "body", "keep_with_next": True},
            "list_body": {"parent": "body", "space_after": "1mm"},
            "lead": {"parent": "body", "size": 12, "line_height": 1.5, "color": "#374151", "space_after": "6mm"},
            "title": {"size": 30, "weight": "bold", "color": NAVY, "line_height": 1.15, "space_after": "3mm"},
            "subtitle": {"size": 15, "color": "#475569", "space_after": "2mm"},
            "byline": {"size": 10, "color": "#64748b", "letter_spacing": 0.3},
            "heading": {"color": NAVY, "keep_with_next": True},
            "heading1": {"parent": "heading", "size": 22, "weight": "bold", "space_after": "5mm"},
            "heading2": {"parent": "heading", "size": 14, "weight": "bold", "space_before": "5mm",
                         "space_after": "2mm"},
            "caption": {"size": 8.5, "italic": True, "color": "#64748b", "align": "center",
                        "space_before": "1.5mm", "space_after": "5mm"},
            "data": {"size": 9, "line_height": 1.3},
            "contents_title": {"size": 13, "weight": "bold", "color": NAVY, "space_before": "4mm",
                               "space_after": "2mm", "keep_with_next": True},
            "contents": {"size": 11},
            "contents_item": {"parent": "contents", "space_after": "1mm"},
            "callout_title": {"size": 12, "weight": "bold", "color": NAVY, "space_before": "2mm",
                              "space_after": "2mm", "left_indent": "6mm"},
            "callout": {"parent": "body", "left_indent": "6mm", "right_indent": "6mm", "color": "#1e293b"},
            "signature": {"align": "right", "line_height": 1.35},
            "notes_title": {"size": 9, "weight": "bold", "color": "#475569", "space_after": "1mm"},
            "notes": {"parent": "body", "size": 8.5, "color": "#475569"},
            "header": {"size": 8, "color": "#64748b", "align": "right"},
            "footer": {"size": 8, "color": "#64748b", "align": "center"},
        },
        "header": {
            "content": [
                {"type": "paragraph", "align": "right", "text": f"{TITLE} · {ORG}"},
            ],
            "first_page": [],
        },
        "footer": {
            "content": [
                {
                    "type": "paragraph",
                    "align": "center",
                    "content": ["Page ", {"field": "page_number"}, " of ", {"field": "page_count"}],
                },
            ],
        },
        "content": content,
    }


def main():
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(dumps(document()))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
