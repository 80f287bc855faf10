"""The kpi_workshop and financial_linkage workbooks end to end: store -> papermill ->
results JSON and HTML -> a real browser. The example engagements are rendered once
per session (``rendered_examples`` in conftest); one extra run checks bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import open_report
from reading import plain

from csm_nb import cli
from csm_nb.data.engagement import read_engagement
from csm_nb.data.store import Store
from csm_nb.errors import InputError
from csm_nb.pages import financial_linkage, kpi_workshop

EID = "employee-engagement"
ROOT = Path(__file__).resolve().parents[1]


def _results(rendered_examples: dict, workbook: str) -> dict:
    return json.loads((rendered_examples["out"] / EID / f"{workbook}.json").read_text())


def _html(rendered_examples: dict, workbook: str) -> str:
    return plain((rendered_examples["out"] / EID / f"{workbook}.html").read_text())


# -- headless runs of the examples (papermill) --------------------------------------------------------
@pytest.mark.slow
def test_linkage_results_carry_the_scenario(rendered_examples):
    data = _results(rendered_examples, "financial_linkage")
    assert data["workbook"] == "financial_linkage" and data["currency"] == "USD"
    link = data["links"][0]
    assert [s["value_after"] for s in link["steps"]] == [90, 33750, 13500]  # +1 point = 90 clients = $33,750
    assert link["value_per_unit"] == {
        "revenue_per_period": 33750,
        "revenue_per_year": 405000,
        "profit_per_period": 13500,
        "profit_per_year": 162000,
        "margin": 0.4,
    }
    gap = link["gap"]
    assert (gap["money_run_rate_per_period"], gap["money_run_rate_per_year"]) == (675000, 8100000)
    assert (gap["money_target_per_year"], gap["money_gap_per_year"]) == (9750000, 1650000)
    assert gap["fraction"] == 0.5
    assert gap["movement_for_fraction"] == pytest.approx(825000 / 405000, abs=1e-9)  # 2.037 points
    assert data["headline"]["movement_to_close_fraction"] == pytest.approx(2.037037, abs=1e-6)
    assert link["accuracy"]["revenue"]["likely"] == pytest.approx((0.2**2 + 0.05**2) ** 0.5, abs=1e-9)
    rows = link["sensitivity"]["rows"]
    assert [(r["value_low"], r["value_high"]) for r in rows] == [(324000, 486000), (384750, 425250)]


@pytest.mark.slow
def test_linkage_results_carry_the_generated_cash_flow(rendered_examples):
    cf = _results(rendered_examples, "financial_linkage")["cash_flow"]
    assert cf["kpi"] == "engagement-score" and cf["written"] is False
    assert cf["kpi_plan"] == [6, 6, 6.5, 7, 7.5, 8, 8, 8, 8, 8, 8, 8]
    assert cf["revenue_est"] == [0, 0, 16875, 33750, 50625] + [67500] * 7
    assert cf["revenue_act"] == [0, 3375, 13500, 27000] + [None] * 8


@pytest.mark.slow
def test_kpi_workshop_results_carry_register_and_ranking(rendered_examples):
    data = _results(rendered_examples, "kpi_workshop")
    assert (data["leading"], data["lagging"]) == (["engagement-score"], ["clients-served"])
    assert [(r["rank"], r["id"], r["score"], r["shortlisted"]) for r in data["ranking"]] == [
        (1, "engagement-score", 4.3, True),
        (2, "pulse-survey", 3.4, False),
        (3, "annual-survey", 3.0, False),
    ]
    assert data["weights"] == {"link": 3, "warning": 2, "frequency": 2, "effort": 1, "approvals": 1, "ready": 1}
    assert [(w["kind"], w["outcome"]) for w in data["warnings"]] == [
        ("no_leading", "clients-next-year"),
        ("no_lagging", "clients-next-year"),
    ]
    register = {k["id"]: k for k in data["register"]}
    assert (register["clients-served"]["baseline"], register["clients-served"]["target"]) == (1800, 1983)


@pytest.mark.slow
def test_reports_read_in_plain_words_without_code(rendered_examples):
    linkage_html = _html(rendered_examples, "financial_linkage")
    text = re.sub(r"<[^>]+>", " ", linkage_html)
    assert "is worth $33,750 revenue a month, $405,000 a year ($162,000 profit a year at a 40 % margin)" in text
    assert "Closing half of the $1,650,000 gap takes 2.04 points" in text
    assert "$8,100,000" in text and "$9,750,000" in text
    assert linkage_html.count("<svg") == 1 and "tornado-bar" in linkage_html
    kpi_html = _html(rendered_examples, "kpi_workshop")
    assert "has no leading KPI" in kpi_html and "Line-manager engagement rating (0-10)" in kpi_html
    for html in (linkage_html, kpi_html):
        assert "Traceback" not in html and "open_page" not in html and "<script" not in html


@pytest.mark.slow
def test_a_link_the_workbook_refuses_fails_the_run_with_one_line(tmp_path, fixtures_dir, capsys):
    db = tmp_path / "store.sqlite"
    assert cli.main(["--db", str(db), "import", str(fixtures_dir / "linkage_percent_as_whole_number.yaml")]) == 0
    capsys.readouterr()
    code = cli.main(["--db", str(db), "run", "financial_linkage", "--engagement", "bad-percent", "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.count("\n") == 0
    assert (
        "financial link 'score-to-revenue', step 1 (clients per point): a percentage is written as a fraction (5 % is 0.05), got 5"
        in err
    )
    assert not (tmp_path / "runs" / "bad-percent" / "financial_linkage.html").exists()


@pytest.mark.browser
@pytest.mark.slow
def test_linkage_report_in_a_real_browser(rendered_examples, browser):
    page, errors, requests = open_report(browser, rendered_examples["out"] / EID / "financial_linkage.html")
    try:
        assert errors == [] and all(u.startswith(("file:", "data:")) for u in requests)
        cards = page.locator(".figures").inner_text()
        assert "$33,750" in cards and "$405,000" in cards and "$162,000" in cards and "2.04" in cards
        bars = page.locator("svg .tornado-bar")  # one group a bar (matplotlib draws each bar as a path in it)
        assert bars.count() == 4 and bars.first.is_visible()
        # Nothing is wider than the page: tables and the chart fit.
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth") is True
    finally:
        page.close()


# -- the pages without papermill ------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "pages.sqlite"
    with Store(path) as store:
        store.save(read_engagement(ROOT / "examples" / f"{EID}.yaml"), summary="imported")
    return str(path)


def test_writing_the_generated_revenue_into_the_cash_flow(db):
    with Store(db) as store:
        engagement = store.load(EID)
        for line in engagement.cash_flow:  # a business case typed by hand, to be replaced
            line.revenue_est = 1.0
        store.save(engagement, expected_revision=engagement.revision)
    page = financial_linkage.open_page(EID, db=db, results_path="x.json", write_cash_flow=True)
    with Store(db) as store:
        after = store.load(EID)
    assert [x.revenue_est for x in after.cash_flow] == [0, 0, 16875, 33750, 50625] + [67500] * 7
    assert [x.revenue_act for x in after.cash_flow][:4] == [0, 0, 11250, 27000]  # actuals typed by finance are kept
    assert [x.expenditure_est for x in after.cash_flow][:2] == [120000, 15000]
    assert page.results()["cash_flow"]["written"] is True
    assert "has been written into the engagement" in str(page.cash_flow())
    assert store_history_summary(db)[-1] == "cash flow: estimated revenue from link 'engagement-to-revenue'"


def store_history_summary(db: str) -> list[str]:
    with Store(db) as store:
        return [h["summary"] for h in store.history(EID)]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"gap_fraction": 0}, "parameter gap_fraction: expected a fraction above 0 up to 1"),
        ({"basis": "cash"}, "parameter basis: expected revenue or profit, got 'cash'"),
        ({"swing": 1.5}, "parameter swing"),
        ({"cash_flow_link": "nope"}, "parameter cash_flow_link: no financial link 'nope'; the links are engagement-to-revenue"),
    ],
)
def test_bad_settings_are_refused_naming_the_parameter(db, setting, message):
    with pytest.raises(InputError, match=re.escape(message)):
        financial_linkage.open_page(EID, db=db, results_path="x.json", **setting)


def test_profit_basis_builds_the_cash_flow_from_profit(db):
    page = financial_linkage.open_page(EID, db=db, results_path="x.json", basis="profit")
    assert page.generated.basis == "profit"
    assert [x.revenue_est for x in page.generated.lines][3] == pytest.approx(13_500)
    assert page.summaries[0].value_per_year == 162_000


def test_text_typed_by_people_is_escaped(db):
    evil = "<img src=x onerror=alert(1)>"
    with Store(db) as store:
        e = store.load(EID)
        e.financial_links[0]["steps"][0]["description"] = evil
        e.financial_links[0]["steps"][1]["source"] = evil
        e.workshop["kpi_workshop"]["candidate.pulse-survey"]["name"] = evil
        e.kpis[0].name = evil
        store.save(e, expected_revision=e.revision)
        e = store.load(EID)
    lp = financial_linkage.page_for(e)
    kp = kpi_workshop.page_for(e)
    html = "".join(str(getattr(lp, m)()) for m in ("verdict", "headline_figures", "chain", "gap", "sensitivity", "cash_flow"))
    html += "".join(str(getattr(kp, m)()) for m in ("verdict", "warnings", "register", "ranking", "scoring"))
    assert "<img" not in html
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") >= 5


def test_a_workbook_without_anything_to_show_says_so():
    from csm_nb.model import Engagement

    empty = Engagement(id="empty", customer="Empty Ltd")
    assert not financial_linkage.applies(empty) and not kpi_workshop.applies(empty)
    assert "Nothing to show yet." in str(financial_linkage.page_for(empty).verdict())
    assert "Nothing to show yet." in str(kpi_workshop.page_for(empty).verdict())
