"""The customer-jobs page without a kernel (csm_nb.pages.customer_jobs): when it applies, its results
(the acceptance fixture: opportunities 14 / 6 / 8, 70 % with other parties, three warnings), the parts
of its report (the job map with its KPIs, the ranking chart, the under-served list, the steps mostly
with other parties, the checks), what an index shows, escaping, and the notebook's shape."""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

import pytest
from reading import plain

from csm_nb.data.engagement import read_engagement
from csm_nb.model import Engagement
from csm_nb.pages import customer_jobs as cj
from csm_nb.pages.base import Page
from csm_nb.run.registry import WORKBOOKS

FIXTURE = Path(__file__).parent / "fixtures" / "customer_jobs" / "helios-jobs.yaml"
NOTEBOOK = Path(__file__).parent.parent / "workbooks" / "15_customer_jobs.ipynb"
AS_OF = "2027-04-05"
FORBIDDEN = ("Account health", "health score", "Readiness", "readiness", "Influence", "influence", "Win over")
PARTS = ("headline", "headline_figures", "ranking_chart", "under_served_list", "job_map", "other_parties", "checks")


def text_of(html: str) -> str:
    """What a person reads: tags gone, entities decoded, no-break spaces as spaces."""
    return plain(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def page() -> cj.CustomerJobsPage:
    import datetime as dt

    return cj.page_for(read_engagement(FIXTURE), as_of=dt.date(2027, 4, 5)).at(AS_OF)


def test_the_page_is_registered_as_a_customer_workshop() -> None:
    entry = next(e for e in WORKBOOKS if e.id == "customer_jobs")
    assert (entry.notebook, entry.page) == ("15_customer_jobs.ipynb", cj.CustomerJobsPage)
    assert issubclass(cj.CustomerJobsPage, Page)
    assert (cj.CustomerJobsPage.WORKBOOK, cj.CustomerJobsPage.TITLE, cj.CustomerJobsPage.AUDIENCE) == (
        "customer_jobs",
        "Customer jobs",
        "customer",
    )
    assert cj.CustomerJobsPage.WORKSHOP and cj.CustomerJobsPage.WORKSHOP_BLURB


@pytest.mark.parametrize(
    ("engagement", "applies"),
    [
        (Engagement("a", "A"), False),
        (Engagement("a", "A", jobs=[]), False),
        (Engagement("a", "A", workshop={"outcome_discovery": {"x": 1}}), False),
        (Engagement("a", "A", workshop={"customer_jobs": {"read_back_confirmed": "yes"}}), True),
        (Engagement("a", "A", jobs=[{"id": "j", "statement": "s", "steps": [{"id": "s", "name": "S"}]}]), True),
    ],
)
def test_applies(engagement: Engagement, applies: bool) -> None:
    assert cj.CustomerJobsPage.applies(engagement) is applies


def test_the_results_carry_the_acceptance_numbers(page: cj.CustomerJobsPage) -> None:
    results = json.loads(json.dumps(page.results_json()))  # plain JSON
    scores = {o["id"]: (o["importance"], o["satisfaction"], o["opportunity"], o["label"]) for o in results["desired_outcomes"]}
    assert scores == {
        "plan-time": (9, 4, 14, "under_served"),
        "missed-visits": (6, 8, 6, "over_served"),
        "route-changes": (8, 8, 8, "served"),
        "report-tickets": (None, None, None, "not_rated"),
    }
    assert results["ranking"] == ["plan-time", "route-changes", "missed-visits"]
    assert (results["under_served"], results["over_served"]) == (["plan-time"], ["missed-visits"])
    assert results["other_share"] == pytest.approx(0.7)
    assert results["interactions"] == {"customer": 20, "us": 10, "other": 70}
    assert [(j["id"], j["steps"], round(j["other_share"], 3)) for j in results["jobs"]] == [
        ("serve-clients", 2, 0.8),
        ("read-results", 1, 0.467),
    ]
    assert [(s["step"], round(s["other_share"], 3)) for s in results["steps_mostly_with_others"]] == [
        ("plan-visits", 0.6),
        ("visit-clients", 0.833),
    ]
    plan_time = next(o for o in results["desired_outcomes"] if o["id"] == "plan-time")
    assert (plan_time["job"], plan_time["step"], plan_time["kpis"]) == ("serve-clients", "plan-visits", ["planning-minutes"])
    assert len(results["warnings"]) == 3
    assert "strip the solution out" in results["warnings"][0] and "Pulse" in results["warnings"][0]
    assert "report-tickets" in results["warnings"][1] and "no unit" in results["warnings"][1]
    assert "this is how *we* are doing" in results["warnings"][2]
    assert (results["workbook"], results["as_of"], results["audience"]) == ("customer_jobs", AS_OF, "customer")


def test_the_report_parts(page: cj.CustomerJobsPage) -> None:
    text = {part: text_of(str(getattr(page, part)())) for part in PARTS}
    assert "1 desired outcome under-served" in text["headline"] and "70 % of the interactions" in text["headline"]
    assert "(14 of 20)" in text["headline"]
    # The job map: steps in their order, parties, capability, the KPI serving plan-time, the read-back.
    job_map = text["job_map"]
    assert job_map.index("1. Plan the day's visits") < job_map.index("2. Visit the clients")
    assert "3 / 1 / 6" in job_map and "Visit planning" in job_map and "Minutes to plan a day's visits" in job_map
    assert "Care teams are trying to serve every client who needs help in the month; it goes in 2 steps" in job_map
    assert "minimise the time it takes to plan the day's visits (minimise · minutes)" in job_map
    assert "9 / 4" in job_map and "appropriately served" in job_map and "over-served" in job_map
    chart = str(page.ranking_chart())
    assert chart.count('class="bar"') == 3 and "Opportunity by desired outcome" in chart
    assert "minimise the time it takes to plan the day's visits 14 (under-served)" in text_of(chart)
    assert "Over-served (satisfied beyond their importance): minimise the visits missed in a month." in text["under_served_list"]
    assert "70 of 100 interactions (70 %) are with other parties" in text["other_parties"]
    assert "Visit the clients" in text["other_parties"] and "83 %" in text["other_parties"]
    assert "this is how *we* are doing" in text["checks"]
    for part in text.values():
        for word in FORBIDDEN:
            assert word not in part


def test_text_from_people_is_escaped() -> None:
    import datetime as dt

    e = read_engagement(FIXTURE)
    e.jobs[0]["statement"] = "<script>alert(1)</script> serve clients"
    e.jobs[0]["steps"][1]["desired_outcomes"][0]["statement"] = "minimise <b>time</b>"
    p = cj.page_for(e, as_of=dt.date(2027, 4, 5)).at(AS_OF)
    html = "".join(str(getattr(p, part)()) for part in PARTS)
    assert "<script>alert" not in html and "<b>time</b>" not in html
    assert "&lt;script&gt;" in html


def test_a_page_without_jobs_says_what_to_do() -> None:
    import datetime as dt

    p = cj.page_for(Engagement("a", "Acme"), as_of=dt.date(2027, 4, 5)).at(AS_OF)
    assert "Acme has no jobs mapped yet" in text_of(str(p.headline()))
    assert all(str(getattr(p, part)()) == "" for part in PARTS[1:])
    results = p.results()
    assert (results["ranking"], results["other_share"], results["warnings"]) == ([], None, [])


def test_products_passed_in_are_checked_too() -> None:
    import datetime as dt

    e = read_engagement(FIXTURE)
    e.jobs[0]["statement"] = "Serve every client with CareApp"
    p = cj.page_for(e, as_of=dt.date(2027, 4, 5), products=cj.products_list("CareApp, Other")).at(AS_OF)
    assert any('job "serve-clients"' in w and "CareApp" in w for w in p.results()["warnings"])


@pytest.mark.parametrize(
    ("results", "summary", "figures"),
    [
        (
            {"ranking": ["a", "b", "c"], "under_served": ["a"], "other_share": 0.7},
            "3 desired outcomes rated; 1 under-served. 70 % of the interactions are with other parties.",
            {"outcomes_rated": 3, "under_served": 1, "other_share": 0.7},
        ),
        ({"ranking": ["a"], "under_served": [], "other_share": None}, "1 desired outcome rated; 0 under-served.", None),
        ({"ranking": []}, "", None),
    ],
)
def test_index_headline(results: dict, summary: str, figures: dict | None) -> None:
    found = cj.CustomerJobsPage.index_headline(results)
    assert found.summary == summary
    if figures:
        assert {k: found.figures[k] for k in figures} == figures


def test_the_notebook_is_thin_and_committed_without_outputs() -> None:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    params = next(c for c in code if "parameters" in c["metadata"].get("tags", []))
    lines = "".join(params["source"]).splitlines()
    assert [line.split(" =")[0] for line in lines] == ["engagement_id", "db", "results_path", "as_of", "products"]
    assert all("# help:" in line for line in lines)
    calls = "".join("".join(c["source"]) for c in code)
    for part in PARTS:
        assert f"page.{part}()" in calls
    assert "".join(code[-1]["source"]) == "page.save_results(results_path)"
