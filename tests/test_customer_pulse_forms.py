"""The pulse form without a browser (csm_nb.forms.pulse): fill and save as the typing and the click do, then
hold the form to what the SQLite file says (read with the stdlib ``sqlite3``) and to the report it redraws.
Also: the same answers twice change nothing, satisfaction 11 (or a wrong date, no respondent) writes not a
byte and says "Not saved", and a headless run shows no form."""

from __future__ import annotations

import html
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from reading import plain
from test_customer_pulse_page import PARTS
from test_pulse import FIXTURE

from csm_nb import config
from csm_nb.pages import customer_pulse
from csm_nb.run.service import import_engagements

EID = "harbor-pulse"
AS_OF = "2027-07-05"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store holding the acceptance fixture: two rounds, 31 March and 30 June 2027."""
    path = tmp_path / "store.sqlite"
    import_engagements([FIXTURE], db=path)
    return path


@pytest.fixture
def page(db: Path, monkeypatch: pytest.MonkeyPatch) -> customer_pulse.CustomerPulsePage:
    """The report as a person opens it (the form shown), at 5 July 2027."""
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setenv(config.AUTHOR_ENV, "sam")
    opened = customer_pulse.open_page(EID, db=str(db), as_of=AS_OF)
    assert opened.workshop() is opened.forms is not None
    yield opened
    opened.forms.close()


def stored(db: Path) -> list[tuple]:
    """The pulse answers as the file holds them: (date, respondent, outcome, satisfaction, attrs)."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        rows = connection.execute(
            "SELECT date, respondent, desired_outcome, satisfaction, attrs FROM pulse_answer WHERE engagement_id = ? "
            "ORDER BY position",
            (EID,),
        ).fetchall()
    return [(d, who, o, s, json.loads(a or "{}")) for d, who, o, s, a in rows]


def said(widget) -> str:
    """What a person reads in a widget: no-break spaces as spaces, entities read back."""
    return html.unescape(plain(widget.value))


def revision(db: Path) -> int:
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        return connection.execute("SELECT revision FROM engagement WHERE id = ?", (EID,)).fetchone()[0]


def test_the_form_asks_every_desired_outcome_and_offers_the_stakeholders(page) -> None:
    form = page.forms.answers
    assert list(form.rows) == ["plan-time", "shift-cover", "missed-visits", "handover-errors"]
    assert said(form.rows["plan-time"].question).count("How well can you cut the time it takes to plan the day") == 1
    assert "Priya Raman" in form.respondent.options and "Grace Lin" in form.respondent.options
    assert form.date.value.isoformat() == AS_OF  # the report's date by default


def test_saving_appends_the_answers_reads_them_back_and_redraws(page, db: Path) -> None:
    before, rev = stored(db), revision(db)
    headline = page.headline()  # a live part: redrawn after the save
    form = page.forms.answers
    form.fill(
        respondent="Grace Lin",
        date="2027-07-02",
        answers={
            "plan-time": {"satisfaction": 8, "importance": 10, "comment": "Planning takes ten minutes now."},
            "shift-cover": {"satisfaction": "6,5"},
        },
    )
    counts = form.save()
    assert counts == {"added": 2, "updated": 0, "unchanged": 0}
    assert form.state == "saved" and "Grace Lin's 2 answers of 2 Jul 2027: 2 added." in said(form.mark.detail)
    assert stored(db) == [
        *before,
        ("2027-07-02", "Grace Lin", "plan-time", 8.0, {"importance": 10.0, "comment": "Planning takes ten minutes now."}),
        ("2027-07-02", "Grace Lin", "shift-cover", 6.5, {}),
    ]
    assert revision(db) == rev + 1
    # The page read the store again: a third round, and the report below says so.
    results = page.results()
    assert results["rounds"] == ["2027-03-31", "2027-06-30", "2027-07-02"]
    plan = next(o for o in results["outcomes"] if o["id"] == "plan-time")
    assert (plan["previous"], plan["latest"], plan["shift"], plan["opportunity_latest"]) == (6.0, 8.0, 2.0, 12.0)
    assert "Latest round 2 Jul 2027." in said(headline)
    # The same answers again change nothing.
    assert form.save() == {"added": 0, "updated": 0, "unchanged": 2}
    assert revision(db) == rev + 1 and len(stored(db)) == len(before) + 2
    assert "2 already so." in said(form.mark.detail)


@pytest.mark.parametrize(
    ("filled", "said"),
    [
        (
            {"respondent": "Grace Lin", "answers": {"plan-time": {"satisfaction": 11}}},
            "Satisfaction for How well can you cut the time it takes to plan the day's visits today? (plan-time): "
            "expected a rating from 0 to 10; you typed 11",
        ),
        (
            {"respondent": "Grace Lin", "answers": {"plan-time": {"satisfaction": 7, "importance": -1}}},
            "Importance for How well can you cut",
        ),
        ({"respondent": "Grace Lin", "answers": {"plan-time": {"satisfaction": "lots"}}}, "expected a number such as 8"),
        ({"respondent": "", "answers": {"plan-time": {"satisfaction": 7}}}, "Respondent: type who answered"),
        ({"respondent": "Grace Lin", "date": "2027-02-30", "answers": {"plan-time": {"satisfaction": 7}}}, "Date: 2027-02-30"),
        ({"respondent": "Grace Lin", "date": "2027-07-06", "answers": {"plan-time": {"satisfaction": 7}}}, "is after 5 Jul 2027"),
        ({"respondent": "Grace Lin"}, "Satisfaction: rate at least one question"),
        (
            {"respondent": "Grace Lin", "answers": {"shift-cover": {"comment": "no idea"}}},
            "Satisfaction for How well can you raise",
        ),
    ],
)
def test_a_wrong_value_is_not_saved_and_the_store_is_unchanged(page, db: Path, filled: dict, said: str) -> None:
    before, rev = stored(db), revision(db)
    form = page.forms.answers
    form.fill(**filled)
    assert form.save() is None
    assert form.state == "invalid" and form.message.startswith("Not saved: ") and said in form.message
    assert "\n" not in form.message
    assert stored(db) == before and revision(db) == rev


def test_a_correction_of_the_same_person_outcome_and_date_replaces_the_answer(page, db: Path) -> None:
    form = page.forms.answers
    form.fill(respondent="Priya Raman", date="2027-06-30", answers={"plan-time": {"satisfaction": 7}})
    # Her other answer of that day is shown and saved as it is; the importance and comment not retyped are kept.
    assert form.save() == {"added": 0, "updated": 1, "unchanged": 1}
    assert [r for r in stored(db) if r[:3] == ("2027-06-30", "Priya Raman", "plan-time")] == [
        ("2027-06-30", "Priya Raman", "plan-time", 7.0, {"importance": 9.0, "comment": PLAN_TIME_SAID})
    ]
    assert next(o for o in page.results()["outcomes"] if o["id"] == "plan-time")["shift"] == 3.0


def test_headless_there_is_no_form_and_the_parts_are_html(db: Path) -> None:
    opened = customer_pulse.open_page(EID, db=str(db), as_of=AS_OF, results_path="out.json")
    assert opened.interactive is False and opened.workshop() is None and opened.forms is None
    assert all(isinstance(str(getattr(opened, p)()), str) for p in PARTS)


# -- regressions found in the browser test (tests/test_maturity_pulse_forms_browser.py) ----------------------
PLAN_TIME_SAID = "The board is ready by eight now; Mondays are still slow."


def test_choosing_a_respondent_and_date_with_answers_shows_them_and_a_correction_keeps_the_rest(page, db: Path) -> None:
    """The boxes did not show what the person had answered, so correcting one satisfaction erased the importance
    and the comment given with it."""
    form = page.forms.answers
    form.fill(respondent="Priya Raman", date="2027-06-30")
    plan_time, missed = form.rows["plan-time"], form.rows["missed-visits"]
    assert (plan_time.satisfaction.value, plan_time.importance.value, plan_time.comment.value) == ("6", "9", PLAN_TIME_SAID)
    assert (missed.satisfaction.value, missed.importance.value) == ("3", "")
    assert form.rows["shift-cover"].satisfaction.value == ""  # not asked of her that day
    before, rev = stored(db), revision(db)
    assert form.save() == {"added": 0, "updated": 0, "unchanged": 2} and (stored(db), revision(db)) == (before, rev)
    form.fill(answers={"missed-visits": {"satisfaction": 4}})
    assert form.save() == {"added": 0, "updated": 1, "unchanged": 1}
    assert [r for r in stored(db) if r[:3] == ("2027-06-30", "Priya Raman", "missed-visits")] == [
        ("2027-06-30", "Priya Raman", "missed-visits", 4.0, {"comment": "Two visits slipped when a carer was off sick."})
    ]
    # The next person, with no answers that day, starts from empty boxes: Priya's ratings are not theirs.
    form.fill(respondent="Grace Lin")
    assert {(r.satisfaction.value, r.importance.value, r.comment.value) for r in form.rows.values()} == {("", "", "")}
    before = stored(db)
    assert form.save() is None and "Satisfaction: rate at least one question" in form.message
    assert stored(db) == before


def test_ratings_typed_before_the_name_are_kept_when_the_name_comes(page, db: Path) -> None:
    form = page.forms.answers
    form.fill(date="2027-06-30", answers={"shift-cover": {"satisfaction": 8, "comment": "Cover is sorted a week ahead."}})
    form.fill(respondent="Grace Lin")  # nobody's stored answers were shown: what was typed stays
    assert (form.rows["shift-cover"].satisfaction.value, form.rows["shift-cover"].comment.value) == (
        "8",
        "Cover is sorted a week ahead.",
    )
    assert form.save() == {"added": 1, "updated": 0, "unchanged": 0}
    assert [r for r in stored(db) if r[1] == "Grace Lin"] == [
        ("2027-06-30", "Grace Lin", "shift-cover", 8.0, {"comment": "Cover is sorted a week ahead."})
    ]
