"""The workshop in a real browser: JupyterLab started the way ``csm-nb lab``
starts it (on a copy of the workbooks, in a temporary folder), the outcome
discovery notebook opened in headless Chromium, a number and a text answer
typed, "saved" seen, and both read back from the SQLite file.

The screenshot and the time one stage took to fill in go to
``tests/output/`` (ignored by git).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import open_workbook, running_lab, store_with_example

from csm_nb.data.store import Store

OUTPUT = Path(__file__).parent / "output"
EID = "employee-engagement"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Stage 2 as the CSM types it in the workshop (the time to fill it in is reported).
STAGE_2 = [
    ("business_metric", "clients served"),
    ("metric_unit", "clients"),
    ("measurement_method", "monthly report to Head Office"),
    ("last_year_target", "25000"),
    ("last_year_actual", "21400"),
    ("last_year_stated_shortfall_pct", "15"),
    ("this_year_target", "26000"),
    ("monthly_run_rate", "1800"),
    ("stated_shortfall_pct", "20"),
    ("shortfall_reduction_pct", "50"),
    ("next_year_goal", "reach next year's target"),
]


@pytest.fixture
def lab(tmp_path: Path):
    """JupyterLab on a copy of the outcome discovery workbook with a store holding the example engagement (no answers yet)."""
    db = store_with_example(tmp_path / "store.sqlite", EID)
    with running_lab(tmp_path, {"02_outcome_discovery.ipynb": {}}, db=db) as server:
        yield server


def test_typing_answers_in_jupyterlab_saves_them_to_the_store(lab: dict, browser) -> None:
    from playwright.sync_api import expect

    OUTPUT.mkdir(exist_ok=True)
    page = open_workbook(browser, lab, "02_outcome_discovery.ipynb")
    try:
        news = page.get_by_role("button", name="No")  # JupyterLab's one-off "notify me about news?" toast

        # Stage 1: a text answer.
        text_box = page.locator(".csm-field-desired_change input")
        text_box.wait_for(state="visible", timeout=120_000)
        text_box.fill("higher employee engagement")
        text_box.press("Tab")
        expect(page.locator(".csm-status-desired_change")).to_contain_text("saved", timeout=60_000)

        # Stage 2, timed: every field typed and saved.
        page.get_by_role("tab", name="2. The outcome and its targets").click()
        started = time.monotonic()
        for key, value in STAGE_2:
            box = page.locator(f".csm-field-{key} input")
            box.fill(value)
            box.press("Tab")
            expect(page.locator(f".csm-status-{key}")).to_contain_text("saved", timeout=60_000)
        stage_seconds = time.monotonic() - started

        # A bad number is refused beside the field, not saved, and no traceback shows.
        bad = page.locator(".csm-field-monthly_run_rate input")
        bad.fill("-1800")
        bad.press("Tab")
        expect(page.locator(".csm-status-monthly_run_rate")).to_contain_text("cannot be below 0", timeout=60_000)
        expect(page.locator(".csm-q-check_maths")).to_contain_text("4,400 clients short (16.9 %)")
        expect(page.locator(".csm-q-check_maths")).to_contain_text("not the 20 % mentioned")
        assert page.locator("text=Traceback").count() == 0
        if news.count():
            news.first.click()
        page.locator(".csm-q-check_maths").scroll_into_view_if_needed()
        page.screenshot(path=str(OUTPUT / "workshop_browser.png"), full_page=False)
    finally:
        page.close()

    (OUTPUT / "workshop_browser.json").write_text(
        json.dumps({"stage": 2, "fields": len(STAGE_2), "seconds_to_fill_and_save": round(stage_seconds, 2)}, indent=2) + "\n"
    )
    with Store(lab["db"]) as store:
        answers = store.answers(EID, "outcome_discovery")
    assert answers["desired_change"].value == "higher employee engagement"
    assert answers["this_year_target"].value == 26000
    assert answers["monthly_run_rate"].value == 1800  # the refused -1800 did not replace it
    assert answers["this_year_target"].updated_by == "browser-test"
    assert {key for key, _ in STAGE_2} <= set(answers)
