"""Customer jobs through a real run: the contract's acceptance numbers ((9, 4) -> 14 under-served;
(6, 8) -> 6 over-served; (8, 8) -> 8; 70 of 100 interactions with other parties -> 70 %) read from the
results file of ``csm-nb run customer_jobs`` on the fixture, and the report it writes (customer-safe,
the ranking chart, the job map, the warnings)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from csm_nb import cli
from csm_nb.run.service import import_engagements
from csm_nb.vocabulary import percent

pytestmark = pytest.mark.slow

EID = "helios-jobs"
FIXTURE = Path(__file__).parent / "fixtures" / "customer_jobs" / "helios-jobs.yaml"
FORBIDDEN = ("Account health", "health score", "Readiness", "readiness", "Influence", "influence", "Win over")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture imported and its customer jobs run from the command line at 2027-04-05: the report folder."""
    base = tmp_path_factory.mktemp("customer-jobs-run")
    db = base / "store.sqlite"
    import_engagements([FIXTURE], db=db)
    code = cli.main(
        ["run", "customer_jobs", "--engagement", EID, "--as-of", "2027-04-05", "--db", str(db), "--out", str(base / "out")]
    )
    assert code == 0
    return base / "out" / EID


def test_the_acceptance_numbers_from_the_results_file(run: Path) -> None:
    results = json.loads((run / "customer_jobs.json").read_text(encoding="utf-8"))
    assert (results["workbook"], results["engagement"], results["as_of"], results["audience"]) == (
        "customer_jobs",
        EID,
        "2027-04-05",
        "customer",
    )
    found = {o["id"]: (o["importance"], o["satisfaction"], o["opportunity"], o["label"]) for o in results["desired_outcomes"]}
    assert found["plan-time"] == (9, 4, 14, "under_served")
    assert found["missed-visits"] == (6, 8, 6, "over_served")
    assert found["route-changes"] == (8, 8, 8, "served")
    assert results["interactions"] == {"customer": 20, "us": 10, "other": 70}
    assert percent(results["other_share"], decimals=0) == "70 %"
    assert results["ranking"] == ["plan-time", "route-changes", "missed-visits"]
    assert (results["under_served"], results["over_served"]) == (["plan-time"], ["missed-visits"])
    assert [j["id"] for j in results["jobs"]] == ["serve-clients", "read-results"]
    assert len(results["warnings"]) == 3


def test_the_report_shows_the_map_and_stays_customer_safe(run: Path) -> None:
    report = (run / "customer_jobs.html").read_text(encoding="utf-8")
    visible = re.sub(r"<(style|script)\b.*?</\1>", " ", report, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", visible)).replace("\u00a0", " ").replace("\u2060", "")
    assert "Opportunity by desired outcome" in report and report.count("<svg") >= 1
    assert "The job map" in text and "Steps mostly with other parties" in text
    assert "70 of 100 interactions (70 %) are with other parties" in text
    assert "strip the solution out" in text
    assert "Internal: not for the customer" not in report
    for word in FORBIDDEN:
        assert word not in text
