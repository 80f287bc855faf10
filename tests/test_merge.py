"""Re-import merge rules (csm_nb.data.merge) and what import and demo do with them."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from csm_nb import cli
from csm_nb.data.merge import plan_import
from csm_nb.data.store import Store
from csm_nb.model import CashFlowLine, Engagement, Kpi, Measurement, Outcome
from csm_nb.run.service import import_engagements

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def stored(**changes: object) -> Engagement:
    base = Engagement(
        id="a",
        customer="A",
        outcomes=[Outcome("o1"), Outcome("o2")],
        kpis=[Kpi("k"), Kpi("j")],
        cash_flow=[CashFlowLine("M0", 10.0, 10.0, 0.0, 0.0), CashFlowLine("M1", 10.0, None, 5.0, None)],
        measurements=[Measurement("k", 0, 1.0), Measurement("k", 5, 2.0), Measurement("j", 1, 9.0)],
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


@pytest.mark.parametrize(
    ("file_changes", "removed"),
    [
        ({}, []),
        ({"outcomes": [Outcome("o1")]}, ["outcome 'o2'"]),
        ({"kpis": [Kpi("k")]}, ["KPI 'j'", "1 measurement of KPI 'j' (period 1), whose KPI the file does not have"]),
        ({"cash_flow": [CashFlowLine("M0", 10.0, 10.0, 0.0, 0.0)]}, ["cash-flow period 'M1'"]),
        (
            {"cash_flow": [CashFlowLine("M0", 10.0, None, 0.0, 0.0), CashFlowLine("M1", 10.0, None, 5.0, None)]},
            ["cash-flow 'M0' expenditure_act 10 (the file leaves it empty)"],
        ),
        ({"financial_links": []}, []),
    ],
)
def test_what_a_file_would_remove_is_named(file_changes: dict, removed: list[str]) -> None:
    plan = plan_import(stored(), stored(measurements=[], **file_changes))
    assert plan.removed == removed


def test_measurements_the_file_lacks_are_kept_and_the_file_wins_on_the_same_period() -> None:
    file = stored(measurements=[Measurement("k", 0, 1.5), Measurement("k", 6, 3.0)])
    plan = plan_import(stored(), file)
    assert plan.removed == []
    assert [(m.kpi, m.period, m.value) for m in plan.engagement.measurements] == [
        ("k", 0, 1.5),
        ("k", 6, 3.0),
        ("k", 5, 2.0),
        ("j", 1, 9.0),
    ]
    assert plan.kept == ["1 measurement of KPI 'k' (period 5)", "1 measurement of KPI 'j' (period 1)"]


def test_replace_takes_the_file_as_the_whole_truth() -> None:
    file = stored(outcomes=[Outcome("o1")], measurements=[Measurement("k", 0, 1.0)])
    plan = plan_import(stored(), file, replace=True)
    assert [o.id for o in plan.engagement.outcomes] == ["o1"]
    assert [(m.kpi, m.period) for m in plan.engagement.measurements] == [("k", 0)]
    assert "outcome 'o2'" in plan.removed


def test_answers_the_file_lacks_are_shown_as_kept() -> None:
    current = stored(workshop={"outcome_discovery": {"a": 1, "b": 2}})
    plan = plan_import(current, stored(workshop={"outcome_discovery": {"b": 3}}))
    assert plan.engagement.workshop == {"outcome_discovery": {"a": 1, "b": 3}}


# -- through the command line, on the example engagements --------------------------------
def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def order_to_ship(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """The order-to-ship example imported into a fresh store, with month 7 appended from CSV."""
    db = tmp_path / "s.sqlite"
    assert run(capsys, "--db", str(db), "import", str(EXAMPLES / "order-to-ship.yaml"))[0] == 0
    code, out, err = run(
        capsys, "--db", str(db), "import", str(EXAMPLES / "order-to-ship-month-7.csv"), "--engagement", "order-to-ship"
    )
    assert code == 0, err
    assert "2 added" in out
    return db, EXAMPLES / "order-to-ship.yaml"


def month_7(db: Path) -> list[tuple[str, str, float]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT kpi_id, period, value FROM measurement WHERE engagement_id = 'order-to-ship' AND period = '7' ORDER BY kpi_id"
        ).fetchall()


def test_reimport_keeps_appended_measurements(order_to_ship: tuple[Path, Path], capsys) -> None:
    db, source = order_to_ship
    before = month_7(db)
    assert before == [("order-to-ship-days", "7", 17.1), ("picked-same-day", "7", 83.0)]
    code, out, err = run(capsys, "--db", str(db), "import", str(source))
    assert code == 0, err
    assert out.startswith("unchanged order-to-ship")
    assert "kept from the store: 1 measurement of KPI 'order-to-ship-days' (period 7)" in out
    assert month_7(db) == before


def test_reimport_refuses_to_drop_a_workshop_outcome_then_replace_drops_it(order_to_ship, capsys) -> None:
    db, source = order_to_ship
    with Store(db) as store:  # what "Record outcomes" in the discovery workshop does
        current = store.load("order-to-ship")
        current.outcomes.append(Outcome("faster-returns", description="Returns handled in 3 days"))
        store.save(current, expected_revision=current.revision, author="dana", summary="outcome discovery: 1 recorded")
    before = dump(db)
    code, out, err = run(capsys, "--db", str(db), "import", str(source))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "outcome 'faster-returns'" in err and "--replace" in err and "csm-nb export order-to-ship" in err
    assert dump(db) == before
    code, out, err = run(capsys, "--db", str(db), "import", "--replace", str(source))
    assert code == 0, err
    with Store(db) as store:
        assert "faster-returns" not in [o.id for o in store.load("order-to-ship").outcomes]
    assert month_7(db) == []  # --replace: the file is the whole truth


def test_a_failing_second_file_commits_nothing_of_the_first(tmp_path: Path, capsys) -> None:
    db = tmp_path / "s.sqlite"
    assert run(capsys, "--db", str(db), "import", str(EXAMPLES / "employee-engagement.yaml"))[0] == 0
    before = dump(db)
    second = tmp_path / "second.yaml"
    second.write_text("schema: csm-nb/engagement@1\nid: second\ncustomer: B\nkpis:\n  - id: k\n    baseline: lots\n")
    code, _, err = run(capsys, "--db", str(db), "import", str(EXAMPLES / "ad-campaign.yaml"), str(second))
    assert code == 1 and "second.yaml" in err
    assert dump(db) == before


def test_store_failure_in_a_later_file_rolls_back_the_earlier_ones(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "s.sqlite"
    import_engagements([EXAMPLES / "employee-engagement.yaml"], db=db)
    before = dump(db)
    real_save = Store.save
    calls = []

    def save_then_fail(self: Store, engagement: Engagement, **kwargs: object) -> int:
        calls.append(engagement.id)
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return real_save(self, engagement, **kwargs)

    monkeypatch.setattr(Store, "save", save_then_fail)
    with pytest.raises(Exception, match="disk I/O error"):
        import_engagements([EXAMPLES / "ad-campaign.yaml", EXAMPLES / "order-to-ship.yaml"], db=db)
    assert calls == ["ad-campaign", "order-to-ship"]
    assert dump(db) == before


def test_demo_leaves_engagements_a_person_changed(tmp_path: Path, capsys, monkeypatch) -> None:
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES, examples)
    monkeypatch.setenv("CSM_NB_EXAMPLES", str(examples))
    db = tmp_path / "s.sqlite"
    imported = import_engagements(sorted(examples.glob("*.yaml")), db=db, keep_changed=True)
    assert {i.status for i in imported} == {"created"}
    code, _, err = run(
        capsys, "--db", str(db), "import", str(examples / "order-to-ship-month-7.csv"), "--engagement", "order-to-ship"
    )
    assert code == 0, err
    with Store(db) as store:
        store.save_answer("ad-campaign", "outcome_discovery", "importance", "critical", expected_revision=0, author="ann")
    # The project ships a newer example: unchanged engagements take it, changed ones are left alone.
    for name in ("order-to-ship.yaml", "ad-campaign.yaml", "employee-engagement.yaml"):
        path = examples / name
        path.write_text(path.read_text().replace("csm: ", "csm: New ", 1))
    imported = {i.engagement_id: i for i in import_engagements(sorted(examples.glob("*.yaml")), db=db, keep_changed=True)}
    assert imported["order-to-ship"].status == "kept"
    assert "measurements: 2 added" in imported["order-to-ship"].note
    assert imported["ad-campaign"].status == "kept" and "importance" in imported["ad-campaign"].note
    assert imported["employee-engagement"].status == "updated"
    assert month_7(db) == [("order-to-ship-days", "7", 17.1), ("picked-same-day", "7", 83.0)]
    with Store(db) as store:
        assert store.answers("ad-campaign", "outcome_discovery")["importance"].value == "critical"
        assert store.load("employee-engagement").csm.startswith("New ")
        assert not store.load("order-to-ship").csm.startswith("New ")
