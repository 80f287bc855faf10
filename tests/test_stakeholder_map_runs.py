"""The stakeholder map through real runs (``csm-nb run``, papermill and nbconvert): the acceptance numbers
read from the results file of the Helios fixture at 21 December 2026, the internal band on the report,
and the engagement brief of the same engagement listing its people without a rating or an objective."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from reading import plain

from csm_nb import cli

FIXTURE = Path(__file__).parent / "fixtures" / "stakeholder_map" / "helios.yaml"
EID = "helios-stakeholders"
BAND = "Internal: not for the customer"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("stakeholder-runs")
    db, out = base / "store.sqlite", base / "runs"
    assert cli.main(["--db", str(db), "import", str(FIXTURE)]) == 0
    common = ["--engagement", EID, "--as-of", "2026-12-21", "--out", str(out)]
    assert cli.main(["--db", str(db), "run", "stakeholder_map", *common, "-p", "topic", "works council"]) == 0
    assert cli.main(["--db", str(db), "run", "engagement_brief", *common]) == 0
    return out / EID


@pytest.fixture(scope="module")
def results(runs: Path) -> dict:
    return json.loads((runs / "stakeholder_map.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_the_acceptance_numbers_from_the_results_file(results: dict) -> None:
    assert (results["as_of"], results["audience"], results["engagement"]) == ("2026-12-21", "internal", EID)
    counts = results["counts"]
    assert (counts["stakeholders"], counts["present"], counts["customer"], counts["ours"], counts["left"], counts["new"]) == (
        9,
        8,
        6,
        2,
        1,
        1,
    )
    assert results["quadrants"] == {
        "win_over": ["Martin Hale", "Kai Brenner"],
        "keep_close": ["Grace Obi", "Priya Raman", "Tom Becker"],
        "monitor": [],
        "keep_informed": ["Ravi Das"],
        "not_rated": [],
    }
    assert results["coverage"]["strategic"] == {"customer": ["Grace Obi", "Martin Hale"], "ours": []}
    assert results["single_threaded"] is False
    assert results["relationship_checks"] == {
        "active_sponsor": True,
        "active_champion": True,  # Tom Becker, after Olga Weiss left
        "levels_covered": True,
        "no_strong_opponent": False,  # Kai Brenner: influence 4, support -1
    }
    # Tom Becker: 6 November to 21 December is 45 days, over a monthly cadence's 31; Ravi Das, new, never met;
    # Martin Hale's last noted contact is 138 days old, but the meeting logged on 2 December counts.
    assert [(c["name"], c["days"]) for c in results["overdue"]] == [("Ravi Das", None), ("Tom Becker", 45)]
    martin = next(c for c in results["contacts"] if c["name"] == "Martin Hale")
    assert (martin["last_contact"], martin["days"], martin["source"], martin["overdue"]) == ("2026-12-02", 19, "log", False)
    assert [(c["name"], c["status"], c["days_ago"]) for c in results["changes"]] == [
        ("Ravi Das", "new", 21),
        ("Olga Weiss", "left", 67),
    ]
    assert results["sponsor_change_events"] == [
        {"date": "2026-10-15", "type": "sponsor_change", "respondent": "Olga Weiss", "note": "champion left"}
    ]
    assert results["room"] == {"topic": "works council", "people": ["Kai Brenner", "Tom Becker"]}
    assert [a["text"] for a in results["actions"]] == [
        "Win over Martin Hale: influence 4 of 5, neutral (support 0).",
        "Win over Kai Brenner: influence 4 of 5, sceptical (support -1).",
        "Name our counterpart at the strategic level: no one on our side meets Grace Obi, Martin Hale.",
        "Contact Ravi Das: no contact on record, monthly cadence.",
        "Re-engage Tom Becker: no contact for 45 days, monthly cadence.",
        "Get to know Ravi Das: new since 30 Nov 2026.",
    ]


@pytest.mark.slow
def test_the_report_is_internal_and_shows_the_map(runs: Path, results: dict) -> None:
    html = plain((runs / "stakeholder_map.html").read_text(encoding="utf-8"))
    assert html.index(BAND) < html.index('<header class="report-header">')
    assert "6 actions to take." in html and "Re-engage Tom Becker: no contact for 45 days, monthly cadence." in html
    assert html.count("<svg") >= 1 and "Where each stakeholder stands, 21 Dec 2026" in html
    assert "For works council:" in html and "OBJ-MARKER-KAI" in html  # internal: objectives are shown here
    assert "page.workshop()" not in html  # the form's cell is left out of the report


@pytest.mark.slow
def test_the_brief_lists_the_people_and_nothing_internal(runs: Path) -> None:
    html = plain((runs / "engagement_brief.html").read_text(encoding="utf-8"))
    assert "Who is who" in html and BAND not in html
    for text in ("Tom Becker", "HR Business Partner", "Works council chair", "Ravi Das", "Team leader", "Survey designer"):
        assert text in html, text
    assert "Olga Weiss" not in html  # she has left
    assert "OBJ-MARKER" not in html and "data protection" not in html  # objectives, contributions, topics
    assert not re.search(r"(?i)influence\b|support [+-]?\d|\b(advocate|sceptical|win over|keep close)\b", html)
    listed = json.loads((runs / "engagement_brief.json").read_text(encoding="utf-8"))["stakeholders"]
    assert [p["name"] for p in listed] == [
        "Priya Raman",
        "Tom Becker",
        "Grace Obi",
        "Martin Hale",
        "Kai Brenner",
        "Ravi Das",
        "Sam Okafor",
        "Ines Duarte",
    ]
    assert "OBJ-MARKER" not in json.dumps(listed)
