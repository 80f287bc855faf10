"""The stakeholder map page (csm_nb.pages.stakeholder_map) on engagements built in the test: its results,
what the report says, text from people escaped, the grid chart laid out for print, the page contract,
and the engagement brief's list of stakeholders (names, jobs, roles, levels; never a rating)."""

from __future__ import annotations

import datetime as dt

import pytest
from reading import plain
from test_chart_layout import layout_problems
from test_stakeholders import AS_OF, HELIOS, with_changes

from csm_nb.data.questions import load_bank
from csm_nb.errors import CsmError
from csm_nb.model import Activity, Engagement
from csm_nb.pages import stakeholder_map as page_mod
from csm_nb.pages.engagement_brief import EngagementBriefPage
from csm_nb.render.charts import keep_figures
from csm_nb.render.grid import GridPoint, influence_support_grid, quadrant_of

PARTS = ("headline", "headline_figures", "actions", "grid", "coverage", "contacts", "changes", "org_chart", "objectives", "room")


def engagement(people: list[dict], **extra) -> Engagement:
    return Engagement("helios", "Helios Care Services", stakeholders=people, **extra)


def render(page) -> str:
    return plain("".join(str(getattr(page, p)()) for p in PARTS))


def test_the_example_customer_through_the_page() -> None:
    page = page_mod.page_for(engagement(HELIOS), as_of=AS_OF, topic="surveys")
    results = page.results()
    assert results["workbook"] == "stakeholder_map" and results["audience"] == "internal"
    assert results["counts"] | {"by_quadrant": None, "by_level": None} == {
        "stakeholders": 7,
        "present": 7,
        "customer": 5,
        "ours": 2,
        "partner": 0,
        "rated": 5,
        "left": 0,
        "new": 0,
        "by_quadrant": None,
        "by_level": None,
    }
    assert results["counts"]["by_level"]["strategic"] == {"customer": 2, "ours": 0}
    assert results["quadrants"]["win_over"] == ["Martin Hale"]
    assert results["single_threaded"] is False and results["strong_contacts"] == ["Priya Raman", "Grace Obi", "Martin Hale"]
    assert results["relationship_checks"] == {
        "active_sponsor": True,
        "active_champion": True,
        "levels_covered": True,
        "no_strong_opponent": True,
    }
    assert [(c["name"], c["days"]) for c in results["overdue"]] == [
        ("Martin Hale", 138),
        ("Ravi Das", 68),
        ("Priya Raman", 45),
        ("Tom Becker", 45),
    ]
    assert results["room"] == {"topic": "surveys", "people": ["Tom Becker", "Ravi Das"]}
    assert results["org_tree"][1] == {
        "name": "Grace Obi",
        "reports": [{"name": "Priya Raman", "reports": [{"name": "Ravi Das", "reports": []}]}],
    }
    assert results["actions"][-1] == {
        "kind": "overdue_contact",
        "who": "Tom Becker",
        "text": "Re-engage Tom Becker: no contact for 45 days, monthly cadence.",
    }
    html = render(page)
    assert "6 actions to take." in html and "Relationship checks: 4 of 4 met. 4 contacts overdue." in html
    assert "Re-engage Tom Becker: no contact for 45 days, monthly cadence." in html
    assert "overdue by 14 days" in html  # 45 days against a monthly cadence of 31
    assert "For surveys:" in html and "Tom Becker, Ravi Das." in html
    assert "Where each stakeholder stands, 21 Dec 2026" in html


def test_a_sponsor_who_left_is_a_change_an_event_and_the_first_action() -> None:
    people = with_changes(**{"Priya Raman": {"status": "left", "since": "2026-12-01"}})
    page = page_mod.page_for(engagement(people), as_of=AS_OF)
    results = page.results()
    assert results["changes"] == [
        {
            "name": "Priya Raman",
            "status": "left",
            "since": "2026-12-01",
            "days_ago": 20,
            "roles": ["sponsor"],
            "side": "customer",
        }
    ]
    assert results["sponsor_change_events"] == [
        {"date": "2026-12-01", "type": "sponsor_change", "respondent": "Priya Raman", "note": "executive sponsor left"}
    ]
    assert results["actions"][0]["text"] == "Find a new sponsor: Priya Raman left on 1 Dec 2026."
    assert results["relationship_checks"]["active_sponsor"] is False
    assert "Priya Raman" not in results["quadrants"]["keep_close"]  # no longer on the grid
    html = render(page)
    assert "Sponsor changes for the engagement plan" in html and "has left since 1 Dec 2026" in html


def test_a_contact_logged_in_an_activity_is_not_overdue() -> None:
    page = page_mod.page_for(
        engagement(HELIOS, activities=[Activity("2026-12-14", "call", "Survey plan", people=["Tom Becker"])]), as_of=AS_OF
    )
    found = {c["name"]: c for c in page.results()["contacts"]}
    assert found["Tom Becker"] | {"cadence_days": None} == {
        "name": "Tom Becker",
        "cadence": "monthly",
        "cadence_days": None,
        "last_contact": "2026-12-14",
        "days": 7,
        "overdue": False,
        "source": "log",
    }


def test_as_of_decides_what_is_overdue_never_the_clock() -> None:
    early = page_mod.page_for(engagement(HELIOS), as_of=dt.date(2026, 11, 20)).results()
    # Martin Hale 107 days > 92, Ravi Das 37 > 31; Priya and Tom, 14 days, were on time then.
    assert [(c["name"], c["days"]) for c in early["overdue"]] == [("Martin Hale", 107), ("Ravi Das", 37)]


def test_text_from_people_is_escaped() -> None:
    people = [
        {"name": "<script>alert(1)</script>", "role": "Head & <b>boss</b>", "roles": ["sponsor"], "influence": 4, "support": 1},
        {"name": "Tom", "objectives": ["<img src=x onerror=alert(2)>"], "knows_about": ["<i>rotas</i>"]},
    ]
    html = render(page_mod.page_for(engagement(people), as_of=AS_OF, topic="<i>rotas</i>"))
    assert "<script>" not in html and "<img" not in html and "<b>boss</b>" not in html and "<i>rotas" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html


def test_without_stakeholders_there_is_nothing_to_map() -> None:
    e = engagement([])
    assert not page_mod.applies(e) and page_mod.applies(engagement(HELIOS))
    page = page_mod.page_for(e, as_of=AS_OF)
    html = render(page)
    assert "No one to map yet." in html and "Influence and support" not in html
    results = page.results()
    assert results["counts"]["present"] == 0 and results["actions"] == [] and results["single_threaded"] is False


def test_the_index_headline_from_the_results_alone() -> None:
    results = page_mod.page_for(engagement(HELIOS), as_of=AS_OF).results()
    headline = page_mod.StakeholderMapPage.index_headline(results)
    assert headline.summary == "7 stakeholders; relationship checks 4 of 4 met; 4 contacts overdue; 6 actions."
    assert headline.figures["win_over"] == 1 and headline.figures["single_threaded"] is False
    assert page_mod.StakeholderMapPage.index_headline({}).summary == ""


@pytest.mark.parametrize(("option", "value"), [("topic", 5), ("topic", ["surveys"])])
def test_bad_options_are_one_line(option: str, value: object) -> None:
    with pytest.raises(CsmError, match=f"parameter {option}: expected"):
        page_mod.page_for(engagement(HELIOS), as_of=AS_OF, **{option: value})


def test_a_bad_as_of_is_one_line(tmp_path) -> None:
    with pytest.raises(CsmError, match="parameter as_of: expected a date"):
        page_mod.open_page("helios", db=str(tmp_path / "none.sqlite"), as_of="21/12/2026")


# -- the grid chart ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "points",
    [
        [GridPoint(p["name"], p["influence"], p["support"]) for p in HELIOS if "influence" in p],
        # A crowded cell, long and hyphenated names, a new one: the cell grows, nothing overlaps.
        [GridPoint(f"Stakeholder number {i}", 4, 2) for i in range(6)]
        + [GridPoint("Marta Lindqvist-Johansson-Berg", 1, -2, new=True), GridPoint("Supercalifragilisticexpialidocious", 3, 0)],
        [],
    ],
    ids=["helios", "crowded", "empty"],
)
def test_the_grid_reads_on_a4(points) -> None:
    with keep_figures() as kept:
        chart = influence_support_grid(title="Where each stakeholder stands", points=points, caption="c")
    (svg, fig), *_ = kept
    assert layout_problems(svg, fig) == []
    assert svg.svg.count('class="dot"') == len(points)
    for p in points:  # every name is there, wrapped or whole
        assert all(part in svg.svg for part in p.name.split()[:1])
    assert "<script" not in svg.svg and chart.svg.startswith("<svg")


@pytest.mark.parametrize(
    ("influence", "support", "name"), [(3, 0, "Win over"), (5, 2, "Keep close"), (2, -1, "Monitor"), (1, 1, "Keep informed")]
)
def test_the_grid_names_the_quadrants_as_the_rule_does(influence: int, support: int, name: str) -> None:
    from csm_nb.method.stakeholders import QUADRANTS, quadrant

    assert quadrant_of(influence, support) == name
    assert QUADRANTS[quadrant(influence, support)].words.capitalize() == name


def test_the_same_grid_gives_the_same_bytes() -> None:
    points = [GridPoint("Grace Obi", 5, 1), GridPoint("Lena Holm", 4, -1, new=True)]
    assert influence_support_grid(title="t", points=points).svg == influence_support_grid(title="t", points=points).svg


# -- the engagement brief lists the stakeholders, never their ratings ---------------------------------------------------
MARKER = "OBJECTIVE-MARKER-5521"


def test_the_brief_lists_names_jobs_roles_and_levels_only() -> None:
    people = with_changes(
        **{
            "Tom Becker": {"objectives": [MARKER], "contributes": MARKER, "notes": MARKER},
            "Martin Hale": {"status": "left", "since": "2026-12-01"},
        }
    )
    e = engagement(people, initiative={"name": "Phase One"})
    brief = EngagementBriefPage(e, load_bank("engagement_brief"), interactive=False)
    html = plain(str(brief.initiative()))
    assert "Who is who" in html and "At the customer" in html and "Our team" in html
    assert "Tom Becker" in html and "HR Business Partner" in html and "champion" in html and "business" in html
    assert "Ines Duarte" in html and "Survey designer" in html
    assert "Martin Hale" not in html  # has left
    assert MARKER not in html and "nfluence" not in html and "upport" not in html and "advocate" not in html
    listed = brief.stakeholders()
    assert listed[0] == {
        "name": "Priya Raman",
        "role": "Service Performance Lead",
        "roles": ["sponsor"],
        "level": "business",
        "side": "customer",
    }
    assert all(set(p) <= {"name", "role", "roles", "level", "side", "function"} for p in listed)
    assert listed[-1]["function"] == "consulting" and "consulting" in html  # our people: their function
