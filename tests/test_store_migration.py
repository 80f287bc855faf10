"""An existing store from an older csm-nb opens, migrates and keeps its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from csm_nb.data.store import MIGRATIONS, SCHEMA_VERSION, Store
from csm_nb.errors import InputError


def make_v1_store(path: Path) -> None:
    """A store exactly as the foundation's schema version 1 wrote it, with one engagement."""
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute(
        "INSERT INTO engagement VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "helios",
            "Helios Care Services",
            "USD",
            "Sam Okafor",
            '["public-sector"]',
            '{"name": "Employee engagement, Phase One"}',
            '{"deal_size": 300000}',
            '[{"name": "Priya Raman"}]',
            None,
            3,
            "2026-01-05T10:00:00+00:00",
            "sam",
        ),
    )
    db.execute(
        "INSERT INTO outcome VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "helios",
            0,
            "clients-this-year",
            "Serve more clients",
            "23,800 clients",
            "2027-12-31",
            "monthly report",
            "stated",
            "primary",
        ),
    )
    db.execute(
        "INSERT INTO kpi VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "helios",
            0,
            "clients-served",
            "clients-this-year",
            "Clients served",
            "lagging",
            "clients",
            "increase",
            1800.0,
            1983.0,
            "2027-01-01",
            "2027-12-31",
            "monthly",
            "Head Office",
            "Ops",
            "[[0, 1800.0], [12, 1983.0]]",
        ),
    )
    db.execute("INSERT INTO cash_flow_line VALUES (?, ?, ?, ?, ?, ?, ?)", ("helios", 0, "Month 1", 120000.0, 120000.0, 0.0, None))
    db.execute("INSERT INTO measurement VALUES (?, ?, ?, ?, ?)", ("helios", "clients-served", "1", 1795.0, 0))
    db.execute("INSERT INTO change_log VALUES (?, ?, ?, ?, ?)", ("helios", 3, "2026-01-05T10:00:00+00:00", "sam", "imported"))
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_a_version_1_store_migrates_to_the_current_version_without_losing_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    make_v1_store(path)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        e = store.load("helios")
        assert (e.customer, e.currency, e.csm, e.tags) == ("Helios Care Services", "USD", "Sam Okafor", ["public-sector"])
        assert (e.revision, e.updated_by) == (3, "sam")
        assert e.initiative == {"name": "Employee engagement, Phase One"}
        assert e.solution == {"deal_size": 300000}
        assert [(o.id, o.quantity, o.status) for o in e.outcomes] == [("clients-this-year", "23,800 clients", "stated")]
        assert e.kpis[0].milestones == {0: 1800.0, 12: 1983.0}
        assert (e.cash_flow[0].period, e.cash_flow[0].expenditure_act, e.cash_flow[0].revenue_act) == ("Month 1", 120000.0, None)
        assert [(m.kpi, m.period, m.value) for m in e.measurements] == [("clients-served", 1, 1795.0)]
        assert store.history("helios") == [{"revision": 3, "at": "2026-01-05T10:00:00+00:00", "by": "sam", "summary": "imported"}]
        assert e.workshop is None
        # The migrated store takes workshop answers (the table version 2 added).
        saved = store.save_answer("helios", "outcome_discovery", "this_year_target", 26000, expected_revision=0, author="sam")
        assert saved.revision == 1
    with Store(path) as again:  # opening again does not migrate twice
        assert again.schema_version == SCHEMA_VERSION
        assert again.answers("helios", "outcome_discovery")["this_year_target"].value == 26000


def test_a_store_from_a_newer_csm_nb_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(InputError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this csm-nb understands"):
        Store(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def make_v2_store(path: Path) -> None:
    """A store as version 2 (workshop answers, before the engagement's life) wrote it: the v1 engagement plus an answer."""
    make_v1_store(path)
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[1])
    db.execute(
        "INSERT INTO answer VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("helios", "outcome_discovery", "this_year_target", "26000", 1, "2026-01-06T09:00:00+00:00", "sam"),
    )
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()


def test_a_version_2_store_gains_models_the_contract_the_moment_log_and_events(tmp_path: Path) -> None:
    from csm_nb.data.engagement_model import builtin_model
    from csm_nb.model import Contract, Event, MomentRecord

    path = tmp_path / "v2.sqlite"
    make_v2_store(path)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 6
        e = store.load("helios")
        assert (e.customer, e.revision, e.workshop) == (
            "Helios Care Services",
            3,
            {"outcome_discovery": {"this_year_target": 26000}},
        )
        assert [(m.kpi, m.period, m.value) for m in e.measurements] == [("clients-served", 1, 1795.0)]
        assert (e.contract, e.engagement_model, e.moments, e.events, e.fiscal_year_end) == (None, None, [], [], None)
        assert store.engagement_model(e) is None and store.models() == {}
        # The migrated store takes what version 3 added.
        e.contract = Contract(signed="2026-12-01", start="2027-01-01", end="2027-12-31")
        e.moments = [MomentRecord("kickoff", held="2026-12-08")]
        e.fiscal_year_end = "03-31"  # what version 4 added
        store.save(e, expected_revision=3)
        assert store.add_events("helios", [Event("2027-03-02", "support_case", severity="high")]) == {
            "added": 1,
            "updated": 0,
            "unchanged": 0,
        }
        assert store.save_model(builtin_model("low-touch")) == ("created", 1)
    with Store(path) as again:
        e = again.load("helios")
        assert (e.contract.end, [r.moment for r in e.moments], e.events[0].severity, e.fiscal_year_end) == (
            "2027-12-31",
            ["kickoff"],
            "high",
            "03-31",
        )
        assert again.engagement_model(e).id == "high-touch" and list(again.models()) == ["low-touch"]
        tables = {r[0] for r in again._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"engagement_model", "moment_log", "event"} <= tables


def make_v4_store(path: Path) -> None:
    """A store as version 4 wrote it: the version 2 store migrated through 3 and 4, with a contract."""
    make_v2_store(path)
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[2] + MIGRATIONS[3])
    db.execute("UPDATE engagement SET contract = ?, fiscal_year_end = ?", ('{"signed": "2026-12-01"}', "03-31"))
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()


def test_a_version_4_store_gains_the_relationship_parts_and_the_activity_log(tmp_path: Path) -> None:
    from csm_nb.errors import ConflictError
    from csm_nb.model import Activity

    path = tmp_path / "v4.sqlite"
    make_v4_store(path)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 6
        e = store.load("helios")
        assert (e.contract.signed, e.fiscal_year_end, e.revision) == ("2026-12-01", "03-31", 3)
        assert (e.success_plan, e.risks, e.commitments, e.references, e.health, e.activities) == (
            None,
            None,
            None,
            None,
            None,
            [],
        )
        risk = {"id": "r1", "kind": "churn", "status": "open", "severity": "high"}
        assert store.set_part("helios", "risks", [risk], expected_revision=3) == 4
        with pytest.raises(ConflictError, match="your copy is revision 3, the store has 4"):
            store.set_part("helios", "risks", [], expected_revision=3)
        call = Activity("2027-01-05", "call", "Renewal", missions=["reduce_risk"], people=["Ann"], minutes=30)
        assert store.add_activities("helios", [call]) == {"added": 1, "updated": 0, "unchanged": 0}
        assert store.add_activities("helios", [call]) == {"added": 0, "updated": 0, "unchanged": 1}
    with Store(path) as again:
        e = again.load("helios")
        assert (e.risks, e.activities, e.revision) == ([risk], [call], 5)


def make_v5_store(path: Path) -> None:
    """A store as version 5 wrote it: the version 4 store with a KPI and the relationship parts."""
    make_v4_store(path)
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[4])
    db.execute("UPDATE engagement SET risks = ?", ('[{"id": "r1", "kind": "churn", "status": "open"}]',))
    db.execute("PRAGMA user_version = 5")
    db.commit()
    db.close()


def test_a_version_5_store_gains_maturity_jobs_the_pulse_and_kpi_target_types(tmp_path: Path) -> None:
    from csm_nb.model import PulseAnswer

    path = tmp_path / "v5.sqlite"
    make_v5_store(path)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 6
        e = store.load("helios")
        kept = [(k.id, k.target_type, k.capability, k.desired_outcome, k.origin, k.consent) for k in e.kpis]
        assert kept and all(row[1:] == (None,) * 5 for row in kept)  # the old KPIs read as "reach", nothing linked
        assert (e.maturity, e.jobs, e.pulse, e.risks[0]["id"]) == (None, None, [], "r1")
        revision = e.revision
        outcome = {"id": "plan-time", "statement": "minimise the time to plan the day", "importance": 9, "satisfaction": 4}
        jobs = [
            {
                "id": "serve",
                "statement": "serve every client",
                "steps": [{"id": "plan", "name": "plan", "desired_outcomes": [outcome]}],
            }
        ]
        assert store.set_part("helios", "jobs", jobs, expected_revision=revision) == revision + 1
        answer = PulseAnswer("2027-03-31", "Priya", "plan-time", 6, importance=9, comment="faster now")
        assert store.add_pulse("helios", [answer]) == {"added": 1, "updated": 0, "unchanged": 0}
        assert store.add_pulse("helios", [answer]) == {"added": 0, "updated": 0, "unchanged": 1}
        with pytest.raises(InputError, match="'nope' is not the id of any desired outcome in its jobs \\(plan-time\\)"):
            store.add_pulse("helios", [PulseAnswer("2027-03-31", "Priya", "nope", 6)])
        doc = {"schema": "csm-nb/maturity-model@1", "id": "m", "levels": []}
        assert store.save_maturity_model(doc) == ("created", 1)
        assert store.save_maturity_model(doc) == ("unchanged", 1)
        assert store.maturity_model_document("m") == doc and store.maturity_model_document("x") is None
    with Store(path) as again:
        e = again.load("helios")
        assert e.jobs == jobs and e.pulse == [
            PulseAnswer("2027-03-31", "Priya", "plan-time", 6.0, importance=9.0, comment="faster now")
        ]
