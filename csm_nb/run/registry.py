"""The workbooks, by id and in order: each one's notebook file and page class.

This list is the only place a workbook is named: the command line, the
runner, the engagement index and the portfolio read it, and ask a workbook's
page (``csm_nb.pages.base.Page``) what it shows. A notebook in the workbooks
folder that is not listed here (a team's own, or a test's) still runs, as a
workbook without a page: its id is its file name without the ``NN_`` prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csm_nb import config
from csm_nb.errors import NotFoundError
from csm_nb.model import Engagement
from csm_nb.pages.account_health import AccountHealthPage
from csm_nb.pages.base import Page, WorkbookEntry
from csm_nb.pages.cash_flow import CashFlowPage
from csm_nb.pages.csm_activities import CsmActivitiesPage
from csm_nb.pages.customer_jobs import CustomerJobsPage
from csm_nb.pages.customer_pulse import CustomerPulsePage
from csm_nb.pages.engagement_brief import EngagementBriefPage
from csm_nb.pages.engagement_plan import EngagementPlanPage
from csm_nb.pages.financial_linkage import FinancialLinkagePage
from csm_nb.pages.kpi_workshop import KpiWorkshopPage
from csm_nb.pages.maturity import MaturityPage
from csm_nb.pages.outcome_discovery import OutcomeDiscoveryPage
from csm_nb.pages.progress import ProgressPage
from csm_nb.pages.renewal_prep import RenewalPrepPage
from csm_nb.pages.stakeholder_map import StakeholderMapPage
from csm_nb.pages.success_plan import SuccessPlanPage
from csm_nb.pages.value_report import ValueReportPage

WORKBOOKS: tuple[WorkbookEntry, ...] = (
    WorkbookEntry("engagement_brief", "01_engagement_brief.ipynb", EngagementBriefPage),
    WorkbookEntry("outcome_discovery", "02_outcome_discovery.ipynb", OutcomeDiscoveryPage),
    WorkbookEntry("kpi_workshop", "03_kpi_workshop.ipynb", KpiWorkshopPage),
    WorkbookEntry("financial_linkage", "04_financial_linkage.ipynb", FinancialLinkagePage),
    WorkbookEntry("cash_flow", "05_cash_flow.ipynb", CashFlowPage),
    WorkbookEntry("progress", "06_progress.ipynb", ProgressPage),
    WorkbookEntry("value_report", "07_value_report.ipynb", ValueReportPage),
    WorkbookEntry("engagement_plan", "08_engagement_plan.ipynb", EngagementPlanPage),
    WorkbookEntry("account_health", "09_account_health.ipynb", AccountHealthPage),
    WorkbookEntry("stakeholder_map", "10_stakeholder_map.ipynb", StakeholderMapPage),
    WorkbookEntry("success_plan", "11_success_plan.ipynb", SuccessPlanPage),
    WorkbookEntry("renewal_prep", "12_renewal_prep.ipynb", RenewalPrepPage),
    WorkbookEntry("csm_activities", "13_csm_activities.ipynb", CsmActivitiesPage),
    WorkbookEntry("maturity", "14_maturity.ipynb", MaturityPage),
    WorkbookEntry("customer_jobs", "15_customer_jobs.ipynb", CustomerJobsPage),
    WorkbookEntry("customer_pulse", "16_customer_pulse.ipynb", CustomerPulsePage),
)


@dataclass(frozen=True)
class Workbook:
    """A workbook as it is run: its id, its notebook on disk, its title and its page (None: no page)."""

    id: str
    path: Path
    title: str
    page: type[Page] | None = None


def workbooks() -> dict[str, Workbook]:
    """The workbooks whose notebooks are in the workbooks folder, by id: the registry's in its order, then any others."""
    folder = config.workbooks_dir()
    found = {e.id: Workbook(e.id, folder / e.notebook, e.title, e.page) for e in WORKBOOKS if (folder / e.notebook).is_file()}
    listed = {e.notebook for e in WORKBOOKS}
    for path in sorted(folder.glob("*.ipynb")):
        if path.name in listed:
            continue
        stem = path.stem
        wid = stem.split("_", 1)[1] if stem[:2].isdigit() and "_" in stem else stem
        found.setdefault(wid, Workbook(wid, path, WorkbookEntry(wid, path.name).title))
    return found


def get_workbook(workbook_id: str) -> Workbook:
    known = workbooks()
    if workbook_id not in known:
        raise NotFoundError(f"no workbook {workbook_id!r}; available: {', '.join(known) or 'none'} (in {config.workbooks_dir()})")
    return known[workbook_id]


def report_audience(page: type[Page] | None, results: Mapping[str, Any]) -> str:
    """Who may read a finished report: ``internal`` when its page is internal (``Page.AUDIENCE``) or its
    results say so (a page opened for an internal audience), else ``customer``.

    >>> report_audience(None, {"audience": "internal"}), report_audience(None, {})
    ('internal', 'customer')
    """
    declared = page.AUDIENCE if page is not None else "customer"
    found = results.get("audience") if isinstance(results, Mapping) else None
    return "internal" if "internal" in (declared, found) else "customer"


def applies(workbook: Workbook, engagement: Engagement) -> bool:
    """Does this workbook have anything to show for the engagement? (no page: yes)"""
    return workbook.page is None or bool(workbook.page.applies(engagement))


def applicable_workbooks(engagement: Engagement) -> list[str]:
    """Workbook ids that have a page with something to show for this engagement, in order."""
    return [w.id for w in workbooks().values() if w.page is not None and w.page.applies(engagement)]


def warm_up_code(workbook_ids: list[str] | tuple[str, ...]) -> str:
    """What a waiting kernel runs before it is handed a notebook (saves that time later): the pages'
    modules, pandas, and matplotlib with the house style loaded (every page's tables and charts use them).

    >>> print(warm_up_code(["cash_flow"]))
    import csm_nb.run.kernel
    import csm_nb.pages.cash_flow
    import pandas
    import csm_nb.render.charts
    csm_nb.render.charts.warm_up()
    """
    pages = {e.id: e.page for e in WORKBOOKS}
    modules = ["csm_nb.run.kernel"] + [pages[w].__module__ for w in workbook_ids if pages.get(w) is not None]
    lines = [f"import {m}" for m in dict.fromkeys(modules)]
    if len(modules) > 1:
        lines += ["import pandas", "import csm_nb.render.charts", "csm_nb.render.charts.warm_up()"]
    return "\n".join(lines)
