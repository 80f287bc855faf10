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
    dump_engagement,
    engagement_document,
    read_engagement,
    write_engagement,
)
from csm_nb.data.files import output_dir_for
from csm_nb.data.merge import describe, plan_import
from csm_nb.data.store import Store
from csm_nb.errors import CsmError, InputError, WouldRemoveError
from csm_nb.model import Engagement
from csm_nb.run.engine import RunResult, run_engagement
from csm_nb.run.registry import applicable_workbooks, get_workbook

if TYPE_CHECKING:
    from csm_nb.render.index import IndexEntry


@dataclass
class Imported:
    engagement_id: str
    source: Path
    status: str  # created | updated | unchanged | kept (demo: changed in the store, left alone)
    revision: int
    kept: list[str] = field(default_factory=list)  # stored rows the file lacks that were kept
    note: str = ""


def import_engagements(
    paths: Sequence[str | os.PathLike[str]],
    *,
    db: str | os.PathLike[str] | None = None,
    replace: bool = False,
    keep_changed: bool = False,
) -> list[Imported]:
    """Validate every file, then save them all in one transaction: all or nothing.

    A re-import merges by the rules of :mod:`csm_nb.data.merge`: appended
    measurements and workshop answers are kept; anything else the file lacks
    makes the import refuse (``WouldRemoveError``) unless ``replace``.
    Identical data changes nothing (the revision stays). ``keep_changed``
    (what ``demo`` uses) leaves alone an engagement that a person changed in
    the store since its last import, and otherwise lets the file replace it.
    """
    parsed = [(Path(p), read_engagement(p)) for p in paths]
    seen: dict[str, Path] = {}
    for path, engagement in parsed:
        if engagement.id in seen:
            raise CsmError(f"{path}: id {engagement.id!r} is also used by {seen[engagement.id]}; one file an engagement")
        seen[engagement.id] = path
    out = []
    with Store(db) as store, store.transaction():
        for path, engagement in parsed:
            current = store.load(engagement.id) if store.exists(engagement.id) else None
            if current is not None and keep_changed:
                changes = store.changes_since_import(engagement.id)
                if changes:
                    out.append(
                        Imported(
                            engagement.id,
                            path,
                            "kept",
                            current.revision,
                            note=f"changed in the store since its import ({describe(changes, limit=2)})",
                        )
                    )
                    continue
            plan = plan_import(current, engagement, replace=replace or keep_changed)
            if plan.removed and not (replace or keep_changed):
                raise WouldRemoveError(
                    f"{path}: importing it would remove from engagement {engagement.id!r} what the file does not have: "
                    f"{describe(plan.removed)}. To remove them, run again with --replace; to keep them, start from "
                    f"the stored copy: csm-nb export {engagement.id} -o {path.name}"
                )
            if current is not None and engagement_document(current) == engagement_document(plan.engagement):
                out.append(Imported(engagement.id, path, "unchanged", current.revision, plan.kept))
                continue
            revision = store.save(plan.engagement, summary=f"{Store.IMPORT_SUMMARY}{path.name}")
            out.append(Imported(engagement.id, path, "created" if current is None else "updated", revision, plan.kept))
    return out


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
    """Every report rendered for one engagement, and the index page linking them."""

    engagement_id: str
    results: list[RunResult]
    index: Path


def render_engagement_report(
    engagement_id: str,
    *,
    db: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    skip_current: bool = True,
    on_result: Callable[[RunResult], Any] | None = None,
) -> EngagementReport:
    """Render every workbook that applies (the value report always does) and
    write ``<out>/<id>/index.html`` linking them; returns what was rendered.

    The engine's one path (``run_engagement``), as a portfolio's: the
    engagement is loaded once, up-to-date reports are left alone.
    """
    from csm_nb.render.index import write_index

    engagement = load_engagement(engagement_id, db=db)
    results = run_engagement(
        engagement_id, applicable_workbooks(engagement), db=db, out=out, skip_current=skip_current, engagement=engagement
    )
    for result in results:
        if on_result:
            on_result(result)
    entries = [index_entry(r, engagement.currency_code) for r in results]
    index = write_index(engagement, entries, output_dir_for(engagement_id, out))
    return EngagementReport(engagement_id, results, index)


def index_entry(result: RunResult, currency: str) -> IndexEntry:
    """A rendered report as the engagement index lists it: its page says what it shows."""
    from csm_nb.render.index import Headline, IndexEntry

    workbook = get_workbook(result.workbook)
    page = workbook.page
    headline = page.index_headline(result.results, currency=currency) if page is not None else Headline()
    return IndexEntry(
        workbook.id, workbook.title, result.outputs[".html"], headline, lead=bool(page is not None and page.LEADS_INDEX)
    )


def import_measurements(
    paths: Sequence[str | os.PathLike[str]], *, engagement_id: str, db: str | os.PathLike[str] | None = None
) -> list[tuple[Path, dict[str, int]]]:
    """Append measurements from CSV/XLSX files to one engagement, all files in one transaction.

    Every file is read and checked first; then all are written together, so
    a bad file leaves the store as it was. A row already in the store with the
    same value is left alone, so importing the same file again changes
    nothing. Returns the counts per file.
    """
    from csm_nb.data.tables import read_numbered_measurements
    from csm_nb.method.progress import check_measurement_window

    config.check_engagement_id(engagement_id)
    parsed = []
    for p in paths:
        path = Path(p)
        if path.suffix.lower() in {".yaml", ".yml"}:
            raise CsmError(
                f"{path}: --engagement takes measurement files (.csv or .xlsx with columns kpi, period, value); "
                "import engagement files without --engagement"
            )
        parsed.append((path, read_numbered_measurements(path)))
    with Store(db) as store, store.transaction():
        kpis = store.kpis(engagement_id)
        known = {k.id for k in kpis}
        for path, numbered in parsed:
            for number, m in numbered:
                if m.kpi not in known:
                    raise InputError(
                        f"{path}, row {number}: unknown KPI id {m.kpi!r}; engagement {engagement_id!r} has "
                        f"{', '.join(sorted(known)) or 'no KPIs yet'}"
                    )
            check_measurement_window(kpis, numbered, source=str(path))
        return [(path, store.add_measurements(engagement_id, [m for _, m in rows], author=None)) for path, rows in parsed]
