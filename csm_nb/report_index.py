"""The index page of an engagement's reports: one self-contained HTML file
(``<out>/<engagement>/index.html``) that links every rendered workbook, the
value report first. No scripts, no external requests; every name is escaped.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .html import Html, join
from .model import Engagement
from .results import write_text_atomic

INDEX_NAME = "index.html"

_STYLE = """
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1d232b; background: #fff; }
header { padding: 28px 40px 16px; border-bottom: 3px solid #1d232b; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 13px; color: #5b6672; }
h1 { margin: 4px 0 2px; font-size: 28px; }
.meta { color: #5b6672; font-size: 14px; margin: 4px 0 0; }
main { padding: 12px 40px 28px; max-width: 900px; }
ol { list-style: none; padding: 0; margin: 0; }
li { border: 1px solid #d9dee4; border-radius: 6px; padding: 12px 16px; margin: 10px 0; }
li.lead { border-color: #1f5f99; background: #e9f1fa; }
li a { font-size: 18px; font-weight: 650; color: #1f5f99; text-decoration: none; }
li a:hover, li a:focus { text-decoration: underline; }
li p { margin: 4px 0 0; color: #5b6672; font-size: 14px; }
.tag { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; border: 1px solid #d9dee4; margin-left: 6px; vertical-align: 2px; }
.tag-good { background: #e8f5ee; border-color: #1b7f4b; color: #1b7f4b; }
.tag-warn { background: #fff4dc; border-color: #8a5a00; color: #8a5a00; }
.tag-bad { background: #fdecea; border-color: #b3261e; color: #b3261e; }
footer { padding: 12px 40px 24px; color: #5b6672; font-size: 13px; border-top: 1px solid #d9dee4; }
@page { size: A4; margin: 14mm 12mm; }
@media print { header, main, footer { padding-left: 0; padding-right: 0; } li { break-inside: avoid; } }
"""

# The value report's overall verdict as a tag beside its link.
_OVERALL = {
    "on_track": ("good", "on track"), "attention": ("warn", "points to watch"),
    "off_track": ("bad", "off track"), "not_started": ("", "too early to tell"),
}


@dataclass(frozen=True)
class IndexEntry:
    """One report: its workbook id and title, the HTML file, and its results (may be empty)."""

    workbook: str
    title: str
    html: Path
    results: dict[str, Any]


def describe(entry: IndexEntry, currency: str) -> str:
    """A one-line summary of a report's key figure, from its results file."""
    from .html import money

    r = entry.results or {}
    if entry.workbook == "value_report":
        actions = r.get("actions") or []
        return (f"{len(actions)} decision{'s' if len(actions) != 1 else ''} or action{'s' if len(actions) != 1 else ''} needed"
                if actions else "Nothing needs deciding") + "; outcomes, KPIs and money in one short report."
    if entry.workbook == "cash_flow" and r:
        profit = r.get("profit_act") if r.get("complete") else r.get("profit_est")
        label = "Profit" if r.get("complete") else "Estimated profit"
        return f"{label} {money(profit, currency)}; payback {r.get('payback_period_est') or 'not within the plan'} (estimated)."
    if entry.workbook == "progress" and r:
        counts = r.get("counts") or {}
        return (f"{counts.get('ahead', 0)} KPI(s) ahead, {counts.get('on_plan', 0)} on plan, {counts.get('behind', 0)} behind"
                f"{'; ' + str(counts.get('not_measured')) + ' not measured yet' if counts.get('not_measured') else ''}.")
    return ""


def index_html(engagement: Engagement, entries: Sequence[IndexEntry], *, folder: Path, generated: str | None = None) -> str:
    """The page as text; links are relative to ``folder`` (where index.html lives)."""
    # The value report leads; the rest keep the workbooks' own order (engagement brief ... progress).
    ordered = sorted(entries, key=lambda e: e.workbook != "value_report")
    items = []
    for entry in ordered:
        href = entry.html.resolve().relative_to(folder.resolve()).as_posix()
        tag = Html("")
        if entry.workbook == "value_report":
            tone, words = _OVERALL.get((entry.results or {}).get("overall", ""), ("", ""))
            if words:
                tag = Html(' <span class="tag tag-{}">{}</span>').format(tone, words)
        items.append(Html('<li class="{}"><a href="{}">{}</a>{}<p>{}</p></li>').format(
            "lead" if entry.workbook == "value_report" else "", href, entry.title, tag, describe(entry, engagement.currency_code)
        ))
    if not items:
        items.append(Html("<li><p>No reports yet: nothing in this engagement has anything to show.</p></li>"))
    initiative = (engagement.initiative or {}).get("name")
    meta = [f"Prepared {generated or dt.date.today().isoformat()}"]
    if engagement.csm:
        meta.append(f"Customer Success Manager: {engagement.csm}")
    page = join([
        Html('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
             '<meta name="viewport" content="width=device-width, initial-scale=1">'
             '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; style-src \'unsafe-inline\'">'),
        Html("<title>Reports · {}</title><style>").format(engagement.customer), Html(_STYLE), Html("</style></head><body>"),
        Html('<header><div class="kicker">Reports</div><h1>{}</h1>').format(engagement.customer),
        Html('<p class="meta">{}</p>').format(initiative) if initiative else Html(""),
        Html('<p class="meta">{}</p></header>').format(" · ".join(meta)),
        Html("<main><ol>"), join(items), Html("</ol></main>"),
        Html("<footer>Engagement {}, revision {}. Each report is a single file that works offline and prints on A4.</footer>")
        .format(engagement.id, engagement.revision),
        Html("</body></html>\n"),
    ])
    return str(page)


def write_index(engagement: Engagement, entries: Sequence[IndexEntry], folder: Path) -> Path:
    """Write ``folder/index.html`` atomically and return its path."""
    path = folder / INDEX_NAME
    write_text_atomic(path, index_html(engagement, entries, folder=folder))
    return path
