"""What a workshop form says about saving is what the SQLite file holds, in a real browser.

JupyterLab is started the way ``csm-nb lab`` starts it, once for the module,
on copies of the outcome discovery (02) and financial linkage (04) workbooks,
both saving to the one store ``csm-nb lab`` points them at, each about an
engagement of its own (two copies of the example) so their answers and
revisions never mix. In headless Chromium one field of 02 ("Current monthly
run rate") and one box of 04 (the gap's run rate) are typed into with Enter:
three values, a value that is refused, a valid one again. After every step
the mark beside the field is compared with the file itself, read with the
stdlib ``sqlite3`` (not through ``csm_nb``): "✓ saved" / "Draft saved." only
for what the file holds, "Not saved" leaves the previous value. Then another
process holds the store's write lock for 15 s: the form says "saving…", then
"Not saved: the store is busy (held by pid <that process> ...)" naming that
process only (not the other workbook's kernel, which merely has the file
open), with Retry; nothing is written, and Retry saves once the lock is gone.

The busy-state screenshots and what each mark showed, with timings, go to
``tests/output/`` (ignored by git).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LockHolder, open_workbook, running_lab, store_with_example
from marks import UI_TIMEOUT, Mark, poll, stored, type_and_check

from csm_nb.forms.widgets import SAVE_WAIT_SECONDS

OUTPUT = Path(__file__).parent / "output"
EID02, EID04 = "employee-engagement", "employee-engagement-linkage"  # 02's and 04's engagements, one store
DISCOVERY, LINKAGE = "02_outcome_discovery.ipynb", "04_financial_linkage.ipynb"
RUN_RATE = "monthly_run_rate"  # 02's field, on tab 2
LINK_KEY = "link.engagement-to-revenue"  # 04's draft of the example's only link
LOCK_SECONDS = 15.0

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# What each mark showed, for tests/output/workshop_saving_browser.json.
RECORD: dict[str, list[dict[str, Any]]] = {"outcome_discovery": [], "financial_linkage": []}


# -- the file itself -----------------------------------------------------------------
def run_rate(db: Path) -> tuple[Any, int] | None:
    return stored(db, EID02, "outcome_discovery", RUN_RATE)


def draft_run_rate(db: Path) -> tuple[Any, int] | None:
    """(the draft's gap run rate, the draft's revision); None before the first draft."""
    found = stored(db, EID04, "financial_linkage", LINK_KEY)
    return None if found is None else (found[0]["gap"]["run_rate"], found[1])


# -- the server and the two pages ----------------------------------------------------------
def store_with_two_engagements(db: Path) -> Path:
    """The example engagement (for 02) and a copy of it under another id (for 04), no workshop answers."""
    from csm_nb.data.store import Store

    store_with_example(db, EID02)
    with Store(db) as store:
        twin = store.load(EID02)
        twin.id = EID04
        store.save(twin, author="importer")
    return db


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One JupyterLab on one store (``CSM_NB_DB``, as ``csm-nb lab`` sets it); 04's ``engagement_id`` set to its own."""
    base = tmp_path_factory.mktemp("workshop-saving")
    db = store_with_two_engagements(base / "store.sqlite")
    with running_lab(base, {DISCOVERY: {}, LINKAGE: {"engagement_id": EID04}}, db=db) as server:
        assert stored(db, EID02, "outcome_discovery", RUN_RATE) is None and draft_run_rate(db) is None
        yield server


@pytest.fixture(scope="module")
def discovery(lab: dict, browser) -> Iterator[Any]:
    """02 open at tab 2 with its form drawn."""
    page = open_workbook(browser, lab, DISCOVERY)
    # A stage's questions are built when its tab is first opened.
    page.locator(".csm-workshop").wait_for(state="visible", timeout=120_000)
    page.get_by_role("tab", name="2. The outcome and its targets").click()
    page.locator(f".csm-field-{RUN_RATE} input").wait_for(state="visible", timeout=UI_TIMEOUT)
    yield page
    page.close()


@pytest.fixture(scope="module")
def linkage_page(lab: dict, browser) -> Iterator[Any]:
    """04 open with its linkage form drawn."""
    page = open_workbook(browser, lab, LINKAGE)
    page.locator(".csm-retry").wait_for(state="attached", timeout=120_000)
    yield page
    page.close()


# -- marks -------------------------------------------------------------------------------------
def discovery_mark(page: Any) -> Mark:
    return Mark(page, f".csm-status-{RUN_RATE}", ".csm-state")


def linkage_mark(page: Any) -> Mark:
    return Mark(page, ".widget-hbox:has(> .csm-retry)", ".csm-message")  # the form's one status line, beside its Retry


def linkage_box(page: Any) -> Any:
    return page.get_by_label("run rate", exact=True)


# -- A and B: each mark is what the file holds ---------------------------------------------------
STEPS: list[tuple[str, float | None]] = [("1,810", 1810), ("1,820", 1820), ("1,800", 1800), ("abc", None), ("1,790", 1790)]


def test_lab_shows_money_as_text_folds_the_code_and_runs_to_the_form(linkage_page: Any) -> None:
    """Run before any edit, on the example's figures: Lab's MathJax leaves "$33,750 ... $405,000" alone,
    every code cell but the parameters is folded, and Run All ends with the form on screen, not the last cell."""
    page = linkage_page
    # Typeset maths would replace the text between the two "$" with MathJax elements.
    money = page.locator(".jp-OutputArea-output", has_text="$33,750").first
    money.wait_for(state="attached", timeout=60_000)
    assert "$33,750 revenue a month, $405,000 a year" in money.text_content()
    assert page.locator("mjx-container, .MathJax").count() == 0
    hidden = page.evaluate(
        "window.jupyterapp.shell.currentWidget.content.widgets"
        ".filter(c => c.model.type === 'code').map(c => [c.model.getMetadata('tags') || [], c.inputHidden])"
    )
    assert [folded for tags, folded in hidden if "parameters" in tags] == [False]
    assert len(hidden) > 3 and all(folded for tags, folded in hidden if "parameters" not in tags)
    heading = page.get_by_text("changes save as a draft as you go").first
    # The form's cell is scrolled to (after Lab's own scroll to the last cell): its heading is on screen.
    page.wait_for_function(
        "(el) => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }",
        arg=heading.element_handle(),
        timeout=20_000,
    )


def test_discovery_field_marks_are_what_sqlite_holds(lab: dict, discovery: Any) -> None:
    from playwright.sync_api import expect

    box, mark = discovery.locator(f".csm-field-{RUN_RATE} input"), discovery_mark(discovery)
    for typed, expected in STEPS:
        type_and_check(
            mark,
            box,
            typed,
            read=lambda: run_rate(lab["db"]),
            saved_text="✓ saved",
            expected=expected,
            log=RECORD["outcome_discovery"],
        )
    refused = next(step for step in RECORD["outcome_discovery"] if step["typed"] == "abc")
    assert "needs a number" in refused["mark"], refused
    expect(discovery.locator(f".csm-retry-{RUN_RATE}")).to_be_hidden()  # a refused entry is fixed by typing, not Retry
    assert run_rate(lab["db"])[0] == 1790


def test_linkage_draft_marks_are_what_sqlite_holds(lab: dict, linkage_page: Any) -> None:
    box, mark = linkage_box(linkage_page), linkage_mark(linkage_page)
    for typed, expected in STEPS:
        type_and_check(
            mark,
            box,
            typed,
            read=lambda: draft_run_rate(lab["db"]),
            saved_text="Draft saved.",
            expected=expected,
            log=RECORD["financial_linkage"],
        )
    # The whole chain is in the draft, not only the box typed into.
    draft = stored(lab["db"], EID04, "financial_linkage", LINK_KEY)[0]
    assert draft["gap"] == {**draft["gap"], "run_rate": 1790, "target_per_year": 26000}
    assert [step["factor"] for step in draft["steps"]] == [0.05, 375, 0.4]


# -- C: a store held by another process ---------------------------------------------------------
def busy_then_retry(
    page: Any,
    mark: Mark,
    box: Any,
    retry: Any,
    *,
    db: Path,
    typed: str,
    expected: float,
    read: Callable[[], tuple[Any, int] | None],
    saving: str,
    saved_text: str,
    hold_write_lock,
    screenshot: str,
) -> dict[str, Any]:
    """Type while another process holds the lock: saving, then busy with Retry and nothing written; Retry after it ends saves."""
    from playwright.sync_api import expect

    if read() is None:  # run on its own: start from a saved value, as after A and B
        type_and_check(mark, box, "1,790", read=read, saved_text=saved_text, expected=1790, log=[])
    before = read()
    assert before is not None and before[0] != expected
    holder: LockHolder = hold_write_lock(db, LOCK_SECONDS)
    locked_at = time.monotonic()
    mark.forget()
    box.fill(typed)
    box.press("Enter")
    right_after = mark.now()
    expect(mark.fresh).to_have_text(saving, timeout=UI_TIMEOUT)
    expect(mark.fresh).to_contain_text("Not saved: the store is busy", timeout=UI_TIMEOUT)
    busy_after = time.monotonic() - locked_at
    busy = mark.fresh.inner_text()
    assert f"pid {holder.pid} (" in busy, busy  # who holds it is named (that it is the only one named: see the tests)
    assert busy.endswith("press Retry"), busy
    expect(retry).to_be_visible()
    expect(retry).to_have_text("Retry")
    # A long message beside it must not squeeze the label to "R…" (the button does not shrink).
    retry_label_fits = retry.evaluate("b => b.scrollWidth <= b.clientWidth")
    assert retry_label_fits, "the Retry button's label is cut off"
    assert busy_after >= SAVE_WAIT_SECONDS - 0.5, f"'busy' after {busy_after:.1f} s: the form did not wait for the store"
    assert read() == before, f"the mark says {busy!r} but the file changed from {before} to {read()}"
    OUTPUT.mkdir(exist_ok=True)
    mark.fresh.scroll_into_view_if_needed()
    page.screenshot(path=str(OUTPUT / screenshot), full_page=False)

    holder.process.wait(timeout=LOCK_SECONDS + 10)  # the other program finishes by itself
    assert read() == before
    mark.forget()
    retry.click()
    expect(mark.fresh).to_have_text(saved_text, timeout=UI_TIMEOUT)
    after = poll(read, lambda now: now is not None and now[1] > before[1])
    assert after == (expected, before[1] + 1), f"Retry: the mark says {saved_text!r} but the file holds {after} (was {before})"
    expect(retry).to_be_hidden()
    return {
        "typed": typed,
        "right_after_enter": right_after,
        "busy": busy,
        "holder_pid": holder.pid,
        "seconds_to_busy": round(busy_after, 2),
        "retry_label_fits": retry_label_fits,
        "lock_held_seconds": round(time.monotonic() - locked_at, 2),
        "after_retry": after,
    }


def names_only_the_holder(record: dict[str, Any]) -> None:
    """The busy line names the process holding the write lock, not every program that has the store open.

    Both workbooks are open on the one store, as in a workshop: the other
    notebook's kernel has the file open but holds no lock, and must not be blamed.
    """
    named = re.findall(r"pid (\d+) \(", record["busy"])
    assert named == [str(record["holder_pid"])], (
        f"the lock is held by pid {record['holder_pid']} only, but the form names pids {', '.join(named)}: {record['busy']!r}"
    )


def test_discovery_field_says_busy_keeps_the_old_value_and_retry_saves(
    lab: dict, discovery: Any, linkage_page: Any, hold_write_lock
) -> None:
    """02 with 04 open beside it on the same store."""
    record = busy_then_retry(
        discovery,
        discovery_mark(discovery),
        discovery.locator(f".csm-field-{RUN_RATE} input"),
        discovery.locator(f".csm-retry-{RUN_RATE}"),
        db=lab["db"],
        typed="1,777",
        expected=1777,
        read=lambda: run_rate(lab["db"]),
        saving="saving…",
        saved_text="✓ saved",
        hold_write_lock=hold_write_lock,
        screenshot="workshop_saving_busy_02.png",
    )
    assert record["busy"].endswith("your answer is kept here, press Retry"), record
    expect_box_keeps(discovery.locator(f".csm-field-{RUN_RATE} input"), "1,777")
    RECORD["outcome_discovery"].append({"busy": record})
    names_only_the_holder(record)


def test_linkage_says_busy_keeps_the_old_draft_and_retry_saves(
    lab: dict, discovery: Any, linkage_page: Any, hold_write_lock
) -> None:
    """04 with 02 open beside it on the same store."""
    page = linkage_page
    record = busy_then_retry(
        page,
        linkage_mark(page),
        linkage_box(page),
        page.locator(".csm-retry"),
        db=lab["db"],
        typed="1,777",
        expected=1777,
        read=lambda: draft_run_rate(lab["db"]),
        saving="Saving…",
        saved_text="Draft saved.",
        hold_write_lock=hold_write_lock,
        screenshot="workshop_saving_busy_04.png",
    )
    expect_box_keeps(linkage_box(page), "1,777")
    RECORD["financial_linkage"].append({"busy": record})
    names_only_the_holder(record)


def expect_box_keeps(box: Any, typed: str) -> None:
    from playwright.sync_api import expect

    expect(box).to_have_value(typed)  # what was typed stays in the box through busy and Retry


# -- D: nothing leaked ------------------------------------------------------------------------------
def test_no_traceback_on_the_pages_and_no_sql_errors_in_the_log(lab: dict, discovery: Any, linkage_page: Any) -> None:
    for page in (discovery, linkage_page):
        assert page.locator("text=Traceback").count() == 0
    log = lab["log"].read_text(errors="replace")
    for error in ("ProgrammingError", "OperationalError", "Traceback"):
        assert error not in log, f"{error} in lab.log:\n" + "\n".join(line for line in log.splitlines() if error in line)[-3000:]
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "workshop_saving_browser.json").write_text(json.dumps(RECORD, indent=2, ensure_ascii=False) + "\n")
