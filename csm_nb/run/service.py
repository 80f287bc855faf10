"""What the CLI does, as functions tests can call directly (the CLI only
parses arguments and prints)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csm_nb import config
from csm_nb.data.engagement import (
    Document,
    dump_engagement,
    dump_model,
    engagement_document,
    read_document,
    write_engagement,
    write_model,
)
from csm_nb.data.engagement_model import builtin_model, check_model_use
from csm_nb.data.files import output_dir_for
from csm_nb.data.maturity_model import (
    builtin_maturity_model,
    check_engagement_maturity,
    check_maturity_use,
    maturity_model_document,
)
from csm_nb.data.merge import describe, plan_import
from csm_nb.data.schema import Context
from csm_nb.data.store import Store
from csm_nb.errors import CsmError, InputError, WouldRemoveError
from csm_nb.model import Engagement
from csm_nb.run.engine import RunResult, run_engagement
from csm_nb.run.registry import applicable_workbooks, get_workbook, report_audience

if TYPE_CHECKING:
    from csm_nb.render.index import IndexEntry


@dataclass
class Imported:
    engagement_id: str  # the engagement's id, or the model's when ``kind`` is "model"
    source: Path
    status: str  # created | updated | unchanged | kept (demo: changed in the store, left alone)
    revision: int
    kept: list[str] = field(default_factory=list)  # stored rows the file lacks that were kept
    note: str = ""
    kind: str = "engagement"  # engagement | model | maturity_model


def import_engagements(
    paths: Sequence[str | os.PathLike[str]],
    *,
    db: str | os.PathLike[str] | None = None,
    replace: bool = False,
    keep_changed: bool = False,
) -> list[Imported]:
    """Validate every file, then save them all in one transaction: all or nothing.

    Files are engagements (``csm-nb/engagement@1``) or engagement models
    (``csm-nb/engagement-model@1``), told apart by their ``schema`` key; the
    models are saved first, so an engagement may name a model imported in the
    same command. A model re-imported without a moment that an engagement
    following it has logged is refused, naming both.

    A re-import merges by the rules of :mod:`csm_nb.data.merge`: appended
    measurements, moment-log entries, events and workshop answers are kept;
    anything else the file lacks makes the import refuse (``WouldRemoveError``)
    unless ``replace``. Identical data changes nothing (the revision stays).
    ``keep_changed`` (what ``demo`` uses) leaves alone an engagement that a
    person changed in the store since its last import, and otherwise lets the
    file replace it.
    """
    documents = [read_document(p, check_models=False) for p in paths]
    seen: dict[tuple[str, str], Path] = {}
    for doc in documents:
        ident = _document_id(doc)
        if (doc.kind, ident) in seen:
            what = {"model": "a model", "maturity_model": "a maturity model"}.get(doc.kind, "an engagement")
            raise CsmError(f"{doc.path}: id {ident!r} is also used by {seen[(doc.kind, ident)]}; one file {what}")
        seen[(doc.kind, ident)] = doc.path
    out: dict[int, Imported] = {}
    with Store(db) as store, store.transaction():
        for index, doc in enumerate(documents):
            if doc.model is not None:
                out[index] = _import_model(store, doc)
            elif doc.maturity_model is not None:
                out[index] = _import_maturity_model(store, doc)
        for index, doc in enumerate(documents):
            if doc.engagement is not None:
                out[index] = _import_engagement(store, doc, replace=replace, keep_changed=keep_changed)
    return [out[i] for i in range(len(documents))]


def _document_id(doc: Document) -> str:
    if doc.model is not None:
        return doc.model.id
    if doc.maturity_model is not None:
        return doc.maturity_model.id
    assert doc.engagement is not None
    return doc.engagement.id


def _import_maturity_model(store: Store, doc: Document) -> Imported:
    """Store a maturity model; the engagements that name it must still find what they observed in it."""
    model = doc.maturity_model
    assert model is not None and doc.context is not None
    for summary in store.engagements():
        maturity = store.load(summary.id).maturity
        if maturity is not None and maturity.get("model") == model.id:
            try:
                check_maturity_use(maturity, model, Context(source=f"engagement {summary.id!r}"))
            except InputError as exc:
                raise InputError(f"{doc.path}: maturity model {model.id!r} would no longer fit: {exc}") from None
    status, revision = store.save_maturity_model(maturity_model_document(model))
    note = (
        "overrides the built-in model of that id in this store"
        if status == "created" and builtin_maturity_model(model.id)
        else ""
    )
    return Imported(model.id, doc.path, status, revision, note=note, kind="maturity_model")


def _import_model(store: Store, doc: Document) -> Imported:
    model = doc.model
    assert model is not None
    ids = {m.id for m in model.moments}
    for engagement_id, logged in store.model_users(model.id).items():
        gone = [m for m in logged if m not in ids]
        if gone:
            raise InputError(
                f"{doc.path}: model {model.id!r} would no longer have the moment(s) {', '.join(gone)} that engagement "
                f"{engagement_id!r} has in its log; keep them in the model, or correct that engagement's log first"
            )
    status, revision = store.save_model(model)
    note = "overrides the built-in model of that id in this store" if status == "created" and builtin_model(model.id) else ""
    return Imported(model.id, doc.path, status, revision, note=note, kind="model")


def _import_engagement(store: Store, doc: Document, *, replace: bool, keep_changed: bool) -> Imported:
    engagement, path = doc.engagement, doc.path
    assert engagement is not None and doc.context is not None
    check_model_use(engagement, doc.context, store.find_model, known=store.model_ids())
    if engagement.maturity is not None:
        check_engagement_maturity(
            engagement.maturity, doc.context, find=store.find_maturity_model, known=store.maturity_model_ids()
        )
    model = store.engagement_model(engagement)
    current = store.load(engagement.id) if store.exists(engagement.id) else None
    if current is not None and keep_changed:
        changes = store.changes_since_import(engagement.id)
        if changes:
            note = f"changed in the store since its import ({describe(changes, limit=2)})"
            return Imported(engagement.id, path, "kept", current.revision, note=note)
    moment_ids = [m.id for m in model.moments] if model is not None else None
    plan = plan_import(current, engagement, replace=replace or keep_changed, moment_ids=moment_ids)
    if plan.removed and not (replace or keep_changed):
        raise WouldRemoveError(
            f"{path}: importing it would remove from engagement {engagement.id!r} what the file does not have: "
            f"{describe(plan.removed)}. To remove them, run again with --replace; to keep them, start from "
            f"the stored copy: csm-nb export {engagement.id} -o {path.name}"
        )
    if current is not None and engagement_document(current) == engagement_document(plan.engagement):
        return Imported(engagement.id, path, "unchanged", current.revision, plan.kept)
    revision = store.save(plan.engagement, summary=f"{Store.IMPORT_SUMMARY}{path.name}")
    return Imported(engagement.id, path, "created" if current is None else "updated", revision, plan.kept)


def export_engagement(
    engagement_id: str, *, db: str | os.PathLike[str] | None = None, to: str | os.PathLike[str] | None = None
) -> str:
    """The engagement as engagement-file YAML; written to ``to`` when given."""
    config.check_engagement_id(engagement_id)
    with Store(db) as store:
        engagement = store.load(engagement_id)
    if to:
        write_engagement(engagement, to)
    return dump_engagement(engagement)


def export_model(model_id: str, *, db: str | os.PathLike[str] | None = None, to: str | os.PathLike[str] | None = None) -> str:
    """An engagement model (the store's, else the built-in one) as its YAML file; written to ``to`` when given
    (as JSON when ``to`` ends in .json)."""
    with Store(db) as store:
        model = store.model(model_id)
    if to:
        write_model(model, to)
    return dump_model(model)


def load_engagement(engagement_id: str, *, db: str | os.PathLike[str] | None = None) -> Engagement:
    config.check_engagement_id(engagement_id)
    with Store(db) as store:
        return store.load(engagement_id)


def example_files() -> list[Path]:
    files = sorted(config.examples_dir().glob("*.yaml"))
    if not files:
        raise CsmError(f"no example engagements (*.yaml) in {config.examples_dir()}")
    return files


@dataclass
class EngagementReport:
    """Every report rendered for one engagement, the index page for the customer linking its customer
    reports, and (when there are internal reports) the internal index linking every report."""

    engagement_id: str
    results: list[RunResult]
    index: Path
    internal_index: Path | None = None


def render_engagement_report(
    engagement_id: str,
    *,
    db: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    skip_current: bool = True,
    on_result: Callable[[RunResult], Any] | None = None,
    as_of: str | None = None,
) -> EngagementReport:
    """Render every workbook that applies (the value report always does), judged at ``as_of`` (an ISO
    date; None: today), and write ``<out>/<id>/index.html`` linking the customer reports (and, with
    internal reports, ``index-internal.html`` linking all); returns what was rendered.

    The engine's one path (``run_engagement``), as a portfolio's: the
    engagement is loaded once, up-to-date reports are left alone.
    """
    from csm_nb.render.index import internal_index_path, write_index

    engagement = load_engagement(engagement_id, db=db)
    results = run_engagement(
        engagement_id,
        applicable_workbooks(engagement),
        db=db,
        out=out,
        skip_current=skip_current,
        engagement=engagement,
        as_of=as_of,
    )
    for result in results:
        if on_result:
            on_result(result)
    entries = [index_entry(r, engagement.currency_code) for r in results]
    folder = output_dir_for(engagement_id, out)
    index = write_index(engagement, entries, folder)
    return EngagementReport(engagement_id, results, index, internal_index_path(folder))


def index_entry(result: RunResult, currency: str) -> IndexEntry:
    """A rendered report as the engagement index lists it: its page says what it shows."""
    from csm_nb.render.index import Headline, IndexEntry

    workbook = get_workbook(result.workbook)
    page = workbook.page
    headline = page.index_headline(result.results, currency=currency) if page is not None else Headline()
    return IndexEntry(
        workbook.id,
        workbook.title,
        result.outputs[".html"],
        headline,
        lead=bool(page is not None and page.LEADS_INDEX),
        audience=report_audience(page, result.results),
    )


@dataclass
class Appended:
    """One table appended to an engagement: which log (measurements, events, moments) and the row counts."""

    source: Path
    kind: str
    counts: dict[str, int]


def import_logs(
    paths: Sequence[str | os.PathLike[str]], *, engagement_id: str, db: str | os.PathLike[str] | None = None
) -> list[Appended]:
    """Append measurements, events or moment-log entries from CSV/XLSX files to one engagement, all in one transaction.

    Each file's log is told by its header (``csm_nb.data.tables.read_log``). Every file is read and
    checked first (KPIs the engagement has, moments of the model it follows); then all are written
    together, so a bad file leaves the store as it was. A row already in the store with the same
    values is left alone, so importing the same file again changes nothing.
    """
    from csm_nb.data.engagement import desired_outcome_ids
    from csm_nb.data.engagement_model import unknown_moment
    from csm_nb.data.tables import read_log
    from csm_nb.method.progress import check_measurement_window
    from csm_nb.vocabulary import row_at

    config.check_engagement_id(engagement_id)
    tables = []
    for p in paths:
        path = Path(p)
        if path.suffix.lower() in {".yaml", ".yml", ".json"}:
            raise CsmError(
                f"{path}: --engagement takes log files (.csv or .xlsx): measurements (kpi, period, value), events "
                "(date, type, ...), activities (date, type, title, ...), the moment log (moment, ...) or pulse answers "
                "(date, respondent, desired_outcome, satisfaction, ...); import engagement and "
                "model files without --engagement"
            )
        tables.append((path, read_log(path)))
    with Store(db) as store, store.transaction():
        kpis = store.kpis(engagement_id)
        known = {k.id for k in kpis}
        for path, table in tables:
            if table.kind == "measurements":
                for number, m in table.rows:
                    if m.kpi not in known:
                        raise InputError(
                            f"{path}, row {number}: unknown KPI id {m.kpi!r}; engagement {engagement_id!r} has "
                            f"{', '.join(sorted(known)) or 'no KPIs yet'}"
                        )
                check_measurement_window(kpis, table.rows, source=str(path))
            elif table.kind == "pulse":
                outcomes = desired_outcome_ids(store.load(engagement_id).jobs)
                for number, answer in table.rows:
                    if answer.desired_outcome not in outcomes:
                        raise InputError(
                            f"{row_at(table.source, number)}, column desired_outcome: {answer.desired_outcome!r} is not the id "
                            f"of any desired outcome in engagement {engagement_id!r}'s jobs ({', '.join(outcomes) or 'none defined'})"
                        )
            elif table.kind == "moments":
                model = store.log_model(engagement_id)
                ids = {m.id for m in model.moments}
                for number, record in table.rows:
                    if record.moment not in ids:
                        raise InputError(
                            f"{row_at(table.source, number)}, column moment: {unknown_moment(record.moment, model, named=True)}"
                        )
        add = {
            "measurements": store.add_measurements,
            "events": store.add_events,
            "moments": store.add_moments,
            "activities": store.add_activities,
            "pulse": store.add_pulse,
        }
        return [
            Appended(path, table.kind, add[table.kind](engagement_id, [r for _, r in table.rows], author=None))
            for path, table in tables
        ]


def import_measurements(
    paths: Sequence[str | os.PathLike[str]], *, engagement_id: str, db: str | os.PathLike[str] | None = None
) -> list[tuple[Path, dict[str, int]]]:
    """``import_logs`` as (file, counts) pairs: what it was called when measurements were the only log."""
    return [(item.source, item.counts) for item in import_logs(paths, engagement_id=engagement_id, db=db)]
