"""The success plan through real runs: the contract's acceptance numbers read from the results file of
``csm-nb run success_plan`` on the fixture at 5 April 2027, the report it writes (customer-safe, two
charts), and the same workbook judged at another date through ``run_workbook``."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from csm_nb import cli
from csm_nb.run.engine import run_workbook
from csm_nb.run.service import import_engagements

pytestmark = pytest.mark.slow

EID = "helios-success-plan"
FIXTURE = Path(__file__).parent / "fixtures" / "success_plan" / "helios-2027.yaml"
INTERNAL_WORDS = re.compile(r"\b(influence|support|health|risks?|readiness)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fixture imported and its success plan run from the command line at 2027-04-05: (store, report folder)."""
    base = tmp_path_factory.mktemp("success-plan-run")
    db = base / "store.sqlite"
    import_engagements([FIXTURE], db=db)
    code = cli.main(
        ["run", "success_plan", "--engagement", EID, "--as-of", "2027-04-05", "--db", str(db), "--out", str(base / "out")]
    )
    assert code == 0
    return db, base / "out" / EID


def test_the_acceptance_numbers_from_the_results_file(run: tuple[Path, Path]) -> None:
    _, folder = run
    results = json.loads((folder / "success_plan.json").read_text(encoding="utf-8"))
    assert (results["workbook"], results["engagement"], results["as_of"], results["audience"]) == (
        "success_plan",
        EID,
        "2027-04-05",
        "customer",
    )
    assert (results["done"], results["total"], results["share_done"]) == (3, 5, 0.6)  # 3 of 5 done: 60 %
    assert (results["on_time"], results["done_with_date"]) == (2, 3)
    assert round(results["share_on_time"] * 100, 1) == 66.7  # 2 of 3 on time
    assert [(m["id"], m["due"], m["days"]) for m in results["overdue"]] == [("rating-7", "2027-03-31", 5)]  # 1 overdue by 5 days
    statuses = {m["id"]: (m["status"], m["days"]) for m in results["milestones"]}
    assert statuses == {
        "platform-live": ("done_late", 5),
        "first-pulse": ("done_on_time", None),
        "managers-trained": ("done_on_time", None),
        "rating-7": ("overdue", 5),
        "phase-one-review": ("planned", None),
    }
    rating = next(m for m in results["milestones"] if m["id"] == "rating-7")
    assert (rating["latest"], rating["latest_on"], rating["evidence"]) == (
        6.8,
        "2027-04-01",
        {"kpi": "engagement-score", "at_least": 7},
    )
    assert {o["id"]: (o["share_done"], o["outcome_status"]) for o in results["objectives"]} == {
        "more-clients": (0.5, "behind"),
        "managers-own-it": (1.0, None),
    }


def test_the_report_shows_the_plan_and_stays_customer_safe(run: tuple[Path, Path]) -> None:
    _, folder = run
    report = (folder / "success_plan.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", report)).replace("\u00a0", " ").replace("\u2060", "")
    assert "3 of 5 milestones done (60 %); 2 of 3 on time (66.7 %)." in text
    assert "Milestones planned and done" in report and "Milestones: due and done" in report
    assert report.count("<svg") >= 2
    assert "Internal: not for the customer" not in report
    visible = re.sub(r"<(style|script)\b.*?</\1>", " ", report, flags=re.S)  # the stylesheet names the internal band
    words = INTERNAL_WORDS.findall(html.unescape(re.sub(r"<[^>]+>", " ", visible)))
    assert words == [], words
    assert "page.workshop()" not in report  # the form's cell is for a person in Lab only


def test_judged_later_the_same_plan_has_more_overdue(run: tuple[Path, Path], tmp_path: Path) -> None:
    db, _ = run
    result = run_workbook("success_plan", engagement_id=EID, db=db, out=tmp_path, as_of="2027-12-20")
    assert not result.skipped and result.results["as_of"] == "2027-12-20"
    results = json.loads((tmp_path / EID / "success_plan.json").read_text(encoding="utf-8"))
    assert results["as_of"] == "2027-12-20"
    assert [(m["id"], m["days"]) for m in results["overdue"]] == [("rating-7", 264), ("phase-one-review", 5)]
    assert (results["done"], results["total"]) == (3, 5)
