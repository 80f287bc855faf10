"""The maturity and pulse forms a CSM fills in by hand, in JupyterLab in Debian's Chromium: recording a
maturity assessment and putting the plan's metric targets into the KPI register (``14_maturity``), and
recording one respondent's pulse answers (``16_customer_pulse``).

One JupyterLab serves the module, on a store of two engagements: one placed on the built-in
``value-measurement`` model (a day-1 assessment 60 days ago at level 2, index 2.17, and a plan to level 3
with two metric targets), one with a job of three desired outcomes, two of them asked 90 days ago. Both
workbooks are run as a person runs them, judged at today (``as_of`` set to it, so a run that crosses
midnight cannot judge the notebook and the expectations at different dates).

Maturity: today's assessment (level 3's behaviours yes, yes, partly; a metric 75) is added: level 3,
index 3.25; the same date saved again with one answer changed (partly to no) corrects it in place (two
assessments in the file, not three): level 2, index 2.67. A metric typed as text, and a date tomorrow,
are refused ("Not saved") with the store's file and write-ahead log byte for byte unchanged; day 1's
date shows day 1's answers, saved again as they are. "Put into the KPI register" adds the two metric
targets as leading KPIs (the ``kpi`` table); pressed again it writes nothing.

Pulse: Priya's three answers of today are added (three ``pulse_answer`` rows): the mean 6.0, up 0.5 on
the round before; one satisfaction corrected (5 to 8) is corrected in place: 7.0, up 2.0; a
satisfaction of 11 is refused with the store byte for byte unchanged; the round before's date shows
what Priya answered then, saved again as it is.

After each mark the SQLite file, read with the stdlib ``sqlite3``, must hold exactly what the mark says,
and the report under the form must have redrawn.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from conftest import open_workbook, running_lab
from marks import UI_TIMEOUT
from test_engagement_plan_browser import type_into
from test_relationship_forms_browser import FORM_TIMEOUT, save_and_check, shut_down_kernel

from csm_nb.run.service import import_engagements
from csm_nb.vocabulary import day_words

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MATURITY, PULSE = "maturity-browser", "pulse-browser"
# Both workbooks are judged at today, set as their as_of so that a run crossing midnight does not judge the
# notebook at one date and the test's expectations at another.
TODAY = dt.date.today()
DAY1 = TODAY - dt.timedelta(days=60)  # the maturity benchmark
BY = TODAY + dt.timedelta(days=120)  # the maturity plan's date
BEFORE = TODAY - dt.timedelta(days=90)  # the pulse's round before
NOTEBOOKS = {"14_maturity.ipynb": MATURITY, "16_customer_pulse.ipynb": PULSE}
# Day 1: level 2 fully seen, level 3 one partly of three: level 2, index 2 + 0.5 / 3 = 2.17.
DAY1_OBSERVED = {
    "outcomes-quantified": "yes",
    "sponsor-named": "yes",
    "baseline-known": "yes",
    "kpis-shortlisted": "partly",
    "kpis-owned-monthly": "no",
    "plan-per-kpi": "no",
    "finance-link-agreed": "no",
    "cash-flow-tracked": "no",
    "quarterly-value-review": "no",
    "decisions-from-review": "no",
}


def engagement_files(folder: Path) -> list[Path]:
    observed = ", ".join(f"{k}: '{v}'" for k, v in DAY1_OBSERVED.items())
    maturity = folder / f"{MATURITY}.yaml"
    maturity.write_text(
        f"""\
schema: csm-nb/engagement@1
id: {MATURITY}
customer: Northgate Freight
maturity:
  model: value-measurement
  assessments:
    - date: {DAY1}
      by: Dana Whitfield
      observed: {{{observed}}}
      metrics: {{kpis-on-time: 40, months-since-review: 9}}
  plan:
    target_level: 3
    by: {BY}
    metric_targets: {{kpis-on-time: 90, months-since-review: 3}}
""",
        encoding="utf-8",
    )
    pulse = folder / f"{PULSE}.yaml"
    pulse.write_text(
        f"""\
schema: csm-nb/engagement@1
id: {PULSE}
customer: Harbor Lane Clinics
stakeholders:
  - {{name: Priya Raman, side: customer, role: Head of Clinic Operations}}
  - {{name: Tom Becker, side: customer, role: Scheduling lead}}
jobs:
  - id: run-clinics
    statement: run every clinic session on time
    executor: clinic teams
    kind: core
    steps:
      - id: book-sessions
        name: book the sessions
        order: 1
        desired_outcomes:
          - {{id: booking-time, statement: minimise the time it takes to book a session, direction: minimise,
             unit: minutes, importance: 8, satisfaction: 4}}
          - {{id: late-starts, statement: minimise the sessions that start late, direction: minimise,
             unit: sessions, importance: 7, satisfaction: 5}}
      - id: follow-up
        name: follow the patients up
        order: 2
        desired_outcomes:
          - {{id: follow-up-share, statement: maximise the share of patients followed up within a week,
             direction: maximise, unit: percent, importance: 6, satisfaction: 6}}
pulse:
  - {{date: {BEFORE}, respondent: Priya Raman, desired_outcome: booking-time, satisfaction: 4}}
  - {{date: {BEFORE}, respondent: Priya Raman, desired_outcome: late-starts, satisfaction: 6}}
""",
        encoding="utf-8",
    )
    return [maturity, pulse]


# -- the file itself ---------------------------------------------------------------------------------
def maturity_part(db: Path) -> tuple[int, Any]:
    """(the engagement's revision, its ``maturity`` JSON column parsed), read straight from the file."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        revision, text = connection.execute("SELECT revision, maturity FROM engagement WHERE id = ?", (MATURITY,)).fetchone()
    return revision, json.loads(text) if text else None


def kpi_rows(db: Path) -> tuple[int, list[tuple[Any, ...]]]:
    """(the engagement's revision, its KPI register as (id, kind, direction, baseline, target, start, deadline,
    origin, consent))."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        revision = connection.execute("SELECT revision FROM engagement WHERE id = ?", (MATURITY,)).fetchone()[0]
        rows = connection.execute(
            "SELECT id, kind, direction, baseline, target, start, deadline, origin, consent FROM kpi "
            "WHERE engagement_id = ? ORDER BY position",
            (MATURITY,),
        ).fetchall()
    return revision, rows


def pulse_rows(db: Path) -> tuple[int, list[tuple[Any, ...]]]:
    """(the engagement's revision, its pulse answers as (date, respondent, desired outcome, satisfaction, attrs))."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        revision = connection.execute("SELECT revision FROM engagement WHERE id = ?", (PULSE,)).fetchone()[0]
        rows = connection.execute(
            "SELECT date, respondent, desired_outcome, satisfaction, attrs FROM pulse_answer "
            "WHERE engagement_id = ? ORDER BY position",
            (PULSE,),
        ).fetchall()
    return revision, [(*r[:4], json.loads(r[4]) if r[4] else None) for r in rows]


def shown(text: str) -> re.Pattern:
    """``text`` as the page shows it: any run of spaces may be no-break, a sign may be followed by a word joiner."""
    parts = []
    for c in text:
        parts.append(r"\s+" if c == " " else re.escape(c) + ("\u2060?" if c in "+-" else ""))
    return re.compile("".join(parts))


def cells(part: Any, has_text: str) -> Any:
    """The cells of the row of a report's table that holds ``has_text``."""
    return part.locator("tr", has_text=has_text).locator("td, th")


# -- one JupyterLab for the module ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """JupyterLab (started as ``csm-nb lab`` starts it) on the two workbooks, each set to its engagement."""
    base = tmp_path_factory.mktemp("maturity-pulse-lab")
    db = base / "store.sqlite"
    import_engagements(engagement_files(base), db=db)
    with running_lab(
        base, {name: {"engagement_id": eid, "as_of": TODAY.isoformat()} for name, eid in NOTEBOOKS.items()}, db=db
    ) as running:
        yield {**running, "db": db.resolve()}


@pytest.fixture
def workbook(lab: dict[str, Any], browser) -> Iterator[Callable[[str, str], Any]]:
    """``workbook(name, form_css)`` opens a workbook, runs all cells and waits for its form; afterwards the
    page is checked for errors, closed, and its kernel shut down (the next workbook runs alone)."""
    opened: list[tuple[Any, str]] = []

    def open_it(name: str, form: str) -> Any:
        page = open_workbook(browser, lab, name)
        opened.append((page, name))
        try:
            page.locator(form).wait_for(state="visible", timeout=FORM_TIMEOUT)
        except Exception as exc:
            pytest.fail(f"no form in {name} ({str(exc).splitlines()[0]})\nlab log:\n{lab['log'].read_text()[-3000:]}")
        return page

    yield open_it
    for page, name in opened:
        try:
            if not page.is_closed():
                assert page.locator("text=Traceback").count() == 0, page.locator("text=Traceback").all_inner_texts()
                stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
                assert stderr.count() == 0, stderr.all_inner_texts()
        finally:
            page.close()
            shut_down_kernel(lab, name)


# -- 1. a maturity assessment, and the plan into the KPI register ------------------------------------------------
def test_an_assessment_saved_corrected_and_refused_and_the_plan_put_into_the_kpi_register(lab: dict[str, Any], workbook) -> None:
    from playwright.sync_api import expect

    db = lab["db"]
    page = workbook("14_maturity.ipynb", ".csm-maturity-form")
    headline, since = page.locator(".csm-live-headline"), page.locator(".csm-live-since-day-one")
    expect(headline).to_contain_text(shown("is at level 2 (Stated) of 5, index 2.17."), timeout=UI_TIMEOUT)
    form = page.locator(".csm-maturity-assessment")
    date = form.locator("input[type=date]")
    expect(date).to_have_value(TODAY.isoformat())  # the report's date

    def answer(behaviour: str) -> Any:
        return page.locator(f".csm-maturity-{behaviour} select")

    def metric(name: str) -> Any:
        return form.locator(".widget-text").filter(has_text=name).locator("input")

    # The form starts from the latest answers: day 1's.
    expect(answer("kpis-shortlisted")).to_have_value("partly")
    expect(metric("KPIs measured on time")).to_have_value("40")

    def read() -> tuple[int, Any]:
        return maturity_part(db)

    revision, stored = read()
    assert [a["date"] for a in stored["assessments"]] == [DAY1.isoformat()]
    day1 = stored["assessments"][0]

    def with_today(**changed: str) -> tuple[int, dict[str, Any]]:
        today = {
            "date": TODAY.isoformat(),
            "by": "Dana Whitfield",
            "observed": {**DAY1_OBSERVED, **changed},
            "metrics": {"kpis-on-time": 75.0, "months-since-review": 9.0},
        }
        return {**stored, "assessments": [day1, today]}

    saving = dict(form="maturity-assessment", read=read, db=db)
    # 1. today: level 3's behaviours yes, yes, partly (2.5 / 3 = 0.83, at least 0.8): level 3; level 4 a quarter seen
    answer("kpis-shortlisted").select_option("yes")
    answer("kpis-owned-monthly").select_option("yes")
    answer("plan-per-kpi").select_option("partly")
    answer("cash-flow-tracked").select_option("partly")
    type_into(metric("KPIs measured on time"), "75")
    observed = {"kpis-shortlisted": "yes", "kpis-owned-monthly": "yes", "plan-per-kpi": "partly", "cash-flow-tracked": "partly"}
    save_and_check(
        page,
        **saving,
        expected=(revision + 1, with_today(**observed)),
        detail=f"Assessment of {day_words(TODAY)}, 10 behaviours: added.",
    )
    expect(headline).to_contain_text(shown("is at level 3 (Measured) of 5, index 3.25."))
    expect(headline).to_contain_text(shown(f"Since day 1 ({day_words(DAY1)}): +1.08."))
    expect(cells(since, "Index")).to_have_text(["Index", "2.17", "3.25"])
    expect(page.locator(".csm-live-metrics-table").locator("tr", has_text="KPIs measured on time")).to_contain_text(
        f"75 ({day_words(TODAY)})"
    )
    # 2. the same date, one answer changed (partly to no): corrected in place, level 3 now 2 / 3: back to level 2
    answer("plan-per-kpi").select_option("no")
    expect(page.locator(".csm-status-maturity-assessment")).to_contain_text("changed: press Save")
    save_and_check(
        page,
        **saving,
        expected=(revision + 2, with_today(**{**observed, "plan-per-kpi": "no"})),
        detail=f"Assessment of {day_words(TODAY)}, 10 behaviours: corrected.",
    )
    expect(headline).to_contain_text(shown("is at level 2 (Stated) of 5, index 2.67."))
    expect(cells(since, "Index")).to_have_text(["Index", "2.17", "2.67"])
    expect(cells(since, "Level held")).to_have_text(["Level held", "2", "2"])
    # 3. a metric typed as text, then a date tomorrow: refused, not a byte written, the report as it was
    type_into(metric("KPIs measured on time"), "lots")
    save_and_check(page, **saving, refused="Not saved: KPIs measured on time: expected a number such as 8; you typed 'lots'")
    type_into(metric("KPIs measured on time"), "75")
    tomorrow = TODAY + dt.timedelta(days=1)
    date.fill(tomorrow.isoformat())
    save_and_check(page, **saving, refused=f"Not saved: Date: {tomorrow.isoformat()} is after {day_words(TODAY)}")
    expect(headline).to_contain_text(shown("index 2.67."))
    # 4. today again, the same answers: "saved", nothing written
    date.fill(TODAY.isoformat())
    save_and_check(page, **saving, same=True, detail="already recorded as it is.")
    # 5. day 1's date: its own answers are shown (to correct it), and saved as they are nothing changes
    date.fill(DAY1.isoformat())
    expect(answer("kpis-shortlisted")).to_have_value("partly")
    expect(answer("plan-per-kpi")).to_have_value("no")
    expect(metric("KPIs measured on time")).to_have_value("40")
    save_and_check(page, **saving, same=True, detail=f"Assessment of {day_words(DAY1)}, 10 behaviours: already recorded")
    assert read()[1]["assessments"] == with_today(**{**observed, "plan-per-kpi": "no"})["assessments"]

    # 6. the plan's metric targets into the KPI register: two leading KPIs from their day-1 values; twice: nothing more
    register = page.locator(".csm-maturity-kpis")
    expect(register).to_contain_text("kpis-on-time 90, months-since-review 3")
    revision, kpis = kpi_rows(db)
    assert kpis == []
    expected = [
        ("kpis-on-time", "leading", "increase", 40.0, 90.0, DAY1.isoformat(), BY.isoformat(), "usage", None),
        ("months-since-review", "leading", "decrease", 9.0, 3.0, DAY1.isoformat(), BY.isoformat(), "customer", "given"),
    ]
    kpi_form = dict(form="maturity-kpis", read=lambda: kpi_rows(db), db=db)
    save_and_check(
        page,
        **kpi_form,
        expected=(revision + 1, expected),
        detail="kpis-on-time, months-since-review: in the KPI register (2 added, 0 updated).",
    )
    save_and_check(
        page, **kpi_form, same=True, detail="kpis-on-time, months-since-review: already in the KPI register as they are."
    )
    assert maturity_part(db)[1]["assessments"][1]["observed"]["plan-per-kpi"] == "no"  # the KPIs left the maturity as it was


# -- 2. one respondent's pulse answers ------------------------------------------------------------------------------
def test_pulse_answers_saved_corrected_in_place_and_refused_and_the_report_follows(lab: dict[str, Any], workbook) -> None:
    from playwright.sync_api import expect

    db = lab["db"]
    page = workbook("16_customer_pulse.ipynb", ".csm-pulse-form")
    headline, figures = page.locator(".csm-live-headline"), page.locator(".csm-live-headline-figures")
    questions = page.locator(".csm-live-questions")
    expect(headline).to_contain_text(shown(f"Latest round {day_words(BEFORE)}."), timeout=UI_TIMEOUT)
    expect(page.locator(".csm-pulse-date input")).to_have_value(TODAY.isoformat())  # the report's date

    def row(outcome: str, box: str) -> Any:
        return page.locator(f".csm-pulse-outcome-{outcome} .csm-pulse-{box} input")

    def read() -> tuple[int, list[tuple[Any, ...]]]:
        return pulse_rows(db)

    revision, before = read()
    assert before == [
        (BEFORE.isoformat(), "Priya Raman", "booking-time", 4.0, None),
        (BEFORE.isoformat(), "Priya Raman", "late-starts", 6.0, None),
    ]
    today, said = TODAY.isoformat(), "Mondays still start late"
    saving = dict(form="pulse-answers", read=read, db=db)
    # 1. Priya's answers of today: booking 4 -> 6 (+2), late starts 6 -> 5 (-1), follow-up 7 (first time)
    type_into(page.locator(".csm-pulse-respondent input"), "Priya Raman")
    type_into(row("booking-time", "satisfaction"), "6")
    type_into(row("late-starts", "satisfaction"), "5")
    type_into(row("late-starts", "importance"), "8")
    type_into(row("late-starts", "comment"), said)
    type_into(row("follow-up-share", "satisfaction"), "7")
    added = [
        (today, "Priya Raman", "booking-time", 6.0, None),
        (today, "Priya Raman", "late-starts", 5.0, {"importance": 8.0, "comment": said}),
        (today, "Priya Raman", "follow-up-share", 7.0, None),
    ]
    save_and_check(
        page,
        **saving,
        expected=(revision + 1, before + added),
        detail=f"Priya Raman's 3 answers of {day_words(TODAY)}: 3 added.",
    )
    # the mean of 6, 5 and 7; like for like (+2 and -1) up 0.5
    expect(headline).to_contain_text(shown(f"Latest round {day_words(TODAY)}."))
    expect(headline).to_contain_text(shown("3 desired outcomes of 3 answered; mean satisfaction 6.0 of 10"))
    expect(headline).to_contain_text(shown("moved up 0.5 points on the round before"))
    expect(figures).to_contain_text(shown("6.0 of 10"))
    expect(cells(questions, "book a session")).to_contain_text(["4.0", "6.0", shown("+2.0")])
    expect(cells(questions, "start late")).to_contain_text(["6.0", "5.0", shown("-1.0")])
    expect(page.locator(".csm-live-quotes-part")).to_contain_text(said)
    # 2. late starts corrected to 8: in place (still five rows), the mean 7.0, up 2.0 (+2 and +2)
    type_into(row("late-starts", "satisfaction"), "8")
    expect(page.locator(".csm-status-pulse-answers")).to_contain_text("changed: press Save")
    added[1] = (today, "Priya Raman", "late-starts", 8.0, {"importance": 8.0, "comment": said})
    save_and_check(
        page,
        **saving,
        expected=(revision + 2, before + added),
        detail=f"Priya Raman's 3 answers of {day_words(TODAY)}: 1 corrected, 2 already so.",
    )
    expect(headline).to_contain_text(shown("mean satisfaction 7.0 of 10"))
    expect(headline).to_contain_text(shown("moved up 2.0 points on the round before"))
    expect(cells(questions, "start late")).to_contain_text(["6.0", "8.0", shown("+2.0")])
    # 3. satisfaction 11: refused, not a byte written, the report as it was
    type_into(row("booking-time", "satisfaction"), "11")
    save_and_check(
        page,
        **saving,
        refused="Not saved: Satisfaction for How well can you cut the time it takes to book a session today? "
        "(booking-time): expected a rating from 0 to 10; you typed 11",
    )
    expect(headline).to_contain_text(shown("mean satisfaction 7.0 of 10"))
    # 4. the round before's date: what Priya answered then is shown, and saved as it is nothing changes
    page.locator(".csm-pulse-date input").fill(BEFORE.isoformat())
    expect(row("booking-time", "satisfaction")).to_have_value("4")
    expect(row("late-starts", "satisfaction")).to_have_value("6")
    expect(row("late-starts", "comment")).to_have_value("")
    expect(row("follow-up-share", "satisfaction")).to_have_value("")
    save_and_check(page, **saving, same=True, detail=f"Priya Raman's 2 answers of {day_words(BEFORE)}: 2 already so.")
    assert read() == (revision + 2, before + added)
