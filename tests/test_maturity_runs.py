"""Maturity through real runs: the contract's acceptance numbers read from the results file of
``csm-nb run maturity`` on the fixture at 30 April 2026 (day 1 is the example; four peers tagged
mid-market at 1.5, 2.0, 3.0 and 3.5), the report it writes (customer-safe, two charts), and the same
workbook judged later through ``run_workbook``."""

from __future__ import annotations

import html
import json
import re
import statistics
from pathlib import Path

import pytest

from csm_nb import cli
from csm_nb.run.engine import run_workbook
from csm_nb.run.service import import_engagements

pytestmark = pytest.mark.slow

EID = "northwind-maturity"
FIXTURES = Path(__file__).parent / "fixtures" / "maturity"
FILES = [
    FIXTURES / n
    for n in ("five-levels.yaml", "northwind.yaml", "peer-a.yaml", "peer-b.yaml", "peer-c.yaml", "peer-d.yaml", "other-tag.yaml")
]
INTERNAL_WORDS = re.compile(r"\b(influence|health|risks?|readiness)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("maturity-run")
    db = base / "store.sqlite"
    import_engagements(FILES, db=db)
    code = cli.main(
        ["run", "maturity", "--engagement", EID, "--as-of", "2026-04-30", "--db", str(db), "--out", str(base / "out")]
    )
    assert code == 0
    return db, base / "out" / EID


def test_the_acceptance_numbers_from_the_results_file(run: tuple[Path, Path]) -> None:
    _, folder = run
    r = json.loads((folder / "maturity.json").read_text(encoding="utf-8"))
    assert (r["workbook"], r["engagement"], r["as_of"], r["audience"]) == ("maturity", EID, "2026-04-30", "customer")
    assert [round(r["level_shares"][k], 3) for k in ("2", "3", "4", "5")] == [0.833, 0.5, 0.5, 0.0]
    assert (r["level"], r["index"]) == (2, 2.5)
    assert [g["id"] for g in r["gaps"]] == ["b3b", "b3c"]
    assert [s["id"] for s in r["strengths"]] == ["b4a"]
    assert (r["peers"]["n"], r["peers"]["median"], r["peers"]["share_below"]) == (4, 2.5, 0.5)
    assert r["day1"] == {"date": "2026-01-15", "level": 2, "index": 2.5}
    # The four peers' latest lead conversion (3.0, 4.2, 4.8, 6.0; the other tag's 9.0 left out): median 4.5.
    conversion = next(m for m in r["metrics"] if m["id"] == "lead-conversion")
    assert (conversion["baseline"], conversion["latest"], conversion["peer_median"]) == (
        4.0,
        4.0,
        statistics.median([3.0, 4.2, 4.8, 6.0]),
    )
    assert set(r["plan"]) >= {"target_level", "by", "on_course", "warnings"}
    assert r["segments"] == [
        {
            "id": "finance-link-missing",
            "name": "Financial link not agreed",
            "content": "Our guide to agreeing the financial link with finance, and a template to start from.",
        }
    ]


def test_the_report_shows_the_ladder_and_stays_customer_safe(run: tuple[Path, Path]) -> None:
    _, folder = run
    report = (folder / "maturity.html").read_text(encoding="utf-8")
    visible = re.sub(r"<(style|script)\b.*?</\1>", " ", report, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", visible)).replace("\u00a0", " ").replace("\u2060", "")
    assert "is at level 2 (Stated) of 5, index 2.5." in text
    assert "Where the customer stands, level by level" in report and "Maturity index over time" in report
    assert report.count("<svg") >= 2
    assert "Internal: not for the customer" not in report
    assert INTERNAL_WORDS.findall(text) == []
    assert "page.workshop()" not in report


def test_judged_later_the_customer_holds_level_3(run: tuple[Path, Path], tmp_path: Path) -> None:
    db, _ = run
    result = run_workbook("maturity", engagement_id=EID, db=db, out=tmp_path, as_of="2026-06-30")
    assert not result.skipped
    r = json.loads((tmp_path / EID / "maturity.json").read_text(encoding="utf-8"))
    assert (r["level"], r["index"], r["plan"]["on_course"], r["segments"]) == (3, 3.5, True, [])
