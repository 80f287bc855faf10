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

from csm_nb.data.results import write_text_atomic
from csm_nb.model import Engagement
from csm_nb.render.html import Html, join, standalone_page
from csm_nb.vocabulary import OVERALL_TAGS

INDEX_NAME = "index.html"

# Only what the list needs; the rest is the reports' own stylesheet.
_LIST_CSS = """
main.report { max-width: 900px; }
ol.reports { list-style: none; padding: 0; margin: 0; }
ol.reports li { border: 1px solid var(--rule); border-radius: 6px; padding: 12px 16px; margin: 10px 0; }
ol.reports li.lead { border-color: var(--info); background: var(--info-bg); }
ol.reports li a { font-size: 18px; font-weight: 650; color: var(--info); text-decoration: none; }
ol.reports li a:hover, ol.reports li a:focus { text-decoration: underline; }
ol.reports li p { margin: 4px 0 0; color: var(--muted); font-size: 14px; }
ol.reports .tag { margin-left: 6px; vertical-align: 2px; }
@media print { ol.reports li { break-inside: avoid; } }
"""



@dataclass(frozen=True)
class IndexEntry:
    """One report: its workbook id and title, the HTML file, and its results (may be empty)."""

    workbook: str
    title: str
    html: Path
    results: dict[str, Any]


def describe(entry: IndexEntry, currency: str) -> str:
    """A one-line summary of a report's key figure, from its results file."""
    from csm_nb.vocabulary import money

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
            tone, words = OVERALL_TAGS.get((entry.results or {}).get("overall", ""), ("", ""))
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
    return standalone_page(
        title=f"Reports · {engagement.customer}", kicker="Reports", heading=engagement.customer,
        meta=([initiative] if initiative else []) + [" · ".join(meta)],
        body=Html('<ol class="reports">') + join(items) + Html("</ol>"),
        footer=Html("Engagement {}, revision {}. Each report is a single file that works offline and prints on A4.").format(
            engagement.id, engagement.revision),
        extra_css=_LIST_CSS,
    )


def write_index(engagement: Engagement, entries: Sequence[IndexEntry], folder: Path) -> Path:
    """Write ``folder/index.html`` atomically and return its path."""
    path = folder / INDEX_NAME
    write_text_atomic(path, index_html(engagement, entries, folder=folder))
    return path
