"""The index pages: an engagement's (``<out>/<engagement>/index.html``, every
rendered report, the leading one first) and, through ``render_page``, a
portfolio run's. Both are Jinja2 templates beside the report template
(``templates/csm_report/*.html.j2``, autoescape on) with one stylesheet,
``index.css``, inlined after ``report.css``: no scripts, no external
requests, every name escaped.

What a report's entry says comes from its page's ``index_headline`` (a
``Headline``): this module knows no workbook by name.

An engagement's ``index.html`` is meant for the customer: it never links, names
or summarises an internal report. When there are internal reports, every
report is listed in ``index-internal.html`` beside it, under the band
"Internal: not for the customer", internal ones tagged.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from csm_nb.data.results import write_text_atomic
from csm_nb.model import Engagement

INDEX_NAME = "index.html"
INTERNAL_INDEX_NAME = "index-internal.html"


@dataclass(frozen=True)
class Headline:
    """What an index shows for one finished report.

    ``verdict`` is a key (``on_track``, ``attention``, ...), ``words`` the
    same as people read it, ``tone`` the colour of its tag (good, warn, bad,
    info; empty: no tag on the engagement index). ``summary`` is the one line
    under the report's link. ``figures`` are the numbers a portfolio row
    shows: ``profit`` (the engagement's currency), ``roi`` (a fraction) and
    ``roi_kind``, ``payback`` (a period label), ``estimated`` (no actuals yet).

    >>> Headline(verdict="on_track", words="on track").as_json()["words"]
    'on track'
    """

    verdict: str | None = None
    tone: str = ""
    words: str = ""
    summary: str = ""
    figures: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["figures"] = dict(self.figures)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Headline:
        data = data or {}
        return cls(
            data.get("verdict"),
            data.get("tone") or "",
            data.get("words") or "",
            data.get("summary") or "",
            dict(data.get("figures") or {}),
        )


@dataclass(frozen=True)
class IndexEntry:
    """One report: its workbook id and title, the HTML file, its headline, whether it leads the list,
    and who may read it (``customer`` or ``internal``)."""

    workbook: str
    title: str
    html: Path
    headline: Headline = Headline()
    lead: bool = False
    audience: str = "customer"

    @property
    def internal(self) -> bool:
        return self.audience != "customer"


@functools.lru_cache(maxsize=4)
def _environment(folder: str) -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name in a template fails the test, not silently blank
    )


def render_page(template: str, **context: Any) -> str:
    """One of the stand-alone page templates in ``templates/csm_report/``, rendered with ``context`` (escaped)."""
    from csm_nb.config import templates_dir

    return _environment(str(templates_dir() / "csm_report")).get_template(template).render(**context)


def index_html(
    engagement: Engagement,
    entries: Sequence[IndexEntry],
    *,
    folder: Path,
    generated: str | None = None,
    internal: bool = False,
) -> str:
    """The page as text; links are relative to ``folder`` (where index.html lives).

    The customer's page (``internal=False``) leaves every internal report out;
    the internal one lists them all, tagged, under the internal band.
    """
    # The leading report first; the rest keep the workbooks' own order (engagement brief ... progress).
    ordered = sorted((e for e in entries if internal or not e.internal), key=lambda e: not e.lead)
    items = [
        {
            "lead": e.lead,
            "href": e.html.resolve().relative_to(folder.resolve()).as_posix(),
            "title": e.title,
            "headline": e.headline,
            "internal": e.internal,
        }
        for e in ordered
    ]
    initiative = (engagement.initiative or {}).get("name")
    meta = [f"Prepared {generated or dt.date.today().isoformat()}"]
    if engagement.csm:
        meta.append(f"Customer Success Manager: {engagement.csm}")
    return render_page(
        "engagement_index.html.j2",
        engagement=engagement,
        items=items,
        internal=internal,
        meta=([initiative] if initiative else []) + [" · ".join(meta)],
    )


def write_index(engagement: Engagement, entries: Sequence[IndexEntry], folder: Path) -> Path:
    """Write ``folder/index.html`` (the customer's: no internal report) atomically and return its path.

    With internal reports among ``entries``, ``folder/index-internal.html``
    lists every report (:func:`internal_index_path` finds it); without, an
    old one is removed so it never lists reports that are gone.
    """
    path = folder / INDEX_NAME
    write_text_atomic(path, index_html(engagement, entries, folder=folder))
    internal = folder / INTERNAL_INDEX_NAME
    if any(e.internal for e in entries):
        write_text_atomic(internal, index_html(engagement, entries, folder=folder, internal=True))
    elif internal.is_file() and not internal.is_symlink():
        internal.unlink()
    return path


def internal_index_path(folder: Path) -> Path | None:
    """``folder/index-internal.html`` when the last ``write_index`` wrote one, else ``None``."""
    path = folder / INTERNAL_INDEX_NAME
    return path if path.is_file() else None
