"""What the CLI does, as functions tests can call directly (the CLI only
parses arguments and prints)."""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import config
from .engagement import dump_engagement, engagement_document, read_engagement, write_engagement
from .errors import CsmError
from .model import Engagement
from .runner import RunResult, applicable_workbooks, run_workbook
from .store import Store


@dataclass
class Imported:
    engagement_id: str
    source: Path
    status: str  # created | updated | unchanged
    revision: int


def import_engagements(paths: Sequence[str | os.PathLike[str]], *, db: str | os.PathLike[str] | None = None) -> list[Imported]:
    """Validate every file first, then save each; nothing is written if any file is bad.

    Re-importing an id replaces it; importing identical data changes nothing
    (the revision stays), so a scheduled re-import is harmless.
    """
    parsed = [(Path(p), read_engagement(p)) for p in paths]
    seen: dict[str, Path] = {}
    for path, engagement in parsed:
        if engagement.id in seen:
            raise CsmError(f"{path}: id {engagement.id!r} is also used by {seen[engagement.id]}; one file an engagement")
        seen[engagement.id] = path
    out = []
    with Store(db) as store:
        for path, engagement in parsed:
            if store.exists(engagement.id):
                current = store.load(engagement.id)
                if engagement_document(current) == engagement_document(engagement):
                    out.append(Imported(engagement.id, path, "unchanged", current.revision))
                    continue
                status = "updated"
            else:
                status = "created"
            revision = store.save(engagement, summary=f"imported from {path.name}")
            out.append(Imported(engagement.id, path, status, revision))
    return out


def export_engagement(engagement_id: str, *, db: str | os.PathLike[str] | None = None, to: str | os.PathLike[str] | None = None) -> str:
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


def render_reports(
    engagement_id: str,
    *,
    db: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    skip_current: bool = True,
    on_result: Callable[[RunResult], Any] | None = None,
) -> list[RunResult]:
    """Run every workbook that applies to the engagement."""
    engagement = load_engagement(engagement_id, db=db)
    results = []
    for workbook_id in applicable_workbooks(engagement):
        result = run_workbook(workbook_id, engagement_id=engagement_id, out=out, db=db, skip_current=skip_current)
        results.append(result)
        if on_result:
            on_result(result)
    return results


def example_files() -> list[Path]:
    files = sorted(config.examples_dir().glob("*.yaml"))
    if not files:
        raise CsmError(f"no example engagements (*.yaml) in {config.examples_dir()}")
    return files
