"""A form's mark against what the SQLite file holds: the helpers both browser tests of saving use,
in JupyterLab (``test_workshop_saving_browser.py``) and in the workshop app
(``test_workshop_app_browser.py``). The file is read with the stdlib ``sqlite3``, not through
``csm_nb``, so a mark is held to the file itself.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

STALE = "data-csm-stale"  # put on the mark being replaced, so a new mark with the same text is told apart
UI_TIMEOUT = 60_000  # ms: a save's mark (a first save may wait for a kernel that is still importing)
STORE_TIMEOUT = 10.0  # s: how long the file may lag behind a mark before it counts as a lie


def stored(db: Path, engagement_id: str, workbook: str, key: str) -> tuple[Any, int] | None:
    """(value, revision) of one answer, read straight from the SQLite file; None if there is none.

    A plain read: it does not wait for, or take, the write lock another process may hold.
    """
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        row = connection.execute(
            "SELECT value, revision FROM answer WHERE engagement_id = ? AND workbook = ? AND key = ?",
            (engagement_id, workbook, key),
        ).fetchone()
    return (json.loads(row[0]), row[1]) if row else None


def poll(read: Callable[[], Any], ok: Callable[[Any], bool], *, seconds: float = STORE_TIMEOUT) -> Any:
    """Read until ``ok`` holds or ``seconds`` pass; the last reading either way (the caller asserts)."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


class Mark:
    """The status beside a field (outcome discovery) or under a form (financial linkage).

    Both are ipywidgets HTML whose content is replaced on every change, so
    flagging the element shown now and then waiting for an unflagged one sees
    the next mark even when its text is the same as the last ("✓ saved" twice).
    """

    def __init__(self, page: Any, container: str, mark: str) -> None:
        self.page, self.selector = page, f"{container} {mark}"

    def forget(self) -> None:
        self.page.evaluate(
            "([sel, attr]) => document.querySelectorAll(sel).forEach(e => e.setAttribute(attr, ''))", [self.selector, STALE]
        )

    @property
    def fresh(self) -> Any:
        return self.page.locator(f"{self.selector}:not([{STALE}])")

    def now(self) -> str:
        """What the mark shows at this instant, "(new) " in front once it has been replaced since ``forget``."""
        return self.page.evaluate(
            "([sel, attr]) => { const e = document.querySelector(sel);"
            " return e ? (e.hasAttribute(attr) ? '' : '(new) ') + e.innerText : '(nothing)'; }",
            [self.selector, STALE],
        )


def type_and_check(
    mark: Mark,
    box: Any,
    typed: str,
    *,
    read: Callable[[], tuple[Any, int] | None],
    saved_text: str | re.Pattern,
    expected: float | None,
    log: list[dict[str, Any]] | None = None,
) -> str:
    """Type ``typed`` with Enter, wait for the next mark, then hold the file to what the mark says.

    ``expected`` is the number the file must then hold; None means the entry is refused
    and the file must keep what it had. Returns the mark's text; ``log`` gets what was seen.
    """
    from playwright.sync_api import expect

    before = read()
    mark.forget()
    box.fill(typed)
    started = time.monotonic()
    box.press("Enter")
    right_after = mark.now()
    if expected is None:
        expect(mark.fresh).to_contain_text("Not saved", timeout=UI_TIMEOUT)
    else:
        expect(mark.fresh).to_have_text(saved_text, timeout=UI_TIMEOUT)
    shown, seconds = mark.fresh.inner_text(), time.monotonic() - started
    if expected is None:
        time.sleep(0.5)  # a wrong write would land right after the mark; give it the chance to show
        after = read()
        assert after == before, f"typed {typed!r}, the mark says {shown!r}, yet the file went from {before} to {after}"
    else:
        revision = before[1] if before else 0
        after = poll(read, lambda now: now is not None and now[1] > revision)
        assert after is not None and after[1] == revision + 1, (
            f"typed {typed!r}, the mark says {shown!r}, but the file's revision went from {before} to {after}"
        )
        assert after[0] == expected, f"typed {typed!r}, the mark says {shown!r}, but the file holds {after[0]!r}"
    if log is not None:
        log.append(
            {
                "typed": typed,
                "right_after_enter": right_after,
                "mark": shown,
                "seconds_to_mark": round(seconds, 2),
                "stored": read(),
            }
        )
    return shown
