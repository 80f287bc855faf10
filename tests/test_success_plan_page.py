"""The success plan page (csm_nb.pages.success_plan) on engagements built in the test or read from the
fixture: what it shows, its results and index headline, that it stays customer-safe, that text from
people is escaped, and that a wrong as_of or store is one line."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from reading import plain
from test_success_plan import AS_OF, helios

from csm_nb.errors import CsmError, NotFoundError
from csm_nb.model import Engagement, EngagementModel, MomentRecord, MomentSpec
from csm_nb.pages import success_plan as page_mod
from csm_nb.run.service import import_engagements

PARTS = ("headline", "headline_figures", "objectives", "burn_up", "timeline", "milestones_table")
# Words a customer report must never use (the audience rule, README): internal figures live in internal reports.
INTERNAL_WORDS = re.compile(r"\b(influence|support|health|risks?|readiness|internal)\b", re.IGNORECASE)


def render(page) -> str:
    """The report's parts as HTML, as a person reads the text (no-break spaces as spaces)."""
    return plain("".join(str(getattr(page, p)()) for p in PARTS))


def text(page) -> str:
    """What a person reads: the HTML with its entities read back (``&#39;`` is an apostrophe)."""
    return html.unescape(render(page))


def test_the_acceptance_plan_through_the_page() -> None:
    page = page_mod.page_for(helios(), as_of=AS_OF)
    results = page.results()
    assert (results["done"], results["total"], results["share_done"]) == (3, 5, 0.6)
    assert (results["on_time"], results["done_with_date"], round(results["share_on_time"] * 100, 1)) == (2, 3, 66.7)
    assert results["overdue"] == [
        {"id": "rating-7", "name": "Line-manager engagement rating reaches 7", "due": "2027-03-31", "days": 5}
    ]
    assert results["counted"] == "success_plan" and results["as_of"] == "2027-04-05" and results["audience"] == "customer"
    assert [(m["id"], m["status"], m["days"], m["done_on"]) for m in results["milestones"]] == [
        ("platform-live", "done_late", 5, "2027-01-20"),
        ("first-pulse", "done_on_time", None, "2027-02-01"),
        ("managers-trained", "done_on_time", None, "2027-02-25"),
        ("rating-7", "overdue", 5, None),
        ("phase-one-review", "planned", None, None),
    ]
    rating = results["milestones"][3]
    assert (rating["objective"], rating["kind"], rating["due"], rating["latest"]) == ("more-clients", "value", "2027-03-31", 6.8)
    # The leading KPI is 10 points behind its agreed path (planned 7 at month 3, measured 6.8): the outcome is behind.
    assert [(o["id"], o["share_done"], o["outcome_status"]) for o in results["objectives"]] == [
        ("more-clients", 0.5, "behind"),
        ("managers-own-it", 1.0, None),
    ]
    assert results["verdicts"]["outcomes"] == {"clients-this-year": "behind"}
    assert results["next"] == {"id": "phase-one-review", "name": "Phase One review with the CFO", "due": "2027-12-15"}
    shown = text(page)
    assert "1 milestone overdue." in shown and "3 of 5 milestones done (60 %); 2 of 3 on time (66.7 %)." in shown
    assert "Line-manager engagement rating reaches 7 (due 31 Mar 2027, 5 days overdue)" in shown
    assert "done late (5 days)" in shown and "overdue (5 days)" in shown
    assert "Line-manager engagement rating (0-10) at least 7 points; latest 6.8 on 1 Apr 2027" in shown
    assert "2 of 4 (50 %)" in shown and "behind plan" in shown
    assert shown.count("<svg") == 2  # the burn-up and the timeline


def test_the_page_is_customer_safe() -> None:
    page = page_mod.page_for(helios(), as_of=AS_OF)
    assert page_mod.SuccessPlanPage.AUDIENCE == "customer" and page.report_audience() == "customer"
    found = INTERNAL_WORDS.findall(text(page))
    assert found == [], found


def test_text_from_people_is_escaped() -> None:
    e = helios()
    e.success_plan["milestones"][0]["name"] = "<script>alert(1)</script> & go"
    e.success_plan["objectives"][0]["description"] = "<b>more</b>"
    raw = render(page_mod.page_for(e, as_of=AS_OF))
    assert "<script>" not in raw and "<b>more</b>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; go" in raw and "&lt;b&gt;more&lt;/b&gt;" in raw


def test_a_milestone_done_by_a_held_moment_names_the_moment() -> None:
    e = Engagement(
        "acme",
        "Acme",
        success_plan={
            "milestones": [{"id": "kick", "name": "Kick-off held", "due": "2027-01-10", "evidence": {"moment": "kickoff"}}]
        },
        moments=[MomentRecord("kickoff", held="2027-01-12")],
    )
    model = EngagementModel("m", moments=[MomentSpec("kickoff", name="Kick-off meeting")])
    page = page_mod.page_for(e, as_of=AS_OF, model=model)
    (m,) = page.results()["milestones"]
    assert (m["status"], m["days"], m["done_on"], m["completed_by"]) == ("done_late", 2, "2027-01-12", "moment")
    assert "when the kick-off meeting is held" in render(page)
    assert "when the kickoff is held" in render(page_mod.page_for(e, as_of=AS_OF))  # without a model: its id


def test_the_initiatives_own_milestones_are_shown_and_counted_when_there_is_no_joint_plan() -> None:
    e = Engagement(
        "acme",
        "Acme",
        initiative={
            "start": "2027-01-01",
            "milestones": [
                {"name": "Platform live", "date": "2027-01-15", "done": True},
                {"name": "Phase One review", "date": "2027-07-15"},
            ],
        },
    )
    assert page_mod.applies(e)
    page = page_mod.page_for(e, as_of=AS_OF)
    results = page.results()
    assert results["counted"] == "initiative" and results["milestones"] == []
    assert [(m["name"], m["status"]) for m in results["initiative_milestones"]] == [
        ("Platform live", "done"),
        ("Phase One review", "planned"),
    ]
    assert (results["done"], results["total"], results["on_time"], results["share_on_time"]) == (1, 2, 0, None)
    shown_text = text(page)
    assert "The initiative's own milestones" in shown_text and "Platform live (initiative)" in shown_text
    # With a joint plan beside it, the plan's figures count the joint plan only.
    both = helios()
    both.initiative["milestones"] = e.initiative["milestones"]
    shown = page_mod.page_for(both, as_of=AS_OF)
    assert shown.results()["total"] == 5 and len(shown.results()["initiative_milestones"]) == 2
    assert "Phase One review (initiative)" in text(shown)


@pytest.mark.parametrize(
    ("engagement", "applies"),
    [
        (Engagement("a", "A"), False),
        (Engagement("a", "A", success_plan={}), False),
        (Engagement("a", "A", initiative={"name": "x", "milestones": []}), False),
        (Engagement("a", "A", success_plan={"objectives": [{"id": "o"}]}), True),
        (Engagement("a", "A", success_plan={"milestones": [{"id": "m", "name": "M", "due": "2027-01-01"}]}), True),
        (Engagement("a", "A", initiative={"milestones": [{"name": "M"}]}), True),
    ],
)
def test_the_workbook_applies_where_there_is_a_plan(engagement: Engagement, applies: bool) -> None:
    assert page_mod.applies(engagement) is applies
    assert page_mod.SuccessPlanPage.applies(engagement) is applies


def test_without_a_plan_it_says_what_to_add() -> None:
    page = page_mod.page_for(Engagement("a", "Acme"), as_of=AS_OF)
    assert "No success plan yet." in render(page) and "success_plan" in render(page)
    results = page.results()
    assert (results["done"], results["total"], results["share_done"], results["overdue"]) == (0, 0, None, [])
    objectives_only = page_mod.page_for(Engagement("a", "Acme", success_plan={"objectives": [{"id": "o"}]}), as_of=AS_OF)
    assert "No milestones yet." in render(objectives_only) and "no milestones yet" in render(objectives_only)


def test_the_index_shows_milestones_done_and_overdue() -> None:
    results = page_mod.page_for(helios(), as_of=AS_OF).results()
    head = page_mod.SuccessPlanPage.index_headline(results)
    assert head.summary == "3 of 5 milestones done (60 %); 1 milestone overdue."
    assert {k: head.figures[k] for k in ("milestones_done", "milestones_total", "share_done", "milestones_overdue")} == {
        "milestones_done": 3,
        "milestones_total": 5,
        "share_done": 0.6,
        "milestones_overdue": 1,
    }
    assert head.verdict == "attention" and head.tone == ""  # the engagement's verdict, untagged
    assert "overdue" not in head.figures  # the engagement plan's figure of that name is about moments
    assert page_mod.SuccessPlanPage.index_headline({}).summary == ""


def test_as_of_moves_the_plan() -> None:
    later = page_mod.page_for(helios(), as_of=dt.date(2027, 12, 20)).results()
    assert [(m["id"], m["days"]) for m in later["overdue"]] == [("rating-7", 264), ("phase-one-review", 5)]
    earlier = page_mod.page_for(helios(), as_of=dt.date(2027, 1, 25)).results()
    assert (earlier["done"], earlier["on_time"], earlier["done_with_date"]) == (1, 0, 1)  # only the platform, 5 days late
    assert [m["status"] for m in earlier["milestones"]][:3] == ["done_late", "due", "planned"]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "store.sqlite"
    import_engagements([Path(__file__).parent / "fixtures" / "success_plan" / "helios-2027.yaml"], db=db)
    return db


def test_open_page_reads_the_store_and_judges_at_as_of(store: Path) -> None:
    page = page_mod.open_page("helios-success-plan", db=str(store), as_of="2027-04-05")
    assert page.as_of == AS_OF and page.interactive is False and page.workshop() is None
    assert page.results()["share_done"] == 0.6


@pytest.mark.parametrize("as_of", ["yesterday", "2027-02-30", "05/04/2027"])
def test_a_wrong_as_of_is_one_line_naming_it(store: Path, as_of: str) -> None:
    with pytest.raises(CsmError) as info:
        page_mod.open_page("helios-success-plan", db=str(store), as_of=as_of)
    assert str(info.value).startswith("parameter as_of: expected a date") and "\n" not in str(info.value)


def test_a_missing_store_or_engagement_is_one_line(store: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        page_mod.open_page("helios-success-plan", db=str(tmp_path / "nowhere" / "s.sqlite"))
    with pytest.raises(NotFoundError, match="nobody"):
        page_mod.open_page("nobody", db=str(store), as_of="2027-04-05")


# -- a wrong plan is refused on import ---------------------------------------------------------------
FIXTURE_TEXT = (Path(__file__).parent / "fixtures" / "success_plan" / "helios-2027.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        (
            "evidence: {kpi: engagement-score, at_least: 7}",
            "evidence: {kpi: engagement-rating, at_least: 7}",
            ("line 48", "success_plan.milestones[3].evidence.kpi", "'engagement-rating' is not the id of any KPI"),
        ),
        (
            "evidence: {kpi: engagement-score, at_least: 7}",
            "evidence: {kpi: engagement-score}",
            ("success_plan.milestones[3].evidence", "expected one of at_least or at_most"),
        ),
        (
            "objective: managers-own-it, name",
            "objective: managers-own, name",
            ("success_plan.milestones[2].objective", "'managers-own' is not the id of any objective"),
        ),
        ("kind: governance", "kind: paperwork", ("success_plan.milestones[4].kind", "expected one of technical")),
        ("due: 2027-02-28, done_on: 2027-02-25", "due: 2027-02-30, done_on: 2027-02-25", ("success_plan.milestones[2].due",)),
        ("outcome: clients-this-year,\n", "outcome: clients-next-year,\n", ("success_plan.objectives[0].outcome",)),
    ],
)
def test_a_wrong_plan_is_one_line_and_leaves_the_store_as_it_was(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, fragments: tuple[str, ...]
) -> None:
    import sqlite3
    from contextlib import closing

    from csm_nb import cli

    assert old in FIXTURE_TEXT
    path = tmp_path / "helios-2027.yaml"
    path.write_text(FIXTURE_TEXT.replace(old, new, 1), encoding="utf-8")

    def dump() -> list[str]:
        with closing(sqlite3.connect(store)) as connection:
            return list(connection.iterdump())

    before = dump()
    capsys.readouterr()
    assert cli.main(["import", str(path), "--db", str(store), "--replace"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err
    assert str(path) in err and all(f in err for f in fragments), err
    assert dump() == before
