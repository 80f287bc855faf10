"""The engagement's life in the data layer: contract, model, moment log and events in engagement files,
in CSV/XLSX logs appended with ``import --engagement``, in the store, and through a re-import."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from csm_nb.data.engagement import dump_engagement, engagement_document, parse_engagement
from csm_nb.data.engagement_model import builtin_model
from csm_nb.data.merge import plan_import
from csm_nb.data.store import Store
from csm_nb.data.tables import read_log
from csm_nb.errors import InputError, NotFoundError
from csm_nb.model import Contract, Engagement, EngagementModel, Event, MomentRecord, MomentSpec

HEAD = "schema: csm-nb/engagement@1\nid: acme\ncustomer: Acme\n"  # lines 1-3
LIFE = (
    HEAD
    + """contract: {signed: 2026-12-01, start: 2027-01-01, end: 2027-12-31, notice_days: 90, auto_renew: false}
moments:
  - {moment: kickoff, held: 2026-12-08, attendees: [Priya Raman, Sam Okafor], outcome: Tom Becker is the champion}
  - {moment: activated, held: 2026-12-20, delay_reason: customer_resources, note: single sign-on ticket}
  - {moment: qbr, due: 2027-04-01, held: 2027-04-06}
  - {moment: monthly_metrics_review, due: 2027-03-05, status: cancelled}
events:
  - {date: 2027-03-02, type: support_case, severity: high, ref: CASE-1123}
  - {date: 2027-03-20, type: survey, score: 5, scale: 10, respondent: Tom Becker}
"""
)  # contract line 4, moments lines 6-9, events lines 11-12


def parse(text: str) -> Engagement:
    return parse_engagement(text, source="acme.yaml")


def error_of(text: str) -> str:
    with pytest.raises(InputError) as info:
        parse(text)
    assert "\n" not in str(info.value)
    return str(info.value)


# -- engagement files ------------------------------------------------------------------------------
def test_contract_log_and_events_are_read_into_the_dataclasses() -> None:
    e = parse(LIFE)
    assert e.contract == Contract(signed="2026-12-01", start="2027-01-01", end="2027-12-31", notice_days=90, auto_renew=False)
    assert e.engagement_model is None  # names none: follows the default, high-touch (the log is checked against it)
    assert e.moments[0] == MomentRecord(
        "kickoff", held="2026-12-08", attendees=["Priya Raman", "Sam Okafor"], outcome="Tom Becker is the champion"
    )
    assert e.moments[1].delay_reason == "customer_resources"
    assert e.moments[3] == MomentRecord("monthly_metrics_review", due="2027-03-05", status="cancelled")
    assert e.events == [
        Event("2027-03-02", "support_case", severity="high", ref="CASE-1123"),
        Event("2027-03-20", "survey", score=5.0, scale=10.0, respondent="Tom Becker"),
    ]


def test_the_lifecycle_round_trips_through_the_file() -> None:
    first = parse(LIFE + "engagement_model: high-touch\n")
    text = dump_engagement(first)
    assert parse(text) == first
    assert dump_engagement(parse(text)) == text
    assert "- {moment: qbr, due: '2027-04-01', held: '2027-04-06'}" in text


def test_an_inline_model_round_trips_and_may_only_name_the_engagements_kpis() -> None:
    inline = """engagement_model:
  id: pilot
  moments:
    - {id: kickoff, type: milestone, after: {moment: contract.signed, days: 7}}
  triggers:
    - {id: slow, when: {kpi: accounts, below: 50, at: {moment: kickoff, days: 21}}}
kpis: [{id: accounts}]
moments: [{moment: kickoff, held: 2026-12-08}]
"""
    e = parse(HEAD + inline)
    assert isinstance(e.engagement_model, EngagementModel) and e.engagement_model.triggers[0].when["below"] == 50.0
    assert parse(dump_engagement(e)) == e
    assert (
        engagement_document(e)["engagement_model"]["id"] == "pilot" and "schema" not in engagement_document(e)["engagement_model"]
    )
    message = error_of(HEAD + inline.replace("kpis: [{id: accounts}]", "kpis: [{id: users}]"))
    assert message.startswith(
        "acme.yaml, line 9: engagement_model.triggers[0].when.kpi: model 'pilot', trigger 'slow': "
        "'accounts' is not a KPI of this engagement; expected one of: users"
    )


BAD_LIFE = [
    (
        LIFE.replace("kickoff, held", "kickof, held"),
        "acme.yaml, line 6: moments[0].moment: 'kickof' is not a moment of the engagement model 'high-touch' "
        "(the default for an engagement that names none); expected one of: handoff, kickoff, activated,",
    ),
    (
        LIFE.replace("contract:", "engagement_model: low-touch\ncontract:"),
        "acme.yaml, line 7: moments[0].moment: 'kickoff' is not a moment of the engagement model 'low-touch'; expected one of: welcome,",
    ),
    (
        LIFE.replace("type: support_case", "type: outage"),
        "acme.yaml, line 11: events[0].type: expected one of support_case, release",
    ),
    (
        LIFE.replace("status: cancelled", "status: skipped"),
        "acme.yaml, line 9: moments[3].status: expected one of held, cancelled, no_show",
    ),
    (
        LIFE.replace("customer_resources", "holidays"),
        "acme.yaml, line 7: moments[1].delay_reason: expected one of customer_consensus, customer_resources",
    ),
    (
        LIFE.replace("due: 2027-04-01", "due: 2027-02-30"),
        "acme.yaml, line 8: moments[2].due: 2027-02-30 is not a date that exists",
    ),
    (
        LIFE.replace("due: 2027-04-01", "due: '2027-02-30'"),
        "acme.yaml, line 8: moments[2].due: 2027-02-30 is not a date that exists; expected YYYY-MM-DD",
    ),
    (
        LIFE.replace("date: 2027-03-02", "date: next week"),
        "acme.yaml, line 11: events[0].date: expected a date (YYYY-MM-DD), got 'next week'",
    ),
    (
        LIFE.replace("date: 2027-03-02", "date: 2027-03-02 10:30:00"),
        "acme.yaml, line 11: events[0].date: expected a date without a time of day",
    ),
    (
        LIFE.replace("end: 2027-12-31", "end: 2026-12-31"),
        "acme.yaml, line 4: contract.end: 2026-12-31 is before the contract's start, 2027-01-01",
    ),
    (
        LIFE.replace("notice_days: 90", "notice_days: soon"),
        "acme.yaml, line 4: contract.notice_days: expected a number, got 'soon'",
    ),
    (LIFE.replace("auto_renew: false", "renews: false"), "acme.yaml, line 4: contract.renews: unknown key 'renews'"),
    (
        LIFE.replace("status: cancelled", "status: cancelled, held: 2027-03-06"),
        "acme.yaml, line 9: moments[3].held: a cancelled occurrence was not held; remove held or the status",
    ),
    (
        LIFE.replace("due: 2027-04-01, held: 2027-04-06", "due: 2027-04-01, status: held"),
        "acme.yaml, line 8: moments[2].status: status held needs the day it was held",
    ),
    (
        LIFE.replace("activated, held: 2026-12-20", "kickoff, held: 2026-12-08"),
        "acme.yaml, line 7: moments[1]: 'kickoff' of 2026-12-08 is already in moments (moments[0], line 6); one entry an occurrence",
    ),
    (
        LIFE.replace(
            "date: 2027-03-20, type: survey, score: 5, scale: 10, respondent: Tom Becker",
            "date: 2027-03-02, type: support_case, severity: low, ref: CASE-1123",
        ),
        "acme.yaml, line 12: events[1]: support_case of 2027-03-02 (CASE-1123) is already in events (events[0], line 11)",
    ),
    (
        LIFE.replace("score: 5", "score: 12"),
        "acme.yaml, line 12: events[1].score: expected a score from 0 to the scale's 10, got 12",
    ),
    (
        LIFE.replace("scale: 10", "scale: 0"),
        "acme.yaml, line 12: events[1].scale: expected the highest score possible (more than 0)",
    ),
    (LIFE + "engagement_model: High Touch\n", "acme.yaml, line 13: engagement_model: 'High Touch' is not a model id"),
    (LIFE + "engagement_model: [high-touch]\n", "acme.yaml, line 13: engagement_model: expected an engagement model's id"),
    (
        LIFE + "engagement_model: enterprise\n",
        "acme.yaml, line 13: engagement_model: no engagement model 'enterprise' in the store",
    ),
    (HEAD + "moments: log.csv\n", "acme.yaml, line 4: moments: expected a list, got 'log.csv'"),
]


@pytest.mark.parametrize(
    ("text", "expected"), BAD_LIFE, ids=[e.split(": ", 2)[1][:40] + str(i) for i, (_, e) in enumerate(BAD_LIFE)]
)
def test_bad_lifecycle_values_are_refused_at_their_key(text: str, expected: str) -> None:
    assert error_of(text).startswith(expected)


# -- logs appended from CSV/XLSX ---------------------------------------------------------------------
def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_header_tells_which_log_a_file_is(tmp_path: Path) -> None:
    measured = read_log(write(tmp_path, "m.csv", "kpi,period,value\nusers,3,40\n"))
    events = read_log(
        write(tmp_path, "e.csv", "date,type,severity,ref,score,scale,respondent,note\n2027-03-02,support_case,high,C-1,,,,\n")
    )
    moments = read_log(write(tmp_path, "l.csv", "moment,due,held,status,attendees\nqbr,2027-04-01,2027-04-06,held,Ann; Bob ;\n"))
    assert (measured.kind, [(n, m.kpi, m.value) for n, m in measured.rows]) == ("measurements", [(2, "users", 40.0)])
    assert (events.kind, events.rows) == ("events", [(2, Event("2027-03-02", "support_case", severity="high", ref="C-1"))])
    assert (moments.kind, moments.rows) == (
        "moments",
        [(2, MomentRecord("qbr", due="2027-04-01", held="2027-04-06", status="held", attendees=["Ann", "Bob"]))],
    )


def test_an_xlsx_log_reads_date_cells_and_a_sheet_named_for_its_log(tmp_path: Path) -> None:
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "notes"
    sheet = book.create_sheet("events")
    sheet.append(["date", "type", "score", "scale", "respondent"])
    sheet.append([dt.datetime(2027, 3, 20), "survey", 4, 10, "Tom"])
    book.save(tmp_path / "e.xlsx")
    table = read_log(tmp_path / "e.xlsx")
    assert (table.kind, table.rows) == ("events", [(2, Event("2027-03-20", "survey", score=4.0, scale=10.0, respondent="Tom"))])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date,type\n2027-03-02,outage\n", "log.csv, row 2, column type: expected one of support_case, release"),
        ("date,type\n2027-02-30,release\n", "log.csv, row 2, column date: 2027-02-30 is not a date that exists"),
        ("date,type\n,release\n", "log.csv, row 2, column date: expected a value, got nothing"),
        (
            "date,type,colour\n2027-03-02,release,red\n",
            "log.csv: unknown column(s) 'colour'; expected some of: date, type, severity",
        ),
        (
            "date,type,ref\n2027-03-02,release,R1\n2027-03-02,release,R1\n",
            "log.csv, row 3: release of 2027-03-02 (R1) is already in row 2",
        ),
        (
            "moment,status\nqbr,skipped\n",
            "log.csv, row 2, column status: expected one of held, cancelled, no_show; got 'skipped'",
        ),
        ("moment,delay_reason\nkickoff,weather\n", "log.csv, row 2, column delay_reason: expected one of customer_consensus"),
        ("moment,held,status\nqbr,2027-04-06,no_show\n", "log.csv, row 2, column held: a no-show occurrence was not held"),
        (
            "moment,due\nqbr,2027-04-01\nqbr,2027-04-01\n",
            "log.csv, row 3: 'qbr' of 2027-04-01 is already in row 2; one row an occurrence",
        ),
        (
            "when,what\n2027-03-02,x\n",
            "log.csv: which log is this? expected the columns kpi, period, value (measurements), date, type",
        ),
    ],
)
def test_a_bad_log_row_is_named_by_file_row_and_column(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "log.csv", text)
    with pytest.raises(InputError) as info:
        read_log(path)
    assert str(info.value).replace(str(path), "log.csv").startswith(expected)


# -- the store ----------------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "s.sqlite") as s:
        yield s


def test_the_store_keeps_the_lifecycle_and_gives_it_back(store: Store) -> None:
    store.save(parse(LIFE))
    loaded = store.load("acme")
    assert dataclasses.replace(loaded, revision=0, updated_at=None, updated_by=None) == parse(LIFE)
    assert store.engagement_model(loaded).id == "high-touch"  # names none, has a contract: the default


def test_appending_moments_and_events_is_idempotent_and_corrects_an_occurrence(store: Store) -> None:
    store.save(parse(LIFE))
    revision = store.revision("acme")
    entries = [MomentRecord("qbr", due="2027-07-01", held="2027-07-03"), MomentRecord("qbr", due="2027-04-01", held="2027-04-06")]
    assert store.add_moments("acme", entries, author="bob") == {"added": 1, "updated": 0, "unchanged": 1}
    assert store.add_moments("acme", entries, author="bob") == {"added": 0, "updated": 0, "unchanged": 2}
    corrected = [MomentRecord("qbr", due="2027-07-01", held="2027-07-03", attendees=["Ann"])]
    assert store.add_moments("acme", corrected, author="bob") == {"added": 0, "updated": 1, "unchanged": 0}
    events = [
        Event("2027-05-02", "release", note="v5"),
        Event("2027-03-20", "survey", score=5, scale=10, respondent="Tom Becker"),
    ]
    assert store.add_events("acme", events, author="bob") == {"added": 1, "updated": 0, "unchanged": 1}
    assert store.add_events("acme", events, author="bob") == {"added": 0, "updated": 0, "unchanged": 2}
    loaded = store.load("acme")
    assert [(r.moment, r.due, r.attendees) for r in loaded.moments][-1] == ("qbr", "2027-07-01", ["Ann"])
    assert len(loaded.moments) == 5 and loaded.events[-1] == Event("2027-05-02", "release", note="v5")
    assert store.revision("acme") == revision + 3  # only the calls that changed something
    assert [h["summary"] for h in store.history("acme")[-3:]] == [
        "moment log: 1 added, 0 updated",
        "moment log: 0 added, 1 updated",
        "events: 1 added, 0 updated",
    ]


def test_appending_a_moment_the_model_lacks_is_refused_and_nothing_changes(store: Store) -> None:
    store.save(Engagement(id="acme", customer="Acme", engagement_model="low-touch"))
    with pytest.raises(InputError, match=r"engagement 'acme': 'qbr' is not a moment of the engagement model 'low-touch'"):
        store.add_moments("acme", [MomentRecord("welcome", held="2027-01-02"), MomentRecord("qbr", due="2027-04-01")])
    assert store.load("acme").moments == [] and store.revision("acme") == 1
    with pytest.raises(NotFoundError, match="no engagement 'ghost'"):
        store.add_events("ghost", [Event("2027-01-01", "release")])


def test_models_are_stored_override_the_built_in_ones_and_resolve(store: Store) -> None:
    assert store.models() == {} and store.model_ids() == ["high-touch", "low-touch"]
    mine = dataclasses.replace(builtin_model("high-touch"), name="Our enterprise model", grace_days=5)
    assert store.save_model(mine, author="ann") == ("created", 1)
    assert store.save_model(mine, author="ann") == ("unchanged", 1)
    assert store.save_model(dataclasses.replace(mine, grace_days=4), author="ann") == ("updated", 2)
    assert store.model("high-touch").grace_days == 4 and store.model("low-touch") == builtin_model("low-touch")
    with pytest.raises(NotFoundError, match=r"no engagement model 'pilot' in store .* \(known: high-touch, low-touch\)"):
        store.model("pilot")
    store.save(Engagement(id="a", customer="A", contract=Contract(signed="2026-01-05")))
    store.save(Engagement(id="b", customer="B", engagement_model="low-touch"))
    store.save(Engagement(id="c", customer="C"))
    inline = EngagementModel("solo", moments=[MomentSpec("call", type="time", every="1 month")])
    store.save(Engagement(id="d", customer="D", engagement_model=inline))
    resolved = {eid: store.engagement_model(eid) for eid in "abcd"}
    assert {eid: (m.id, m.grace_days) if m else None for eid, m in resolved.items()} == {
        "a": ("high-touch", 4),  # the default, as this store has it
        "b": ("low-touch", 3),
        "c": None,  # no contract, no model, no log: follows none
        "d": ("solo", 7),
    }
    assert store.model_users("high-touch") == {"a": []} and store.model_users("low-touch") == {"b": []}


def test_deleting_an_engagement_deletes_its_log_and_events(store: Store, tmp_path: Path) -> None:
    import sqlite3

    store.save(parse(LIFE))
    store.delete("acme")
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        assert [db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("moment_log", "event")] == [0, 0]


# -- re-importing the engagement file -----------------------------------------------------------------
def test_a_reimport_keeps_appended_log_entries_and_events() -> None:
    stored = parse(LIFE)
    stored.moments.append(MomentRecord("qbr", due="2027-07-01", held="2027-07-02"))
    stored.events.append(Event("2027-05-02", "release"))
    file = parse(LIFE)
    plan = plan_import(stored, file, moment_ids=[m.id for m in builtin_model("high-touch").moments])
    assert plan.removed == []
    assert plan.kept == ["1 moment-log entry (qbr)", "1 event (release)"]
    assert plan.engagement.moments == stored.moments and plan.engagement.events == stored.events
    replaced = plan_import(stored, file, replace=True)
    assert replaced.removed == ["1 moment-log entry added after the import", "1 event added after the import"]
    assert replaced.engagement.moments == file.moments


def test_the_file_wins_for_the_same_occurrence_and_entries_of_a_dropped_moment_would_be_removed() -> None:
    stored = parse(LIFE)
    file = parse(LIFE.replace("due: 2027-04-01, held: 2027-04-06", "due: 2027-04-01, held: 2027-04-07"))
    plan = plan_import(stored, file, moment_ids=[m.id for m in builtin_model("high-touch").moments])
    assert plan.kept == [] and plan.engagement.moments[2].held == "2027-04-07"
    welcome_only = ["welcome"]  # the file now follows a model without the logged moments
    plan = plan_import(stored, parse(HEAD + "engagement_model: low-touch\n"), moment_ids=welcome_only)
    assert plan.removed == [
        "4 moment-log entries of moment(s) activated, kickoff, monthly_metrics_review, qbr, which the engagement's model does not have"
    ]


def test_activities_append_from_csv_and_survive_a_reimport_of_the_file(tmp_path: Path) -> None:
    """The CSM's activity log grows like measurements: a CSV told by its header (date, type, title), the
    same rows again change nothing, lists in a cell split at semicolons, and the engagement file imported
    again keeps the appended rows."""
    from csm_nb.cli import main
    from csm_nb.model import Activity

    db, source = tmp_path / "s.sqlite", tmp_path / "acme.yaml"
    source.write_text(LIFE, encoding="utf-8")
    log = tmp_path / "activities.csv"
    log.write_text(
        "date,type,title,missions,with,minutes\n"
        "2027-02-01,call,Renewal talk,reduce_risk; develop_business,Ann Lee;Tom Becker,30\n"
        "2027-02-03,email,Follow-up,,,\n",
        encoding="utf-8",
    )
    assert main(["--db", str(db), "import", str(source)]) == 0
    assert main(["--db", str(db), "import", str(log), "--engagement", "acme"]) == 0
    assert main(["--db", str(db), "import", str(log), "--engagement", "acme"]) == 0
    assert main(["--db", str(db), "import", str(source)]) == 0  # the file lacks them: kept
    with Store(db) as store:
        activities = store.load("acme").activities
    assert activities == [
        Activity(
            "2027-02-01", "call", "Renewal talk", ["reduce_risk", "develop_business"], ["Ann Lee", "Tom Becker"], minutes=30.0
        ),
        Activity("2027-02-03", "email", "Follow-up"),
    ]


JOBS = """jobs:
  - id: serve-clients
    statement: serve every client who needs help in the month
    executor: care teams
    steps:
      - id: plan-visits
        name: plan the day's visits
        parties: {customer: 3, us: 1, other: 6}
        desired_outcomes:
          - {id: plan-time, statement: minimise the time it takes to plan the day's visits, direction: minimise, unit: minutes,
             importance: 9, satisfaction: 4}
          - {id: late-changes, statement: minimise the visits changed on the day, direction: minimise, unit: visits}
"""


def test_pulse_answers_append_from_csv_correct_in_place_and_survive_a_reimport(tmp_path: Path, capsys) -> None:
    """The pulse grows like measurements: a CSV told by its desired_outcome column, the same rows again
    change nothing, a second answer of the same person, outcome and day corrects the first, and the
    engagement file imported again keeps the appended answers."""
    from csm_nb.cli import main
    from csm_nb.model import PulseAnswer

    db, source = tmp_path / "s.sqlite", tmp_path / "acme.yaml"
    source.write_text(HEAD + JOBS, encoding="utf-8")
    log, fix = tmp_path / "pulse.csv", tmp_path / "pulse-fix.csv"
    log.write_text(
        "date,respondent,desired_outcome,importance,satisfaction,comment\n"
        '2027-03-31,Ravi Das,plan-time,9,4,"Planning takes the morning, still"\n'
        "2027-03-31,Ravi Das,late-changes,,5,\n",
        encoding="utf-8",
    )
    fix.write_text("date,respondent,desired_outcome,satisfaction\n2027-03-31,Ravi Das,late-changes,6\n", encoding="utf-8")
    assert main(["--db", str(db), "import", str(source)]) == 0
    assert main(["--db", str(db), "import", str(log), "--engagement", "acme"]) == 0
    assert "2 added, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert main(["--db", str(db), "import", str(log), "--engagement", "acme"]) == 0
    assert "0 added, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert main(["--db", str(db), "import", str(fix), "--engagement", "acme"]) == 0
    assert "0 added, 1 updated, 0 unchanged" in capsys.readouterr().out
    assert main(["--db", str(db), "import", str(source)]) == 0  # the file lacks them: kept
    assert "2 pulse answers (the customer's own view)" in capsys.readouterr().out
    with Store(db) as store:
        engagement = store.load("acme")
    assert engagement.pulse == [
        PulseAnswer("2027-03-31", "Ravi Das", "plan-time", 4.0, importance=9.0, comment="Planning takes the morning, still"),
        PulseAnswer("2027-03-31", "Ravi Das", "late-changes", 6.0),
    ]
    assert engagement.jobs[0]["steps"][0]["parties"] == {"customer": 3, "us": 1, "other": 6}
    again = parse_engagement(dump_engagement(engagement), source="export.yaml")  # the export reads back the same
    assert (again.jobs, again.pulse) == (engagement.jobs, engagement.pulse)


def test_a_pulse_answer_about_an_outcome_the_jobs_lack_is_refused_at_its_line() -> None:
    text = HEAD + JOBS + "pulse:\n  - {date: 2027-03-31, respondent: Ravi Das, desired_outcome: plan-tme, satisfaction: 5}\n"
    message = error_of(text)
    assert message.startswith("acme.yaml, line 17: pulse[0].desired_outcome: 'plan-tme' is not the id of any desired outcome")
    assert "plan-time, late-changes" in message


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("kpis:\n  - {id: k, desired_outcome: nope}\n", "kpis[0].desired_outcome: 'nope' is not the id of any desired outcome"),
        (
            "kpis:\n  - {id: k, capability: Reporting}\n",
            "kpis[0].capability: 'Reporting' is not the name of any initiative capability",
        ),
        ("kpis:\n  - {id: k, target_type: stay_under}\n", "kpis[0].target_type: expected one of reach, stay_below, stay_above"),
    ],
)
def test_a_kpi_names_only_desired_outcomes_and_capabilities_that_exist(extra: str, expected: str) -> None:
    assert expected in error_of(HEAD + JOBS + extra)


def test_a_desired_outcome_id_is_unique_across_all_jobs() -> None:
    second = JOBS.replace("- id: serve-clients", "- id: other-job").replace("jobs:\n", "")
    message = error_of(HEAD + JOBS + second)
    assert (
        "jobs[1].steps[0].desired_outcomes[0].id: 'plan-time' is already used by jobs[0].steps[0].desired_outcomes[0]" in message
    )


def test_a_maturity_model_imports_by_its_schema_and_engagements_check_against_the_stored_one(tmp_path: Path, capsys) -> None:
    """A maturity model file is told by its schema and stored; an engagement naming it is checked against
    the store's copy (a behaviour only the stored model has is accepted), and a model re-imported without
    a behaviour an engagement observed is refused, naming both, with the store unchanged."""
    from csm_nb.cli import main

    model = tmp_path / "ours.yaml"
    levels = "".join(f"  - {{level: {n}, name: L{n}, behaviours: [{{id: b{n}, text: behaviour {n}}}]}}\n" for n in range(1, 4))
    model.write_text(f"schema: csm-nb/maturity-model@1\nid: ours\nname: Our model\nlevels:\n{levels}", encoding="utf-8")
    engagement = tmp_path / "acme.yaml"
    engagement.write_text(
        HEAD + "maturity:\n  model: ours\n  assessments:\n    - {date: 2027-01-10, observed: {b2: 'yes', b3: partly}}\n",
        encoding="utf-8",
    )
    db = tmp_path / "s.sqlite"
    assert main(["--db", str(db), "import", str(model), str(engagement)]) == 0
    out = capsys.readouterr().out
    assert "created maturity model ours (revision 1)" in out and "created acme (revision 1)" in out
    with Store(db) as store:
        assert store.load("acme").maturity["assessments"][0]["observed"] == {"b2": "yes", "b3": "partly"}
        assert [lv.number for lv in store.find_maturity_model("ours").levels] == [1, 2, 3]
        assert "ours" in store.maturity_model_ids() and "value-measurement" in store.maturity_model_ids()
    before = db.read_bytes()
    model.write_text(model.read_text(encoding="utf-8").replace("b3, text", "b3x, text"), encoding="utf-8")
    assert main(["--db", str(db), "import", str(model)]) == 1
    err = capsys.readouterr().err
    assert "ours.yaml: maturity model 'ours' would no longer fit" in err and "'b3' is not a behaviour of model 'ours'" in err
    assert db.read_bytes() == before


def test_a_ceiling_kpi_without_its_ceiling_is_refused_at_its_line() -> None:
    message = error_of(HEAD + "kpis:\n  - {id: release-gap, target_type: stay_below, unit: months}\n")
    assert message == "acme.yaml, line 5: kpis[0].target: target_type stay_below needs a target: the ceiling to stay within"
