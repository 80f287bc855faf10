"""The engagement plan page (csm_nb.pages.engagement_plan) on an engagement built in the test: what it
shows, what the customer's version leaves out, and its results."""

from __future__ import annotations

import datetime as dt

import pytest
from reading import plain
from test_engagement_plan import DAYS, SIGNED, log_of, onboarding_model

from csm_nb.errors import CsmError
from csm_nb.model import Contract, Engagement, Event, Kpi, MomentSpec, Outcome, Trigger
from csm_nb.pages import engagement_plan as page_mod

MARKER = "ESCALATE-TO-MARKER-7731"


def model_with_reviews():
    model = onboarding_model()
    model.moments.append(
        MomentSpec(
            "qbr", name="Quarterly business review", phase="ongoing", type="time", every="3 months", start_from="contract.start"
        )
    )
    model.moments.append(
        MomentSpec(
            "severe_case_review", name="Severe case review", type="event", when={"event": "support_case", "severity": "high"}
        )
    )
    for spec in model.moments:
        if spec.id == "initial_training":
            spec.escalate = {"after_days": 7, "to": MARKER}
    model.triggers.append(Trigger("slow-accounts", {"kpi": "accounts", "below": 50, "at": {"moment": "kickoff", "days": 21}}))
    return model


def engagement(days: list[int], **extra) -> Engagement:
    return Engagement(
        "acme",
        "Acme",
        contract=Contract(signed=SIGNED.isoformat(), start="2026-02-01", end="2027-01-31"),
        moments=log_of(days),
        outcomes=[Outcome("o1", description="Faster onboarding of clients", priority="primary")],
        kpis=[
            Kpi(
                "k1",
                outcome="o1",
                name="Days to onboard a client",
                kind="lagging",
                baseline=30,
                target=15,
                start="2026-02-01",
                deadline="2026-12-31",
            )
        ],
        **extra,
    )


def render(page) -> str:
    parts = ("headline", "headline_figures", "timeline", "moments_table", "onboarding", "questions", "internal")
    return plain("".join(str(getattr(page, p)()) for p in parts))


def test_engagement_a_of_the_fixture_through_the_page() -> None:
    page = page_mod.page_for(engagement(DAYS["A"]), model_with_reviews(), as_of=dt.date(2026, 5, 10))
    results = page.results()
    assert results["phase"] == "ongoing" and results["day"] == 125  # 5 January to 10 May 2026
    assert results["ttv"] == {"days": 53, "target": 42, "status": "late", "elapsed": None}
    assert [(s["moment"], s["actual"], s["excess"], s["status"]) for s in results["stages"]] == [
        ("kickoff", 5, 0, "on_track"),
        ("activated", 6, 0, "on_track"),
        ("initial_training", 30, 16, "stuck"),
        ("first_metrics_review", 12, 0, "on_track"),
        ("self_sufficiency_check", 14, 0, "on_track"),
    ]
    qbr = [m for m in results["moments"] if m["id"] == "qbr"]
    # The first review was due 1 May: 9 days later it is past the 7 days' grace of a time-based moment.
    assert [(m["due"], m["status"], m["days_late"]) for m in qbr][:2] == [
        ("2026-05-01", "overdue", 9),
        ("2026-08-01", "planned", None),
    ]
    assert results["next"][0]["due"] == "2026-08-01" and results["overdue"] == [
        "handoff",
        "qbr",
    ]  # the log never held the handoff
    assert results["onboarding_exit"] == {
        "met": False,
        "missing": ["Faster onboarding of clients: a leading KPI that warns early"],
    }
    assert results["three_questions"]["how_value_is_measured"] == {
        "lagging_kpis": ["Days to onboard a client"],
        "money_link": False,
    }
    html = render(page)
    assert (
        "2 moments overdue." in html
        and "Day 125 since signature, onboarding complete." in html
        and "First value came after 53 days (late; the target is 42)." in html
    )
    assert "Initial training" in html or "initial training" in html


def test_the_customer_version_leaves_the_internal_section_out() -> None:
    events = [Event("2026-05-01", "support_case", severity="high", ref="CASE-9")]
    e = engagement(DAYS["C"][:2], events=events)  # stuck before training
    customer = page_mod.page_for(e, model_with_reviews(), as_of=dt.date(2026, 3, 20))
    internal = page_mod.page_for(e, model_with_reviews(), as_of=dt.date(2026, 3, 20), audience="internal")
    assert customer.results()["escalations"] == internal.results()["escalations"] != []
    assert MARKER not in render(customer)
    assert MARKER in render(internal) and "Internal: escalations and triggers" in render(internal)
    assert "Owner" in render(internal) and "Owner" not in render(customer)


def test_a_severe_case_makes_a_review_due_and_a_trigger_fires_without_a_measurement() -> None:
    e = engagement(DAYS["D"], events=[Event("2026-05-01", "support_case", severity="high", ref="CASE-9")])
    results = page_mod.page_for(e, model_with_reviews(), as_of=dt.date(2026, 5, 10), audience="internal").results()
    review = next(m for m in results["moments"] if m["id"] == "severe_case_review")
    assert (review["due"], review["status"], review["days_late"]) == ("2026-05-03", "overdue", 7)
    assert results["triggers_fired"][0]["reason"] == "no measurement of accounts by 2026-02-02"


@pytest.mark.parametrize(("option", "value"), [("audience", "everyone"), ("horizon_days", 0), ("horizon_days", "90")])
def test_bad_options_are_one_line(option: str, value: object) -> None:
    with pytest.raises(CsmError, match=option):
        page_mod.page_for(engagement(DAYS["A"]), model_with_reviews(), as_of=dt.date(2026, 5, 10), **{option: value})


def test_without_a_contract_there_is_nothing_to_plan() -> None:
    e = Engagement("acme", "Acme")
    assert not page_mod.applies(e)
    page = page_mod.page_for(e, onboarding_model(), as_of=dt.date(2026, 5, 10))
    assert "Nothing to plan yet." in render(page) and page.results()["phase"] is None


def test_the_four_engagements_as_a_portfolio_name_the_systemic_delay() -> None:
    from csm_nb.run.onboarding import onboarding

    plans = {
        name: page_mod.page_for(engagement(days), model_with_reviews(), as_of=dt.date(2026, 6, 1)).results()
        for name, days in DAYS.items()
    }
    found = onboarding(plans)
    assert found["sentence"] == (
        "Initial training is the systemic delay: 3 of 4 customers took longer than 14 days; "
        "it accounts for 66 % of all onboarding delay."
    )
    assert found["systemic"] == ["initial_training"] and found["total_excess_days"] == 62
    assert found["ttv"] == {"measured": 4, "reached": 4, "median_days": 53.5, "on_target": 1, "share_on_target": 0.25}
    training = next(s for s in found["stages"] if s["moment"] == "initial_training")
    assert round(training["share_of_excess"] * 100, 1) == 66.1 and training["median_days"] == 26.5
    assert onboarding({}) is None


def test_the_index_shows_phase_next_moment_and_overdue_count() -> None:
    from csm_nb.run.portfolio import plan_text

    results = page_mod.page_for(engagement(DAYS["A"]), model_with_reviews(), as_of=dt.date(2026, 5, 10)).results()
    head = page_mod.EngagementPlanPage.index_headline(results)
    assert dict(head.figures) | {} == {
        "phase": "ongoing",
        "day": 125,
        "next_moment": "Quarterly business review",
        "next_due": "2026-08-01",
        "overdue": 2,
        **{k: v for k, v in head.figures.items() if k in ("verdict", "money")},
    }
    assert plan_text(head.figures) == "Ongoing, day 125 · next: Quarterly business review, 2026-08-01 · 2 overdue"
    assert head.tone == "" and head.summary == "Day 125, onboarding complete; 2 moments overdue."


def test_a_sponsor_who_left_makes_the_sponsor_change_moment_due() -> None:
    """The stakeholder map's "left" raises the sponsor-change event; the model's event moment answers it."""
    from csm_nb.data.engagement_model import builtin_model
    from csm_nb.method import engagement_plan as ep

    model = builtin_model("high-touch")
    left = {"name": "Priya Raman", "roles": ["sponsor"], "status": "left", "since": "2026-11-20"}
    e = engagement([7, 7, 14, 14, 14], stakeholders=[left, {"name": "Tom Becker", "roles": ["champion"]}])
    plan = ep.engagement_schedule(e, model, as_of=dt.date(2026, 12, 10))
    answer = [o for o in plan.occurrences if o.moment == "new_sponsor_meeting"]
    spec = model.moment("new_sponsor_meeting")
    assert [(o.due, o.status) for o in answer] == [
        (dt.date(2026, 11, 20) + dt.timedelta(days=spec.respond_within_days or ep.DEFAULT_RESPONSE_DAYS), "overdue")
    ]
    assert "sponsor_change" in answer[0].triggered_by
    # Logged by hand already: not counted twice.
    logged = Event("2026-11-20", "sponsor_change", respondent="Priya Raman")
    again = ep.engagement_schedule(
        engagement([7, 7, 14, 14, 14], stakeholders=[left], events=[logged]), model, as_of=dt.date(2026, 11, 30)
    )
    assert len([o for o in again.occurrences if o.moment == "new_sponsor_meeting"]) == 1
