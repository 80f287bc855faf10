"""The engagement plan through real runs: the contract's acceptance numbers read from the results
files and summary.json of a portfolio run of four engagements on the built-in high-touch model."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from test_engagement_plan import DAYS, EXPECTED, SIGNED

from csm_nb.run.portfolio import run_portfolio
from csm_nb.run.service import import_engagements


def engagement_file(folder: Path, name: str, days: list[int]) -> Path:
    held, log = SIGNED, []
    for moment, n in zip(EXPECTED, days, strict=True):
        held += dt.timedelta(days=n)
        log.append({"moment": moment, "held": held.isoformat()})
    doc = {
        "schema": "csm-nb/engagement@1",
        "id": f"fixture-{name.lower()}",
        "customer": f"Customer {name}",
        "contract": {"signed": SIGNED.isoformat(), "start": "2026-02-01", "end": "2027-01-31"},
        "moments": log,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def four_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("plan-runs")
    db = base / "store.sqlite"
    import_engagements([engagement_file(base, name, days) for name, days in DAYS.items()], db=db)
    run_portfolio(db=db, out=base / "runs", label="plan", workbooks=["engagement_plan"], parameters={"as_of": "2026-06-01"})
    return base / "runs" / "plan"


def test_time_to_value_of_each_engagement_from_its_results_file(four_runs: Path) -> None:
    ttv = {}
    for name in DAYS:
        results = json.loads((four_runs / f"fixture-{name.lower()}" / "engagement_plan.json").read_text(encoding="utf-8"))
        assert results["model"] == "high-touch" and results["as_of"] == "2026-06-01"
        ttv[name] = (results["ttv"]["days"], results["ttv"]["status"])
    assert ttv == {"A": (53, "late"), "B": (54, "late"), "C": (67, "late"), "D": (39, "on_target")}


def test_the_portfolio_names_initial_training_as_the_systemic_delay(four_runs: Path) -> None:
    summary = json.loads((four_runs / "summary.json").read_text(encoding="utf-8"))
    onboarding = summary["onboarding"]
    assert onboarding["ttv"]["median_days"] == 53.5 and onboarding["ttv"]["on_target"] == 1
    stages = {s["moment"]: s for s in onboarding["stages"]}
    assert [stages[m]["excess_days"] for m in EXPECTED] == [1, 13, 41, 1, 6]
    assert onboarding["systemic"] == ["initial_training"]
    assert round(stages["initial_training"]["share_of_excess"] * 100, 1) == 66.1
    index = (four_runs / "index.html").read_text(encoding="utf-8")
    assert "Onboarding stages" in index and "is the systemic delay: 3 of 4 customers took longer than 14 days" in index
    assert "Ongoing, day 147" in index  # 5 January to 1 June 2026, onboarding complete for all four
