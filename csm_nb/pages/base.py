"""The page contract every workbook page follows, and a workbook's registry entry.

A page is what a notebook calls (``page = cash_flow.open_page(...)``) and
what an orchestrator (the engagement index, the portfolio) asks about a
workbook without knowing which one it is:

* ``WORKBOOK``, ``TITLE``: the workbook's id and its title as people read it;
* ``AUDIENCE``: who reads the report (``"customer"`` for every current page);
* ``LEADS_INDEX``: the report an engagement's index lists first;
* ``WORKSHOP``, ``WORKSHOP_BLURB``: the workbook has forms for a workshop,
  so ``csm-nb workshop`` offers it, with this line on its start page;
* ``applies(engagement)``: does the workbook have anything to show?
* ``open(engagement_id, **options)``: the page for a stored engagement;
* ``results()``: the key figures (plain JSON), and ``save_results(path)``
  which writes them (one implementation, here) with any ``files_beside_results()``
  (the cash flow's spreadsheet);
* ``index_headline(results)``: what an index shows for a finished report,
  read from its results file alone (the page object is gone by then).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from csm_nb.data.results import write_bytes_atomic, write_results
from csm_nb.model import Engagement
from csm_nb.render.index import Headline
from csm_nb.vocabulary import money


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

    def save_results(self, path: str | Path | None) -> None:
        """Write the results file when a path is given (headless runs give one; interactive ones do not).

        Run by hand, a workshop workbook's last cell instead takes JupyterLab back to the form.
        """
        if path:
            write_results(path, self.results())
            for suffix, data in self.files_beside_results().items():
                write_bytes_atomic(Path(path).with_suffix(suffix), data)
        elif self.WORKSHOP:
            from csm_nb.forms.widgets import scroll_to_form

            scroll_to_form()

    def files_beside_results(self) -> dict[str, bytes]:
        """Other files a headless run writes beside the results file, by suffix (default: none)."""
        return {}

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """What an index shows for this report (money in ``currency``); by default the ``headline`` mapping a page may put in its results."""
        named = results.get("headline") if isinstance(results, Mapping) else None
        return Headline(figures=dict(named)) if isinstance(named, Mapping) else Headline()


@dataclass(frozen=True)
class WorkbookEntry:
    """One workbook in the registry: its id, its notebook's file name in the workbooks folder, and its page."""

    id: str
    notebook: str
    page: type[Page] | None = None

    @property
    def title(self) -> str:
        return self.page.TITLE if self.page is not None else self.id.replace("_", " ").capitalize()


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
