"""Engagement models (csm_nb.data.engagement_model): the built-in ones, the document kind, its checks and resolution."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csm_nb.data.engagement import dump_model, parse_engagement, parse_model, read_document, read_model, write_model
from csm_nb.data.engagement_model import (
    BUILTIN_DIR,
    DEFAULT_MODEL_ID,
    builtin_model,
    builtin_models,
    check_model,
    model_document,
    resolve_model,
)
from csm_nb.errors import InputError, NotFoundError
from csm_nb.model import Contract, Engagement, EngagementModel, Event, MomentRecord, MomentSpec

HIGH_TOUCH_IDS = [
    "handoff",
    "kickoff",
    "activated",
    "initial_training",
    "first_metrics_review",
    "self_sufficiency_check",
    "weekly_meeting",
    "monthly_metrics_review",
    "qbr",
    "annual_account_review",
    "severe_case_review",
    "release_briefing",
    "new_sponsor_meeting",
    "survey_follow_up",
    "quiet_account_check",
    "usage_drop_review",
    "metric_drop_review",
]
LOW_TOUCH_IDS = [
    "welcome",
    "activated",
    "guided_training",
    "first_usage_report",
    "self_service_check",
    "monthly_usage_digest",
    "renewal_reminder",
    "survey_follow_up",
    "usage_drop_nudge",
    "release_announcement",
    "severe_case_check",
]


# -- the built-in models ----------------------------------------------------------------------------
def test_the_built_in_models_are_high_touch_and_low_touch() -> None:
    assert list(builtin_models()) == ["high-touch", "low-touch"] and DEFAULT_MODEL_ID == "high-touch"
    assert sorted(p.name for p in BUILTIN_DIR.glob("*.yaml")) == ["high-touch.yaml", "low-touch.yaml"]


def test_high_touch_has_exactly_the_moments_of_the_method() -> None:
    model = builtin_model("high-touch")
    assert [m.id for m in model.moments] == HIGH_TOUCH_IDS
    assert Counter((m.phase, m.type) for m in model.moments) == {
        ("onboarding", "milestone"): 6,  # the five onboarding moments and the sales-to-service handoff
        ("ongoing", "time"): 4,
        ("ongoing", "event"): 7,
    }
    assert (model.touch, model.ttv_target_days, model.reference_target_days, model.grace_days) == ("high", 42, 60, 7)
    assert model.triggers == []


def test_high_touch_onboarding_chain_marks_and_escalation() -> None:
    model = builtin_model("high-touch")
    chain = [(m.id, m.after["moment"], m.after["days"]) for m in model.moments if m.type == "milestone"]
    assert chain == [
        ("handoff", "contract.signed", 3),
        ("kickoff", "contract.signed", 7),
        ("activated", "kickoff", 7),
        ("initial_training", "activated", 14),
        ("first_metrics_review", "initial_training", 14),
        ("self_sufficiency_check", "first_metrics_review", 14),
    ]
    assert {m.id: m.marks for m in model.moments if m.marks} == {
        "first_metrics_review": ["first_value"],
        "self_sufficiency_check": ["onboarding_complete"],
    }
    assert {m.id: m.escalate for m in model.moments if m.type == "milestone"} == dict.fromkeys(
        HIGH_TOUCH_IDS[:6], {"after_days": 7, "to": "CS manager"}
    ) | {"activated": {"after_days": 7, "to": "CSM"}}
    # First value is reached 7 + 7 + 14 + 14 = 42 days after the signature when every step is on time.
    assert 7 + 7 + 14 + 14 == model.ttv_target_days


def test_high_touch_time_and_event_moments() -> None:
    model = builtin_model("high-touch")
    timing = {m.id: (m.every, m.start_from, m.before, m.only_for) for m in model.moments if m.type == "time"}
    assert timing == {
        "weekly_meeting": ("1 week", "self_sufficiency_check", None, {"touch": "high", "tags": ["strategic"]}),
        "monthly_metrics_review": ("1 month", "first_metrics_review", None, None),
        "qbr": ("3 months", "contract.start", None, None),
        "annual_account_review": (None, None, {"anchor": "contract.end", "days": 90}, None),
    }
    events = {m.id: m.when for m in model.moments if m.type == "event"}
    assert events == {
        "severe_case_review": {"event": "support_case", "severity": "high"},
        "release_briefing": {"event": "release"},
        "new_sponsor_meeting": {"event": "sponsor_change"},
        "survey_follow_up": {"event": "survey", "score_at_most": 6.0},
        "quiet_account_check": {"no_event": "support_case", "for_days": 90},
        "usage_drop_review": {"event": "usage_drop"},
        "metric_drop_review": {"event": "metric_drop"},
    }
    assert all(m.owner and m.objective and m.name for m in model.moments)


def test_low_touch_is_automated() -> None:
    model = builtin_model("low-touch")
    assert [m.id for m in model.moments] == LOW_TOUCH_IDS
    assert {m.channel for m in model.moments} == {"automated"}
    assert (model.touch, model.ttv_target_days, model.grace_days) == ("low", 28, 3)
    assert Counter(m.type for m in model.moments) == {"milestone": 5, "time": 2, "event": 4}
    assert {m.id for m in model.moments if m.marks} == {"first_usage_report", "self_service_check"}


@pytest.mark.parametrize("model_id", ["high-touch", "low-touch"])
def test_a_built_in_model_round_trips_through_yaml_and_json(model_id: str, tmp_path: Path) -> None:
    model = builtin_model(model_id)
    text = dump_model(model)
    assert text.startswith("# Engagement model (csm-nb/engagement-model@1)")
    assert parse_model(text, source="m.yaml") == model
    assert dump_model(parse_model(text, source="m.yaml")) == text  # and the dump is stable
    assert parse_model(dump_model(model, as_json=True), source="m.json") == model
    assert read_model(write_model(model, tmp_path / "m.json")) == model
    assert json.loads((tmp_path / "m.json").read_text())["moments"][0]["id"] == model.moments[0].id
    assert check_model(model_document(model), standalone=True) == model


def test_built_in_models_are_fresh_copies() -> None:
    builtin_model("high-touch").moments.clear()
    assert len(builtin_model("high-touch").moments) == 17


# -- the document kind: what is refused, in one line ---------------------------------------------------
MODEL = """schema: csm-nb/engagement-model@1
id: pilot
moments:
  - {id: kickoff, type: milestone, phase: onboarding, after: {moment: contract.signed, days: 7}}
  - {id: training, type: milestone, phase: onboarding, after: {moment: kickoff, days: 14}, marks: first_value}
  - {id: qbr, type: time, phase: ongoing, every: 3 months, from: contract.start}
  - {id: survey_call, type: event, phase: ongoing, when: {event: survey, score_at_most: 6}}
"""  # lines 1-7; a trigger appended is line 9


def model_error(text: str) -> str:
    with pytest.raises(InputError) as info:
        parse_model(text, source="pilot.yaml")
    assert "\n" not in str(info.value)
    return str(info.value)


def with_trigger(when: str) -> str:
    return MODEL + f"triggers:\n  - {{id: slow, when: {when}}}\n"


def test_the_small_model_is_valid() -> None:
    model = parse_model(MODEL, source="pilot.yaml")
    assert [m.id for m in model.moments] == ["kickoff", "training", "qbr", "survey_call"]
    assert model.moments[1].marks == ["first_value"]  # one mark written alone is a list of one
    assert (model.touch, model.ttv_target_days, model.reference_target_days, model.grace_days) == ("high", 42, 60, 7)


GOOD_CONDITIONS = [
    ("{event: support_case, severity: high}", {"event": "support_case", "severity": "high"}),
    ("{event: survey, score_at_most: 6}", {"event": "survey", "score_at_most": 6.0}),
    ("{no_event: support_case, for_days: 90}", {"no_event": "support_case", "for_days": 90}),
    (
        "{kpi: accounts, below: 50, at: {moment: kickoff, days: 21}}",
        {"kpi": "accounts", "below": 50.0, "at": {"moment": "kickoff", "days": 21}},
    ),
    ("{kpi: nps, above: 3, at: {date: 2027-03-01}}", {"kpi": "nps", "above": 3.0, "at": {"date": "2027-03-01"}}),
    ("{kpi: users, drop_pct: 20, over_periods: 2}", {"kpi": "users", "drop_pct": 20.0, "over_periods": 2}),
    ("{kpi: users, status: behind, for_measurements: 3}", {"kpi": "users", "status": "behind", "for_measurements": 3}),
    ("{moment: kickoff, overdue_days: 7}", {"moment": "kickoff", "overdue_days": 7}),
    ("{health: red}", {"health": "red"}),
    ("{health_drop: 15}", {"health_drop": 15.0}),
]


@pytest.mark.parametrize(("when", "parsed"), GOOD_CONDITIONS, ids=[w for w, _ in GOOD_CONDITIONS])
def test_every_form_of_the_trigger_grammar_is_read(when: str, parsed: dict) -> None:
    assert parse_model(with_trigger(when), source="pilot.yaml").triggers[0].when == parsed


TRIGGER_AT = "pilot.yaml, line 9: triggers[0].when"
WHO = "model 'pilot', trigger 'slow'"
BAD_CONDITIONS = [
    ("{weather: rain}", f"{TRIGGER_AT}.weather: {WHO}: unknown key 'weather'; a condition starts with one of: event, no_event"),
    ("{event: outage}", f"{TRIGGER_AT}.event: {WHO}: expected one of support_case, release"),
    ("{event: release, colour: red}", f"{TRIGGER_AT}.colour: {WHO}: unknown key 'colour' in a condition on an event"),
    ("{event: release, score_at_most: 3}", f"{TRIGGER_AT}.score_at_most: {WHO}: score_at_most is for survey events"),
    ("{event: survey, kpi: nps}", f"{TRIGGER_AT}.kpi: {WHO}: a condition has one of event, no_event"),
    ("{no_event: support_case}", f"{TRIGGER_AT}: {WHO}: missing required key 'for_days'"),
    ("{no_event: support_case, for_days: 0}", f"{TRIGGER_AT}.for_days: {WHO}: expected at least 1, got 0"),
    ("{kpi: users}", f"{TRIGGER_AT}: {WHO}: a condition on a KPI needs below or above with at"),
    ("{kpi: users, below: 5}", f"{TRIGGER_AT}: {WHO}: missing required key 'at'"),
    ("{kpi: users, below: 5, above: 9, at: {date: 2027-01-01}}", f"{TRIGGER_AT}.above: {WHO}: give below or above, not both"),
    ("{kpi: users, below: 5, at: {days: 3}}", f"{TRIGGER_AT}.at: {WHO}: expected at: {{moment: M, days: n}}"),
    ("{kpi: users, below: 5, at: {moment: qbr, days: 3}}", f"{TRIGGER_AT}.at.moment: {WHO}: 'qbr' is not a milestone"),
    ("{kpi: users, below: 5, at: {date: 2027-01-01, hours: 3}}", f"{TRIGGER_AT}.at.hours: {WHO}: unknown key 'hours'"),
    ("{kpi: users, below: 5, drop_pct: 5}", f"{TRIGGER_AT}.drop_pct: {WHO}: 'drop_pct' does not go with 'below'"),
    ("{kpi: users, drop_pct: 0}", f"{TRIGGER_AT}.drop_pct: {WHO}: expected the percentage the KPI must fall by, more than 0"),
    ("{kpi: users, over_periods: 2}", f"{TRIGGER_AT}: {WHO}: missing required key 'drop_pct'"),
    ("{kpi: users, status: late}", f"{TRIGGER_AT}.status: {WHO}: expected one of ahead, on_plan, behind; got 'late'"),
    ("{kpi: users, for_measurements: 2}", f"{TRIGGER_AT}: {WHO}: missing required key 'status'"),
    ("{moment: kickof, overdue_days: 3}", f"{TRIGGER_AT}.moment: {WHO}: 'kickof' is not a moment of the model; expected one of"),
    ("{moment: kickoff}", f"{TRIGGER_AT}: {WHO}: missing required key 'overdue_days'"),
    ("{health: purple}", f"{TRIGGER_AT}.health: {WHO}: expected one of red, amber, green; got 'purple'"),
    ("{health_drop: 0}", f"{TRIGGER_AT}.health_drop: {WHO}: expected the points health must fall by"),
    ("{}", f"{TRIGGER_AT}: {WHO}: expected a condition, one of {{event: T"),
    ("[event, release]", f"{TRIGGER_AT}: {WHO}: expected a condition, one of {{event: T"),
]


@pytest.mark.parametrize(("when", "expected"), BAD_CONDITIONS, ids=[w for w, _ in BAD_CONDITIONS])
def test_a_malformed_trigger_names_the_model_the_trigger_and_the_key(when: str, expected: str) -> None:
    assert model_error(with_trigger(when)).startswith(expected)


def moment_line(n: int, line: str) -> str:
    """MODEL with moment ``n`` (0-3, on line n + 4) replaced by ``line``."""
    lines = MODEL.splitlines(keepends=True)
    lines[n + 3] = f"  - {line}\n"
    return "".join(lines)


BAD_MODELS = [
    (MODEL.replace("id: pilot", "id: Pilot Plan"), "pilot.yaml, line 2: id: model 'Pilot Plan': 'Pilot Plan' is not a model id"),
    (MODEL.replace("schema: csm-nb/engagement-model@1\n", ""), "pilot.yaml: model 'pilot': missing required key 'schema'"),
    (MODEL + "colour: red\n", "pilot.yaml, line 8: colour: model 'pilot': unknown key 'colour'; expected one of: schema, id"),
    (
        MODEL.replace("moments:\n", "touch: medium\nmoments:\n"),
        "pilot.yaml, line 3: touch: model 'pilot': expected one of high, low",
    ),
    (
        moment_line(1, "{id: kickoff, type: milestone, after: {moment: contract.signed, days: 1}}"),
        "pilot.yaml, line 5: moments[1].id: model 'pilot', moment 'kickoff': id 'kickoff' is already used by moments[0]",
    ),
    (
        moment_line(1, "{id: Training!, type: milestone, after: {moment: kickoff, days: 1}}"),
        "pilot.yaml, line 5: moments[1].id: model 'pilot', moment 'Training!': 'Training!' is not a moment id",
    ),
    (
        moment_line(1, "{id: training, after: {moment: kickoff, days: 1}}"),
        "pilot.yaml, line 5: moments[1]: model 'pilot', moment 'training': missing required key 'type'",
    ),
    (
        moment_line(1, "{id: training, type: milestone, after: {moment: kickof, days: 14}}"),
        "pilot.yaml, line 5: moments[1].after.moment: model 'pilot', moment 'training': 'kickof' is not a milestone of the model; "
        "expected contract.signed or one of: kickoff, training",
    ),
    (
        moment_line(1, "{id: training, type: milestone, after: {moment: kickoff}}"),
        "pilot.yaml, line 5: moments[1].after: model 'pilot', moment 'training': missing required key 'days'",
    ),
    (
        moment_line(1, "{id: training, type: milestone}"),
        "pilot.yaml, line 5: moments[1]: model 'pilot', moment 'training': a milestone needs after",
    ),
    (
        moment_line(1, "{id: training, type: milestone, after: {moment: kickoff, days: 1}, every: 1 week}"),
        "pilot.yaml, line 5: moments[1].every: model 'pilot', moment 'training': 'every' is not for a milestone moment",
    ),
    (
        moment_line(0, "{id: kickoff, type: milestone, after: {moment: training, days: 7}}"),
        "pilot.yaml, line 4: moments[0].after.moment: model 'pilot', moment 'kickoff': the after chain loops: "
        "kickoff after training after kickoff",
    ),
    (
        moment_line(0, "{id: kickoff, type: milestone, after: {moment: kickoff, days: 7}}"),
        "pilot.yaml, line 4: moments[0].after.moment: model 'pilot', moment 'kickoff': the after chain loops: kickoff after kickoff",
    ),
    (
        moment_line(1, "{id: training, type: milestone, after: {moment: kickoff, days: 1}, marks: [first_value, first_value]}"),
        "pilot.yaml, line 5: moments[1].marks[1]: model 'pilot', moment 'training': 'first_value' is given twice",
    ),
    (
        moment_line(2, "{id: qbr, type: time, every: 3 months, marks: first_value}"),
        "pilot.yaml, line 6: moments[2].marks: model 'pilot', moment 'qbr': 'first_value' already marks moment 'training'",
    ),
    (
        moment_line(2, "{id: qbr, type: time, every: quarterly}"),
        "pilot.yaml, line 6: moments[2].every: model 'pilot', moment 'qbr': expected how often, 'N day|week|month|quarter|year'",
    ),
    (
        moment_line(2, "{id: qbr, type: time}"),
        "pilot.yaml, line 6: moments[2]: model 'pilot', moment 'qbr': a time-based moment needs every",
    ),
    (
        moment_line(2, "{id: qbr, type: time, every: 3 months, before: {anchor: contract.end, days: 90}}"),
        "pilot.yaml, line 6: moments[2].before: model 'pilot', moment 'qbr': give every (a recurring moment) or before",
    ),
    (
        moment_line(2, "{id: qbr, type: time, before: {anchor: contract.renewal, days: 90}}"),
        "pilot.yaml, line 6: moments[2].before.anchor: model 'pilot', moment 'qbr': expected one of contract.end, contract.start",
    ),
    (
        moment_line(2, "{id: qbr, type: time, before: {anchor: contract.end, days: 90}, from: contract.start}"),
        "pilot.yaml, line 6: moments[2].from: model 'pilot', moment 'qbr': 'from' goes with every, not with before",
    ),
    (
        moment_line(2, "{id: qbr, type: time, every: 1 month, from: survey_call}"),
        "pilot.yaml, line 6: moments[2].from: model 'pilot', moment 'qbr': expected contract.start, contract.signed, "
        "a milestone of the model (kickoff, training) or a date (YYYY-MM-DD); got 'survey_call'",
    ),
    (
        moment_line(2, "{id: qbr, type: time, every: 1 month, from: '2027-02-30'}"),
        "pilot.yaml, line 6: moments[2].from: model 'pilot', moment 'qbr': 2027-02-30 is not a date that exists",
    ),
    (
        moment_line(2, "{id: qbr, type: time, every: 1 month, until: next year}"),
        "pilot.yaml, line 6: moments[2].until: model 'pilot', moment 'qbr': expected contract.end or a date (YYYY-MM-DD)",
    ),
    (
        moment_line(3, "{id: survey_call, type: event}"),
        "pilot.yaml, line 7: moments[3]: model 'pilot', moment 'survey_call': an event moment needs when",
    ),
    (
        moment_line(3, "{id: survey_call, type: event, when: {event: survey, score_at_most: 6}, respond_within_days: -1}"),
        "pilot.yaml, line 7: moments[3].respond_within_days: model 'pilot', moment 'survey_call': expected at least 0, got -1",
    ),
    (
        moment_line(3, "{id: survey_call, type: event, when: {event: survey, colour: red}}"),
        "pilot.yaml, line 7: moments[3].when.colour: model 'pilot', moment 'survey_call': unknown key 'colour'",
    ),
    (
        moment_line(3, "{id: survey_call, type: event, when: {event: survey}, channel: pigeon}"),
        "pilot.yaml, line 7: moments[3].channel: model 'pilot', moment 'survey_call': expected one of meeting, call, email",
    ),
    (
        moment_line(3, "{id: survey_call, type: event, when: {event: survey}, escalate: {after_days: 3}}"),
        "pilot.yaml, line 7: moments[3].escalate: model 'pilot', moment 'survey_call': missing required key 'to'",
    ),
    (
        moment_line(3, "{id: survey_call, type: event, when: {event: survey}, only_for: {segment: big}}"),
        "pilot.yaml, line 7: moments[3].only_for.segment: model 'pilot', moment 'survey_call': unknown key 'segment'",
    ),
    (
        MODEL + "triggers:\n  - {id: slow, when: {health: red}, start: rescue}\n",
        "pilot.yaml, line 9: triggers[0].start: model 'pilot', trigger 'slow': 'rescue' is not a moment of the model",
    ),
    (
        MODEL + "triggers:\n  - {id: slow, when: {health: red}}\n  - {id: slow, when: {health: amber}}\n",
        "pilot.yaml, line 10: triggers[1].id: model 'pilot', trigger 'slow': id 'slow' is already used by triggers[0]",
    ),
    (
        "schema: csm-nb/engagement-model@1\nid: pilot\nmoments: []\n",
        "pilot.yaml, line 3: moments: model 'pilot': expected at least 1 moment",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_MODELS, ids=[e.split(": ", 2)[-1][:50] for _, e in BAD_MODELS])
def test_a_bad_model_is_refused_in_one_line_naming_file_line_key_model_and_moment(text: str, expected: str) -> None:
    assert model_error(text).startswith(expected)


def test_a_model_file_and_an_engagement_file_are_told_apart_by_schema(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(MODEL)
    (tmp_path / "e.yaml").write_text("schema: csm-nb/engagement@1\nid: acme\ncustomer: Acme\n")
    (tmp_path / "x.yaml").write_text("schema: csm-nb/scorecard@1\nid: x\n")
    (tmp_path / "mm.yaml").write_text("schema: csm-nb/maturity-model@1\nid: x\n")
    assert read_document(tmp_path / "m.yaml").model.id == "pilot"
    assert read_document(tmp_path / "e.yaml").engagement.id == "acme"
    with pytest.raises(InputError, match=r"x.yaml, line 1: schema: expected 'csm-nb/engagement@1' \(an engagement\), .*maturity"):
        read_document(tmp_path / "x.yaml")
    with pytest.raises(InputError, match=r"mm.yaml: missing required key 'levels'"):  # read as a maturity model
        read_document(tmp_path / "mm.yaml")


# -- which model an engagement follows ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("engagement", "expected"),
    [
        (Engagement(id="a", customer="A"), None),
        (Engagement(id="a", customer="A", contract=Contract(signed="2026-01-05")), "high-touch"),
        (Engagement(id="a", customer="A", moments=[MomentRecord("kickoff")]), "high-touch"),
        (Engagement(id="a", customer="A", events=[Event("2027-01-01", "release")]), "high-touch"),
        (Engagement(id="a", customer="A", engagement_model="low-touch"), "low-touch"),
        (Engagement(id="a", customer="A", engagement_model=EngagementModel("mine", moments=[MomentSpec("x")])), "mine"),
    ],
    ids=["nothing", "a contract", "a log", "events", "by id", "inline"],
)
def test_the_model_an_engagement_follows(engagement: Engagement, expected: str | None) -> None:
    model = resolve_model(engagement)
    assert (model.id if model else None) == expected


def test_a_model_neither_stored_nor_built_in_is_named() -> None:
    with pytest.raises(
        NotFoundError, match=r"'enterprise', which is neither in the store nor built in \(known: high-touch, low-touch\)"
    ):
        resolve_model(Engagement(id="a", customer="A", engagement_model="enterprise"))


def test_an_engagement_may_name_a_model_it_is_given() -> None:
    text = "schema: csm-nb/engagement@1\nid: a\ncustomer: A\nengagement_model: pilot\nmoments: [{moment: training}]\n"
    pilot = parse_model(MODEL, source="pilot.yaml")
    assert parse_engagement(text, source="a.yaml", models={"pilot": pilot}).engagement_model == "pilot"
    with pytest.raises(
        InputError, match=r"a.yaml, line 4: engagement_model: no engagement model 'pilot' in the store or built in"
    ):
        parse_engagement(text, source="a.yaml")


def test_the_documented_examples_are_what_csm_nb_reads_and_says() -> None:
    import re

    doc = (Path(__file__).resolve().parents[1] / "docs" / "engagement-model.md").read_text(encoding="utf-8")
    model_text, engagement_text = re.findall(r"```yaml\n(.*?)```", doc, re.S)[:2]
    model = parse_model(model_text, source="enterprise.yaml")
    assert [m.id for m in model.moments] == ["kickoff", "qbr", "renewal_review", "weekly_call", "case_follow_up"]
    said = re.search(r"```\n(enterprise.yaml, line 28: .*?)\n(enterprise.yaml, line 14: .*?)\n```", doc)
    assert said is not None
    assert (
        model_error(model_text.replace("days: 21}}", "days: 21}, colour: red}")).replace("pilot.yaml", "enterprise.yaml")
        == said[1]
    )
    kickoff_after_itself = model_text.replace("{moment: contract.signed, days: 7}", "{moment: kickoff, days: 7}")
    assert model_error(kickoff_after_itself).replace("pilot.yaml", "enterprise.yaml") == said[2]
    engagement = parse_engagement("schema: csm-nb/engagement@1\nid: acme\ncustomer: Acme\n" + engagement_text, source="acme.yaml")
    assert (engagement.engagement_model, len(engagement.moments), len(engagement.events)) == ("high-touch", 4, 2)


# -- Hypothesis: a mangled model file only ever fails as one line --------------------------------------------
HIGH_TOUCH_LINES = (BUILTIN_DIR / "high-touch.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
TRICKY = ["", "~", "0", "-1", "1.5", ".inf", "yes", "2026-02-30", "[]", "{}", "[1, [2]]", "{a: {b: c}}", "!!binary aGk=", "*a"]
TRICKY += ["3 months", "contract.signed", "kickoff", "{event: outage}", "{kpi: k}", "{moment: nowhere, days: 1}", "- - -", "'"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(HIGH_TOUCH_LINES) - 1), st.sampled_from(TRICKY)), min_size=1, max_size=3))
def test_tricky_values_in_a_model_only_ever_fail_as_one_line(edits: list[tuple[int, str]]) -> None:
    from csm_nb.errors import CsmError

    lines = list(HIGH_TOUCH_LINES)
    for index, value in edits:
        head, colon, _ = lines[index].partition(": ")
        if colon:
            lines[index] = f"{head}: {value}\n"
    try:
        parse_model("".join(lines), source="high-touch.yaml")
    except CsmError as exc:
        assert "\n" not in str(exc)


def test_a_segments_health_settings_travel_with_its_model_and_the_engagement_wins() -> None:
    """health: {weights, bands} in a model (a segment's) round-trips, is refused with crossed bands, and is
    what the health score uses unless the engagement gives its own."""
    from csm_nb.method import health as hm

    text = (
        "schema: csm-nb/engagement-model@1\nid: smb\ntouch: low\nmoments:\n  - {id: welcome, type: milestone, "
        "after: {moment: contract.signed, days: 1}}\nhealth:\n  weights: {money: 5, relationship: 0}\n  bands: {red: 40, green: 70}\n"
    )
    model = parse_model(text, source="smb.yaml")
    assert model.health == {"weights": {"money": 5.0, "relationship": 0.0}, "bands": {"red": 40.0, "green": 70.0}}
    assert parse_model(dump_model(model), source="again.yaml") == model
    weights, bands = hm.settings(Engagement("a", "A", health={"bands": {"green": 80}}), model)
    assert (weights["money"], weights["relationship"], weights["outcome"], bands) == (5.0, 0.0, 3.0, {"red": 40.0, "green": 80.0})
    with pytest.raises(
        InputError, match=r"crossed.yaml, line 8: health.bands: model 'smb': red \(80\) must not be above green \(70\)"
    ):
        parse_model(text.replace("red: 40", "red: 80"), source="crossed.yaml")
