"""The customer pulse through real runs: the contract's acceptance numbers (4 -> 6 is +2, opportunity 14 -> 12;
latest satisfactions 4, 6, 8 give a customer view of 60) read from the results files of ``csm-nb run
customer_pulse`` and ``csm-nb run account_health`` on the fixture at 5 July 2027, the report it writes
(customer-safe, the shift chart), and the pulse imported from a CSV moving both."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from test_pulse import FIXTURE

from csm_nb import cli

pytestmark = pytest.mark.slow

EID = "harbor-pulse"
AS_OF = "2027-07-05"
INTERNAL_WORDS = re.compile(r"\b(account health|health score|readiness|influence|win over|risks?)\b", re.IGNORECASE)


def run(db: Path, workbook: str, out: Path, as_of: str = AS_OF) -> dict:
    code = cli.main(["run", workbook, "--engagement", EID, "--as-of", as_of, "--db", str(db), "--out", str(out)])
    assert code == 0
    return json.loads((out / EID / f"{workbook}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, dict]:
    """The fixture imported, its pulse and its health run from the command line at 2027-07-05."""
    base = tmp_path_factory.mktemp("customer-pulse-run")
    db = base / "store.sqlite"
    assert cli.main(["--db", str(db), "import", str(FIXTURE)]) == 0
    out = base / "out"
    return db, out, run(db, "customer_pulse", out), run(db, "account_health", out)


def test_the_acceptance_numbers_from_the_results_file(runs) -> None:
    _, _, results, _ = runs
    assert (results["workbook"], results["engagement"], results["as_of"], results["audience"]) == (
        "customer_pulse",
        EID,
        AS_OF,
        "customer",
    )
    plan = next(o for o in results["outcomes"] if o["id"] == "plan-time")
    assert (plan["previous"], plan["latest"], plan["shift"]) == (4.0, 6.0, 2.0)  # 4 -> 6: +2
    assert (plan["opportunity_previous"], plan["opportunity_latest"]) == (14.0, 12.0)  # importance 9: 14 -> 12
    latest = sorted(o["latest"] for o in results["outcomes"] if o["latest"] is not None)
    assert latest == [4.0, 6.0, 8.0]
    assert results["customer_view"] == 60.0  # 10 x mean(4, 6, 8)
    assert results["rounds"] == ["2027-03-31", "2027-06-30"]
    assert [(m["id"], m["shift"]) for m in results["improved"]] == [("plan-time", 2.0), ("handover-errors", 1.0)]
    assert [(m["id"], m["shift"]) for m in results["worsened"]] == [("missed-visits", -1.0)]
    assert {j["id"]: (j["latest"], j["shift"]) for j in results["jobs"]} == {"serve-clients": (5.0, 0.5), "hand-over": (8.0, 1.0)}


def test_the_health_customer_view_is_60_through_a_real_run(runs) -> None:
    _, _, _, health = runs
    view = health["components"]["customer_view"]
    assert (view["score"], view["known"]) == (60.0, True)
    assert "desired outcome" in view["evidence"]
    # The pulse is the only known component of this engagement: the score is the view.
    assert health["score"] == 60.0


def test_the_report_shows_the_pulse_and_stays_customer_safe(runs) -> None:
    _, out, _, _ = runs
    report = (out / EID / "customer_pulse.html").read_text(encoding="utf-8")
    visible = re.sub(r"<(style|script)\b.*?</\1>", " ", report, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", visible)).replace("\u00a0", " ").replace("\u2060", "")
    assert "How well can you cut the time it takes to plan the day's visits today?" in text
    assert "Satisfaction per desired outcome, the round before and the latest" in report and "<svg" in report
    assert "Internal: not for the customer" not in report
    assert INTERNAL_WORDS.findall(text) == []
    assert "page.workshop()" not in report


def test_a_pulse_imported_from_csv_moves_the_pulse_and_the_view(runs, tmp_path: Path) -> None:
    db, _, _, _ = runs
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "date,respondent,desired_outcome,satisfaction,importance,comment\n"
        "2027-09-30,Grace Lin,plan-time,9,9,Planning is no longer a chore\n"
        "2027-09-30,Grace Lin,shift-cover,7,,\n",
        encoding="utf-8",
    )
    assert cli.main(["--db", str(db), "import", str(answers), "--engagement", EID]) == 0
    later = run(db, "customer_pulse", tmp_path / "out", as_of="2027-10-01")
    plan = next(o for o in later["outcomes"] if o["id"] == "plan-time")
    assert (plan["previous"], plan["latest"], plan["shift"], plan["opportunity_latest"]) == (6.0, 9.0, 3.0, 9.0)
    assert later["rounds"][-1] == "2027-09-30" and later["quotes"][0]["text"] == "Planning is no longer a chore"
    assert later["customer_view"] == round(10 * (9 + 7 + 4 + 8) / 4, 9)  # plan 9, cover 7, missed 4, handover 8
