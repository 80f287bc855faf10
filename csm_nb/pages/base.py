"""The page contract every workbook page follows, and a workbook's registry entry.

A page is what a notebook calls (``page = cash_flow.open_page(...)``) and
what an orchestrator (the engagement index, the portfolio) asks about a
workbook without knowing which one it is:

* ``WORKBOOK``, ``TITLE``: the workbook's id and its title as people read it;
* ``AUDIENCE``: who reads the report, ``"customer"`` or ``"internal"`` (an internal
  report carries a band "Internal: not for the customer" and is never listed in
  the engagement index meant for the customer, see csm_nb.run.service);
* ``LEADS_INDEX``: the report an engagement's index lists first;
* ``WORKSHOP``, ``WORKSHOP_BLURB``: the workbook has forms for a workshop,
  so ``csm-nb workshop`` offers it, with this line on its start page;
* ``applies(engagement)``: does the workbook have anything to show?
* ``open(engagement_id, **options)``: the page for a stored engagement;
  ``interactive`` says whether it shows forms for a person or renders a
  report (every ``open_page`` asks ``config.interactive_session()``);
* ``as_of``: the date the page is judged at, set by every ``open_page(..., as_of=...)``
  (csm_nb.method.dates.parse_as_of: an ISO date, empty for today); whatever
  depends on "now" reads it, never the clock;
* ``results()``: the key figures (plain JSON), and ``save_results(path)``
  which writes them (one implementation, here) with ``as_of`` and ``audience``
  added, and any ``files_beside_results()`` (the cash flow's spreadsheet);
* ``index_headline(results)``: what an index shows for a finished report,
  read from its results file alone (the page object is gone by then).
"""

from __future__ import annotations

import datetime as dt
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from csm_nb import config
from csm_nb.data.results import write_bytes_atomic, write_results
from csm_nb.method import cashflow, progress
from csm_nb.method.dates import parse_as_of
from csm_nb.method.verdicts import Verdicts, verdicts
from csm_nb.model import Engagement
from csm_nb.render.header import report_header, show_report_header
from csm_nb.render.index import Headline
from csm_nb.vocabulary import MONEY_VERDICTS, OVERALL_VERDICTS, money

AUDIENCES = ("customer", "internal")


class Page(ABC):
    """The base of every page class in :mod:`csm_nb.pages`."""

    WORKBOOK: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    AUDIENCE: ClassVar[str] = "customer"
    LEADS_INDEX: ClassVar[bool] = False
    WORKSHOP: ClassVar[bool] = False
    WORKSHOP_BLURB: ClassVar[str] = ""

    # Every page holds the engagement it shows as ``self.engagement``.
    @property
    def currency(self) -> str:
        """The engagement's currency (ISO code); money on the page is in it."""
        return self.engagement.currency_code  # type: ignore[attr-defined]

    def m(self, value: float | None) -> str:
        """Money for people in the engagement's currency; ``None`` is "not known yet"."""
        return money(value, self.currency)

    @classmethod
    def applies(cls, engagement: Engagement) -> bool:
        """Does the workbook have anything to show for ``engagement``? (default: yes)"""
        return True

    @classmethod
    @abstractmethod
    def open(cls, engagement_id: str, **options: Any) -> Page:
        """The page for a stored engagement, as the notebook opens it (``options`` are its parameters)."""

    @abstractmethod
    def results(self) -> dict[str, Any]:
        """The key figures of the report, as plain JSON values."""

    # Forms for a person, or a report: set by ``open_page`` from ``config.interactive_session()``.
    interactive: bool = False
    # The date "now" is judged at, set by ``open_page`` (``at``); None: today.
    as_of: dt.date | None = None

    @property
    def as_of_day(self) -> dt.date:
        """The date the page is judged at: ``as_of``, or today when none was set."""
        return self.as_of or dt.date.today()

    def at(self, as_of: Any) -> Self:
        """This page judged at ``as_of`` (an ISO date, a date, or empty for today; refused in one line
        naming the parameter otherwise); every ``open_page`` ends with it."""
        self.as_of = parse_as_of(as_of)
        return self

    def report_audience(self) -> str:
        """Who reads this report: ``internal`` when the page is, or when it was opened for an internal
        audience (a page with an ``audience`` option); else ``customer``."""
        return "internal" if "internal" in (self.AUDIENCE, getattr(self, "audience", None)) else "customer"

    def results_json(self) -> dict[str, Any]:
        """What ``save_results`` writes: ``results()`` with ``as_of`` (ISO date) and ``audience`` added
        (a page that gives its own keeps them)."""
        found = dict(self.results())
        found.setdefault("as_of", self.as_of_day.isoformat())
        found.setdefault("audience", self.report_audience())
        return found

    def save_results(self, path: str | Path | None) -> None:
        """A workbook's last cell: write the results and finish the report.

        Headless, the results go to ``path`` or, without one, to ``<workbook>.json`` in the working
        directory (one line on stderr says where), with any ``files_beside_results()``; then the
        report's header is shown for the template (:mod:`csm_nb.render.header`). Run by a person, the
        results are written only to a given ``path``; without one a workshop workbook goes back to its form.
        """
        if not path and self.interactive:
            if self.WORKSHOP:
                from csm_nb.forms.widgets import scroll_to_form

                scroll_to_form()
            return
        target = Path(path) if path else config.headless_results_path(self.WORKBOOK)
        write_results(target, self.results_json())
        beside = self.files_beside_results()
        for suffix, data in beside.items():
            write_bytes_atomic(target.with_suffix(suffix), data)
        if not path:
            also = ", ".join(target.with_suffix(suffix).name for suffix in beside)
            where = f"{target}" + (f" (and {also} beside it)" if also else "")
            print(f"csm-nb: no results_path given; the results are in {where}", file=sys.__stderr__ or sys.stderr, flush=True)
        show_report_header(self.report_header())

    def report_header(self) -> dict[str, Any]:
        """What the report's header shows (:func:`csm_nb.render.header.report_header`)."""
        return report_header(
            self.engagement,  # type: ignore[attr-defined]
            workbook=self.WORKBOOK,
            title=self.TITLE,
            as_of=self.as_of_day,
            audience=self.report_audience(),
        )

    def files_beside_results(self) -> dict[str, bytes]:
        """Other files a headless run writes beside the results file, by suffix (default: none)."""
        return {}

    # -- a page with forms: what a save calls --------------------------------------------------------
    def refresh(self) -> None:
        """Read the engagement again and work the page out anew (its ``__post_init__``): what a save in one
        of its forms calls. The forms, when shown, follow (:meth:`update_forms`) and redraw the report's
        parts under them."""
        from csm_nb.data.store import Store

        with Store.existing(self.db or None) as store:  # type: ignore[attr-defined]
            self.engagement = store.load(self.engagement.id)  # type: ignore[attr-defined]
            self.reread(store)
        self.__post_init__()  # type: ignore[attr-defined]
        forms = getattr(self, "forms", None)
        if forms is not None:
            self.update_forms(forms)
            forms.redraw()

    def reread(self, store: Any) -> None:
        """What else :meth:`refresh` reads from the open ``store`` besides the engagement (default: nothing)."""
        return None

    def update_forms(self, forms: Any) -> None:
        """Give the forms the engagement as the store now holds it (default: ``forms.update(engagement)``)."""
        forms.update(self.engagement)  # type: ignore[attr-defined]

    def verdicts(self) -> dict[str, Any]:
        """The engagement's verdicts (:mod:`csm_nb.method.verdicts`) as every page's results carry them."""
        return engagement_verdicts(self.engagement, as_of=self.as_of).as_json()  # type: ignore[attr-defined]

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """What an index shows for this report (money in ``currency``): the engagement's overall verdict,
        untagged (only the leading report shows it as a tag), and the ``headline`` mapping a page may put
        in its results as figures."""
        named = results.get("headline") if isinstance(results, Mapping) else None
        return overall_headline(results, figures=dict(named) if isinstance(named, Mapping) else {}, tagged=False)


@dataclass(frozen=True)
class WorkbookEntry:
    """One workbook in the registry: its id, its notebook's file name in the workbooks folder, and its page."""

    id: str
    notebook: str
    page: type[Page] | None = None

    @property
    def title(self) -> str:
        return self.page.TITLE if self.page is not None else self.id.replace("_", " ").capitalize()


def engagement_verdicts(
    engagement: Engagement,
    *,
    tolerance: float = 0.02,
    trend_periods: float = 3,
    tracked: Sequence[progress.KpiProgress] | None = None,
    problems: Mapping[str, str] | None = None,
    cash: cashflow.CashFlowSummary | None = None,
    as_of: dt.date | None = None,
) -> Verdicts:
    """The engagement's verdicts, judged at ``as_of`` (measurements dated after it left out; None: all);
    a page that has already tracked the KPIs or summarised the cash flow passes them."""
    if tracked is None or problems is None:
        shown, _ = progress.split_at(engagement.kpis, engagement.measurements, as_of)
        tracked, problems = progress.track_all(
            engagement.kpis,
            shown,
            tolerance=float(tolerance),
            trend_periods=float(trend_periods),
            fiscal_year_end=engagement.fiscal_year_end,
        )
    if cash is None and engagement.cash_flow:
        cash = cashflow.summarise(engagement.cash_flow)
    return verdicts(
        outcome_ids=[o.id for o in engagement.outcomes],
        tracked=tracked,
        money=cash.verdict if cash is not None else None,
        problems=problems,
    )


def overall_headline(
    results: Mapping[str, Any], *, figures: Mapping[str, Any] | None = None, summary: str = "", tagged: bool = True
) -> Headline:
    """An index headline whose verdict is the engagement's overall one, from the ``verdicts`` of any results file.

    The figures gain ``verdict`` (the overall key) and ``money`` (the money verdict key) when known.

    >>> h = overall_headline({"verdicts": {"overall": "attention", "money": "behind"}})
    >>> h.verdict, h.words, h.tone, h.figures
    ('attention', 'needs attention', 'warn', {'verdict': 'attention', 'money': 'behind'})
    """
    found = results.get("verdicts") if isinstance(results, Mapping) else None
    found = found if isinstance(found, Mapping) else {}
    overall, money_key = found.get("overall"), found.get("money")
    verdict = OVERALL_VERDICTS.get(overall) if isinstance(overall, str) else None
    extra = {"verdict": overall} if verdict else {}
    if isinstance(money_key, str) and money_key in MONEY_VERDICTS:
        extra["money"] = money_key
    return Headline(
        verdict=overall if verdict else None,
        tone=verdict.tone if verdict and tagged else "",
        words=verdict.words if verdict else "",
        summary=summary,
        figures={**(figures or {}), **extra},
    )


def money_figures(results: Mapping[str, Any]) -> dict[str, Any]:
    """The money figures an index shows, from cash-flow results (top level or under ``financial``).

    Profit and the headline return are actual when the actuals are complete,
    else estimated (``estimated: True``); money in the engagement's currency,
    ratios as fractions; ``roi_kind`` names the return (``net_roi`` = profit ÷
    cost, ``return_on_cost`` = revenue ÷ cost). Figures not known are left out.

    >>> money_figures({"profit_est": 52000.0, "profit_act": None, "headline_roi": "net_roi",
    ...                "net_roi_est": 0.325, "payback_period_est": "Week 9"})
    {'profit': 52000.0, 'roi': 0.325, 'roi_kind': 'net_roi', 'payback': 'Week 9', 'estimated': True}
    >>> money_figures({"overall": "attention"})
    {}
    """
    source: Mapping[str, Any] = results
    if "profit_est" not in source and isinstance(results.get("financial"), Mapping):
        source = results["financial"]
    if "profit_est" not in source:
        return {}
    actual = source.get("profit_act") is not None
    end = "act" if actual else "est"
    kind = source.get("headline_roi") or "net_roi"
    figures = {
        "profit": source.get(f"profit_{end}"),
        "roi": source.get(f"{kind}_{end}", source.get(f"roi_{end}")),
        "roi_kind": kind,
        "payback": source.get(f"payback_period_{end}"),
        "estimated": not actual,
    }
    return {k: v for k, v in figures.items() if v is not None}
