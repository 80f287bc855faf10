"""The question bank: loaded and checked from data, fields validated as typed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from csm_nb.data.engagement import read_engagement
from csm_nb.data.questions import (
    BANK_PATH,
    KINDS,
    TYPES,
    Field,
    check_answers,
    defaults,
    items,
    load_bank,
    lookup,
    open_questions,
    parse_answers_parameter,
)
from csm_nb.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 23)


# -- the bank that ships ---------------------------------------------------------------------------
def test_outcome_discovery_has_five_stages_each_with_questions_of_every_type() -> None:
    bank = load_bank("outcome_discovery")
    assert list(bank.stages) == [1, 2, 3, 4, 5]
    for stage in bank.stages:
        assert bank.stage(stage), f"stage {stage} has no questions"
    assert {q.type for q in bank.questions} == set(TYPES)
    for q in bank.questions:
        assert q.purpose and q.good_answer and q.prompt
        assert all(f.kind in KINDS for f in q.fields)
    assert {f.kind for f in bank.fields().values()} == set(KINDS)


def test_the_maths_keys_are_all_in_the_bank() -> None:
    keys = set(load_bank("outcome_discovery").fields())
    wanted = {
        "metric_unit",
        "last_year_target",
        "last_year_actual",
        "last_year_stated_shortfall_pct",
        "this_year_target",
        "monthly_run_rate",
        "stated_shortfall_pct",
        "shortfall_reduction_pct",
        "stated_remaining_shortfall_pct",
        "value_per_unit",
        "margin_pct",
        "business_metric",
        "next_year_goal",
        "desired_change",
        "maths_confirmed",
    }
    assert wanted <= keys


def test_the_example_workshop_answers_are_all_valid_bank_answers() -> None:
    engagement = read_engagement(ROOT / "examples" / "employee-engagement.yaml")
    answers = engagement.workshop["outcome_discovery"]
    checked = check_answers(load_bank("outcome_discovery"), answers, today=TODAY)
    assert checked["this_year_target"] == 26000 and checked["deadline"] == "2027-07-31"


def test_the_brief_asks_repeated_questions_once_per_line_and_takes_defaults_from_the_file() -> None:
    bank = load_bank("engagement_brief")
    engagement = read_engagement(ROOT / "examples" / "employee-engagement.yaml")
    roles = items(bank.question("bom_role"), engagement)
    assert [i.label for i in roles] == ["Engagement platform", "Manager analytics add-on"]
    found = defaults(bank, engagement)
    assert found["bom.0.role"] == "pulse surveys and recognition for all staff"
    assert found["bom.1.timing"] == "planned"
    assert found["cap.2.level"] == 1
    assert found["outcome.clients-next-year.status"] == "assumed"  # outcomes are keyed by id, not position
    assert found["deal_size"] == 300000


# -- a mistake in the bank names the question and the key --------------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("question_bank_unknown_kind.yaml", "question 'last_year' field 'last_year_target': unknown kind 'numbr'"),
        ("question_bank_bad_stage.yaml", "question 'importance': stage must be one of 1, 2; got 7"),
        ("question_bank_no_purpose.yaml", "question 'importance': 'purpose' is missing"),
        ("question_bank_duplicate_key.yaml", "question 'second' field 'change': another question already fills this key"),
        ("question_bank_bad_paraphrase.yaml", "question 'summary': parts refer to 'desired_chnage', which no question fills"),
    ],
)
def test_a_broken_bank_is_refused_with_a_clear_message(fixtures_dir: Path, fixture: str, message: str) -> None:
    with pytest.raises(InputError, match="^" + fixture.replace(".", r"\.") + r": outcome_discovery") as caught:
        load_bank("outcome_discovery", path=fixtures_dir / fixture)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_adding_a_question_is_a_data_change(tmp_path: Path) -> None:
    data = yaml.safe_load(BANK_PATH.read_text(encoding="utf-8"))
    data["workbooks"]["outcome_discovery"]["questions"].append(
        {
            "id": "sponsor_view",
            "stage": 3,
            "type": "open",
            "prompt": "What will the sponsor look at first?",
            "purpose": "Shows which early signal carries weight.",
            "good_answer": "A named report or meeting.",
            "fields": [{"key": "sponsor_view", "kind": "text", "label": "Sponsor's first look"}],
        }
    )
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    bank = load_bank("outcome_discovery", path=path)
    assert bank.stage(3)[-1].id == "sponsor_view"
    assert bank.field_for("sponsor_view").label == "Sponsor's first look"


def test_an_unknown_workbook_names_the_known_ones() -> None:
    with pytest.raises(InputError, match="no questions for workbook 'kpi'; it has: outcome_discovery, engagement_brief"):
        load_bank("kpi")


# -- fields: what a person types -> what is stored, or one sentence ----------------------------------------
NUMBER = Field("this_year_target", "number", "This year's target", minimum=0)
LEVEL = Field("cap.{i}.level", "number", "Level", minimum=1, maximum=3, integer=True)
DEADLINE = Field("deadline", "date", "The year ends on", not_past=True)
CHOICE = Field("importance", "choice", "How much it matters", options=("critical", "minor"))
TEXT = Field("desired_change", "text", "The change they want")


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        (NUMBER, "26000", 26000),
        (NUMBER, "26,000", 26000),
        (NUMBER, " $375 ", 375),
        (NUMBER, "16.9 %", 16.9),
        (NUMBER, 1800, 1800),
        (NUMBER, "", None),
        (LEVEL, "2", 2),
        (DEADLINE, "2027-12-31", "2027-12-31"),
        (DEADLINE, dt.date(2026, 11, 23), "2026-11-23"),  # today is not the past
        (CHOICE, "critical", "critical"),
        (TEXT, "  higher engagement ", "higher engagement"),
        (TEXT, "   ", None),
    ],
)
def test_fields_store_what_was_meant(field: Field, typed: object, stored: object) -> None:
    assert field.parse(typed, today=TODAY) == stored


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        (NUMBER, "-5", "This year's target cannot be below 0; you typed -5"),
        (NUMBER, "lots", "This year's target needs a number, such as 21,400; you typed 'lots'"),
        (LEVEL, "4", "Level cannot be above 3; you typed 4"),
        (LEVEL, "1.5", "Level needs a whole number; you typed 1.5"),
        (DEADLINE, "2020-01-31", "The year ends on is in the past (2020-01-31); give a date from today on"),
        (DEADLINE, "next spring", "The year ends on needs a date such as 2027-12-31; you typed 'next spring'"),
        (CHOICE, "huge", "How much it matters: choose one of critical, minor; got 'huge'"),
    ],
)
def test_bad_input_is_one_sentence_naming_the_field(field: Field, typed: object, message: str) -> None:
    with pytest.raises(InputError) as caught:
        field.parse(typed, today=TODAY)
    assert str(caught.value) == message


def test_shown_values_read_like_a_person_wrote_them() -> None:
    assert NUMBER.shown(26000) == "26,000"
    assert Field("p", "number", "Share", unit="%").shown(50) == "50 %"
    assert Field("r", "choice", "Revenue", options=("one_off", "renewable")).shown("one_off") == "one off"


# -- answers supplied to a run --------------------------------------------------------------------------------
def test_the_answers_parameter_accepts_a_mapping_or_yaml_text() -> None:
    bank = load_bank("outcome_discovery")
    assert parse_answers_parameter(None, bank) == {}
    assert parse_answers_parameter("{this_year_target: '26,000', importance: critical}", bank, today=TODAY) == {
        "this_year_target": 26000,
        "importance": "critical",
    }
    assert parse_answers_parameter({"outcome.this-year.status": "assumed"}, bank) == {"outcome.this-year.status": "assumed"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"this_year_targt": 1}, "parameter answers: unknown answer key 'this_year_targt' for outcome_discovery; known keys: "),
        ({"this_year_target": -1}, "parameter answers: this_year_target: This year's target cannot be below 0; you typed -1"),
        ("[1, 2]", "parameter answers: expected a mapping of answer key to value, got list"),
        ("{a: [", "parameter answers: not a mapping"),
    ],
)
def test_bad_supplied_answers_are_refused_naming_the_key(value: object, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_answers_parameter(value, load_bank("outcome_discovery"), today=TODAY)
    assert str(caught.value).startswith(message)


def test_open_questions_skip_optional_fields_and_name_what_is_missing() -> None:
    bank = load_bank("outcome_discovery")
    engagement = read_engagement(ROOT / "examples" / "employee-engagement.yaml")
    answers = dict(engagement.workshop["outcome_discovery"])
    assert open_questions(bank, engagement, answers) == []
    del answers["monthly_run_rate"], answers["seasonality"]
    still = open_questions(bank, engagement, answers)
    assert [(o.question.id, o.missing) for o in still] == [("this_year", ["Current monthly run rate"])]


def test_lookup_follows_dicts_lists_and_attributes() -> None:
    engagement = read_engagement(ROOT / "examples" / "employee-engagement.yaml")
    assert lookup(engagement, "solution.bill_of_materials.1.item") == "Manager analytics add-on"
    assert lookup(engagement, "initiative.nothing.here") is None
    assert lookup(engagement, "solution.bill_of_materials.9.item") is None
