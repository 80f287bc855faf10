"""The customer-jobs workshop without a browser (csm_nb.forms.jobs): type into the boxes and add rows as
a person does, then hold the form to what the SQLite file says (read with the stdlib ``sqlite3``) and
to the ranking it redraws. A rating of 11 and a job with no step are refused with the file untouched;
rows without their text wait; a change by somebody else is not overwritten without Retry; the
read-back answer is saved as a workshop answer; a headless run shows no workshop."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from csm_nb import config
from csm_nb.data.store import Store
from csm_nb.forms import jobs as jf
from csm_nb.pages import customer_jobs as cj
from csm_nb.run.service import import_engagements

EID = "helios-jobs"
AS_OF = "2027-04-05"
FIXTURE = Path(__file__).parent / "fixtures" / "customer_jobs" / "helios-jobs.yaml"
PLAN_TIME = "job.0.step.1.outcome.0"  # plan-time: the file lists the visit step first, the plan step second


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    import_engagements([FIXTURE], db=path)
    return path


@pytest.fixture
def page(db: Path, monkeypatch: pytest.MonkeyPatch) -> cj.CustomerJobsPage:
    """The page as a person opens it (the workshop shown), with the ranking drawn under it."""
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setenv(config.AUTHOR_ENV, "sam")
    opened = cj.open_page(EID, db=str(db), as_of=AS_OF)
    assert isinstance(opened.workshop(), jf.JobsForms)
    opened.ranking_chart()
    opened.under_served_list()
    yield opened
    opened.forms.close()


def stored(db: Path) -> tuple[list[dict] | None, int]:
    """(the jobs, the engagement's revision) as the file holds them."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        text, revision = connection.execute("SELECT jobs, revision FROM engagement WHERE id = ?", (EID,)).fetchone()
    return (json.loads(text) if text else None), revision


def outcome(jobs: list[dict], outcome_id: str) -> dict:
    return next(o for j in jobs for s in j["steps"] for o in s.get("desired_outcomes", []) if o["id"] == outcome_id)


def live(page: cj.CustomerJobsPage, part: str) -> str:
    return page.forms.parts[part][0].value


def test_a_rating_saves_the_whole_jobs_part_and_the_ranking_redraws(page: cj.CustomerJobsPage, db: Path) -> None:
    forms = page.forms
    before, revision = stored(db)
    assert "minimise the time it takes to plan the day&#39;s visits" in live(page, "under_served_list")
    forms.set(f"{PLAN_TIME}.satisfaction", "8")  # (9, 8): opportunity 10, no longer under-served
    assert forms.state == "saved"
    jobs, after = stored(db)
    assert after == revision + 1
    assert outcome(jobs, "plan-time")["satisfaction"] == 8
    assert [j["id"] for j in jobs] == [j["id"] for j in before]  # the whole part, the rest as it was
    assert outcome(jobs, "missed-visits") == outcome(before, "missed-visits")
    assert page.results()["under_served"] == []
    assert "None: no rated desired outcome has an opportunity above 10" in live(page, "under_served_list")
    # Edit it again: the ranking follows once more.
    forms.set(f"{PLAN_TIME}.satisfaction", "2")
    assert forms.state == "saved" and outcome(stored(db)[0], "plan-time")["satisfaction"] == 2
    assert page.results()["desired_outcomes"][0]["opportunity"] == 16  # plan-time (9, 2): extremely under-served
    assert "extremely under-served" in live(page, "under_served_list")


@pytest.mark.parametrize(
    ("box", "typed", "said"),
    [
        (f"{PLAN_TIME}.satisfaction", "11", "Satisfaction: expected a rating from 0 to 10; you typed 11"),
        (f"{PLAN_TIME}.importance", "-1", "Importance: expected a rating from 0 to 10; you typed -1"),
        (f"{PLAN_TIME}.importance", "high", "Importance: expected a number such as 8"),
        ("job.0.step.0.other", "2.5", "Others: expected a count of interactions, a whole number from 0; you typed 2.5"),
        ("job.0.step.0.order", "first", "Order: expected a number such as 8"),
    ],
)
def test_a_wrong_value_is_refused_and_the_file_is_untouched(
    page: cj.CustomerJobsPage, db: Path, box: str, typed: str, said: str
) -> None:
    before = stored(db)
    page.forms.set(box, typed)
    assert page.forms.state == "invalid"
    assert page.forms.message.startswith("Not saved: ") and said in page.forms.message
    assert stored(db) == before


def test_a_job_with_no_step_is_refused_until_it_has_one(page: cj.CustomerJobsPage, db: Path) -> None:
    forms = page.forms
    before = stored(db)
    forms.add_job()
    forms.set("job.2.executor", "Rota planners")  # no statement yet: the row waits, the rest saves
    assert forms.state == "saved" and "1 row without its text yet" in forms.mark.detail.value
    assert stored(db)[0] == before[0]
    forms.set("job.2.statement", "Keep every carer's rota filled")
    assert forms.state == "invalid" and "jobs[2].steps: expected at least 1 step" in forms.message
    assert stored(db)[0] == before[0]
    forms.add_step(2)
    forms.set("job.2.step.0.name", "Find a cover for a sick carer")
    assert forms.state == "saved"
    jobs, _ = stored(db)
    assert jobs[2] == {
        "id": "keep-every-carer-s-rota-filled",
        "statement": "Keep every carer's rota filled",
        "executor": "Rota planners",
        "steps": [{"id": "find-a-cover-for-a-sick", "name": "Find a cover for a sick carer", "order": 1}],
    }
    # Two desired outcomes, the second rated: it joins the ranking; ids stay as first made.
    forms.add_outcome(2, 0)
    forms.set("job.2.step.0.outcome.0.statement", "minimise the time to find a cover")
    forms.set("job.2.step.0.outcome.0.statement", "minimise the time it takes to find a cover")
    forms.set("job.2.step.0.outcome.0.direction", "minimise")
    forms.set("job.2.step.0.outcome.0.unit", "hours")
    forms.set("job.2.step.0.outcome.0.importance", "10")
    forms.set("job.2.step.0.outcome.0.satisfaction", "3")
    assert forms.state == "saved"
    found = outcome(stored(db)[0], "minimise-the-time-to-find-a")
    assert found == {
        "id": "minimise-the-time-to-find-a",
        "statement": "minimise the time it takes to find a cover",
        "direction": "minimise",
        "unit": "hours",
        "importance": 10,
        "satisfaction": 3,
    }
    assert page.results()["ranking"][0] == "minimise-the-time-to-find-a"  # 10 + 7 = 17
    assert "Rota planners are trying to keep every carer" in page.forms.read_back_text.value


def test_a_change_by_somebody_else_is_not_overwritten_without_retry(page: cj.CustomerJobsPage, db: Path) -> None:
    with Store(db) as store:
        theirs = store.load(EID)
        changed = json.loads(json.dumps(theirs.jobs))
        changed[0]["executor"] = "District nurses"
        store.set_part(EID, "jobs", changed, expected_revision=theirs.revision, author="priya")
    before = stored(db)
    page.forms.set(f"{PLAN_TIME}.satisfaction", "5")
    assert page.forms.state == "error" and "priya changed the jobs" in page.forms.message
    assert "press Retry to save yours over theirs" in page.forms.message
    assert stored(db) == before
    page.forms.retry()
    assert page.forms.state == "saved"
    assert outcome(stored(db)[0], "plan-time")["satisfaction"] == 5


def test_a_save_of_another_part_meanwhile_is_no_conflict(page: cj.CustomerJobsPage, db: Path) -> None:
    with Store(db) as store:
        e = store.load(EID)
        store.set_part(EID, "risks", [{"id": "r", "kind": "churn", "status": "open"}], expected_revision=e.revision)
    page.forms.set(f"{PLAN_TIME}.importance", "10")
    assert page.forms.state == "saved" and outcome(stored(db)[0], "plan-time")["importance"] == 10


def test_the_read_back_answer_is_a_workshop_answer(page: cj.CustomerJobsPage, db: Path) -> None:
    agreed = next(fw for fw in page.forms.answer_fields if fw.key == "read_back_confirmed")
    agreed.set("partly")
    assert agreed.state == "saved"
    with Store(db) as store:
        assert store.answers(EID, "customer_jobs")["read_back_confirmed"].value == "partly"
        assert cj.CustomerJobsPage.applies(store.load(EID))
    text = page.forms.read_back_text.value
    assert "Care teams are trying to serve every client who needs help in the month" in text


def test_the_guidance_shows_the_five_stages_and_the_step_hints(page: cj.CustomerJobsPage) -> None:
    tabs = page.forms.guidance
    assert list(tabs.titles) == ["1. The job", "2. Its steps", "3. How each step is judged", "4. Rate them", "5. Read it back"]
    second = " ".join(c.value for c in tabs.children[1].children if hasattr(c, "value") and isinstance(c.value, str))
    for step in ("define", "locate", "prepare", "confirm", "execute", "monitor", "modify", "conclude"):
        assert f"<b>{step}</b>" in second


def test_headless_there_is_no_workshop(db: Path) -> None:
    opened = cj.open_page(EID, db=str(db), as_of=AS_OF)
    assert opened.workshop() is None and opened.forms is None
    assert str(opened.ranking_chart()).count('class="bar"') == 3


@pytest.mark.parametrize(
    ("text", "taken", "made"),
    [
        ("Plan the day's visits", set(), "plan-the-day-s-visits"),
        ("Plan the day's visits", {"plan-the-day-s-visits"}, "plan-the-day-s-visits-2"),
        ("Überweisung prüfen", set(), "berweisung-pr-fen"),
        ("", {"outcome-1"}, "outcome-2"),
    ],
)
def test_ids_are_made_from_the_first_text(text: str, taken: set[str], made: str) -> None:
    assert jf.slug(text, taken=taken, fallback="outcome") == made
