"""Who may read a report: every page declares ``AUDIENCE``; an internal report carries the band
"Internal: not for the customer"; the engagement's index.html (for the customer) never links, names or
summarises one, index-internal.html lists everything, and the portfolio index marks internal reports.

The slow test registers a small internal page for the test only (the registry monkeypatched), plants a
marker in its report and its index summary, renders it with a real customer workbook through
``render_engagement_report``, and searches every customer-facing page for the marker.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest

from csm_nb.model import Engagement
from csm_nb.pages.base import AUDIENCES, Page
from csm_nb.pages.cash_flow import CashFlowPage
from csm_nb.render.index import INTERNAL_INDEX_NAME, Headline, IndexEntry, index_html, write_index
from csm_nb.run import engine, portfolio, registry
from csm_nb.run.service import import_engagements, render_engagement_report

ROOT = Path(__file__).resolve().parents[1]
BAND = "Internal: not for the customer"
MARKER = "HEALTH-SCORE-41-MARKER-7f3a"  # an internal figure that must never reach the customer


class HealthCheckPage(Page):
    """An internal page, for this test only (its notebook below does the same in the kernel)."""

    WORKBOOK, TITLE, AUDIENCE = "health_check", "Health check", "internal"

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> Page:
        raise NotImplementedError

    def results(self) -> dict[str, Any]:
        return {}

    @classmethod
    def index_headline(cls, results: Any, *, currency: str = "USD") -> Headline:
        return Headline(summary=str(results.get("summary", "")))


INTERNAL_NOTEBOOK = f"""from IPython.display import HTML, display

from csm_nb.data.store import Store
from csm_nb.pages.base import Page


class HealthCheckPage(Page):
    WORKBOOK, TITLE, AUDIENCE = "health_check", "Health check", "internal"

    def __init__(self, engagement):
        self.engagement = engagement

    @classmethod
    def open(cls, engagement_id, **options):
        raise NotImplementedError

    def results(self):
        return {{"workbook": self.WORKBOOK, "engagement": self.engagement.id, "summary": "Health score 41 ({MARKER})"}}


with Store.existing(db or None) as store:
    page = HealthCheckPage(store.load(engagement_id)).at(as_of)
display(HTML("<p>Support escalations this month: 3 ({MARKER})</p>"))"""


def write_internal_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell(
        'engagement_id = ""  # help: the engagement\ndb = ""  # help: the store\n'
        'results_path = ""  # help: where the results go\nas_of = ""  # help: the date it is judged at',
        metadata={"tags": ["parameters"]},
    )
    nb.cells = [
        parameters,
        nbformat.v4.new_code_cell(INTERNAL_NOTEBOOK),
        nbformat.v4.new_code_cell("page.save_results(results_path)"),
    ]
    nbformat.write(nb, path)


# -- the contract ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", registry.WORKBOOKS, ids=lambda e: e.id)
def test_every_page_declares_its_audience(entry) -> None:
    assert entry.page.AUDIENCE in AUDIENCES
    internal = {"account_health", "stakeholder_map", "renewal_prep", "csm_activities"}  # internal: for our team only
    assert entry.page.AUDIENCE == ("internal" if entry.id in internal else "customer")


def test_an_internal_page_says_so_in_its_results_and_header() -> None:
    page = HealthCheckPage()
    page.engagement = Engagement("acme", "Acme")  # type: ignore[attr-defined]
    page.at("2026-11-30")
    assert page.results_json() == {"as_of": "2026-11-30", "audience": "internal"}
    header = page.report_header()
    assert (header["audience"], header["as_of"], header["as_of_words"]) == ("internal", "2026-11-30", "30 November 2026")


def test_the_band_prints(tmp_path: Path) -> None:
    """The band is in the stylesheet's print rules with its colour kept, and no print rule hides it."""
    css = (ROOT / "templates" / "csm_report" / "report.css").read_text(encoding="utf-8")
    rules = re.findall(r"([^{}]*\.audience-band[^{}]*)\{([^}]*)\}", css)
    assert any("print-color-adjust: exact" in body for _, body in rules)
    assert not any("display: none" in body or "visibility: hidden" in body for _, body in rules)


# -- the index pages (no kernels) -------------------------------------------------------------------------------
def entries(folder: Path) -> list[IndexEntry]:
    return [
        IndexEntry("cash_flow", "Cash flow", folder / "cash_flow.html", Headline(summary="Profit $59,673")),
        IndexEntry("health_check", "Health check", folder / "health_check.html", Headline(summary=MARKER), audience="internal"),
        IndexEntry("value_report", "Value report", folder / "value_report.html", Headline(summary="On track"), lead=True),
    ]


def test_the_customer_index_leaves_internal_reports_out_and_the_internal_one_lists_all(tmp_path: Path) -> None:
    e = Engagement("acme", "Acme")
    customer = index_html(e, entries(tmp_path), folder=tmp_path, generated="2026-12-01")
    assert MARKER not in customer and "health_check" not in customer and "Health check" not in customer
    assert BAND not in customer and INTERNAL_INDEX_NAME not in customer
    assert customer.index('href="value_report.html"') < customer.index('href="cash_flow.html"')
    internal = index_html(e, entries(tmp_path), folder=tmp_path, generated="2026-12-01", internal=True)
    assert internal.index(BAND) < internal.index('<header class="report-header">')
    assert re.search(r'href="health_check.html">Health check</a> <span class="tag tag-bad">internal</span>', internal)
    assert MARKER in internal and 'href="cash_flow.html"' in internal and 'href="value_report.html"' in internal


def test_write_index_writes_the_internal_index_only_while_there_are_internal_reports(tmp_path: Path) -> None:
    e = Engagement("acme", "Acme")
    assert write_index(e, entries(tmp_path), tmp_path) == tmp_path / "index.html"
    assert BAND in (tmp_path / INTERNAL_INDEX_NAME).read_text(encoding="utf-8")
    write_index(e, [x for x in entries(tmp_path) if x.audience == "customer"], tmp_path)
    assert not (tmp_path / INTERNAL_INDEX_NAME).exists()  # never a stale list of reports that are gone


def test_the_portfolio_index_lists_internal_reports_and_marks_them() -> None:
    outcome = portfolio.EngagementOutcome(
        "acme",
        "Acme",
        "Sam",
        "USD",
        "ok",
        1.0,
        [
            portfolio.WorkbookOutcome("health_check", "ok", outputs={"html": "acme/health_check.html"}, audience="internal"),
            portfolio.WorkbookOutcome("cash_flow", "ok", outputs={"html": "acme/cash_flow.html"}),
        ],
    )
    page = portfolio.index_html(
        "2026-11-30", [outcome], started_at=dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC), duration=3.0, as_of="2026-11-30"
    )
    assert '<a href="acme/health_check.html">health_check</a> <span class="tag tag-bad">internal</span>' in page
    assert re.search(r'<a href="acme/cash_flow.html">Cash flow[^<]*</a></td>', page)  # a customer report is not marked
    assert '<a href="acme/cash_flow.html">Acme</a>' in page  # the customer's name leads to a customer report
    assert "Figures as of 30 November 2026" in page


# -- a real run with an internal page registered for the test ------------------------------------------------------
@pytest.mark.slow
def test_no_internal_figure_reaches_a_customer_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "workbooks"
    folder.mkdir()
    shutil.copy(ROOT / "workbooks" / "05_cash_flow.ipynb", folder / "05_cash_flow.ipynb")
    write_internal_notebook(folder / "09_health_check.ipynb")
    monkeypatch.setenv("CSM_NB_WORKBOOKS", str(folder))
    monkeypatch.setattr(
        registry,
        "WORKBOOKS",
        (
            registry.WorkbookEntry("cash_flow", "05_cash_flow.ipynb", CashFlowPage),
            registry.WorkbookEntry("health_check", "09_health_check.ipynb", HealthCheckPage),
        ),
    )
    monkeypatch.setattr(engine, "warm_up_code", lambda ids: "import csm_nb.run.kernel")  # the test page is no module
    db, out = tmp_path / "store.sqlite", tmp_path / "runs"
    import_engagements([ROOT / "examples" / "ad-campaign.yaml"], db=db)

    report = render_engagement_report("ad-campaign", db=db, out=out, as_of="2026-11-30")
    here = out / "ad-campaign"
    assert [r.workbook for r in report.results] == ["cash_flow", "health_check"]
    health = (here / "health_check.html").read_text(encoding="utf-8")
    assert MARKER in health and health.index(BAND) < health.index('<header class="report-header">')
    assert json.loads((here / "health_check.json").read_text())["audience"] == "internal"

    customer_pages = [report.index, here / "cash_flow.html"]
    for page in customer_pages:
        text = page.read_text(encoding="utf-8")
        assert MARKER not in text and BAND not in text, page.name
        assert "health_check" not in text and "Health check" not in text and INTERNAL_INDEX_NAME not in text, page.name
    cash = json.loads((here / "cash_flow.json").read_text())
    assert (cash["as_of"], cash["audience"]) == ("2026-11-30", "customer")
    assert "Figures as of 30 November 2026" in (here / "cash_flow.html").read_text(encoding="utf-8")

    assert report.internal_index == here / INTERNAL_INDEX_NAME
    internal = report.internal_index.read_text(encoding="utf-8")
    assert BAND in internal and 'href="health_check.html"' in internal and 'href="cash_flow.html"' in internal
    assert MARKER in internal  # the internal index shows the internal report's summary


# -- the engagement plan's internal fields, through real runs, HTML and PDF ----------------------------------------
ESCALATION_MARKER = "ESCALATE-TO-MARKER-5521"  # escalate.to: who an overdue moment goes to (ours)
OWNER_MARKER = "OWNER-ROLE-MARKER-5521"  # a moment's owner: our role
TRIGGER_MARKER = "trigger-marker-5521"  # a trigger's id, fired on the data behind it
PLAN_MARKERS = (ESCALATION_MARKER, OWNER_MARKER, TRIGGER_MARKER)


def marked_engagement(path: Path) -> None:
    """order-to-ship with its model inline, every owner and escalation a marker, a trigger that fires, and
    the October QBR not held (so it is overdue and escalated at 4 December 2026)."""
    import yaml

    doc = yaml.safe_load((ROOT / "examples" / "order-to-ship.yaml").read_text(encoding="utf-8"))
    model = yaml.safe_load((ROOT / "csm_nb" / "data" / "models" / "high-touch.yaml").read_text(encoding="utf-8"))
    del model["schema"]
    for moment in model["moments"]:
        moment["owner"] = OWNER_MARKER
        moment["escalate"] = {"after_days": 7, "to": ESCALATION_MARKER}
    model["triggers"] = [{"id": TRIGGER_MARKER, "when": {"no_event": "survey", "for_days": 30}}]
    doc["engagement_model"] = model
    doc["moments"] = [m for m in doc["moments"] if not (m["moment"] == "qbr" and str(m.get("due")) == "2026-10-01")]
    for table in ("measurements", "cash_flow"):
        if isinstance(doc.get(table), str):
            doc[table] = str(ROOT / "examples" / doc[table])
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def pdf_text(path: Path) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


@pytest.mark.slow
@pytest.mark.browser
def test_the_plans_internal_fields_reach_no_customer_html_or_pdf(tmp_path: Path) -> None:
    from csm_nb.cli import main

    source = tmp_path / "order-to-ship.yaml"
    marked_engagement(source)
    db, out = tmp_path / "store.sqlite", tmp_path / "runs"
    assert main(["--db", str(db), "import", str(source)]) == 0
    command = ["--db", str(db), "portfolio", "--workbooks", "engagement_plan,value_report", "--pdf", "--as-of", "2026-12-04"]
    assert main([*command, "--out", str(out), "--label", "markers", "--quiet"]) == 0
    here = out / "markers" / "order-to-ship"

    # The markers were planted where they count: the internal version of the plan shows each of them.
    internal = tmp_path / "internal"
    run = ["--db", str(db), "run", "engagement_plan", "--engagement", "order-to-ship", "--as-of", "2026-12-04"]
    assert main([*run, "-p", "audience", "internal", "--out", str(internal)]) == 0
    shown = (internal / "order-to-ship" / "engagement_plan.html").read_text(encoding="utf-8")
    assert all(marker in shown for marker in PLAN_MARKERS) and BAND in shown

    # The customer's pages: both reports, their PDFs and the indexes a customer is sent.
    plan = json.loads((here / "engagement_plan.json").read_text(encoding="utf-8"))
    assert [o["moment"] for o in plan["escalations"]] == ["qbr"] and plan["audience"] == "customer"
    value = json.loads((here / "value_report.json").read_text(encoding="utf-8"))
    hold = "Hold the quarterly business review (with the executive sponsor): due 1 October 2026,"
    assert any(a.startswith(hold) for a in value["actions"])
    pages = {p.name: p.read_text(encoding="utf-8") for p in [*here.glob("*.html"), out / "markers" / "index.html"]}
    pages |= {p.name: pdf_text(p) for p in here.glob("*.pdf")}
    assert {"engagement_plan.pdf", "value_report.pdf", "engagement_plan.html", "value_report.html", "index.html"} <= set(pages)
    for name, text in pages.items():
        for marker in PLAN_MARKERS:
            assert marker not in text, f"{marker} in {name}"


# -- the relationship's internal figures (issue: health, stakeholder map, renewal), through every workbook ---------
RELATIONSHIP_MARKERS = {
    "objectives": "OBJECTIVE-MARKER-9041",  # a stakeholder's own goals (the map shows them side by side)
    "contributes": "CONTRIBUTES-MARKER-9041",
    "knows_about": "KNOWS-MARKER-9041",
    "risk": "RISK-MARKER-9041",  # a risk's description and mitigation
    "mitigation": "MITIGATION-MARKER-9041",
    "commitment": "PROMISE-MARKER-9041",  # a promise made in the sale
    "activity": "ACTIVITY-MARKER-9041",  # the CSM's own log
}
# Words only an internal report uses for its figures (the customer's reports never name them).
INTERNAL_WORDS = ("Account health", "health score", "Readiness", "readiness", "Influence", "influence", "Win over")


def relationship_engagement(path: Path) -> None:
    """employee-engagement with a marker in every internal text field of the relationship."""
    import yaml

    doc = yaml.safe_load((ROOT / "examples" / "employee-engagement.yaml").read_text(encoding="utf-8"))
    for person in doc["stakeholders"]:
        person["objectives"] = [RELATIONSHIP_MARKERS["objectives"]]
        person["contributes"] = RELATIONSHIP_MARKERS["contributes"]
        person["knows_about"] = [RELATIONSHIP_MARKERS["knows_about"]]
    for risk in doc["risks"]:
        risk["description"] = RELATIONSHIP_MARKERS["risk"]
        risk["mitigation"] = RELATIONSHIP_MARKERS["mitigation"]
    for promise in doc["commitments"]:
        promise["promise"] = RELATIONSHIP_MARKERS["commitment"]
    for activity in doc["activities"]:
        activity["title"] = f"{RELATIONSHIP_MARKERS['activity']} {activity['title']}"
    for table in ("measurements", "cash_flow"):
        if isinstance(doc.get(table), str):
            doc[table] = str(ROOT / "examples" / doc[table])
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


@pytest.mark.slow
@pytest.mark.browser
def test_the_relationships_internal_figures_reach_no_customer_html_or_pdf(tmp_path: Path) -> None:
    from csm_nb.cli import main

    source = tmp_path / "employee-engagement.yaml"
    relationship_engagement(source)
    db, out = tmp_path / "store.sqlite", tmp_path / "runs"
    assert main(["--db", str(db), "import", str(source)]) == 0
    command = ["--db", str(db), "portfolio", "--pdf", "--as-of", "2026-12-04", "--out", str(out), "--label", "m", "--quiet"]
    assert main([*command, "--workbooks", ",".join(registry.workbooks())]) == 0
    here = out / "m" / "employee-engagement"
    audience = {p.stem: json.loads(p.read_text(encoding="utf-8"))["audience"] for p in here.glob("*.json")}
    internal = sorted(w for w, a in audience.items() if a == "internal")
    assert internal == ["account_health", "csm_activities", "renewal_prep", "stakeholder_map"]
    # Planted where they count: each marker shows in some internal report.
    shown = " ".join((here / f"{w}.html").read_text(encoding="utf-8") for w in internal)
    assert [m for m in RELATIONSHIP_MARKERS.values() if m not in shown] == []
    assert "Account health" in shown and "Readiness" in shown

    customer = [w for w, a in audience.items() if a == "customer"]
    assert {"value_report", "engagement_brief", "success_plan", "engagement_plan"} <= set(customer)
    pages = {f"{w}.html": (here / f"{w}.html").read_text(encoding="utf-8") for w in customer}
    pages |= {f"{w}.pdf": pdf_text(here / f"{w}.pdf") for w in customer}
    # The engagement's index for the customer, as csm-nb report writes it (and the internal one, which lists all).
    assert (
        main(["--db", str(db), "report", "--engagement", "employee-engagement", "--out", str(out / "r"), "--as-of", "2026-12-04"])
        == 0
    )
    pages["index.html"] = (out / "r" / "employee-engagement" / "index.html").read_text(encoding="utf-8")
    assert "account_health.html" in (out / "r" / "employee-engagement" / INTERNAL_INDEX_NAME).read_text(encoding="utf-8")
    for name, text in pages.items():
        found = [m for m in (*RELATIONSHIP_MARKERS.values(), *INTERNAL_WORDS) if m in text]
        assert not found, f"{found} in {name}"
