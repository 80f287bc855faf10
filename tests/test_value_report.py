"""The value report page, the index page, ``render_engagement_report`` and
``csm-nb report``: partial engagements, escaping, "what changed", actions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from reading import plain

from csm_nb import cli
from csm_nb.data.engagement import read_engagement
from csm_nb.model import CashFlowLine, Engagement, Kpi, Measurement, Outcome
from csm_nb.pages import value_report as vr
from csm_nb.pages.cash_flow import CashFlowPage
from csm_nb.render.index import IndexEntry, index_html

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def render(page: vr.ValueReportPage) -> str:
    parts = (
        page.summary(),
        page.headline_figures(),
        page.decisions(),
        page.outcomes(),
        page.kpis(),
        page.money(),
        page.changes(),
        page.missing(),
        page.method_note(),
    )
    return plain("".join(str(p) for p in parts))


@pytest.fixture(scope="module")
def order_to_ship() -> Engagement:
    return read_engagement(EXAMPLES / "order-to-ship.yaml")


# -- an engagement with only some of the parts ----------------------------------------------------
@pytest.mark.parametrize(
    ("parts", "missing", "overall"),
    [
        ({}, ["Outcomes: none recorded.", "KPIs: none agreed.", "Cash flow: no business case figures yet."], "not_started"),
        (
            {"kpis": True},
            ["Outcomes: none recorded.", "Measurements: none yet.", "Cash flow: no business case figures yet."],
            "not_started",
        ),
        (
            {"kpis": True, "measurements": True},
            ["Outcomes: none recorded.", "Cash flow: no business case figures yet."],
            "on_track",
        ),
        ({"cash_flow": True}, ["Outcomes: none recorded.", "KPIs: none agreed."], "attention"),
    ],
)
def test_partial_engagements_say_what_is_missing(order_to_ship, parts, missing, overall):
    e = Engagement("part", "Part & Co")
    if parts.get("kpis"):
        e.kpis = order_to_ship.kpis[:1]
    if parts.get("measurements"):
        e.measurements = [m for m in order_to_ship.measurements if m.kpi == "order-to-ship-days"]
    if parts.get("cash_flow"):
        e.cash_flow = order_to_ship.cash_flow
    page = vr.page_for(e)
    html = render(page)
    results = page.results()
    assert results["missing"] == missing and results["overall"] == overall
    for line in missing:
        assert line.replace("&", "&amp;") in html
    json.dumps(results, allow_nan=False)


def test_no_cash_flow_is_named_and_becomes_an_action():
    page = vr.page_for(Engagement("x", "X"))
    assert page.results()["financial"] is None
    assert "No cash flow yet, so the return cannot be shown" in str(page.money())
    assert any(a.startswith("Agree the business case") for a in page.actions())


def test_order_to_ship_key_figures(order_to_ship):
    page = vr.page_for(order_to_ship)
    r = page.results()
    assert r["overall"] == "attention"  # the outcome is ahead; an early indicator and the money are behind
    assert r["outcomes"] == [
        {
            "id": "ship-in-15-days",
            "status": "ahead",
            "deadline": "10 months from the start",
            "basis": "measured by Order-to-ship time",
        }
    ]
    kpi = r["kpis"]["order-to-ship-days"]
    assert kpi["progress"] == pytest.approx(0.72) and kpi["planned"] == pytest.approx(0.6) and kpi["status"] == "ahead"
    assert r["kpis"]["orders-waiting-stock"]["status"] == "behind"
    money = r["financial"]
    # Months 0-6 of examples/order-to-ship-cash-flow.csv: revenue 3,900 + 7,800 + 14,100 + 19,300 + 22,000.
    assert money["revenue_act_to_date"] == 67100 and money["revenue_est_to_date"] == 75000
    assert money["expenditure_act_to_date"] == 112500 and money["net_act_to_date"] == -45400
    assert money["verdict"] == "behind" and money["payback_period_est"] == "Month 8"
    # Behind plan and late: one decision (not a look into it and then a decision).
    assert r["actions"][0].startswith(
        "Decide on Open orders waiting on stock: it is 19 percentage points of progress behind plan and at the recent "
        "rate reaches its target in early July 2028"
    )
    assert not any(a.startswith("Look into Open orders") for a in r["actions"])
    assert any(a.startswith("Review the revenue assumptions: actual revenue to date is 89.5 %") for a in r["actions"])
    html = render(page)
    for text in ("72 %", "-€45,400", "Month 8", "ahead of plan", "behind plan"):
        assert text in html


def test_people_typed_text_is_escaped_everywhere():
    evil = "<img src=x onerror=alert(1)>"
    e = Engagement(
        "x",
        evil,
        currency="EUR",
        outcomes=[Outcome("o", description=evil, quantity=evil, deadline=evil, status="assumed", priority="primary")],
        kpis=[
            Kpi(
                "k",
                outcome="o",
                name=evil,
                kind="lagging",
                unit=evil,
                direction="increase",
                baseline=1,
                target=2,
                deadline="4 months",
                owner=evil,
            )
        ],
        cash_flow=[CashFlowLine(evil, 10, 10, 0, 0)],
        measurements=[Measurement("k", 0, 1.0), Measurement("k", 1, 1.5)],
        workshop={"value_report": {"decisions": [evil]}},
    )
    html = render(vr.page_for(e))
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_decisions_typed_in_the_workshop_come_first(order_to_ship):
    e = Engagement(**{**order_to_ship.__dict__, "workshop": {"value_report": {"decisions": ["Approve the second shift"]}}})
    assert vr.page_for(e).actions()[0] == "Approve the second shift"


# -- what changed since the last report -----------------------------------------------------------
def test_changes_against_the_previous_results(order_to_ship):
    earlier = Engagement(
        **{
            **order_to_ship.__dict__,
            "measurements": [m for m in order_to_ship.measurements if m.period not in (5, 6)],
            "cash_flow": [
                CashFlowLine(
                    c.period,
                    c.expenditure_est,
                    c.expenditure_act if i < 5 else None,
                    c.revenue_est,
                    c.revenue_act if i < 5 else None,
                )
                for i, c in enumerate(order_to_ship.cash_flow)
            ],
        }
    )
    previous = vr.page_for(earlier).results()
    changes = vr.page_for(order_to_ship, previous=previous).change_list()
    assert "Order-to-ship time: 2 new measurements; progress 45 % → 72 % (+27 points)." in changes
    assert "Actual revenue to date: €25,800 → €67,100 (to Month 6)." in changes
    assert all(not c.startswith("Open orders waiting on stock") for c in changes)  # its weekly rows are all dated


def test_first_report_and_unreadable_previous(tmp_path, order_to_ship):
    assert "This is the first value report" in str(vr.page_for(order_to_ship).changes())
    bad = tmp_path / "value_report.json"
    bad.write_text("{not json", encoding="utf-8")
    assert vr.read_previous(bad) is None and vr.read_previous("") is None
    same = vr.page_for(order_to_ship).results()
    assert "Nothing has changed since the last report" in str(vr.page_for(order_to_ship, previous=same).changes())


# -- judged at as_of -----------------------------------------------------------------------------------
def test_the_value_report_judged_at_as_of_shows_what_was_known_then(order_to_ship):
    page = vr.page_for(order_to_ship, as_of=dt.date(2026, 5, 15))
    r = page.results_json()
    assert r["as_of"] == "2026-05-15" and r["audience"] == "customer"
    kpi = r["kpis"]["order-to-ship-days"]  # monthly from 1 January: month 4 (1 May) is the latest on or before
    assert (kpi["measurements"], kpi["latest_period"], kpi["progress"]) == (5, 4.0, pytest.approx(0.45))
    assert r["kpis"]["orders-waiting-stock"]["latest_value"] == 13.4  # Monday 11 May, the last one before 15 May
    # Left out: months 5 and 6 of the two monthly KPIs, and the eight Mondays from 18 May to 6 July.
    assert r["measurements_after_as_of"] == 2 + 2 + 8
    assert "12 measurements dated after 15 May 2026 (the date this report is judged at) are left out." in render(page)
    assert "left out" not in render(vr.page_for(order_to_ship, as_of=dt.date(2026, 7, 6)))  # the last row's day


def test_what_changed_is_judged_at_as_of(order_to_ship):
    may = vr.page_for(order_to_ship, as_of=dt.date(2026, 5, 15)).results_json()
    july = vr.page_for(order_to_ship, previous=may, as_of=dt.date(2026, 7, 15))
    assert "Order-to-ship time: 2 new measurements; progress 45 % → 72 % (+27 points)." in july.change_list()
    assert "Since the last report (figures as of 15 May 2026):" in render(july)
    # A report judged before the last one has nothing to compare with.
    again = vr.page_for(order_to_ship, previous=july.results_json(), as_of=dt.date(2026, 5, 15))
    assert again.previous is None and again.change_list() == []
    assert (
        "The last report was judged at a later date (2026-07-15) than this one (2026-05-15), so nothing is compared."
        in render(again)
    )


# -- the index page ----------------------------------------------------------------------------------
def test_index_links_reports_relatively_and_escapes(tmp_path):
    folder = tmp_path / "acme"
    folder.mkdir()
    e = Engagement("acme", "<Acme & Sons>", initiative={"name": "<i>Rollout</i>"}, csm="O'Neil")
    entries = [
        IndexEntry(
            "cash_flow",
            "Cash flow",
            folder / "cash_flow.html",
            CashFlowPage.index_headline({"complete": False, "profit_est": 52000, "payback_period_est": "Week 9"}),
        ),
        IndexEntry(
            "value_report",
            "Value report",
            folder / "value_report.html",
            vr.ValueReportPage.index_headline({"verdicts": {"overall": "off_track"}, "actions": ["a", "b"]}),
            lead=True,
        ),
    ]
    html = index_html(e, entries, folder=folder, generated="2026-07-01")
    assert html.index('href="value_report.html"') < html.index('href="cash_flow.html"')  # the value report leads
    assert "&lt;Acme &amp; Sons&gt;" in html and "<i>Rollout" not in html and "O&#39;Neil" in html
    assert "2 decisions or actions needed" in html and "Estimated profit $52,000; payback Week 9" in html
    assert "off track" in html and "<script" not in html and "http" not in html.replace("http-equiv", "")


# -- real runs ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_report_renders_every_example_with_an_index(rendered_examples):
    reports = rendered_examples["reports"]
    assert sorted(reports) == ["ad-campaign", "employee-engagement", "order-to-ship"]
    ad_workbooks = [r.workbook for r in reports["ad-campaign"].results]
    assert {"cash_flow", "value_report"} <= set(ad_workbooks) and "progress" not in ad_workbooks  # no KPIs: no progress
    assert "progress" in [r.workbook for r in reports["order-to-ship"].results]
    for engagement_id, report in reports.items():
        folder = rendered_examples["out"] / engagement_id
        assert report.index == folder / "index.html"
        index = report.index.read_text(encoding="utf-8")
        internal = report.internal_index.read_text(encoding="utf-8")  # every example has internal reports
        for result in report.results:
            audience = json.loads(result.outputs[".json"].read_text(encoding="utf-8"))["audience"]
            assert (f'href="{result.workbook}.html"' in index) == (audience == "customer"), result.workbook
            assert f'href="{result.workbook}.html"' in internal
            assert result.outputs[".html"].is_file()
        results = json.loads((folder / "value_report.json").read_text())
        assert results["workbook"] == "value_report" and results["engagement"] == engagement_id
    ad = json.loads((rendered_examples["out"] / "ad-campaign" / "value_report.json").read_text())
    assert ad["missing"] == ["KPIs: none agreed."] and ad["financial"]["profit_act"] == 59673


@pytest.mark.slow
def test_csm_nb_report_is_idempotent_and_prints_the_index(rendered_examples, capsys):
    db, out = rendered_examples["db"], rendered_examples["out"]
    assert cli.main(["--db", str(db), "report", "--engagement", "ad-campaign", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2:] == [
        f"index: {out / 'ad-campaign' / 'index.html'}",
        f"internal index (not for the customer): {out / 'ad-campaign' / 'index-internal.html'}",
    ]
    assert all(line.startswith("up to date: ") for line in lines[:-2])
    assert len(lines) == len(rendered_examples["reports"]["ad-campaign"].results) + 2


@pytest.mark.slow
def test_a_second_report_says_what_changed(tmp_path):
    from csm_nb.run.runner import run_workbook

    db, out = tmp_path / "s.sqlite", tmp_path / "runs"
    assert cli.main(["--db", str(db), "import", str(EXAMPLES / "order-to-ship.yaml")]) == 0
    first = run_workbook("value_report", engagement_id="order-to-ship", out=out, db=db).results
    assert first["changes"] == []
    month7 = EXAMPLES / "order-to-ship-month-7.csv"
    assert cli.main(["--db", str(db), "import", str(month7), "--engagement", "order-to-ship"]) == 0
    second = run_workbook("value_report", engagement_id="order-to-ship", out=out, db=db)
    assert "Order-to-ship time: 1 new measurement; progress 72 % → 86 % (+14 points)." in second.results["changes"]
    html = plain(second.outputs[".html"].read_text(encoding="utf-8"))
    assert "Since the last report" in html and "1 new measurement; progress 72 % → 86 %" in html


def test_cli_report_for_an_unknown_engagement_is_one_line(tmp_path, capsys):
    db = tmp_path / "s.sqlite"
    assert cli.main(["--db", str(db), "import", str(EXAMPLES / "ad-campaign.yaml")]) == 0
    assert cli.main(["--db", str(db), "report", "--engagement", "nobody", "--out", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no engagement 'nobody'") and err.count("\n") == 1


# -- the moments held together with the customer ------------------------------------------------------
INTERNAL_MARKER = "ESCALATION-OWNER-MARKER-4410"


def moments_model():
    from csm_nb.model import EngagementModel, MomentSpec

    return EngagementModel(
        "test-model",
        moments=[
            MomentSpec(
                "qbr",
                name="Quarterly business review",
                phase="ongoing",
                type="time",
                every="3 months",
                start_from="contract.start",
                customer_role="Executive sponsor",
                channel="meeting",
                owner="CSM",
                escalate={"after_days": 10, "to": INTERNAL_MARKER},
            ),
            MomentSpec(
                "monthly_review",
                name="Monthly metrics review",
                phase="ongoing",
                type="time",
                every="1 month",
                start_from="contract.start",
                customer_role="Champion",
                channel="call",
            ),
            # Ours alone (no customer role) and automated: neither is a moment held together.
            MomentSpec(
                "account_plan_refresh",
                name="Internal account-plan refresh",
                phase="ongoing",
                type="time",
                every="1 month",
                start_from="contract.start",
                channel="meeting",
            ),
            MomentSpec(
                "usage_digest",
                name="Usage digest email",
                phase="ongoing",
                type="time",
                every="1 month",
                start_from="contract.start",
                customer_role="Users",
                channel="email",
            ),
        ],
    )


def test_the_next_two_joint_moments_and_overdue_ones_as_actions(order_to_ship):
    from dataclasses import replace

    from csm_nb.model import Contract, MomentRecord

    as_of = dt.date(2026, 5, 6)
    engagement = replace(
        order_to_ship,
        contract=Contract(signed="2025-12-15", start="2026-01-01", end="2026-12-31"),
        # Monthly reviews held (the first is due a month after the start); the QBR due 1 April never held;
        # May's monthly review is within its seven grace days.
        moments=[MomentRecord("monthly_review", held=f"2026-0{m}-02") for m in (2, 3, 4)],
    )
    page = vr.page_for(engagement, as_of=as_of, model=moments_model())
    r = page.results_json()
    overdue_days = (as_of - dt.date(2026, 4, 1)).days
    assert r["overdue_together"] == [
        {"id": "qbr", "name": "Quarterly business review (with the executive sponsor)", "due": "2026-04-01", "days": overdue_days}
    ]
    hold = f"Hold the quarterly business review (with the executive sponsor): due 1 April 2026, {overdue_days} days overdue."
    assert hold in r["actions"]
    # Next together: the two soonest joint moments not held and not overdue; never ours alone or an email.
    assert [(m["id"], m["due"]) for m in r["next_together"]] == [
        ("monthly_review", "2026-05-01"),
        ("monthly_review", "2026-06-01"),
    ]
    text = render(page)
    assert hold in text
    assert "Next together: Monthly metrics review (with the champion), due 1 May 2026 and 1 June 2026." in text
    # Customer-safe: the escalation's owner, our internal moment and the automated one stay out.
    for hidden in (INTERNAL_MARKER, "Internal account-plan refresh", "Usage digest", "escalat"):
        assert hidden not in text and hidden not in json.dumps(r)


def test_without_a_contract_or_a_model_there_are_no_moments(order_to_ship):
    from dataclasses import replace

    r = vr.page_for(replace(order_to_ship, contract=None), model=moments_model()).results_json()
    assert (r["next_together"], r["overdue_together"]) == ([], [])
    assert "Next together" not in render(vr.page_for(order_to_ship))


def test_overdue_joint_milestones_of_the_success_plan_become_actions():
    """employee-engagement's rating milestone (due 30 November 2026, evidence: the rating reaches 7; the
    latest is 6.8) is overdue at 4 December; a milestone that is ours alone never reaches this report."""
    from dataclasses import replace

    engagement = read_engagement(EXAMPLES / "employee-engagement.yaml")
    plan = dict(engagement.success_plan)
    ours = {"id": "internal-prep", "name": "INTERNAL-PREP-MARKER", "due": "2026-10-01", "joint": False}
    engagement = replace(engagement, success_plan={**plan, "milestones": [*plan["milestones"], ours]})
    as_of = dt.date(2026, 12, 4)
    r = vr.page_for(engagement, as_of=as_of).results_json()
    days = (as_of - dt.date(2026, 11, 30)).days
    assert r["milestones_overdue"] == [
        {
            "id": "rating-7",
            "name": "Line-manager engagement rating reaches 7",
            "owner": "Priya Raman",
            "due": "2026-11-30",
            "days": days,
        }
    ]
    expected = (
        f"Complete the milestone “Line-manager engagement rating reaches 7” (Priya Raman): due 30 November 2026, "
        f"{days} days overdue."
    )
    assert expected in r["actions"]
    assert "INTERNAL-PREP-MARKER" not in json.dumps(r)
    # Before its due date it is no action.
    assert vr.page_for(engagement, as_of=dt.date(2026, 11, 20)).results_json()["milestones_overdue"] == []
