"""The portfolio index for CS operations with the second wave's columns: 40 synthetic engagements
run through ``csm-nb portfolio --workbooks account_health,renewal_prep``, read back from the index
page in Chromium, from summary.json and summary.csv, and checked against each report's results.

The index lists the least healthy engagement first (no score last), with the health score and its
band, the change since the last run, the days to renewal and the readiness; a screenshot of the top
of the page goes to ``tests/output/portfolio_health.png``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PORTFOLIO_SIZE, open_report, synthetic_engagements

pytestmark = [pytest.mark.slow]

OUTPUT = Path(__file__).parent / "output"
AS_OF = "2026-06-01"  # the first run; the second is judged on 4 January 2027, with half a year more measured


@pytest.fixture(scope="module")
def health_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("portfolio-health")
    db, out = base / "store.sqlite", base / "runs"
    synthetic_engagements().make_store(db, PORTFOLIO_SIZE)
    command = [str(Path(sys.executable).with_name("csm-nb")), "--db", str(db), "portfolio", "--out", str(out)]
    command += ["--workbooks", "account_health,renewal_prep", "--as-of", AS_OF, "--quiet"]
    done = subprocess.run([*command, "--label", "first"], capture_output=True, text=True, env={**os.environ})
    assert done.returncode == 0, done.stderr
    # A second run later: the change since the last report shows.
    later = subprocess.run(
        [*command[:-3], "--as-of", "2027-01-04", "--quiet", "--label", "second"],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert later.returncode == 0, later.stderr
    return {"db": db, "first": out / "first", "second": out / "second"}


def results(run_dir: Path, workbook: str) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text(encoding="utf-8")) for p in run_dir.glob(f"*/{workbook}.json")}


def test_summary_json_and_csv_carry_each_reports_figures(health_run: dict) -> None:
    run_dir = health_run["first"]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    health, renewal = results(run_dir, "account_health"), results(run_dir, "renewal_prep")
    assert len(summary["engagements"]) == PORTFOLIO_SIZE and len(renewal) == PORTFOLIO_SIZE
    for entry in summary["engagements"]:
        eid, figures = entry["engagement_id"], entry["figures"]
        assert figures.get("health") == (health[eid]["score"] if eid in health else None), eid
        assert figures.get("health_band") == (health[eid]["band"] if eid in health else None), eid
        assert figures["days_to_renewal"] == renewal[eid]["days_to_renewal"], eid
        assert figures["readiness"] == renewal[eid]["readiness"], eid
    rows = {r["engagement_id"]: r for r in csv.DictReader((run_dir / "summary.csv").open(encoding="utf-8"))}
    for eid, r in health.items():
        assert float(rows[eid]["health"]) == pytest.approx(r["score"]) and rows[eid]["health_band"] == r["band"]


def test_the_index_lists_the_least_healthy_first_with_the_new_columns(health_run: dict, browser) -> None:
    run_dir = health_run["second"]
    health = results(run_dir, "account_health")
    page, errors, _ = open_report(browser, run_dir / "index.html")
    try:
        assert errors == []
        headers = page.locator("table.portfolio thead th").all_inner_texts()
        assert ["Health", "Change", "Renewal in", "Readiness"] == [
            h for h in headers if h in ("Health", "Change", "Renewal in", "Readiness")
        ]
        rows = page.locator("table.portfolio tbody tr:not(.failure-row)")
        assert rows.count() == PORTFOLIO_SIZE
        column = headers.index("Health")
        shown = []
        for i in range(rows.count()):
            cells = rows.nth(i).locator("td").all_inner_texts()
            eid = cells[0].split("\n")[-1].strip()
            shown.append(eid)
            if eid in health:  # the score and band as the results file has them
                assert cells[column].split() == [f"{health[eid]['score']:.1f}", health[eid]["band"]], eid
        scored = [eid for eid in shown if eid in health]
        assert [health[e]["score"] for e in scored] == sorted(health[e]["score"] for e in scored)
        assert shown[: len(scored)] == scored  # engagements without a score come last
        changes = [rows.nth(i).locator("td").nth(column + 1).inner_text().strip() for i in range(rows.count())]
        moved = [health[e]["delta"] for e in scored if health[e].get("delta")]
        assert moved and sum("▲" in c or "▼" in c for c in changes) == sum(abs(d) >= 1 for d in moved)
        OUTPUT.mkdir(exist_ok=True)
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.screenshot(path=str(OUTPUT / "portfolio_health.png"))
    finally:
        page.close()
