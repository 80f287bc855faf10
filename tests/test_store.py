"""The SQLite store (csm_nb.data.store): round trips, revisions, conflicts, atomicity, bad files."""

from __future__ import annotations

import copy
import dataclasses
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from csm_nb.data.engagement import read_engagement
from csm_nb.data.store import MIGRATIONS, SCHEMA_VERSION, Store
from csm_nb.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    StoreBusyError,
    StoreError,
)
from csm_nb.model import CashFlowLine, Engagement, Kpi, Measurement, Outcome


@pytest.fixture
def db_file(tmp_path) -> Path:
    return tmp_path / "store" / "csm-nb.sqlite"


@pytest.fixture
def store(db_file):
    with Store(db_file) as s:
        yield s


@pytest.fixture
def rich(fixtures_dir) -> Engagement:
    return read_engagement(fixtures_dir / "rich_engagement.yaml")


def small(**changes) -> Engagement:
    base = Engagement(
        id="acme",
        customer="Acme",
        outcomes=[Outcome(id="more-orders")],
        kpis=[Kpi(id="orders", outcome="more-orders"), Kpi(id="nps", milestones={2: 30.0, "2026-06-30": 45.5})],
        cash_flow=[CashFlowLine("Week 0", 20000.0, 20000.0, 0.0, 0.0), CashFlowLine("Week 1", 20000.0, None, 12000.0, None)],
        measurements=[Measurement("orders", 0, 10.0), Measurement("orders", 1, 11.0)],
    )
    return dataclasses.replace(base, **changes)


def without_bookkeeping(e: Engagement) -> Engagement:
    return dataclasses.replace(e, revision=0, updated_at=None, updated_by=None)


def row_count(path: Path, table: str) -> int:
    """Rows in ``table`` as a separate, plain sqlite3 client sees them."""
    with closing(sqlite3.connect(path)) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def make_future_store(path: Path) -> None:
    """An SQLite file stamped with a schema version from the future."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 99")


# -- where the store lives ---------------------------------------------------------------
def test_default_store_is_the_isolated_tmp_file(_isolated_store):
    with Store() as s:
        assert s.path == _isolated_store
    assert _isolated_store.is_file()
    assert Path(os.environ["CSM_NB_DB"]) == _isolated_store


def test_fresh_store_is_at_the_current_schema_version(store):
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    assert store.engagements() == []


# -- round trips ---------------------------------------------------------------------------
def test_save_load_round_trip_of_a_rich_engagement(store, rich, ad_campaign_week7_lines):
    rich.cash_flow = ad_campaign_week7_lines
    original = copy.deepcopy(rich)
    revision = store.save(rich, author="alice")
    loaded = store.load("acme-2026")
    assert revision == 1
    assert loaded == rich  # save() stamped the bookkeeping on the object it saved
    assert without_bookkeeping(loaded) == original
    assert (loaded.revision, loaded.updated_by) == (1, "alice")
    assert loaded.updated_at is not None
    # types that matter survive: None stays unknown, period kinds stay apart
    assert loaded.cash_flow[8].revenue_act is None
    assert [type(m.period) for m in loaded.measurements] == [int, int, str, str]
    assert loaded.kpis[0].milestones == {4: 1300.0, 8: 1380.0, "2026-06-30": 1440.5}
    assert loaded.workshop == original.workshop


def test_small_round_trip_keeps_order(store):
    e = small(outcomes=[Outcome(id=f"o{i}") for i in (3, 1, 2)])
    store.save(e, author="alice")
    assert [o.id for o in store.load("acme").outcomes] == ["o3", "o1", "o2"]
    assert store.load("acme") == e


def test_the_default_author_comes_from_the_environment(store, monkeypatch):
    monkeypatch.setenv("CSM_NB_AUTHOR", "carol")
    store.save(small())
    assert store.load("acme").updated_by == "carol"
    assert store.history("acme")[0]["by"] == "carol"


def test_load_of_an_unknown_engagement_names_it_and_the_known_ones(store):
    with pytest.raises(NotFoundError, match=r"no engagement 'nope' .*\(the store is empty\)"):
        store.load("nope")
    store.save(small(), author="alice")
    with pytest.raises(NotFoundError, match=r"no engagement 'nope' .*known: acme"):
        store.load("nope")
    with pytest.raises(NotFoundError):
        store.revision("nope")


# -- revisions and conflicts ------------------------------------------------------------------------
def test_revision_increments_and_history_records_each_save(store):
    e = small()
    assert store.save(e, author="alice", summary="imported") == 1
    assert store.save(e, expected_revision=1, author="bob", summary="fixed a KPI") == 2
    assert store.save(e, expected_revision=2, author="alice") == 3
    assert store.revision("acme") == 3 == e.revision
    history = store.history("acme")
    assert [(h["revision"], h["by"], h["summary"]) for h in history] == [
        (1, "alice", "imported"),
        (2, "bob", "fixed a KPI"),
        (3, "alice", "saved"),
    ]
    [summary] = store.engagements()
    assert (summary.id, summary.customer, summary.revision, summary.updated_by) == ("acme", "Acme", 3, "alice")


def test_stale_save_is_refused_naming_who_and_both_revisions(db_file):
    with Store(db_file) as alice_store, Store(db_file) as bob_store:
        alice_store.save(small(), author="alice", summary="imported")
        alice_copy = alice_store.load("acme")
        bob_copy = bob_store.load("acme")
        bob_copy.customer = "Acme Corp"
        bob_store.save(bob_copy, expected_revision=bob_copy.revision, author="bob", summary="renamed")
        before = alice_store.load("acme")

        alice_copy.customer = "ACME Inc."
        with pytest.raises(ConflictError) as info:
            alice_store.save(alice_copy, expected_revision=alice_copy.revision, author="alice")
        message = str(info.value)
        assert "bob" in message and "renamed" in message
        assert "your copy is revision 1" in message
        assert "the store has 2" in message
        # nothing was written
        after = alice_store.load("acme")
        assert after == before
        assert after.customer == "Acme Corp" and after.revision == 2 and after.updated_by == "bob"
        assert len(alice_store.history("acme")) == 2
        assert alice_copy.revision == 1  # the refused copy was not stamped


def test_expected_revision_zero_means_new(store):
    assert store.save(small(), expected_revision=0, author="alice") == 1
    with pytest.raises(ConflictError, match="your copy is revision 0, the store has 1"):
        store.save(small(), expected_revision=0, author="bob")


def test_saving_a_deleted_engagement_is_a_conflict(store):
    store.save(small(), author="alice")
    store.delete("acme")
    with pytest.raises(ConflictError, match="was deleted since you opened it"):
        store.save(small(), expected_revision=1, author="alice")
    assert not store.exists("acme")


def test_unconditional_save_replaces(store):
    store.save(small(), author="alice")
    assert store.save(small(customer="Other"), author="bob") == 2
    assert store.load("acme").customer == "Other"


def test_delete_cascades_to_every_table(store, db_file, rich):
    store.save(rich, author="alice")
    assert row_count(db_file, "measurement") == 4
    store.delete("acme-2026")
    for table in ("engagement", "outcome", "kpi", "cash_flow_line", "measurement"):
        assert row_count(db_file, table) == 0, table
    with pytest.raises(NotFoundError):
        store.delete("acme-2026")


# -- atomicity --------------------------------------------------------------------------------------------------
def test_a_failing_save_leaves_the_store_unchanged(store, monkeypatch):
    store.save(small(), author="alice")
    before, history = store.load("acme"), store.history("acme")

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Store, "_upsert_measurements", staticmethod(boom))
    changed = small(customer="Changed", outcomes=[], kpis=[Kpi(id="orders")], cash_flow=[])
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.save(changed, expected_revision=1, author="bob")
    assert store.load("acme") == before
    assert store.history("acme") == history
    assert changed.revision == 0
    monkeypatch.undo()
    assert store.save(changed, expected_revision=1, author="bob") == 2  # the store still works


def test_a_failing_first_save_leaves_nothing_behind(store, db_file, monkeypatch):
    monkeypatch.setattr(Store, "_upsert_measurements", staticmethod(lambda *a: 1 / 0))
    with pytest.raises(ZeroDivisionError):
        store.save(small(), author="alice")
    assert not store.exists("acme")
    for table in ("engagement", "outcome", "kpi", "cash_flow_line", "change_log"):
        assert row_count(db_file, table) == 0, table


# -- measurements ------------------------------------------------------------------------------------------------
def test_add_measurements_counts_and_is_idempotent(store):
    store.save(small(), author="alice")
    batch = [
        Measurement("orders", 0, 10.0),  # unchanged
        Measurement("orders", 1, 15.0),  # corrected (was 11)
        Measurement("orders", 2, 12.0),  # new
        Measurement("nps", "2026-01-31", 40.0),  # new
    ]
    assert store.add_measurements("acme", batch, author="bob") == {"added": 2, "updated": 1, "unchanged": 1}
    assert store.revision("acme") == 2
    assert store.history("acme")[-1]["summary"] == "measurements: 2 added, 1 updated"
    assert store.history("acme")[-1]["by"] == "bob"
    expected = [
        Measurement("orders", 0, 10.0),
        Measurement("orders", 1, 15.0),
        Measurement("orders", 2, 12.0),
        Measurement("nps", "2026-01-31", 40.0),
    ]
    assert store.load("acme").measurements == expected

    again = store.add_measurements("acme", batch, author="carol")
    assert again == {"added": 0, "updated": 0, "unchanged": 4}
    assert store.revision("acme") == 2  # nothing changed, so no new revision
    assert len(store.history("acme")) == 2
    assert store.load("acme").measurements == expected
    assert store.load("acme").updated_by == "bob"


def test_add_measurements_with_int_and_integral_float_values_is_unchanged(store):
    store.save(small(), author="alice")
    assert store.add_measurements("acme", [Measurement("orders", 0, 10)], author="bob")["unchanged"] == 1


def test_add_measurements_refuses_unknown_kpis_naming_them(store):
    store.save(small(), author="alice")
    batch = [Measurement("orders", 5, 1.0), Measurement("churn", 0, 1.0), Measurement("arr", 0, 1.0)]
    with pytest.raises(InputError) as info:
        store.add_measurements("acme", batch, author="bob")
    message = str(info.value)
    assert "'arr', 'churn'" in message
    assert "known KPIs: nps, orders" in message
    assert store.revision("acme") == 1
    assert store.load("acme").measurements == small().measurements  # the good row was not written either


def test_add_measurements_to_an_unknown_engagement(store):
    with pytest.raises(NotFoundError, match="no engagement 'ghost'"):
        store.add_measurements("ghost", [Measurement("orders", 0, 1.0)])


def test_ten_thousand_measurements(store):
    kpis = [Kpi(id=f"k{i}") for i in range(4)]
    measurements = [Measurement(f"k{i % 4}", i // 4, float(i) * 1.5) for i in range(10_000)]
    e = small(kpis=kpis, measurements=measurements, outcomes=[])
    store.save(e, author="alice")
    loaded = store.load("acme")
    assert len(loaded.measurements) == 10_000
    assert loaded.measurements == measurements
    assert store.add_measurements("acme", measurements) == {"added": 0, "updated": 0, "unchanged": 10_000}


# -- files that are not (our) stores ---------------------------------------------------------------------------------
def test_newer_schema_version_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    make_future_store(path)
    with pytest.raises(InputError) as info:
        Store(path)
    message = str(info.value)
    assert str(path) in message
    assert "schema version 99" in message
    assert f"({SCHEMA_VERSION})" in message
    assert "upgrade csm-nb" in message
    with closing(sqlite3.connect(path)) as db:  # and it was left alone
        assert db.execute("PRAGMA user_version").fetchone()[0] == 99
        assert db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0


def test_refused_store_does_not_leak_its_connection(tmp_path, monkeypatch):
    path = tmp_path / "future.sqlite"
    make_future_store(path)
    opened: list[sqlite3.Connection] = []
    closed: list[sqlite3.Connection] = []

    class Tracked(sqlite3.Connection):
        def close(self) -> None:
            closed.append(self)
            super().close()

    real_connect = sqlite3.connect

    def connect(*args, **kwargs):
        connection = real_connect(*args, factory=Tracked, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect)
    with pytest.raises(InputError, match="schema version 99"):
        Store(path)
    assert opened  # the probe for other programs' files, then the store's own connection
    assert closed == opened


def test_older_store_is_migrated_keeping_its_data(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO engagement (id, customer, revision, updated_at, updated_by) "
        "VALUES ('old', 'Old Co', 4, '2025-01-01T00:00:00+00:00', 'dana')"
    )
    db.close()
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        e = s.load("old")
        assert (e.customer, e.revision, e.updated_by) == ("Old Co", 4, "dana")
        assert s.save(e, expected_revision=4, author="erin") == 5


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"is a directory; give a file path such as .*csm-nb\.sqlite"):
        Store(tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"this is a text file, not a database\n" * 20, b"\x00\x01\x02" * 700, b"SQLite format 3\x00" + b"\xff" * 200],
)
def test_a_non_sqlite_file_is_refused_and_left_alone(tmp_path, content):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=r"not a csm-nb SQLite store"):
        Store(path)
    assert path.read_bytes() == content


def test_data_survives_closing_and_reopening(db_file, rich):
    with Store(db_file) as s:
        s.save(rich, author="alice")
    assert db_file.read_bytes()[:16] == b"SQLite format 3\x00"
    with Store(db_file) as s:
        assert s.load("acme-2026") == rich
        assert s.revision("acme-2026") == 1
    # and a plain sqlite3 client sees the committed rows
    assert row_count(db_file, "engagement") == 1
    assert row_count(db_file, "cash_flow_line") == len(rich.cash_flow)


def test_saving_the_engagement_keeps_answer_revisions_and_answers_it_lacks(tmp_path) -> None:
    from csm_nb.model import Engagement

    with Store(tmp_path / "s.sqlite") as store:
        store.save(Engagement(id="acme", customer="Acme"))
        first = store.save_answer("acme", "outcome_discovery", "importance", "critical", expected_revision=0, author="ann")
        store.save_answer("acme", "outcome_discovery", "baseline", 1800, expected_revision=0, author="ann")
        copy = store.load("acme")
        copy.workshop["outcome_discovery"].pop("baseline")  # an older file without that answer
        copy.workshop["outcome_discovery"]["target"] = 26000  # and one new answer
        store.save(copy, author="bob")
        answers = store.answers("acme", "outcome_discovery")
        assert answers["importance"].revision == first.revision == 1  # unchanged: no false conflict later
        assert answers["baseline"].value == 1800  # kept, not wiped
        assert (answers["target"].value, answers["target"].revision, answers["target"].updated_by) == (26000, 1, "bob")
        # A form that showed revision 1 can still save.
        assert store.save_answer("acme", "outcome_discovery", "importance", "high", expected_revision=1).revision == 2


# -- threads, locks, nesting, other programs' files -----------------------------------------------------------------
def test_one_store_saves_from_any_thread(db_file):
    import threading

    with Store(db_file) as s:
        s.save(Engagement(id="acme", customer="Acme"), author="alice")
        errors: list[BaseException] = []

        def save(value: int) -> None:
            try:
                s.save_answer("acme", "outcome_discovery", "run_rate", value, author="bob")
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                errors.append(exc)

        for value in (1810, 1820, 1800):  # each from a fresh thread, as ipykernel's subshells deliver them
            t = threading.Thread(target=save, args=(value,))
            t.start()
            t.join()
        assert errors == []
    with closing(sqlite3.connect(db_file)) as db:
        assert db.execute("SELECT value, revision FROM answer WHERE key = 'run_rate'").fetchone() == ("1800", 3)


def test_a_lock_held_by_another_process_is_refused_naming_it_and_nothing_is_written(db_file, hold_write_lock):
    with Store(db_file) as s:
        s.save(Engagement(id="acme", customer="Acme"), author="alice")
    holder = hold_write_lock(db_file, 30)
    try:
        with Store(db_file, busy_timeout=0.3) as s:
            with pytest.raises(StoreBusyError) as info:
                s.save_answer("acme", "outcome_discovery", "run_rate", 1810)
            assert s.load("acme").customer == "Acme"  # reading still works while another writes (WAL)
        message = str(info.value)
        assert f"pid {holder.pid} " in message and "the store is busy" in message and "Nothing was saved" in message
        assert any(h.startswith(f"pid {holder.pid} ") for h in info.value.holders)
    finally:
        holder.kill()
    with Store(db_file) as s:
        assert s.answers("acme", "outcome_discovery") == {}
        assert s.save_answer("acme", "outcome_discovery", "run_rate", 1810).revision == 1


def test_nested_transactions_commit_once_and_roll_back_together(store):
    store.save(Engagement(id="acme", customer="Acme"), author="alice")
    with pytest.raises(RuntimeError), store.transaction():
        store.save(Engagement(id="beta", customer="Beta"), author="alice")
        store.save_answer("acme", "outcome_discovery", "importance", "high")
        raise RuntimeError("the second file was bad")
    assert [e.id for e in store.engagements()] == ["acme"]
    assert store.answers("acme", "outcome_discovery") == {}
    with store.transaction():
        store.save(Engagement(id="beta", customer="Beta"), author="alice")
        with pytest.raises(NotFoundError):
            store.save_answer("ghost", "outcome_discovery", "importance", "high")  # inner failure: a savepoint
    assert [e.id for e in store.engagements()] == ["acme", "beta"]


def test_another_programs_sqlite_file_gets_no_csm_nb_tables(tmp_path):
    path = tmp_path / "crm.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE people (name TEXT)")
        db.commit()
    before = path.read_bytes()
    with pytest.raises(InputError, match=r"another program's SQLite database \(tables: people\)"):
        Store(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("value", "problem"),
    [(b"\x00binary", "got bytes"), ({1, 2}, "got set"), (float("nan"), "got float"), ("x" * 100_001, "at most 100,000")],
)
def test_answers_must_be_plain_data_of_bounded_size(store, value, problem):
    store.save(Engagement(id="acme", customer="Acme"), author="alice")
    with pytest.raises(InputError, match=problem):
        store.save_answer("acme", "outcome_discovery", "notes", value)
    assert store.answers("acme", "outcome_discovery") == {}


def test_changes_since_import_name_what_people_did(store):
    store.save(small(), author="importer", summary="imported from acme.yaml")
    assert store.changes_since_import("acme") == []
    store.add_measurements("acme", [Measurement("orders", 9, 4.0)], author="bob")
    store.save_answer("acme", "outcome_discovery", "importance", "high", author="ann")
    changes = store.changes_since_import("acme")
    assert changes[0].startswith("measurements: 1 added, 0 updated by bob at ")
    assert changes[1].startswith("answer outcome_discovery.importance by ann at ")


def test_the_busy_message_names_the_writer_not_every_process_with_the_store_open(db_file, hold_write_lock):
    import subprocess
    import sys

    with Store(db_file) as s:
        s.save(Engagement(id="acme", customer="Acme"), author="alice")
    # An idle reader, as another workbook's kernel is: it has the file open and holds no write lock.
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute('SELECT 1 FROM engagement').fetchall(); "
                "print('open', flush=True); sys.stdin.read()"
            ),
            str(db_file),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == b"open"
        holder = hold_write_lock(db_file)
        with Store(db_file, busy_timeout=0.2) as s, pytest.raises(StoreBusyError) as info:
            s.save_answer("acme", "outcome_discovery", "run_rate", 1)
        assert [h.split(" (")[0] for h in info.value.holders] == [f"pid {holder.pid}"]
    finally:
        reader.kill()
        reader.wait()
