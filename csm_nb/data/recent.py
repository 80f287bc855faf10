"""The engagement last opened in a workshop, remembered per store in a small file beside it.

The workshop app's start page offers it first, and its workbook links open it
(``csm-nb workshop``); the forms' engagement picker records it when a CSM
switches engagement. A damaged or oversized file means "nothing remembered";
the file is written atomically and never through a link.
"""

from __future__ import annotations

import json
from pathlib import Path

from csm_nb import config
from csm_nb.errors import CsmError, InputError

MEMORY_LIMIT_BYTES = 64 * 1024  # a remembered id needs a few bytes; anything larger is not ours


def memory_path(db: Path) -> Path:
    """Where the engagement last opened from the store ``db`` is remembered: a file beside it.

    >>> memory_path(Path("/data/csm-nb.sqlite")).name
    'csm-nb.sqlite.workshop.json'
    """
    return db.with_name(db.name + ".workshop.json")


def last_engagement(db: Path) -> str | None:
    """The engagement last opened from ``db``, if the file names a valid id (else None)."""
    path = memory_path(db)
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MEMORY_LIMIT_BYTES:
            return None
        found = json.loads(path.read_text(encoding="utf-8")).get("last_engagement")
    except (OSError, ValueError, AttributeError):
        return None
    try:
        return config.check_engagement_id(found)
    except InputError:
        return None


def remember_engagement(db: Path, engagement_id: str) -> bool:
    """Remember ``engagement_id`` as the last one opened from ``db``; False if it could not be written
    (a read-only folder): remembering is a convenience and never stops a workshop."""
    from csm_nb.data.results import write_text_atomic

    try:
        write_text_atomic(memory_path(db), json.dumps({"last_engagement": config.check_engagement_id(engagement_id)}) + "\n")
    except (OSError, CsmError):
        return False
    return True
