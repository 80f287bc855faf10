"""Renewal preparation through real runs: the contract's acceptance numbers (docs/renewal-prep.md) read from
the results file of ``csm-nb run renewal_prep`` on the employee-engagement fixture with its contract, and
the relationship fixture's readiness and the index headline from its results file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csm_nb import cli
from csm_nb.pages.renewal_prep import RenewalPrepPage

FIXTURES = Path(__file__).parent / "fixtures" / "renewal"
AS_OF = "2027-04-05"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Both fixtures imported into a fresh store and run headless at 5 April 2027; their results by engagement id."""
    base = tmp_path_factory.mktemp("renewal-runs")
    db, out = base / "store.sqlite", base / "out"
    files = [str(FIXTURES / "employee-engagement.yaml"), str(FIXTURES / "helios-renewal.yaml")]
    assert cli.main(["--db", str(db), "import", *files]) == 0
    found = {}
    for eid in ("employee-engagement", "helios-renewal"):
        code = cli.main(["--db", str(db), "run", "renewal_prep", "--engagement", eid, "--as-of", AS_OF, "--out", str(out)])
        assert code == 0
        found[eid] = json.loads((out / eid / "renewal_prep.json").read_text(encoding="utf-8"))
        found[eid]["_html"] = (out / eid / "renewal_prep.html").read_text(encoding="utf-8")
    return found


@pytest.mark.slow
def test_the_acceptance_numbers_from_the_results_file(runs: dict[str, dict]) -> None:
    results = runs["employee-engagement"]
    assert (results["workbook"], results["as_of"], results["audience"]) == ("renewal_prep", AS_OF, "internal")
    assert (results["renewal_date"], results["days_to_renewal"]) == ("2027-12-31", 270)
    assert (results["notice_deadline"], results["days_to_notice"]) == ("2027-10-02", 180)
    assert (results["renewal_base"], results["expansion_pipeline"]) == (180000.0, 60000.0)
    assert results["renewable_total"] == 240000.0  # the brief's renewable figure
    assert results["readiness_met"] == 3 and [c["key"] for c in results["checks"] if c["met"]] == [
        "no_open_high_risk",
        "notice_not_passed",
        "commitments_settled",
    ]


@pytest.mark.slow
def test_the_relationship_fixture_and_its_index_headline_from_the_results_file(runs: dict[str, dict]) -> None:
    results = runs["helios-renewal"]
    assert (results["readiness_met"], results["readiness"]) == (4, 0.5)
    assert [c["key"] for c in results["checks"] if not c["met"]] == [
        "value_documented",
        "health",
        "no_open_high_risk",
        "commitments_settled",
    ]
    assert results["ttr"]["days"] == 99 and results["ttr"]["status"] == "late"
    headline = RenewalPrepPage.index_headline(results)
    assert (headline.figures["days_to_renewal"], headline.figures["readiness"]) == (270, 0.5)
    html = results["_html"]
    assert "Internal: not for the customer" in html and 'data-audience="customer"' in html
    assert "Readiness checklist" in html and "Renewal value summary for Helios Care Services" in html
