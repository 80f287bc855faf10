"""The embedded store: one SQLite file.

Every write is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a
failed import leaves the store exactly as it was, and a saved answer survives
a crash of the process that saved it (WAL journal). Each engagement carries a
``revision``; saving a copy read at an older revision is refused with a
``ConflictError`` that says who saved in between and when, so two people
editing one engagement never silently overwrite each other.

The schema is versioned with ``PRAGMA user_version``; ``MIGRATIONS[n]`` takes a
store from version ``n`` to ``n + 1`` and runs inside the same transaction.

One ``Store`` may be used from any thread: each thread gets its own SQLite
connection, made when it first touches the store (a connection must stay in
the thread that made it, and ipykernel delivers widget messages on more than
one thread). Transactions nest: an inner ``transaction()`` is a savepoint, so
a command that writes several files is one transaction and leaves the store
exactly as it was when any of them fails. A write lock held by another
process is waited for ``busy_timeout`` seconds, then refused with
``StoreBusyError`` naming the processes that have the file open; every other
SQLite failure a person can cause (a read-only file, a full disk, a path under
a file, another program's database) is one ``StoreError`` line.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from csm_nb import config
from csm_nb.data.engagement import check_part, desired_outcome_ids
from csm_nb.data.engagement_model import (
    DEFAULT_MODEL_ID,
    builtin_model,
    builtin_models,
    check_model,
    model_document,
    resolve_model,
    unknown_moment,
)
from csm_nb.data.lifecycle import activity_document, activity_key, activity_record, event_key, moment_key, pulse_key
from csm_nb.data.maturity_model import (
    builtin_maturity_model,
    builtin_maturity_model_ids,
    check_engagement_maturity,
    check_maturity_model,
)
from csm_nb.data.schema import Context
from csm_nb.errors import (
    ConflictError,
    CsmError,
    InputError,
    NotFoundError,
    StoreBusyError,
    StoreError,
)
from csm_nb.method.maturity import MaturityModel
from csm_nb.model import (
    Activity,
    CashFlowLine,
    Contract,
    Engagement,
    EngagementModel,
    Event,
    Kpi,
    Measurement,
    MomentRecord,
    Outcome,
    PulseAnswer,
    field_names,
    without_none,
)

MIGRATIONS: list[str] = [
    # 0 -> 1: the foundation.
    """
    CREATE TABLE engagement (
        id TEXT PRIMARY KEY,
        customer TEXT NOT NULL,
        currency TEXT, csm TEXT, tags TEXT,
        initiative TEXT, solution TEXT, stakeholders TEXT, financial_links TEXT,
        revision INTEGER NOT NULL DEFAULT 1,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    );
    CREATE TABLE outcome (
        engagement_id TEXT NOT NULL REFERENCES engagement(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        id TEXT NOT NULL, description TEXT, quantity TEXT, deadline TEXT, measurement TEXT,
        status TEXT, priority TEXT,
        PRIMARY KEY (engagement_id, id)
    );
    CREATE TABLE kpi (
        engagement_id TEXT NOT NULL REFERENCES engagement(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        id TEXT NOT NULL, outcome TEXT, name TEXT, kind TEXT, unit TEXT, direction TEXT,
        baseline REAL, target REAL, start TEXT, deadline TEXT, frequency TEXT, source TEXT, owner TEXT,
        milestones TEXT,
        PRIMARY KEY (engagement_id, id)
    );
    CREATE TABLE cash_flow_line (
        engagement_id TEXT NOT NULL REFERENCES engagement(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        period TEXT NOT NULL,
        expenditure_est REAL, expenditure_act REAL, revenue_est REAL, revenue_act REAL,
        PRIMARY KEY (engagement_id, position)
    );
    CREATE TABLE measurement (
        engagement_id TEXT NOT NULL REFERENCES engagement(id) ON DELETE CASCADE,
        kpi_id TEXT NOT NULL,
        period TEXT NOT NULL,           -- '3' (period index) or '2026-01-31' (ISO date)
        value REAL NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (engagement_id, kpi_id, period)
    );
    CREATE TABLE change_log (
        engagement_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        summary TEXT NOT NULL
    );
    CREATE INDEX change_log_engagement ON change_log (engagement_id, revision);
    """,
    # 1 -> 2: workshop answers, saved one at a time as they are typed.
    """
    CREATE TABLE answer (
        engagement_id TEXT NOT NULL REFERENCES engagement(id) ON DELETE CASCADE,
        workbook TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,            -- JSON
        revision INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (engagement_id, workbook, key)
    );
    """,
    # 2 -> 3: the engagement's life: engagement models, the contract, the moment log and events.
    """
    CREATE TABLE engagement_model (
        id TEXT PRIMARY KEY,
        document TEXT NOT NULL,         -- JSON: the model as its file has it (csm-nb/engagement-model@1)
        revision INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    );
    ALTER TABLE engagement ADD COLUMN contract TEXT;            -- JSON
    ALTER TABLE engagement ADD COLUMN engagement_model TEXT;    -- JSON: a model's id (text), or a model inline
    CREATE TABLE moment_log (
        engagement_id TEXT NOT NULL REFERENCES engagement(id) ON DELETE CASCADE,
        moment TEXT NOT NULL,
        occurrence TEXT NOT NULL,       -- the due date, else the held date, else '' (csm_nb.data.lifecycle.moment_key)
        due TEXT, held TEXT, status TEXT,
        attrs TEXT,                     -- JSON: attendees, outcome, delay_reason, note
        position INTEGER NOT NULL,
        PRIMARY KEY (engagement_id, moment, occurrence)
    );
    CREATE TABLE event (
        engagement_id TEXT NOT NULL REFERENCES engagement(id) ON DELETE CASCADE,
        date TEXT NOT NULL,
        type TEXT NOT NULL,
        ref TEXT NOT NULL,              -- '' when none (csm_nb.data.lifecycle.event_key)
        respondent TEXT NOT NULL,       -- '' when none
        attrs TEXT,                     -- JSON: severity, score, scale, note
        position INTEGER NOT NULL,
        PRIMARY KEY (engagement_id, date, type, ref, respondent)
    );
    """,
    # 3 -> 4: the customer's financial year ("end of this financial year" deadlines).
    """
    ALTER TABLE engagement ADD COLUMN fiscal_year_end TEXT;     -- MM-DD
    """,
    # 4 -> 5: the relationship around the value: success plan, risks, commitments, references, health
    # settings (JSON, each replaced whole) and the CSM's activity log (appended like measurements).
    """
    ALTER TABLE engagement ADD COLUMN success_plan TEXT;
    ALTER TABLE engagement ADD COLUMN risks TEXT;
    ALTER TABLE engagement ADD COLUMN commitments TEXT;
    ALTER TABLE engagement ADD COLUMN reference_log TEXT;       -- the file's references (a reserved word in SQL)
    ALTER TABLE engagement ADD COLUMN health_settings TEXT;
    CREATE TABLE activity (
        engagement_id TEXT NOT NULL REFERENCES engagement(id) ON DELETE CASCADE,
        date TEXT NOT NULL,
        type TEXT NOT NULL,
        title TEXT NOT NULL,
        attrs TEXT,                     -- JSON: missions, with, moment, minutes, outcome
        position INTEGER NOT NULL,
        PRIMARY KEY (engagement_id, date, type, title)
    );
    """,
    # 5 -> 6: maturity and the customer's jobs (JSON parts), maturity models, the pulse (appended like
    # measurements) and what a KPI's target means, what it measures and where its figures come from.
    """
    ALTER TABLE engagement ADD COLUMN maturity TEXT;
    ALTER TABLE engagement ADD COLUMN jobs TEXT;
    ALTER TABLE kpi ADD COLUMN target_type TEXT;
    ALTER TABLE kpi ADD COLUMN capability TEXT;
    ALTER TABLE kpi ADD COLUMN desired_outcome TEXT;
    ALTER TABLE kpi ADD COLUMN origin TEXT;
    ALTER TABLE kpi ADD COLUMN consent TEXT;
    CREATE TABLE maturity_model (
        id TEXT PRIMARY KEY,
        document TEXT NOT NULL,         -- JSON: the model as its file has it (csm-nb/maturity-model@1)
        revision INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    );
    CREATE TABLE pulse_answer (
        engagement_id TEXT NOT NULL REFERENCES engagement(id) ON DELETE CASCADE,
        date TEXT NOT NULL,
        respondent TEXT NOT NULL,
        desired_outcome TEXT NOT NULL,
        satisfaction REAL NOT NULL,
        attrs TEXT,                     -- JSON: importance, comment
        position INTEGER NOT NULL,
        PRIMARY KEY (engagement_id, date, respondent, desired_outcome)
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

_OUTCOME_COLUMNS = field_names(Outcome)
_KPI_COLUMNS = field_names(Kpi)
_JSON_COLUMNS = ("tags", "initiative", "solution", "stakeholders", "financial_links")
# The parts a form replaces whole (``Store.set_part``) and their columns; all JSON.
_PART_COLUMNS = {
    "stakeholders": "stakeholders",
    "success_plan": "success_plan",
    "risks": "risks",
    "commitments": "commitments",
    "references": "reference_log",
    "health": "health_settings",
    "maturity": "maturity",
    "jobs": "jobs",
}
_LIFE_PARTS = ("success_plan", "risks", "commitments", "references", "health", "maturity", "jobs")
_PULSE_ATTRS = ("importance", "comment")


@dataclass(frozen=True)
class EngagementSummary:
    id: str
    customer: str
    csm: str | None
    tags: list[str]
    revision: int
    updated_at: str
    updated_by: str


@dataclass(frozen=True)
class Answer:
    key: str
    value: Any
    revision: int
    updated_at: str
    updated_by: str


MAX_ANSWER_CHARS = 100_000  # one workshop answer as JSON; a pasted document belongs in a file
MAX_CUSTOMER_CHARS = 200  # a customer's name typed into a form; a real one is far shorter


def answer_json(value: Any, *, where: str) -> str:
    """A workshop answer as JSON text: plain data only (text, numbers, booleans, null, lists, mappings).

    >>> answer_json({"a": [1, "x"]}, where="q")
    '{"a": [1, "x"]}'
    """
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise InputError(
            f"{where}: expected text, a number, true/false, or a list or mapping of those; got {type(value).__name__}"
        ) from None
    if len(text) > MAX_ANSWER_CHARS:
        raise InputError(f"{where}: the answer is {len(text):,} characters; at most {MAX_ANSWER_CHARS:,} are kept per answer")
    return text


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _period_text(period: int | str) -> str:
    return str(period)


def _period_value(text: str) -> int | str:
    return int(text) if text.isdigit() else text


DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a write waits for another process's lock
_TABLES = frozenset(
    {
        "engagement",
        "outcome",
        "kpi",
        "cash_flow_line",
        "measurement",
        "change_log",
        "answer",
        "engagement_model",
        "moment_log",
        "event",
    }
)
F = TypeVar("F", bound=Callable[..., Any])


_WAL_WRITE_LOCK_BYTE = 120  # SQLite's WAL writer lock: the first lock byte of the -shm file


def holders_of(path: Path) -> tuple[str, ...]:
    """The processes holding the store's write lock, as ``pid N (command)``; empty if unseen.

    Read from ``/proc/locks`` on Linux, only when a lock was not released in
    time: the writer holds a POSIX write lock on byte 120 of the ``-shm``
    file (WAL) or on the database file itself (rollback journal). Processes
    that merely have the store open, such as an idle kernel of another
    workbook, are not named. When no lock can be seen (another kind of file
    system, another OS), the processes with the file open are named instead.
    """
    resolved = path.resolve()
    inodes: dict[int, str] = {}
    for suffix in ("", "-shm"):
        try:
            inodes[os.stat(f"{resolved}{suffix}").st_ino] = suffix
        except OSError:
            pass
    pids: set[int] = set()
    try:
        with open("/proc/locks") as locks:
            for line in locks:
                parts = line.split()
                if "->" in parts or len(parts) < 8 or parts[3] != "WRITE":
                    continue
                try:
                    pid, inode = int(parts[4]), int(parts[5].split(":")[2])
                    first, last = int(parts[6]), (int(parts[7]) if parts[7] != "EOF" else 1 << 62)
                except (ValueError, IndexError):
                    continue
                suffix = inodes.get(inode)
                if suffix == "" or (suffix == "-shm" and first <= _WAL_WRITE_LOCK_BYTE <= last):
                    pids.add(pid)
    except OSError:
        pass
    pids.discard(os.getpid())
    if not pids:
        pids = _pids_with_open(resolved)
    return tuple(sorted(_described(pid) for pid in pids))


def _pids_with_open(resolved: Path) -> set[int]:
    wanted = {str(resolved), f"{resolved}-wal"}
    found: set[int] = set()
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:  # gone, or not ours to look at
            continue
        if links & wanted:
            found.add(int(entry.name))
    return found


def _described(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        command = "?"
    command = command if len(command) <= 60 else command[:57] + "..."
    return f"pid {pid} ({command})"


def _translated(method: F) -> F:
    """SQLite failures a person can cause become one ``StoreError`` line; bugs keep their traceback."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError as exc:
            raise self._store_error(exc) from None
        except sqlite3.DatabaseError as exc:  # a damaged file or not SQLite at all
            raise StoreError(f"store {self.path}: not a readable csm-nb SQLite store ({exc})") from None

    return wrapper  # type: ignore[return-value]


class Store:
    """A csm-nb store in one SQLite file. Use as a context manager or call ``close``."""

    @classmethod
    def existing(cls, path: str | Path | None = None, **options: Any) -> Store:
        """The store at ``path`` when its file exists; a workbook that reads an engagement never creates an
        empty store at a mistyped path (``NotFoundError`` names the path and the next step)."""
        where = config.db_path(path)
        if not where.exists():
            raise NotFoundError(
                f"store {where} does not exist; check the db parameter (or CSM_NB_DB), or import an engagement "
                "first with: csm-nb import FILE"
            )
        return cls(where, **options)

    def __init__(self, path: str | Path | None = None, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = config.db_path(path)
        self.busy_timeout = float(busy_timeout)
        if self.path.is_dir():
            raise InputError(f"store {self.path} is a directory; give a file path such as {self.path / 'csm-nb.sqlite'}")
        if self.path.exists() and not self.path.is_file():
            raise InputError(f"store {self.path} is not a regular file; give the path of a csm-nb .sqlite file")
        for parent in self.path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise InputError(f"store {self.path}: {parent} is a file, not a folder; give a path in a folder")
                break
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"store {self.path}: cannot create its folder ({exc.strerror or exc})") from None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        try:
            self._migrate()
        except sqlite3.OperationalError as exc:
            self.close()
            raise self._store_error(exc) from None
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(
                f"store {self.path}: not a csm-nb SQLite store ({exc}); give a csm-nb store or a new file name with --db"
            ) from None
        except BaseException:
            self.close()
            raise

    # -- plumbing -------------------------------------------------------
    @property
    def _db(self) -> sqlite3.Connection:
        """This thread's connection (made on first use; SQLite connections are not shared across threads)."""
        db = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise StoreError(f"store {self.path} was closed; open it again")
            # check_same_thread=False only so close() may run anywhere; each thread uses its own.
            db = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout, check_same_thread=False)
            try:
                db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                db.execute("PRAGMA foreign_keys = ON")
                if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
            except BaseException:
                db.close()
                raise
            self._local.db, self._local.depth = db, 0
            with self._lock:
                self._connections.append(db)
        return db

    def _store_error(self, exc: sqlite3.OperationalError) -> CsmError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            holders = holders_of(self.path)
            held = f"held by {', '.join(holders)}" if holders else "held by another program"
            return StoreBusyError(
                f"the store is busy ({held}); waited {self.busy_timeout:g} s for {self.path}. "
                "Nothing was saved; try again when the other program has finished",
                holders=holders,
            )
        if "readonly" in text or "read-only" in text:
            return StoreError(f"store {self.path} is read-only; make the file writable or give another --db")
        if "disk is full" in text or "full" in text:
            return StoreError(f"store {self.path}: the disk is full; nothing was saved. Free some space and try again")
        if "unable to open" in text:
            return StoreError(f"store {self.path} cannot be opened; check that its folder exists and is writable")
        return StoreError(f"store {self.path}: {text}")

    def close(self) -> None:
        self._closed = True
        with self._lock:
            connections, self._connections = self._connections, []
        for db in connections:
            try:
                db.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside commits together or not at all.

        Nested calls (in the same thread) are savepoints inside the outer
        transaction, so a whole command commits once.
        """
        db = self._db
        depth = self._local.depth
        if depth:
            name = f"nested_{depth}"
            db.execute(f"SAVEPOINT {name}")
            self._local.depth = depth + 1
            try:
                yield db
            except BaseException:
                db.execute(f"ROLLBACK TO {name}")
                db.execute(f"RELEASE {name}")
                raise
            else:
                db.execute(f"RELEASE {name}")
            finally:
                self._local.depth = depth
            return
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._store_error(exc) from None
        self._local.depth = 1
        try:
            yield db
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        else:
            try:
                db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise self._store_error(exc) from None
        finally:
            self._local.depth = 0

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several SELECTs (inside a write transaction: that one)."""
        db = self._db
        if self._local.depth or db.in_transaction:
            yield db
            return
        db.execute("BEGIN")
        try:
            yield db
        finally:
            if db.in_transaction:
                db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _refuse_foreign(self) -> None:
        """Another program's SQLite file is refused before anything (even the journal mode) changes in it."""
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return
        probe = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            version = probe.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            probe.close()
        if version == 0 and tables - _TABLES:
            shown = ", ".join(sorted(tables - _TABLES)[:5])
            raise InputError(
                f"store {self.path} is another program's SQLite database (tables: {shown}); "
                "give a new file name or a csm-nb store with --db"
            )

    def _migrate(self) -> None:
        self._refuse_foreign()
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise InputError(
                f"store {self.path} has schema version {version}, newer than this csm-nb understands "
                f"({SCHEMA_VERSION}); upgrade csm-nb"
            )
        if version == SCHEMA_VERSION:
            return
        with self.transaction() as db:
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- reading --------------------------------------------------------
    @_translated
    def engagements(self) -> list[EngagementSummary]:
        rows = self._db.execute(
            "SELECT id, customer, csm, tags, revision, updated_at, updated_by FROM engagement ORDER BY id"
        ).fetchall()
        return [EngagementSummary(r[0], r[1], r[2], json.loads(r[3]) if r[3] else [], r[4], r[5], r[6]) for r in rows]

    @_translated
    def exists(self, engagement_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM engagement WHERE id = ?", (engagement_id,)).fetchone() is not None

    def create_engagement(self, engagement_id: str, customer: str, *, summary: str, where: str = "engagement id") -> str:
        """Store a new, empty engagement (an id and the customer's name); its id.

        A bad id (``where`` names the box it came from), an empty or overlong
        name, or an id already taken is one line, and nothing is written.
        """
        eid = config.check_engagement_id((engagement_id or "").strip(), where=where)
        customer = (customer or "").strip()
        if not customer:
            raise InputError("Customer is empty; type the customer's name")
        if len(customer) > MAX_CUSTOMER_CHARS:
            raise InputError(f"Customer is {len(customer)} characters long; keep it to {MAX_CUSTOMER_CHARS}")
        if self.exists(eid):
            raise InputError(f"an engagement {eid!r} already exists ({self.load(eid).customer}); choose it from the list")
        self.save(Engagement(id=eid, customer=customer), expected_revision=0, summary=summary)
        return eid

    @_translated
    def revision(self, engagement_id: str) -> int:
        row = self._db.execute("SELECT revision FROM engagement WHERE id = ?", (engagement_id,)).fetchone()
        if row is None:
            raise self._missing(engagement_id)
        return int(row[0])

    def _missing(self, engagement_id: str) -> NotFoundError:
        known = [e.id for e in self.engagements()]
        hint = f"known: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}" if known else "the store is empty"
        return NotFoundError(
            f"no engagement {engagement_id!r} in store {self.path} ({hint}); import one with: csm-nb import FILE"
        )

    @_translated
    def kpis(self, engagement_id: str) -> list[Kpi]:
        """The engagement's KPIs alone (checking a measurement file needs no more than these)."""
        with self._reading() as db:
            if db.execute("SELECT 1 FROM engagement WHERE id = ?", (engagement_id,)).fetchone() is None:
                raise self._missing(engagement_id)
            return self._kpis(db, engagement_id)

    @staticmethod
    def _kpis(db: sqlite3.Connection, engagement_id: str) -> list[Kpi]:
        return [
            _kpi_from_row(r)
            for r in db.execute(
                f"SELECT {', '.join(_KPI_COLUMNS)} FROM kpi WHERE engagement_id = ? ORDER BY position",
                (engagement_id,),
            )
        ]

    @_translated
    def load(self, engagement_id: str) -> Engagement:
        """The whole engagement, as of one consistent snapshot."""
        with self._reading() as db:  # all tables from the same moment
            row = db.execute(
                "SELECT id, customer, currency, csm, tags, initiative, solution, stakeholders, financial_links, "
                "revision, updated_at, updated_by, contract, engagement_model, fiscal_year_end FROM engagement WHERE id = ?",
                (engagement_id,),
            ).fetchone()
            if row is None:
                raise self._missing(engagement_id)
            json_values = {name: (json.loads(v) if v is not None else None) for name, v in zip(_JSON_COLUMNS, row[4:9])}
            engagement = Engagement(
                id=row[0],
                customer=row[1],
                currency=row[2],
                csm=row[3],
                **json_values,
                revision=row[9],
                updated_at=row[10],
                updated_by=row[11],
                fiscal_year_end=row[14],
            )
            if row[12] is not None:
                engagement.contract = Contract(**json.loads(row[12]))
            if row[13] is not None:
                engagement.engagement_model = _model_from_column(json.loads(row[13]), engagement_id)
            engagement.moments = self._moments(db, engagement_id)
            engagement.events = self._events(db, engagement_id)
            engagement.activities = self._activities(db, engagement_id)
            engagement.pulse = self._pulse(db, engagement_id)
            parts = db.execute(
                f"SELECT {', '.join(_PART_COLUMNS[p] for p in _LIFE_PARTS)} FROM engagement WHERE id = ?", (engagement_id,)
            ).fetchone()
            for part, value in zip(_LIFE_PARTS, parts, strict=True):
                setattr(engagement, part, json.loads(value) if value is not None else None)
            engagement.outcomes = [
                Outcome(*r)
                for r in db.execute(
                    f"SELECT {', '.join(_OUTCOME_COLUMNS)} FROM outcome WHERE engagement_id = ? ORDER BY position",
                    (engagement_id,),
                )
            ]
            engagement.kpis = self._kpis(db, engagement_id)
            engagement.cash_flow = [
                CashFlowLine(*r)
                for r in db.execute(
                    "SELECT period, expenditure_est, expenditure_act, revenue_est, revenue_act FROM cash_flow_line "
                    "WHERE engagement_id = ? ORDER BY position",
                    (engagement_id,),
                )
            ]
            workshop: dict[str, dict[str, Any]] = {}
            for workbook, key, value in db.execute(
                "SELECT workbook, key, value FROM answer WHERE engagement_id = ? ORDER BY workbook, rowid", (engagement_id,)
            ):
                workshop.setdefault(workbook, {})[key] = json.loads(value)
            engagement.workshop = workshop or None
            engagement.measurements = [
                Measurement(r[0], _period_value(r[1]), r[2])
                for r in db.execute(
                    "SELECT kpi_id, period, value FROM measurement WHERE engagement_id = ? ORDER BY position",
                    (engagement_id,),
                )
            ]
        return engagement

    @_translated
    def history(self, engagement_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT revision, at, by, summary FROM change_log WHERE engagement_id = ? ORDER BY revision",
            (engagement_id,),
        ).fetchall()
        return [dict(zip(("revision", "at", "by", "summary"), r)) for r in rows]

    IMPORT_SUMMARY = "imported from "  # change-log summaries of imports start with this

    @_translated
    def changes_since_import(self, engagement_id: str) -> list[str]:
        """What people changed after the engagement's last import, in words (empty: nothing).

        Counts change-log entries after the last ``imported from`` one and
        workshop answers saved after it; an engagement never imported (made in
        a workshop) counts as changed.
        """
        with self._reading() as db:
            log = db.execute(
                "SELECT revision, at, by, summary FROM change_log WHERE engagement_id = ? ORDER BY revision",
                (engagement_id,),
            ).fetchall()
            imports = [r for r in log if r[3].startswith(self.IMPORT_SUMMARY)]
            if not imports:
                return [f"{r[3]} by {r[2]} at {r[1]}" for r in log[-1:]] or ["not imported from a file"]
            last = imports[-1]
            out = [f"{summary} by {by} at {at}" for revision, at, by, summary in log if revision > last[0]]
            answers = db.execute(
                # Times are to the second: an answer in the import's own second counts unless the import wrote it.
                "SELECT workbook, key, updated_by, updated_at FROM answer WHERE engagement_id = ? "
                "AND (updated_at > ? OR (updated_at = ? AND updated_by != ?)) ORDER BY updated_at",
                (engagement_id, last[1], last[1], last[2]),
            ).fetchall()
        out += [f"answer {workbook}.{key} by {by} at {at}" for workbook, key, by, at in answers]
        return out

    # -- writing --------------------------------------------------------
    @_translated
    def save(
        self,
        engagement: Engagement,
        *,
        expected_revision: int | None = None,
        author: str | None = None,
        summary: str = "saved",
    ) -> int:
        """Write the whole engagement in one transaction and return its new revision.

        ``expected_revision`` is the revision the caller read; if somebody
        saved since, nothing is written and ``ConflictError`` says who and when.
        ``None`` replaces unconditionally (an explicit import).
        """
        author = author or config.author()
        with self.transaction() as db:
            current = self._current_revision(db, engagement.id, expected_revision)
            revision = current + 1
            now = _now()
            json_values = [
                json.dumps(getattr(engagement, c)) if getattr(engagement, c) is not None else None for c in _JSON_COLUMNS
            ]
            db.execute(
                "INSERT INTO engagement (id, customer, currency, csm, tags, initiative, solution, stakeholders, "
                "financial_links, revision, updated_at, updated_by, contract, engagement_model, fiscal_year_end) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET customer=excluded.customer, currency=excluded.currency, csm=excluded.csm, "
                "tags=excluded.tags, initiative=excluded.initiative, solution=excluded.solution, "
                "stakeholders=excluded.stakeholders, financial_links=excluded.financial_links, "
                "revision=excluded.revision, updated_at=excluded.updated_at, updated_by=excluded.updated_by, "
                "contract=excluded.contract, engagement_model=excluded.engagement_model, "
                "fiscal_year_end=excluded.fiscal_year_end",
                (
                    engagement.id,
                    engagement.customer,
                    engagement.currency,
                    engagement.csm,
                    *json_values,
                    revision,
                    now,
                    author,
                    _contract_column(engagement.contract),
                    _model_column(engagement.engagement_model),
                    engagement.fiscal_year_end,
                ),
            )
            db.execute(
                f"UPDATE engagement SET {', '.join(f'{_PART_COLUMNS[p]} = ?' for p in _LIFE_PARTS)} WHERE id = ?",
                (*(_json_or_none(getattr(engagement, p)) for p in _LIFE_PARTS), engagement.id),
            )
            for table in ("outcome", "kpi", "cash_flow_line", "measurement", "moment_log", "event", "activity", "pulse_answer"):
                db.execute(f"DELETE FROM {table} WHERE engagement_id = ?", (engagement.id,))
            db.executemany(
                f"INSERT INTO outcome (engagement_id, position, {', '.join(_OUTCOME_COLUMNS)}) "
                f"VALUES ({', '.join('?' * (len(_OUTCOME_COLUMNS) + 2))})",
                [(engagement.id, i, *(getattr(o, c) for c in _OUTCOME_COLUMNS)) for i, o in enumerate(engagement.outcomes)],
            )
            db.executemany(
                f"INSERT INTO kpi (engagement_id, position, {', '.join(_KPI_COLUMNS)}) "
                f"VALUES ({', '.join('?' * (len(_KPI_COLUMNS) + 2))})",
                [(engagement.id, i, *_kpi_to_row(k)) for i, k in enumerate(engagement.kpis)],
            )
            db.executemany(
                "INSERT INTO cash_flow_line VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (engagement.id, i, c.period, c.expenditure_est, c.expenditure_act, c.revenue_est, c.revenue_act)
                    for i, c in enumerate(engagement.cash_flow)
                ],
            )
            self._upsert_measurements(db, engagement.id, engagement.measurements)
            self._upsert_moments(db, engagement.id, engagement.moments)
            self._upsert_events(db, engagement.id, engagement.events)
            self._upsert_activities(db, engagement.id, engagement.activities)
            self._upsert_pulse(db, engagement.id, engagement.pulse)
            self._merge_answers(db, engagement, now, author)
            db.execute("INSERT INTO change_log VALUES (?, ?, ?, ?, ?)", (engagement.id, revision, now, author, summary))
        engagement.revision, engagement.updated_at, engagement.updated_by = revision, now, author
        return revision

    @staticmethod
    def _current_revision(db: sqlite3.Connection, engagement_id: str, expected_revision: int | None) -> int:
        """The stored revision (0 for a new engagement); ``ConflictError`` naming who changed what when it is not
        ``expected_revision`` (``None``: any)."""
        row = db.execute("SELECT revision, updated_at, updated_by FROM engagement WHERE id = ?", (engagement_id,)).fetchone()
        current = row[0] if row else 0
        if expected_revision is not None and current != expected_revision:
            if row is None:
                raise ConflictError(f"engagement {engagement_id!r} was deleted since you opened it; reload it")
            changes = db.execute(
                "SELECT by, at, summary FROM change_log WHERE engagement_id = ? AND revision > ? ORDER BY revision",
                (engagement_id, expected_revision),
            ).fetchall()
            said = "; ".join(f"{by} at {at}: {what}" for by, at, what in changes) or f"{row[2]} at {row[1]}"
            raise ConflictError(
                f"engagement {engagement_id!r} changed since you opened it (your copy is revision "
                f"{expected_revision}, the store has {current}): {said}. Reload it and make your change again"
            )
        return current

    @_translated
    def set_part(self, engagement_id: str, part: str, value: Any, *, expected_revision: int, author: str | None = None) -> int:
        """Replace one part of an engagement a form edits (stakeholders, success plan, risks, commitments,
        references or health settings) and return the new revision.

        ``value`` is checked by the engagement file's rules first (one line naming the part and key when
        it is wrong); the engagement's other parts are not touched. ``ConflictError`` when somebody saved
        since ``expected_revision``; nothing is written then.
        """
        if part not in _PART_COLUMNS:
            raise InputError(f"part {part!r}: expected one of {', '.join(_PART_COLUMNS)}")
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM engagement WHERE id = ?", (engagement_id,)).fetchone() is None:
                raise self._missing(engagement_id)
            current = self._current_revision(db, engagement_id, expected_revision)
            engagement = self.load(engagement_id)
            checked = check_part(engagement, part, value, source=f"engagement {engagement_id!r}")
            if part == "maturity" and checked is not None:  # what it observes must be in its model
                check_engagement_maturity(
                    checked,
                    Context(source=f"engagement {engagement_id!r}"),
                    find=self.find_maturity_model,
                    known=self.maturity_model_ids(),
                )
            revision, now, who = current + 1, _now(), author or config.author()
            db.execute(
                f"UPDATE engagement SET {_PART_COLUMNS[part]} = ?, revision = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                (_json_or_none(checked), revision, now, who, engagement_id),
            )
            db.execute(
                "INSERT INTO change_log VALUES (?, ?, ?, ?, ?)",
                (engagement_id, revision, now, who, f"{part.replace('_', ' ')} saved"),
            )
        return revision

    @_translated
    def add_activities(self, engagement_id: str, activities: Iterable[Activity], *, author: str | None = None) -> dict[str, int]:
        """Append or correct activities (``lifecycle.activity_key``: date, type, title), as ``add_measurements``
        does measurements."""
        rows = list(activities)
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM engagement WHERE id = ?", (engagement_id,)).fetchone() is None:
                raise self._missing(engagement_id)
            counts = self._upsert_activities(db, engagement_id, rows)
            self._appended(db, engagement_id, author, "activities", counts)
        return counts

    @staticmethod
    def _upsert_activities(db: sqlite3.Connection, engagement_id: str, rows: list[Activity]) -> dict[str, int]:
        def attrs(activity: Activity) -> str | None:
            rest = {k: v for k, v in activity_document(activity).items() if k not in ("date", "type", "title")}
            return json.dumps(rest, sort_keys=True) if rest else None

        return Store._upsert_keyed(
            db,
            engagement_id,
            table="activity",
            key_columns=("date", "type", "title"),
            value_columns=("attrs",),
            rows=((activity_key(a), (attrs(a),)) for a in rows),
        )

    @staticmethod
    def _activities(db: sqlite3.Connection, engagement_id: str) -> list[Activity]:
        return [
            activity_record({"date": d, "type": t, "title": title, **json.loads(attrs or "{}")})
            for d, t, title, attrs in db.execute(
                "SELECT date, type, title, attrs FROM activity WHERE engagement_id = ? ORDER BY position", (engagement_id,)
            )
        ]

    @_translated
    def add_pulse(self, engagement_id: str, answers: Iterable[PulseAnswer], *, author: str | None = None) -> dict[str, int]:
        """Append or correct pulse answers (``lifecycle.pulse_key``: date, respondent, desired outcome), as
        ``add_measurements`` does measurements. Answers about a desired outcome the engagement's jobs do not
        have are refused, naming it; nothing is written then."""
        rows = list(answers)
        with self.transaction() as db:
            row = db.execute("SELECT jobs FROM engagement WHERE id = ?", (engagement_id,)).fetchone()
            if row is None:
                raise self._missing(engagement_id)
            known = desired_outcome_ids(json.loads(row[0]) if row[0] else None)
            unknown = next((a.desired_outcome for a in rows if a.desired_outcome not in known), None)
            if unknown is not None:
                raise InputError(
                    f"engagement {engagement_id!r}: {unknown!r} is not the id of any desired outcome in its jobs "
                    f"({', '.join(known) or 'none defined'}); add the job's desired outcomes first"
                )
            counts = self._upsert_pulse(db, engagement_id, rows)
            self._appended(db, engagement_id, author, "pulse", counts)
        return counts

    @staticmethod
    def _upsert_pulse(db: sqlite3.Connection, engagement_id: str, rows: list[PulseAnswer]) -> dict[str, int]:
        return Store._upsert_keyed(
            db,
            engagement_id,
            table="pulse_answer",
            key_columns=("date", "respondent", "desired_outcome"),
            value_columns=("satisfaction", "attrs"),
            rows=((pulse_key(a), (a.satisfaction, _attrs(a, _PULSE_ATTRS))) for a in rows),
        )

    @staticmethod
    def _pulse(db: sqlite3.Connection, engagement_id: str) -> list[PulseAnswer]:
        return [
            PulseAnswer(d, who, outcome, satisfaction, **json.loads(attrs or "{}"))
            for d, who, outcome, satisfaction, attrs in db.execute(
                "SELECT date, respondent, desired_outcome, satisfaction, attrs FROM pulse_answer "
                "WHERE engagement_id = ? ORDER BY position",
                (engagement_id,),
            )
        ]

    @_translated
    def add_measurements(
        self, engagement_id: str, measurements: Iterable[Measurement], *, author: str | None = None
    ) -> dict[str, int]:
        """Append or correct measurements; the same rows again change nothing.

        Returns counts ``{"added": n, "updated": n, "unchanged": n}``. Rows for
        KPIs the engagement does not have are refused, naming them.
        """
        rows = list(measurements)
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM engagement WHERE id = ?", (engagement_id,)).fetchone() is None:
                raise self._missing(engagement_id)
            known = {r[0] for r in db.execute("SELECT id FROM kpi WHERE engagement_id = ?", (engagement_id,))}
            unknown = sorted({m.kpi for m in rows} - known)
            if unknown:
                raise InputError(
                    f"measurements for unknown KPI id(s) {', '.join(map(repr, unknown))} in engagement "
                    f"{engagement_id!r}; known KPIs: {', '.join(sorted(known)) or 'none'}"
                )
            counts = self._upsert_measurements(db, engagement_id, rows)
            if counts["added"] or counts["updated"]:
                revision = db.execute("SELECT revision FROM engagement WHERE id = ?", (engagement_id,)).fetchone()[0] + 1
                now, who = _now(), author or config.author()
                db.execute(
                    "UPDATE engagement SET revision = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                    (revision, now, who, engagement_id),
                )
                db.execute(
                    "INSERT INTO change_log VALUES (?, ?, ?, ?, ?)",
                    (engagement_id, revision, now, who, f"measurements: {counts['added']} added, {counts['updated']} updated"),
                )
        return counts

    @_translated
    def add_moments(self, engagement_id: str, records: Iterable[MomentRecord], *, author: str | None = None) -> dict[str, int]:
        """Append or correct moment-log entries, as ``add_measurements`` does measurements.

        An entry for an occurrence already logged (``lifecycle.moment_key``) corrects it; the same
        entries again change nothing. Moments the engagement's model does not have are refused.
        """
        rows = list(records)
        with self.transaction() as db:
            model = self._log_model(db, engagement_id)
            ids = {m.id for m in model.moments}
            unknown = next((r.moment for r in rows if r.moment not in ids), None)
            if unknown is not None:
                raise InputError(f"engagement {engagement_id!r}: {unknown_moment(unknown, model, named=True)}")
            counts = self._upsert_moments(db, engagement_id, rows)
            self._appended(db, engagement_id, author, "moment log", counts)
        return counts

    @_translated
    def add_events(self, engagement_id: str, events: Iterable[Event], *, author: str | None = None) -> dict[str, int]:
        """Append or correct events (``lifecycle.event_key``), as ``add_measurements`` does measurements."""
        rows = list(events)
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM engagement WHERE id = ?", (engagement_id,)).fetchone() is None:
                raise self._missing(engagement_id)
            counts = self._upsert_events(db, engagement_id, rows)
            self._appended(db, engagement_id, author, "events", counts)
        return counts

    @staticmethod
    def _appended(db: sqlite3.Connection, engagement_id: str, author: str | None, what: str, counts: dict[str, int]) -> None:
        """A new revision and a change-log line when rows were added or corrected."""
        if not (counts["added"] or counts["updated"]):
            return
        revision = db.execute("SELECT revision FROM engagement WHERE id = ?", (engagement_id,)).fetchone()[0] + 1
        now, who = _now(), author or config.author()
        db.execute(
            "UPDATE engagement SET revision = ?, updated_at = ?, updated_by = ? WHERE id = ?", (revision, now, who, engagement_id)
        )
        db.execute(
            "INSERT INTO change_log VALUES (?, ?, ?, ?, ?)",
            (engagement_id, revision, now, who, f"{what}: {counts['added']} added, {counts['updated']} updated"),
        )

    @_translated
    def log_model(self, engagement_id: str) -> EngagementModel:
        """The model whose moments the engagement's log may name: the one it follows, or the default when it has none yet."""
        with self._reading() as db:
            return self._log_model(db, engagement_id)

    def _log_model(self, db: sqlite3.Connection, engagement_id: str) -> EngagementModel:
        """The model whose moments an engagement's log may name (the default when it names none)."""
        row = db.execute("SELECT engagement_model FROM engagement WHERE id = ?", (engagement_id,)).fetchone()
        if row is None:
            raise self._missing(engagement_id)
        named = _model_from_column(json.loads(row[0]), engagement_id) if row[0] is not None else None
        probe = Engagement(id=engagement_id, customer="", engagement_model=named, moments=[MomentRecord("")])
        model = resolve_model(probe, self.find_model, known=self.model_ids())
        assert model is not None  # an engagement with a log always follows a model
        return model

    @staticmethod
    def _upsert_moments(db: sqlite3.Connection, engagement_id: str, rows: list[MomentRecord]) -> dict[str, int]:
        return Store._upsert_keyed(
            db,
            engagement_id,
            table="moment_log",
            key_columns=("moment", "occurrence"),
            value_columns=("due", "held", "status", "attrs"),
            rows=((moment_key(r), (r.due, r.held, r.status, _attrs(r, _MOMENT_ATTRS))) for r in rows),
        )

    @staticmethod
    def _upsert_events(db: sqlite3.Connection, engagement_id: str, rows: list[Event]) -> dict[str, int]:
        return Store._upsert_keyed(
            db,
            engagement_id,
            table="event",
            key_columns=("date", "type", "ref", "respondent"),
            value_columns=("attrs",),
            rows=((event_key(e), (_attrs(e, _EVENT_ATTRS),)) for e in rows),
        )

    @staticmethod
    def _upsert_keyed(
        db: sqlite3.Connection,
        engagement_id: str,
        *,
        table: str,
        key_columns: tuple[str, ...],
        value_columns: tuple[str, ...],
        rows: Iterable[tuple[tuple[Any, ...], tuple[Any, ...]]],
    ) -> dict[str, int]:
        """Append or correct ``(key, values)`` rows of a log table; returns the added/updated/unchanged counts.

        The table's columns are ``engagement_id``, the key, the values and ``position`` (appended rows go last,
        in order); a row whose key is stored is updated when its values differ. A later row with the same key
        wins, as a correction does.
        """
        existing = {
            tuple(row[: len(key_columns)]): tuple(row[len(key_columns) :])
            for row in db.execute(
                f"SELECT {', '.join(key_columns + value_columns)} FROM {table} WHERE engagement_id = ?", (engagement_id,)
            )
        }
        next_position = len(existing)
        inserts, updates, unchanged = [], [], 0
        for key, values in rows:
            if key not in existing:
                inserts.append((engagement_id, *key, *values, next_position))
                next_position += 1
            elif existing[key] != values:
                updates.append((*values, engagement_id, *key))
            else:
                unchanged += 1
            existing[key] = values
        marks = ", ".join("?" * (len(key_columns) + len(value_columns) + 2))
        db.executemany(f"INSERT INTO {table} VALUES ({marks})", inserts)
        db.executemany(
            f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in value_columns)} "
            f"WHERE engagement_id = ? AND {' AND '.join(f'{c} = ?' for c in key_columns)}",
            updates,
        )
        return {"added": len(inserts), "updated": len(updates), "unchanged": unchanged}

    @staticmethod
    def _moments(db: sqlite3.Connection, engagement_id: str) -> list[MomentRecord]:
        return [
            MomentRecord(moment, due=due, held=held, status=status, **json.loads(attrs or "{}"))
            for moment, due, held, status, attrs in db.execute(
                "SELECT moment, due, held, status, attrs FROM moment_log WHERE engagement_id = ? ORDER BY position",
                (engagement_id,),
            )
        ]

    @staticmethod
    def _events(db: sqlite3.Connection, engagement_id: str) -> list[Event]:
        return [
            Event(date, type_, ref=ref or None, respondent=respondent or None, **json.loads(attrs or "{}"))
            for date, type_, ref, respondent, attrs in db.execute(
                "SELECT date, type, ref, respondent, attrs FROM event WHERE engagement_id = ? ORDER BY position",
                (engagement_id,),
            )
        ]

    # -- engagement models ----------------------------------------------
    @_translated
    def models(self) -> dict[str, EngagementModel]:
        """The engagement models imported into this store, by id (the built-in ones are not listed; see ``model``)."""
        rows = self._db.execute("SELECT id, document FROM engagement_model ORDER BY id").fetchall()
        return {r[0]: _stored_model(r[0], r[1]) for r in rows}

    @_translated
    def model_ids(self) -> list[str]:
        """Every model id an engagement may name here: the store's and the built-in ones."""
        stored = [r[0] for r in self._db.execute("SELECT id FROM engagement_model")]
        return sorted(set(stored) | set(builtin_models()))

    @_translated
    def find_model(self, model_id: str) -> EngagementModel | None:
        """The model ``model_id``: the one imported into this store, else the built-in one, else ``None``."""
        row = self._db.execute("SELECT document FROM engagement_model WHERE id = ?", (model_id,)).fetchone()
        return _stored_model(model_id, row[0]) if row else builtin_model(model_id)

    def model(self, model_id: str) -> EngagementModel:
        """The model ``model_id`` (the store's, else built in); ``NotFoundError`` names the known ones."""
        found = self.find_model(model_id)
        if found is None:
            raise NotFoundError(
                f"no engagement model {model_id!r} in store {self.path} or built in (known: {', '.join(self.model_ids())}); "
                "import one with: csm-nb import MODEL.yaml"
            )
        return found

    @_translated
    def save_model(self, model: EngagementModel, *, author: str | None = None) -> tuple[str, int]:
        """Store an engagement model (an import over the same id replaces it); ``(status, revision)`` with
        status ``created``, ``updated`` or ``unchanged`` (the same document again changes nothing)."""
        text = json.dumps(model_document(model))
        with self.transaction() as db:
            row = db.execute("SELECT document, revision FROM engagement_model WHERE id = ?", (model.id,)).fetchone()
            if row is not None and row[0] == text:
                return "unchanged", row[1]
            revision = (row[1] if row else 0) + 1
            db.execute(
                "INSERT INTO engagement_model VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET document=excluded.document, "
                "revision=excluded.revision, updated_at=excluded.updated_at, updated_by=excluded.updated_by",
                (model.id, text, revision, _now(), author or config.author()),
            )
        return ("created" if row is None else "updated"), revision

    @_translated
    def save_maturity_model(self, document: dict[str, Any], *, author: str | None = None) -> tuple[str, int]:
        """Store a maturity model's document (``csm-nb/maturity-model@1``, checked by the caller with
        ``csm_nb.data.maturity_model``); ``(status, revision)`` as ``save_model`` gives."""
        text = json.dumps(document, sort_keys=True)
        model_id = document["id"]
        with self.transaction() as db:
            row = db.execute("SELECT document, revision FROM maturity_model WHERE id = ?", (model_id,)).fetchone()
            if row is not None and row[0] == text:
                return "unchanged", row[1]
            revision = (row[1] if row else 0) + 1
            db.execute(
                "INSERT INTO maturity_model VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET document=excluded.document, "
                "revision=excluded.revision, updated_at=excluded.updated_at, updated_by=excluded.updated_by",
                (model_id, text, revision, _now(), author or config.author()),
            )
        return ("created" if row is None else "updated"), revision

    @_translated
    def find_maturity_model(self, model_id: str) -> MaturityModel | None:
        """The maturity model ``model_id``: the one imported into this store, else the built-in one, else ``None``."""
        document = self.maturity_model_document(model_id)
        if document is None:
            return builtin_maturity_model(model_id)
        return check_maturity_model(document, Context(source=f"store: maturity model {model_id!r}"), standalone=True)

    @_translated
    def maturity_model_ids(self) -> list[str]:
        """Every maturity model id an engagement may name here: the store's and the built-in ones."""
        stored = [r[0] for r in self._db.execute("SELECT id FROM maturity_model")]
        return sorted(set(stored) | set(builtin_maturity_model_ids()))

    @_translated
    def maturity_model_document(self, model_id: str) -> dict[str, Any] | None:
        """The maturity model ``model_id`` imported into this store, as its document; ``None`` when there is none
        (the built-in ones are ``csm_nb.data.maturity_model``'s)."""
        row = self._db.execute("SELECT document FROM maturity_model WHERE id = ?", (model_id,)).fetchone()
        return json.loads(row[0]) if row else None

    @_translated
    def model_users(self, model_id: str) -> dict[str, list[str]]:
        """The engagements that follow model ``model_id`` by its id (or, for the default, by naming none while
        having a contract, a log or events), each with the moments its log names."""
        with self._reading() as db:
            named = json.dumps(model_id)
            rows = db.execute("SELECT id, contract, engagement_model FROM engagement ORDER BY id").fetchall()
            out: dict[str, list[str]] = {}
            for engagement_id, contract, column in rows:
                logged = [
                    r[0]
                    for r in db.execute(
                        "SELECT DISTINCT moment FROM moment_log WHERE engagement_id = ? ORDER BY moment", (engagement_id,)
                    )
                ]
                if column == named:
                    out[engagement_id] = logged
                elif column is None and model_id == DEFAULT_MODEL_ID:
                    has_events = db.execute("SELECT 1 FROM event WHERE engagement_id = ? LIMIT 1", (engagement_id,)).fetchone()
                    if contract is not None or logged or has_events:
                        out[engagement_id] = logged
        return out

    @_translated
    def engagement_model(self, engagement: Engagement | str) -> EngagementModel | None:
        """The engagement model an engagement follows, for the pages: the one written inline; else the one it
        names (this store's, else the built-in one); else, when it has a contract, a moment log or events,
        the default ``high-touch``; else ``None``. Takes the engagement or its id."""
        if isinstance(engagement, str):
            engagement = self.load(engagement)
        return resolve_model(engagement, self.find_model, known=self.model_ids())

    @staticmethod
    def _merge_answers(db: sqlite3.Connection, engagement: Engagement, now: str, author: str) -> None:
        """Workshop answers in the copy are merged, not replaced: an unchanged
        answer keeps its revision (open forms see no false conflict), a changed
        one gets the next revision, and answers the copy lacks are kept (a
        re-import of an older file never wipes what a workshop captured)."""
        stored = {
            (w, k): (v, r)
            for w, k, v, r in db.execute(
                "SELECT workbook, key, value, revision FROM answer WHERE engagement_id = ?", (engagement.id,)
            )
        }
        for workbook, answers in (engagement.workshop or {}).items():
            for key, value in answers.items():
                text = answer_json(value, where=f"workshop.{workbook}.{key}")
                previous = stored.get((workbook, key))
                if previous is not None and previous[0] == text:
                    continue
                db.execute(
                    "INSERT INTO answer VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(engagement_id, workbook, key) DO UPDATE SET "
                    "value=excluded.value, revision=excluded.revision, updated_at=excluded.updated_at, updated_by=excluded.updated_by",
                    (engagement.id, workbook, key, text, (previous[1] if previous else 0) + 1, now, author),
                )

    @staticmethod
    def _upsert_measurements(db: sqlite3.Connection, engagement_id: str, rows: list[Measurement]) -> dict[str, int]:
        existing = {
            (k, p): v
            for k, p, v in db.execute("SELECT kpi_id, period, value FROM measurement WHERE engagement_id = ?", (engagement_id,))
        }
        next_position = len(existing)
        inserts, updates, unchanged = [], [], 0
        for m in rows:
            key = (m.kpi, _period_text(m.period))
            if key not in existing:
                inserts.append((engagement_id, m.kpi, key[1], m.value, next_position))
                existing[key] = m.value
                next_position += 1
            elif existing[key] != m.value:
                updates.append((m.value, engagement_id, m.kpi, key[1]))
                existing[key] = m.value
            else:
                unchanged += 1
        db.executemany("INSERT INTO measurement VALUES (?, ?, ?, ?, ?)", inserts)
        db.executemany("UPDATE measurement SET value = ? WHERE engagement_id = ? AND kpi_id = ? AND period = ?", updates)
        return {"added": len(inserts), "updated": len(updates), "unchanged": unchanged}

    # -- workshop answers -----------------------------------------------
    @_translated
    def answers(self, engagement_id: str, workbook: str) -> dict[str, Answer]:
        """Saved answers of one workbook, by key, with who saved each and when."""
        rows = self._db.execute(
            "SELECT key, value, revision, updated_at, updated_by FROM answer WHERE engagement_id = ? AND workbook = ? "
            "ORDER BY rowid",
            (engagement_id, workbook),
        ).fetchall()
        return {r[0]: Answer(r[0], json.loads(r[1]), r[2], r[3], r[4]) for r in rows}

    @_translated
    def answer(self, engagement_id: str, workbook: str, key: str) -> Answer | None:
        """One saved answer as it is in the file now (forms read a save back before they say "saved")."""
        row = self._db.execute(
            "SELECT key, value, revision, updated_at, updated_by FROM answer WHERE engagement_id = ? AND workbook = ? AND key = ?",
            (engagement_id, workbook, key),
        ).fetchone()
        return Answer(row[0], json.loads(row[1]), row[2], row[3], row[4]) if row else None

    @_translated
    def save_answer(
        self,
        engagement_id: str,
        workbook: str,
        key: str,
        value: Any,
        *,
        expected_revision: int | None = None,
        author: str | None = None,
    ) -> Answer:
        """Save one answer at once, in its own transaction (it survives a kernel crash).

        ``expected_revision`` is the answer's revision when the form showed it
        (0 for "was empty"); if somebody saved it since, nothing is written and
        ``ConflictError`` says who changed it to what, and when.
        """
        author = author or config.author()
        text = answer_json(value, where=f"answer {key!r}")
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM engagement WHERE id = ?", (engagement_id,)).fetchone() is None:
                raise self._missing(engagement_id)
            row = db.execute(
                "SELECT value, revision, updated_at, updated_by FROM answer WHERE engagement_id = ? AND workbook = ? AND key = ?",
                (engagement_id, workbook, key),
            ).fetchone()
            current = row[1] if row else 0
            if expected_revision is not None and expected_revision != current:
                theirs = json.loads(row[0]) if row else None
                raise ConflictError(
                    f"{key!r} was changed by {row[3] if row else 'someone'} at {row[2] if row else 'an unknown time'} "
                    f"to {theirs!r} after you opened it; your value {value!r} was not saved. Reload to see theirs"
                )
            if row is not None and row[0] == text:
                return Answer(key, value, current, row[2], row[3])
            now = _now()
            db.execute(
                "INSERT INTO answer VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(engagement_id, workbook, key) DO UPDATE SET "
                "value=excluded.value, revision=excluded.revision, updated_at=excluded.updated_at, updated_by=excluded.updated_by",
                (engagement_id, workbook, key, text, current + 1, now, author),
            )
        return Answer(key, value, current + 1, now, author)

    @_translated
    def delete(self, engagement_id: str) -> None:
        with self.transaction() as db:
            if db.execute("DELETE FROM engagement WHERE id = ?", (engagement_id,)).rowcount == 0:
                raise self._missing(engagement_id)


_MOMENT_ATTRS = ("attendees", "outcome", "delay_reason", "note")
_EVENT_ATTRS = ("severity", "score", "scale", "note")


def _json_or_none(value: Any) -> str | None:
    return json.dumps(value) if value is not None else None


def _attrs(record: Any, names: tuple[str, ...]) -> str | None:
    """The fields of a log row that are not its key, as JSON (``None`` when all are empty)."""
    values = {name: getattr(record, name) for name in names if getattr(record, name) is not None}
    for name, value in values.items():  # a score of 5 is the score of 5.0 a file gives: the same row
        if isinstance(value, int) and not isinstance(value, bool):
            values[name] = float(value)
    return json.dumps(values) if values else None


def _contract_column(contract: Contract | None) -> str | None:
    return json.dumps(without_none(contract)) if contract is not None else None


def _model_column(model: str | EngagementModel | None) -> str | None:
    """An engagement's model as stored: its id as JSON text, or the inline model's document."""
    if model is None:
        return None
    return json.dumps(model_document(model, inline=True) if isinstance(model, EngagementModel) else model)


def _model_from_column(value: Any, engagement_id: str) -> str | EngagementModel:
    if isinstance(value, str):
        return value
    return check_model(value, (), Context(source=f"store: engagement {engagement_id!r}, engagement_model"))


def _stored_model(model_id: str, document: str) -> EngagementModel:
    return check_model(json.loads(document), (), Context(source=f"store: engagement model {model_id!r}"), standalone=True)


def _kpi_to_row(kpi: Kpi) -> list[Any]:
    values = [getattr(kpi, c) for c in _KPI_COLUMNS]
    index = _KPI_COLUMNS.index("milestones")
    if kpi.milestones is not None:
        values[index] = json.dumps([[k, v] for k, v in kpi.milestones.items()])
    return values


def _kpi_from_row(row: tuple[Any, ...]) -> Kpi:
    values = list(row)
    index = _KPI_COLUMNS.index("milestones")
    if values[index] is not None:
        values[index] = {k: v for k, v in json.loads(values[index])}
    return Kpi(*values)
