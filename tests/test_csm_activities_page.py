"""The CSM activities page (csm_nb.pages.csm_activities) on the relationship fixture: per mission, by
exchange level, time against the renewal base, held moments counted as activities, the note that the
missions' totals exceed the activities, and the same figures through a real run."""

from __future__ import annotations

import datetime as dt
import html as html_text
import json
import re
from pathlib import Path

import pytest
from reading import plain

from csm_nb import cli
from csm_nb.data.engagement import read_engagement
from csm_nb.model import Activity, Contract, Engagement, MomentRecord
from csm_nb.pages import csm_activities as page_mod

FIXTURES = Path(__file__).parent / "fixtures" / "renewal"
AS_OF = dt.date(2027, 4, 5)
PARTS = ("headline", "headline_figures", "missions", "exchange_levels", "time_spent", "log")


def helios() -> Engagement:
    return read_engagement(FIXTURES / "helios-renewal.yaml")


def read(markup: object) -> str:
    return plain(html_text.unescape(str(markup)))


def render(page: page_mod.CsmActivitiesPage) -> str:
    return read("".join(str(getattr(page, p)()) for p in PARTS))


def test_the_relationship_fixture_per_mission_level_and_time() -> None:
    page = page_mod.page_for(helios(), as_of=AS_OF)
    results = page.results()
    # Four activities in the 90 days; the QBR held on 1 April is the logged QBR (counted once); the kick-off
    # and the welcome pack are older.
    assert (results["activities"], results["activities_all"], results["from_moments"]) == (4, 6, 0)
    assert {m: c["activities"] for m, c in results["missions"].items()} == {
        "reduce_risk": 1,
        "develop_business": 1,
        "focus_on_value": 1,
        "manage_goals": 1,
        "mutual_profitability": 1,
        "satisfaction": 0,
        "understand_customer": 1,
        "build_relationships": 2,
    }
    assert results["mission_serves"] == 8 and results["flagged"] == ["satisfaction"]
    assert results["missions"]["build_relationships"] == {
        "activities": 2,
        "minutes": 150.0,
        "last": "2027-04-01",
        "flagged": False,
    }
    assert results["missions"]["satisfaction"] == {"activities": 0, "minutes": 0.0, "last": None, "flagged": True}
    assert results["levels"] == {"operational": 1, "business": 2, "strategic": 2, "not_known": 0}
    assert results["minutes"] == 300.0 and results["renewal_base"] == 180000.0
    assert round(results["minutes_per_month"], 2) == 101.46 and round(results["minutes_per_10k"], 2) == 5.64
    html = render(page)
    assert "1 mission without activity." in html and "No activity for: keep the customer satisfied." in html
    assert (
        "One activity may serve several missions: the 4 activities of the last 90 days count 8 times across the missions, "
        "so the missions' totals add up to more than the activities." in html
    )
    assert "5.6" in html and "1 h 41 min a month over the last 90 days, for a renewal base of $180,000" in html


def test_the_chart_is_a_bar_for_each_mission_with_every_name_shown() -> None:
    chart = str(page_mod.page_for(helios(), as_of=AS_OF).missions())
    assert chart.count('class="bar"') == 8 and "to-come" not in chart  # satisfaction: a zero bar, a known zero
    names = re.sub(r"<[^>]+>", " ", chart)
    for label in page_mod.MISSION_LABELS.values():
        assert all(word in names for word in label.split()), label


def test_held_moments_alone_make_the_workbook_apply_and_count_as_meetings() -> None:
    e = Engagement(
        "acme",
        "Acme",
        contract=Contract(signed="2027-01-04", start="2027-01-04", end="2027-12-31"),
        stakeholders=[{"name": "Ana Silva", "level": "strategic"}],
        moments=[
            MomentRecord("kickoff", held="2027-01-12", attendees=["Ana Silva"]),
            MomentRecord("qbr", due="2027-04-04", held="2027-04-04", status="cancelled"),
        ],
    )
    assert page_mod.applies(e)
    results = page_mod.page_for(e, as_of=AS_OF).results()
    assert (results["activities"], results["from_moments"], results["minutes"]) == (1, 1, None)
    assert results["log"][0]["title"] == "kickoff" and results["levels"]["strategic"] == 1
    assert [m for m, c in results["missions"].items() if not c["flagged"]] == ["manage_goals", "build_relationships"]
    assert results["missions"]["manage_goals"]["minutes"] is None  # held, but no minutes logged: not zero
    html = render(page_mod.page_for(e, as_of=AS_OF))
    assert "no minutes logged" in html and "meeting (moment held)" in html


def test_nothing_logged_nothing_to_show() -> None:
    e = Engagement("acme", "Acme", moments=[MomentRecord("qbr", due="2027-04-01", status="no_show")])
    assert not page_mod.applies(e)
    assert "Nothing logged yet." in render(page_mod.page_for(e, as_of=AS_OF))


def test_activities_after_as_of_do_not_count_and_text_is_escaped() -> None:
    e = helios()
    e.activities = [
        *e.activities,
        Activity("2027-04-20", "call", "Later", ["satisfaction"], minutes=20),
        Activity("2027-04-02", "email", "<b>Follow-up</b>", ["satisfaction"], ["<i>Ana</i>"]),
    ]
    page = page_mod.page_for(e, as_of=AS_OF)
    assert page.results()["activities"] == 5 and page.results()["flagged"] == []
    log = str(page.log())
    assert "<b>Follow-up</b>" not in log and "&lt;b&gt;Follow-up&lt;/b&gt;" in log and "&lt;i&gt;Ana&lt;/i&gt;" in log


def test_the_index_headline_comes_from_the_results_alone() -> None:
    results = page_mod.page_for(helios(), as_of=AS_OF).results()
    headline = page_mod.CsmActivitiesPage.index_headline(results)
    assert headline.figures["activities_90_days"] == 4 and headline.figures["missions_without_activity"] == 1
    assert headline.summary == "4 activities in the last 90 days; 1 mission without any."
    assert "activities_90_days" not in page_mod.CsmActivitiesPage.index_headline({}).figures


@pytest.mark.slow
def test_the_same_figures_through_a_real_run(tmp_path: Path) -> None:
    db, out = tmp_path / "store.sqlite", tmp_path / "out"
    assert cli.main(["--db", str(db), "import", str(FIXTURES / "helios-renewal.yaml")]) == 0
    code = cli.main(
        ["--db", str(db), "run", "csm_activities", "--engagement", "helios-renewal", "--as-of", "2027-04-05", "--out", str(out)]
    )
    assert code == 0
    results = json.loads((out / "helios-renewal" / "csm_activities.json").read_text(encoding="utf-8"))
    assert (results["audience"], results["as_of"], results["activities"], results["mission_serves"]) == (
        "internal",
        "2027-04-05",
        4,
        8,
    )
    assert results["flagged"] == ["satisfaction"] and round(results["minutes_per_10k"], 2) == 5.64
    html = (out / "helios-renewal" / "csm_activities.html").read_text(encoding="utf-8")
    assert "Internal: not for the customer" in html and "Minutes by mission, last 90 days" in html
