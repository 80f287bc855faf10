"""The stakeholder map's rules (csm_nb.method.stakeholders): quadrants, single thread, coverage,
overdue contacts, changes, the sponsor-change event, the relationship checks, who should be in the
room and the actions in words; and bad stakeholders refused on import in one line that names the
file, line and key, with the store left byte for byte as it was."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb import cli
from csm_nb.method import stakeholders as sm
from csm_nb.model import Activity, Event, MomentRecord
from csm_nb.vocabulary import CADENCE_DAYS

D = dt.date
ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).parent / "fixtures" / "bad"

# A customer of the kind the seeds describe: a sponsor who reports to the director, a champion, the
# director and the CFO at the strategic level, a team leader, and two of ours.
HELIOS = [
    {"name": "Priya Raman", "role": "Service Performance Lead", "roles": ["sponsor"], "level": "business",
     "reports_to": "Grace Obi", "influence": 4, "support": 2, "cadence": "monthly", "last_contact": "2026-11-06",
     "objectives": ["More clients served without more staff"]},
    {"name": "Tom Becker", "role": "HR Business Partner", "roles": ["champion"], "level": "business", "influence": 3,
     "support": 1, "knows_about": ["surveys", "works council"], "cadence": "monthly", "last_contact": "2026-11-06",
     "objectives": ["No survey fatigue"]},
    {"name": "Grace Obi", "role": "Director of Services", "roles": ["decision_maker"], "level": "strategic",
     "influence": 5, "support": 1, "cadence": "quarterly", "last_contact": "2026-11-03"},
    {"name": "Martin Hale", "role": "Chief Financial Officer", "roles": ["budget_holder"], "level": "strategic",
     "influence": 4, "support": 0, "cadence": "quarterly", "last_contact": "2026-08-05"},
    {"name": "Ravi Das", "role": "Team leader", "roles": ["user"], "level": "operational", "reports_to": "Priya Raman",
     "influence": 2, "support": 2, "knows_about": ["rotas", "Surveys"], "cadence": "monthly", "last_contact": "2026-10-14"},
    {"name": "Sam Okafor", "role": "Customer success manager", "side": "ours", "level": "business"},
    {"name": "Ines Duarte", "role": "Survey designer", "side": "ours", "function": "consulting", "level": "operational"},
]  # fmt: skip
AS_OF = D(2026, 12, 21)


def with_changes(**by_name: dict) -> list[dict]:
    """HELIOS with some people's fields changed."""
    return [{**p, **by_name.get(p["name"], {})} for p in HELIOS]


# -- the grid ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("influence", "support", "expected"),
    [
        (3, 0, "win_over"),  # the corner: influence 3 is high, support 0 is not for us
        (5, -2, "win_over"),
        (3, 1, "keep_close"),
        (5, 2, "keep_close"),
        (2, 0, "monitor"),
        (1, -2, "monitor"),
        (2, 1, "keep_informed"),
        (1, 2, "keep_informed"),
        (None, 1, None),
        (4, None, None),
    ],
)
def test_each_rating_falls_in_its_quadrant(influence, support, expected) -> None:
    assert sm.quadrant(influence, support) == expected


@given(st.integers(1, 5), st.integers(-2, 2))
def test_the_quadrants_split_the_grid_on_influence_three_and_support_zero(influence: int, support: int) -> None:
    found = sm.quadrant(influence, support)
    assert (found in ("win_over", "keep_close")) == (influence >= 3)
    assert (found in ("keep_close", "keep_informed")) == (support > 0)


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(-2, 2), st.sampled_from(["active", "new", "left"])), max_size=12))
def test_every_present_rated_person_is_in_exactly_one_quadrant(ratings) -> None:
    people = [{"name": f"P{i}", "influence": a, "support": b, "status": s} for i, (a, b, s) in enumerate(ratings)]
    found = sm.quadrants(people)
    listed = [name for key in sm.QUADRANTS for name in found[key]]
    assert sorted(listed) == sorted(p["name"] for p in people if p["status"] != "left")
    assert found["not_rated"] == []


def test_the_example_customer_by_quadrant() -> None:
    assert sm.quadrants(HELIOS) == {
        "win_over": ["Martin Hale"],
        "keep_close": ["Grace Obi", "Priya Raman", "Tom Becker"],  # the most influential first
        "monitor": [],
        "keep_informed": ["Ravi Das"],
        "not_rated": [],  # our people are never asked to be rated
    }


# -- single thread, coverage, checks -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("influences", "single"),
    [
        ([5, 3, 2], True),  # exactly one with influence 4 or more
        ([4, 4, 2], False),
        ([3, 3], False),  # none: thin, but not single-threaded
        ([5], True),
    ],
)
def test_single_threaded_is_exactly_one_customer_contact_with_influence_four(influences, single) -> None:
    people = [{"name": f"P{i}", "influence": v} for i, v in enumerate(influences)]
    people.append({"name": "Ours", "side": "ours", "influence": 5})  # our side never counts
    people.append({"name": "Gone", "influence": 5, "status": "left"})  # nor someone who left
    assert sm.is_single_threaded(people) is single


def test_coverage_by_level_on_both_sides() -> None:
    assert sm.level_coverage(HELIOS) == {
        "operational": {"customer": ["Ravi Das"], "ours": ["Ines Duarte"]},
        "business": {"customer": ["Priya Raman", "Tom Becker"], "ours": ["Sam Okafor"]},
        "strategic": {"customer": ["Grace Obi", "Martin Hale"], "ours": []},
    }


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({}, {"active_sponsor": True, "active_champion": True, "levels_covered": True, "no_strong_opponent": True}),
        (
            {"Priya Raman": {"status": "left", "since": "2026-12-01"}},
            {"active_sponsor": False, "active_champion": True, "levels_covered": True, "no_strong_opponent": True},
        ),
        (
            {"Tom Becker": {"status": "new", "since": "2026-12-01"}},  # a new champion is in post
            {"active_sponsor": True, "active_champion": True, "levels_covered": True, "no_strong_opponent": True},
        ),
        (
            {"Ravi Das": {"level": "business"}},
            {"active_sponsor": True, "active_champion": True, "levels_covered": False, "no_strong_opponent": True},
        ),
        (
            {"Martin Hale": {"support": -1}},  # influence 4 and against
            {"active_sponsor": True, "active_champion": True, "levels_covered": True, "no_strong_opponent": False},
        ),
        (
            {"Tom Becker": {"support": -2}},  # influence 3 against: to win over, not a strong opponent
            {"active_sponsor": True, "active_champion": True, "levels_covered": True, "no_strong_opponent": True},
        ),
    ],
)
def test_the_four_relationship_checks(changed, expected) -> None:
    assert sm.relationship_checks(with_changes(**changed)) == expected


def test_a_sponsor_on_our_side_is_no_customer_sponsor() -> None:
    checks = sm.relationship_checks([{"name": "Sam", "side": "ours", "roles": ["sponsor", "champion"]}])
    assert checks["active_sponsor"] is False and checks["active_champion"] is False


# -- contacts --------------------------------------------------------------------------------------------------
def test_contacts_overdue_at_as_of() -> None:
    overdue = sm.overdue_contacts(HELIOS, as_of=AS_OF)
    # Martin Hale: 138 days > 92; Ravi Das 68 > 31; Priya and Tom 45 > 31; Grace Obi 48 <= 92 is on time.
    assert [(c.name, c.days, c.cadence_days) for c in overdue] == [
        ("Martin Hale", 138, 92),
        ("Ravi Das", 68, 31),
        ("Priya Raman", 45, 31),
        ("Tom Becker", 45, 31),
    ]


@pytest.mark.parametrize(("cadence", "days"), list(CADENCE_DAYS.items()))
def test_a_contact_is_overdue_from_the_day_after_its_cadence(cadence: str, days: int) -> None:
    person = [{"name": "X", "cadence": cadence, "last_contact": "2027-01-01"}]
    on_the_day = D(2027, 1, 1) + dt.timedelta(days=days)
    assert [c.overdue for c in sm.contact_status(person, as_of=on_the_day)] == [False]
    assert [c.overdue for c in sm.contact_status(person, as_of=on_the_day + dt.timedelta(days=1))] == [True]


def test_the_log_counts_as_contact_but_never_after_as_of() -> None:
    activities = [Activity("2026-12-10", "call", "Survey plan", people=["Tom Becker"])]
    moments = [
        MomentRecord("qbr", held="2026-12-15", attendees=["Martin Hale"]),
        MomentRecord("qbr", held="2027-01-05", attendees=["Ravi Das"]),  # after as_of: not known then
        MomentRecord("monthly", status="cancelled", held="2026-12-18", attendees=["Priya Raman"]),
    ]
    logged = sm.logged_contacts(activities, moments, as_of=AS_OF)
    assert logged == {"Tom Becker": D(2026, 12, 10), "Martin Hale": D(2026, 12, 15)}
    found = {c.name: c for c in sm.contact_status(HELIOS, as_of=AS_OF, logged=logged)}
    assert (found["Tom Becker"].days, found["Tom Becker"].source, found["Tom Becker"].overdue) == (11, "log", False)
    assert (found["Martin Hale"].days, found["Martin Hale"].overdue) == (6, False)
    assert (found["Priya Raman"].days, found["Priya Raman"].source) == (45, "last_contact")


def test_no_contact_on_record_is_overdue_and_a_future_one_is_not_known() -> None:
    people = [
        {"name": "New", "cadence": "weekly", "status": "new", "since": "2026-12-01"},
        {"name": "Later", "cadence": "monthly", "last_contact": "2027-02-01"},
        {"name": "Gone", "cadence": "weekly", "status": "left", "since": "2026-12-01"},  # not chased
        {"name": "Free", "last_contact": "2020-01-01"},  # no cadence: never overdue
    ]
    found = sm.overdue_contacts(people, as_of=AS_OF)
    assert [(c.name, c.days, c.last, c.source) for c in found] == [("New", None, None, None), ("Later", None, None, None)]


# -- changes and the sponsor-change event ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("since", "listed"),
    [("2026-12-21", True), ("2026-09-22", True), ("2026-09-21", False), ("2026-12-22", False)],
)
def test_changes_are_the_last_ninety_days(since: str, listed: bool) -> None:
    # 2026-09-22 is 90 days before 21 December: in; 91 days is out; a date after as_of has not happened yet.
    found = sm.changes([{"name": "Ana", "status": "new", "since": since}], as_of=AS_OF)
    assert bool(found) is listed


def test_a_sponsor_or_champion_who_left_raises_a_sponsor_change_event() -> None:
    people = with_changes(
        **{
            "Priya Raman": {"status": "left", "since": "2026-12-01"},
            "Tom Becker": {"status": "left", "since": "2026-11-20"},
            "Ravi Das": {"status": "left", "since": "2026-11-01"},  # a user: no sponsor change
        }
    )
    people.append({"name": "Ana Silva", "roles": ["sponsor"], "status": "new", "since": "2026-12-10"})
    people.append({"name": "Undated", "roles": ["champion"], "status": "left"})  # cannot be dated: none
    people.append({"name": "Dana", "side": "ours", "roles": ["sponsor"], "status": "left", "since": "2026-12-02"})
    assert sm.sponsor_change_events(people) == [
        Event("2026-11-20", "sponsor_change", respondent="Tom Becker", note="champion left"),
        Event("2026-12-01", "sponsor_change", respondent="Priya Raman", note="executive sponsor left"),
    ]
    assert [(c.name, c.status, c.days) for c in sm.changes(people, as_of=AS_OF)] == [
        ("Ana Silva", "new", 11),
        ("Dana", "left", 19),
        ("Priya Raman", "left", 20),
        ("Tom Becker", "left", 31),
        ("Ravi Das", "left", 50),
    ]


# -- the org tree, the room, objectives ------------------------------------------------------------------------
def test_the_org_tree_follows_reports_to() -> None:
    trees = sm.org_tree(HELIOS)
    assert [t.names() for t in trees] == [
        ["Tom Becker"],
        ["Grace Obi", "Priya Raman", "Ravi Das"],
        ["Martin Hale"],
        ["Sam Okafor"],
        ["Ines Duarte"],
    ]


@given(st.lists(st.integers(0, 7), min_size=1, max_size=8))
def test_the_org_tree_holds_everyone_once_even_with_a_loop(bosses) -> None:
    people = [{"name": f"P{i}", "reports_to": f"P{b}"} for i, b in enumerate(bosses)]
    found = [n for t in sm.org_tree(people) for n in t.names()]
    assert sorted(found) == sorted(p["name"] for p in people)


@pytest.mark.parametrize(
    ("topic", "people"),
    [
        ("surveys", ["Tom Becker", "Ravi Das"]),  # Ravi wrote "Surveys": case does not matter
        ("survey", ["Tom Becker", "Ravi Das"]),
        ("  Works   Council ", ["Tom Becker"]),
        ("rotas", ["Ravi Das"]),
        ("pricing", []),
        ("", []),
    ],
)
def test_who_should_be_in_the_room(topic: str, people: list[str]) -> None:
    assert sm.who_should_be_in_the_room(HELIOS, topic) == people


def test_topics_and_objectives_side_by_side() -> None:
    assert sm.topics(HELIOS) == {
        "surveys": ["Tom Becker", "Ravi Das"],
        "works council": ["Tom Becker"],
        "rotas": ["Ravi Das"],
    }
    assert [p.name for p in sm.objectives_side_by_side(HELIOS)] == ["Priya Raman", "Tom Becker"]


# -- actions ---------------------------------------------------------------------------------------------------------
def test_the_actions_for_the_example_customer() -> None:
    texts = [a.text for a in sm.relationship_actions(HELIOS, as_of=AS_OF)]
    assert texts == [
        "Win over Martin Hale: influence 4 of 5, neutral (support 0).",
        "Name our counterpart at the strategic level: no one on our side meets Grace Obi, Martin Hale.",
        "Re-engage Martin Hale: no contact for 138 days, quarterly cadence.",
        "Re-engage Ravi Das: no contact for 68 days, monthly cadence.",
        "Re-engage Priya Raman: no contact for 45 days, monthly cadence.",
        "Re-engage Tom Becker: no contact for 45 days, monthly cadence.",
    ]


def test_a_lost_sponsor_and_a_thin_relationship_come_first() -> None:
    people = with_changes(
        **{
            "Priya Raman": {"status": "left", "since": "2026-12-01"},
            "Martin Hale": {"influence": 3},
            "Ravi Das": {"status": "new", "since": "2026-12-10", "cadence": None, "last_contact": None},
        }
    )
    kinds = [(a.kind, a.who) for a in sm.relationship_actions(people, as_of=AS_OF)]
    assert kinds[:3] == [("find_sponsor", "Priya Raman"), ("win_over", "Martin Hale"), ("single_threaded", "Grace Obi")]
    assert ("new_stakeholder", "Ravi Das") in kinds
    texts = [a.text for a in sm.relationship_actions(people, as_of=AS_OF)]
    assert "Find a new sponsor: Priya Raman left on 1 Dec 2026." in texts
    assert "Widen the relationship: Grace Obi is the only customer contact with influence 4 or more." in texts
    assert "Get to know Ravi Das: new since 10 Dec 2026." in texts


def test_nobody_named_sponsor_or_champion_and_no_levels() -> None:
    texts = [a.text for a in sm.relationship_actions([{"name": "Ana"}], as_of=AS_OF)]
    assert texts == [
        "Find a sponsor: no one at the customer is named sponsor yet.",
        "Find a champion: no one at the customer is named champion yet.",
        "Note each customer contact's level (operational, business, strategic): none is set.",
    ]


# -- bad input: one line naming file, line and key; the store unchanged -----------------------------------------
@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("stakeholders-seed") / "seed.sqlite"
    assert cli.main(["--db", str(db), "import", str(ROOT / "examples" / "employee-engagement.yaml")]) == 0
    return db


def sql_dump(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("fixture", "fragments"),
    [
        ("stakeholder_influence_6.yaml", ("line 6", "stakeholders[1].influence", "expected at most 5, got 6")),
        ("stakeholder_support_3.yaml", ("line 5", "stakeholders[0].support", "expected at least -2, got -3")),
        (
            "stakeholder_unknown_role.yaml",
            ("line 8", "stakeholders[1].roles[1]", "'cheerleader'", "sponsor, champion, decision_maker"),
        ),
        ("stakeholder_cadence.yaml", ("line 5", "stakeholders[0].cadence", "weekly, monthly, quarterly", "'fortnightly'")),
        ("stakeholder_last_contact.yaml", ("line 5", "stakeholders[0].last_contact", "2026-11-31", "YYYY-MM-DD")),
        (
            "stakeholder_reports_to_unknown.yaml",
            ("line 6", "stakeholders[1].reports_to", "'Priya Raman' is not the name of any stakeholder", "Grace Obi"),
        ),
        (
            "stakeholder_reports_to_loop.yaml",
            ("line 5", "stakeholders[0].reports_to", "loop: Grace Obi -> Priya Raman -> Ravi Das -> Grace Obi"),
        ),
    ],
)
def test_a_bad_stakeholder_is_refused_in_one_line_and_the_store_is_unchanged(
    fixture: str, fragments: tuple[str, ...], seed_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "store.sqlite"
    with sqlite3.connect(seed_store) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    source = tmp_path / fixture
    source.write_bytes((BAD / fixture).read_bytes())
    before, dump = db.read_bytes(), sql_dump(db)
    capsys.readouterr()
    assert cli.main(["--db", str(db), "import", str(source)]) == 1
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {source}, "), err
    assert "Traceback" not in err and out == ""
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert db.read_bytes() == before and sql_dump(db) == dump
