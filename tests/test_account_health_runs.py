"""Account health through real runs (``csm-nb run`` and ``csm-nb portfolio``: papermill and nbconvert):
the contract's acceptance numbers read from the results files of the fixture engagements (the examples
as they were before contracts, moments and stakeholder roles), the change and history a second run
reads from the first, the internal band on the report, and the figures the portfolio's summary takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reading import plain

from csm_nb import cli

pytestmark = [pytest.mark.slow]

FIXTURES = Path(__file__).parent / "fixtures" / "health"
BAND = "Internal: not for the customer"
# Each judged after its last measurement.
AS_OF = {"employee-engagement": "2027-04-05", "order-to-ship": "2026-07-10", "ad-campaign": "2026-06-01"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("health-runs")
    db, out = base / "store.sqlite", base / "runs"
    files = [str(FIXTURES / f"{name}.yaml") for name in AS_OF]
    assert cli.main(["--db", str(db), "import", *files]) == 0
    for name, as_of in AS_OF.items():
        assert (
            cli.main(["--db", str(db), "run", "account_health", "--engagement", name, "--as-of", as_of, "--out", str(out)]) == 0
        )
    # Order-to-ship twice more in a folder of its own: two months earlier, then at the same date as above.
    again = base / "again"
    for as_of in ("2026-05-10", AS_OF["order-to-ship"]):
        command = [
            "--db",
            str(db),
            "run",
            "account_health",
            "--engagement",
            "order-to-ship",
            "--as-of",
            as_of,
            "--out",
            str(again),
        ]
        assert cli.main(command) == 0
    assert (
        cli.main(
            [
                "--db",
                str(db),
                "portfolio",
                "--workbooks",
                "account_health",
                "--as-of",
                "2027-04-05",
                "--out",
                str(base / "portfolio"),
                "--label",
                "p",
                "--quiet",
            ]
        )
        == 0
    )
    return {"out": out, "again": again / "order-to-ship", "portfolio": base / "portfolio" / "p"}


def results(folder: Path) -> dict:
    return json.loads((folder / "account_health.json").read_text(encoding="utf-8"))


def rounded(found: dict) -> dict:
    return {k: round(v["score"], 1) for k, v in found["components"].items() if v["known"]}


def test_employee_engagement_is_60_amber(runs: dict[str, Path]) -> None:
    found = results(runs["out"] / "employee-engagement")
    assert (found["as_of"], found["audience"], found["score"], found["band"], found["override"]) == (
        "2027-04-05",
        "internal",
        60.0,
        "amber",
        False,
    )
    assert rounded(found) == {"outcome": 100.0, "leading": 60.0, "money": 0.0}
    assert found["kpis"] == {"clients-served": 100.0, "engagement-score": 60.0}


def test_order_to_ship_is_72_7_amber_with_its_stock_kpi_at_14_4(runs: dict[str, Path]) -> None:
    found = results(runs["out"] / "order-to-ship")
    assert (found["score"], found["band"], found["override"]) == (72.7, "amber", False)
    assert rounded(found) == {"outcome": 100.0, "leading": 57.2, "money": 47.3}
    assert round(found["kpis"]["orders-waiting-stock"], 1) == 14.4
    assert found["drivers"][0].startswith("Open orders waiting on stock, leading KPI, scores 14.4: 19.1 points behind plan")


def test_ad_campaign_is_100_green(runs: dict[str, Path]) -> None:
    found = results(runs["out"] / "ad-campaign")
    assert (found["score"], found["band"], found["drivers"], found["kpis"]) == (100.0, "green", [], {})
    assert rounded(found) == {"money": 100.0}


def test_a_second_run_reads_the_first_for_the_change_and_the_history(runs: dict[str, Path]) -> None:
    second = results(runs["again"])
    first_score = second["history"][0]["score"]
    assert [h["as_of"] for h in second["history"]] == ["2026-05-10", "2026-07-10"]
    assert second["previous"] == {"score": first_score, "band": "green", "as_of": "2026-05-10"}
    assert first_score >= 75 and second["delta"] == round(72.7 - first_score, 1) and second["arrow"] == "down"
    assert second["band_change"] == {"from": "green", "to": "amber"}
    html = plain((runs["again"] / "account_health.html").read_text(encoding="utf-8"))
    assert f"Down {abs(second['delta']):.1f} points since the run of 10 May 2026, from green to amber." in html
    assert "Health score, run by run" in html and html.count("<svg") == 2


def test_the_report_is_internal(runs: dict[str, Path]) -> None:
    html = plain((runs["out"] / "order-to-ship" / "account_health.html").read_text(encoding="utf-8"))
    assert html.index(BAND) < html.index('<header class="report-header">')
    assert "Traceback" not in html and "What pulls the score down" in html and "Health score, 10 Jul 2026" in html


def test_the_portfolio_summary_carries_the_health_figures(runs: dict[str, Path]) -> None:
    summary = json.loads((runs["portfolio"] / "summary.json").read_text(encoding="utf-8"))
    for entry in summary["engagements"]:
        found = results(runs["portfolio"] / entry["engagement_id"])
        figures = entry["figures"]
        assert (figures.get("health"), figures.get("health_band")) == (found["score"], found["band"]), entry["engagement_id"]


def test_bands_in_the_wrong_order_are_refused_at_import_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (FIXTURES / "ad-campaign.yaml").read_text(encoding="utf-8").replace("id: ad-campaign", "id: bad-bands")
    bad = tmp_path / "bad-bands.yaml"
    bad.write_text(text + "health:\n  bands: {red: 80, green: 60}\n", encoding="utf-8")
    (tmp_path / "ad-campaign-cash-flow.csv").write_bytes((FIXTURES / "ad-campaign-cash-flow.csv").read_bytes())
    db = tmp_path / "store.sqlite"
    assert cli.main(["--db", str(db), "import", str(bad)]) == 1
    said = capsys.readouterr().err.strip()
    assert "bad-bands.yaml, line " in said and "health.bands: red (80) must not be above green (60)" in said
    assert not db.exists() or "bad-bands" not in db.read_bytes().decode("latin-1")
    assert len(said.splitlines()) == 1 and "Traceback" not in said
