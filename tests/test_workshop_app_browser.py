"""The workshop app (``csm-nb workshop``) in a real browser: start page, forms, saving, looks.

The app is started once for the module exactly as the CLI starts it
(:func:`csm_nb.run.workshop.workshop_command`, its own process group), on a
store holding two engagements: the employee-engagement example and the
order-to-ship example stored as ``order-to-ship-copy``, both without workshop
answers. Headless Chromium (1280x720) then:

* opens outcome discovery from the start page and types one field several
  times with Enter; after each entry the mark beside it is held to what the
  SQLite file says (read with the stdlib ``sqlite3``, not through ``csm_nb``);
* does the same with financial linkage's gap run-rate box and its draft;
* looks at the five workshop workbooks: no code, no traceback, no MathJax,
  money as text, whole tab labels; a screenshot of each goes to
  ``tests/output/workshop_app_<workbook>.png`` (ignored by git);
* switches engagement in the form's picker and sees the start page remember it;
* creates an engagement on the start page (a bad id first);
* turns large text on and reloads; opens an unknown engagement (404);
* checks that no page asks anything of another host;
* last, holds the store's write lock from another process: the form says the
  store is busy (naming that process), keeps the typed value, writes nothing,
  and Retry saves once the lock is gone.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import EXAMPLES_DIR, _free_port, _wait_for_server, store_with_example
from marks import UI_TIMEOUT, Mark, poll, stored, type_and_check

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OUTPUT = Path(__file__).parent / "output"
TOKEN = "csm-nb-workshop-app-test"
VIEWPORT = {"width": 1280, "height": 720}
EID, CUSTOMER = "employee-engagement", "Helios Care Services"
OTHER, OTHER_CUSTOMER = "order-to-ship-copy", "Northwind Homewares"
WORKBOOKS = ["engagement_brief", "outcome_discovery", "kpi_workshop", "financial_linkage", "engagement_plan", "customer_jobs"]
RUN_RATE = "monthly_run_rate"  # outcome discovery's field, on tab 2
LINK_KEY = "link.engagement-to-revenue"  # financial linkage's draft of the example's only link
FORM_TIMEOUT = 90_000  # ms: the first form may wait for the fork server to finish its imports


# -- the file itself ------------------------------------------------------------------------
def engagement_rows(db: Path) -> list[tuple[Any, ...]]:
    """Every column of every engagement row, as the file holds them."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        return connection.execute("SELECT * FROM engagement ORDER BY id").fetchall()


def store_dump(db: Path) -> str:
    """The whole store as SQL text (the file itself is WAL: its bytes move with checkpoints, not with content)."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        return "\n".join(connection.iterdump())


def remembered(db: Path) -> str | None:
    """The engagement the app remembers as last opened from ``db`` (``<store>.workshop.json``)."""
    path = db.with_name(db.name + ".workshop.json")
    return json.loads(path.read_text(encoding="utf-8")).get("last_engagement") if path.is_file() else None


# -- the app --------------------------------------------------------------------------------
@dataclass
class App:
    url: str  # http://127.0.0.1:<port>, no trailing slash
    db: Path
    log: Path
    requests: dict[str, list[str]] = field(default_factory=dict)  # page label -> every URL it asked for

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def store_with_two_engagements(db: Path) -> Path:
    """The employee-engagement example and the order-to-ship example stored as ``order-to-ship-copy``; no answers."""
    from csm_nb.data.engagement import read_engagement
    from csm_nb.data.store import Store

    store_with_example(db, EID)
    other = read_engagement(EXAMPLES_DIR / "order-to-ship.yaml")
    other.id, other.workshop = OTHER, None
    with Store(db) as store:
        store.save(other, author="importer")
    return db


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the app's process group (server, fork server, kernels); SIGKILL it after 20 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The workshop app started as ``csm-nb workshop`` starts it, on a store of two engagements."""
    from csm_nb.run.workshop import workshop_command

    base = tmp_path_factory.mktemp("workshop-app")
    db = store_with_two_engagements(base / "store.sqlite")
    port = _free_port()
    command = workshop_command(db=db, port=port, open_browser=False, token=TOKEN, author="browser-test")
    assert command.env["CSM_NB_DB"] == str(db.resolve())
    log = base / "workshop.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            command.argv, env=command.env, cwd=command.cwd, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_for_server(f"http://127.0.0.1:{port}/?token={TOKEN}", process, log)
        assert stored(db, EID, "outcome_discovery", RUN_RATE) is None and stored(db, EID, "financial_linkage", LINK_KEY) is None
        yield App(url=f"http://127.0.0.1:{port}", db=db.resolve(), log=log)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def session(app: App, browser) -> Iterator[Any]:
    """A browser context signed in once with the token (a cookie does the rest), 1280x720."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    reply = page.goto(f"{app.url}/?token={TOKEN}")
    assert reply is not None and reply.status == 200, f"start page with the token: {reply and reply.status}"
    page.close()
    yield context
    context.close()


def watch(page: Any, app: App, label: str) -> None:
    """Record every URL the page asks for (HTTP and websockets) under ``label``."""
    seen = app.requests.setdefault(label, [])
    page.on("request", lambda request: seen.append(request.url))
    page.on("websocket", lambda socket: seen.append(socket.url))


def form_ready(page: Any, workbook: str) -> Any:
    """What shows once a workbook's form is drawn."""
    if workbook == "financial_linkage":
        return page.get_by_label("run rate", exact=True)
    if workbook == "kpi_workshop":
        return page.locator(".csm-kpi-workshop")
    if workbook == "engagement_plan":
        return page.locator(".csm-plan-log")
    if workbook == "customer_jobs":
        return page.locator(".csm-jobs-editor")
    return page.locator(".csm-workshop")


def wait_for_form(page: Any, app: App, workbook: str) -> None:
    from playwright.sync_api import Error

    try:
        form_ready(page, workbook).first.wait_for(state="visible", timeout=FORM_TIMEOUT)
    except Error as exc:
        pytest.fail(f"{workbook}: no form at {page.url} ({exc.message.splitlines()[0]})\nserver log:\n{app.log_tail()}")


def open_workbook_page(context: Any, app: App, workbook: str, engagement: str = EID, *, label: str = "") -> Any:
    """A new page on ``/csm/open`` (the workbook links' way in), once its form is drawn."""
    from playwright.sync_api import expect

    page = context.new_page()
    watch(page, app, label or f"{workbook}@{engagement}")
    page.goto(f"{app.url}/csm/open?{urlencode({'engagement': engagement, 'workbook': workbook})}")
    expect(page).to_have_url(re.compile(r"/voila/render/\d\d_\w+\.ipynb\?engagement=" + re.escape(engagement) + "$"))
    wait_for_form(page, app, workbook)
    return page


class Pages:
    """One page a workbook for the example engagement, opened on first use and kept for the module."""

    def __init__(self, context: Any, app: App) -> None:
        self.context, self.app, self.open = context, app, {}

    def get(self, workbook: str) -> Any:
        if workbook not in self.open:
            self.open[workbook] = open_workbook_page(self.context, self.app, workbook, label=f"shown:{workbook}")
        return self.open[workbook]


@pytest.fixture(scope="module")
def pages(session: Any, app: App) -> Iterator[Pages]:
    found = Pages(session, app)
    yield found
    for page in found.open.values():
        page.close()


# The same field edited several times, a refused entry, then a valid one again.
STEPS: list[tuple[str, float | None]] = [("1,810", 1810), ("1,820", 1820), ("1,800", 1800), ("abc", None), ("1,790", 1790)]


# -- 1. outcome discovery from the start page, each value saved ---------------------------------
def test_start_page_opens_outcome_discovery_and_each_entry_is_what_sqlite_holds(app: App, session: Any) -> None:
    from playwright.sync_api import expect

    page = session.new_page()
    watch(page, app, "start->outcome_discovery")
    try:
        page.goto(f"{app.url}/")
        select = page.locator("#ws-engagement")
        expect(select.locator("option")).to_have_count(2)
        select.select_option(OTHER)  # the other one first, so picking EID is a change the link must carry
        select.select_option(EID)
        page.locator("button.ws-workbook[value=outcome_discovery]").click()
        expect(page).to_have_url(f"{app.url}/voila/render/02_outcome_discovery.ipynb?engagement={EID}", timeout=UI_TIMEOUT)
        wait_for_form(page, app, "outcome_discovery")
        form = page.locator(".csm-workshop")
        expect(form).to_contain_text(CUSTOMER)
        expect(form).not_to_contain_text(OTHER_CUSTOMER)

        page.get_by_role("tab", name="2. The outcome and its targets").click()
        box = page.locator(f".csm-field-{RUN_RATE} input")
        box.wait_for(state="visible", timeout=UI_TIMEOUT)
        mark = Mark(page, f".csm-status-{RUN_RATE}", ".csm-state")
        shown = {}
        for typed, expected in STEPS:
            shown[typed] = type_and_check(
                mark,
                box,
                typed,
                read=lambda: stored(app.db, EID, "outcome_discovery", RUN_RATE),
                saved_text="✓ saved",
                expected=expected,
            )
        assert "Not saved" in shown["abc"] and "number" in shown["abc"], shown
        assert stored(app.db, EID, "outcome_discovery", RUN_RATE) == (1790, 4)
    finally:
        page.close()


# -- 3. what every workshop page shows (and does not) -------------------------------------------
def visible_code(page: Any) -> list[str]:
    """The start of every visible input area that is not rendered markdown, and every visible editor or prompt."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
                '.jp-InputArea, .jp-InputPrompt, .jp-Editor, .CodeMirror, .cm-editor, .jp-CodeCell pre')]
            .filter(e => e.offsetParent !== null && e.getClientRects().length)
            .filter(e => !(e.classList.contains('jp-InputArea') && e.closest('.jp-MarkdownCell')
                           && e.querySelector(':scope > .jp-RenderedMarkdown')))
            .filter(e => !e.closest('.jp-OutputArea'))
            .map(e => e.className + ': ' + e.innerText.slice(0, 80))"""
    )


@pytest.mark.parametrize("workbook", WORKBOOKS)
def test_workbook_page_shows_no_code_no_traceback_no_maths(app: App, pages: Pages, workbook: str) -> None:
    from playwright.sync_api import expect

    page = pages.get(workbook)
    # The header: the start page, the workshop workbooks with this one current, large text.
    expect(page.locator(".ws-home")).to_be_visible()
    expect(page.locator(".ws-steps a")).to_have_count(len(WORKBOOKS))
    current = page.locator('.ws-steps a[aria-current="page"]')
    expect(current).to_have_count(1)
    assert current.get_attribute("href").endswith(f"csm/open?workbook={workbook}")
    expect(page.locator(".ws-large-switch")).to_be_visible()

    assert visible_code(page) == []
    text = page.evaluate("document.body.innerText")
    for code in ("In [", "import ", "Traceback"):
        assert code not in text, f"{workbook}: {code!r} on the page: …{text[max(text.find(code) - 200, 0) :][:400]}…"
    stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert stderr.count() == 0, f"{workbook}: stderr shown: {stderr.all_inner_texts()}"
    assert page.locator("mjx-container, .MathJax, .MathJax_Preview, script[src*='mathjax' i]").count() == 0
    if workbook == "financial_linkage":
        # Two dollar amounts in one sentence are money, not the bounds of a formula.
        assert "$33,750" in text
        assert "is worth $33,750 revenue a month, $405,000 a year" in text, text[:1500]


# -- 4. a screenshot of each, tabs whose labels are whole ----------------------------------------
def assert_real_png(path: Path) -> None:
    from PIL import Image

    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    assert path.stat().st_size > 20_000, f"{path} is only {path.stat().st_size} bytes"
    with Image.open(path) as image:
        assert image.size == (VIEWPORT["width"], VIEWPORT["height"])
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 50, f"{path}: {len(colours)} colours, hardly a page"


def cut_tab_labels(page: Any) -> list[dict[str, Any]]:
    """The tab labels on the page that do not show whole (cut, or spilling out of their tab)."""
    fits = page.locator(".lm-TabBar-tabLabel").evaluate_all(
        """labels => labels.map(l => {
            const tab = l.closest('.lm-TabBar-tab').getBoundingClientRect(), box = l.getBoundingClientRect();
            return {text: l.innerText, scroll: l.scrollWidth, client: l.clientWidth,
                    inside: box.left >= tab.left - 1 && box.right <= tab.right + 1
                            && box.top >= tab.top - 1 && box.bottom <= tab.bottom + 1};
        })"""
    )
    return [f for f in fits if f["scroll"] > f["client"] + 1 or not f["inside"]]


@pytest.mark.parametrize("workbook", WORKBOOKS)
def test_workbook_screenshot_and_whole_tab_labels(app: App, pages: Pages, workbook: str) -> None:
    page = pages.get(workbook)
    if workbook == "outcome_discovery":
        assert page.locator(".lm-TabBar-tabLabel").count() == 5
    cut = cut_tab_labels(page)
    assert not cut, f"{workbook}: tab labels cut off: {cut}"
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"workshop_app_{workbook}.png"
    path.unlink(missing_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=False)
    assert_real_png(path)


# -- 2. financial linkage: each draft is what sqlite holds ----------------------------------------
def test_financial_linkage_draft_is_what_sqlite_holds(app: App, pages: Pages) -> None:
    page = pages.get("financial_linkage")

    def draft_run_rate() -> tuple[Any, int] | None:
        found = stored(app.db, EID, "financial_linkage", LINK_KEY)
        return None if found is None else (found[0]["gap"]["run_rate"], found[1])

    box = page.get_by_label("run rate", exact=True)
    mark = Mark(page, ".widget-hbox:has(> .csm-retry)", ".csm-message")  # the form's one status line
    shown = {}
    for typed, expected in STEPS:
        shown[typed] = type_and_check(mark, box, typed, read=draft_run_rate, saved_text="Draft saved.", expected=expected)
    assert "Not saved" in shown["abc"], shown
    draft = stored(app.db, EID, "financial_linkage", LINK_KEY)
    assert draft is not None and draft[1] == 4
    assert draft[0]["gap"] == {**draft[0]["gap"], "run_rate": 1790, "target_per_year": 26000}


# -- 5. another engagement in the form's picker, remembered by the start page ---------------------
def test_switching_engagement_in_the_form_is_remembered_by_the_start_page(app: App, session: Any) -> None:
    from playwright.sync_api import expect

    page = open_workbook_page(session, app, "outcome_discovery", EID, label="switch")
    try:
        assert remembered(app.db) == EID  # the link remembered it; the switch must change that
        form = page.locator(".csm-workshop")
        expect(form).to_contain_text(CUSTOMER)
        picker = page.locator(".csm-picker")
        labels = picker.locator("select option").evaluate_all("options => options.map(o => [o.value, o.innerText])")
        other = next(value for value, label in labels if label.replace("\xa0", " ") == f"{OTHER_CUSTOMER} ({OTHER})")
        picker.locator("select").select_option(value=other)
        picker.get_by_role("button", name="Open", exact=True).click()
        expect(picker).to_contain_text(f"Opened {OTHER}.", timeout=UI_TIMEOUT)
        expect(form).to_contain_text(f"Outcome discovery · {OTHER_CUSTOMER}")
        expect(form).not_to_contain_text(CUSTOMER)

        page.locator(".ws-home").click()
        expect(page).to_have_url(f"{app.url}/")
        expect(page.locator("#ws-engagement")).to_have_value(OTHER)
        assert remembered(app.db) == OTHER
    finally:
        page.close()


# -- 6. creating an engagement on the start page --------------------------------------------------
def submit_new_engagement(page: Any, app: App, *, expected_status: int) -> None:
    """Press Create; the POST must answer ``expected_status`` (the server log's lines about it if not)."""
    with page.expect_response(lambda r: r.url.startswith(f"{app.url}/csm/engagements") and r.request.method == "POST") as answer:
        page.locator("form.ws-new").get_by_role("button", name="Create").click()
    status = answer.value.status
    if status != expected_status:
        lines = [line for line in app.log.read_text(errors="replace").splitlines() if "/csm/engagements" in line]
        raise AssertionError(f"POST /csm/engagements answered {status}, not {expected_status}; server log: {lines[-3:]}")
    page.wait_for_load_state()


def test_a_bad_new_engagement_id_is_one_line_and_changes_nothing(app: App, session: Any) -> None:
    from playwright.sync_api import expect

    page = session.new_page()
    try:
        page.goto(f"{app.url}/")
        shown = page.locator("body").inner_text()
        assert "<input" not in shown, f"markup shown as text on the start page: …{shown[shown.find('<input') :][:120]}…"
        rows, dump = engagement_rows(app.db), store_dump(app.db)
        new = page.locator("form.ws-new")
        new.locator("input[name=id]").fill("Bad Id!")
        new.locator("input[name=customer]").fill("Bad Id Customer")
        # The server's check is what is tested: skip the browser's own (the pattern attribute).
        new.evaluate("form => { form.noValidate = true; }")
        submit_new_engagement(page, app, expected_status=400)
        bad = page.locator(".callout-bad")
        expect(bad).to_have_count(1)
        message = bad.inner_text().strip()
        assert "\n" not in message, message
        assert "Bad Id!" in message and "not valid" in message, message
        expect(page.locator("form.ws-new input[name=id]")).to_have_value("Bad Id!")  # kept, to correct it
        assert engagement_rows(app.db) == rows
        assert store_dump(app.db) == dump
    finally:
        page.close()


def test_a_new_engagement_is_created_and_selected(app: App, session: Any) -> None:
    from playwright.sync_api import expect

    new_id, customer = "acme-2026", "Acme Browser Test"
    page = session.new_page()
    try:
        page.goto(f"{app.url}/")
        assert new_id not in [row[0] for row in engagement_rows(app.db)]
        new = page.locator("form.ws-new")
        new.locator("input[name=id]").fill(new_id)
        new.locator("input[name=customer]").fill(customer)
        submit_new_engagement(page, app, expected_status=302)
        expect(page).to_have_url(f"{app.url}/?{urlencode({'engagement': new_id})}")
        expect(page.locator(".callout-bad")).to_have_count(0)
        expect(page.locator("#ws-engagement")).to_have_value(new_id)
        with closing(sqlite3.connect(app.db, timeout=1)) as connection:
            row = connection.execute("SELECT id, customer, revision FROM engagement WHERE id = ?", (new_id,)).fetchone()
        assert row == (new_id, customer, 1)
        page.goto(f"{app.url}/")  # and remembered
        expect(page.locator("#ws-engagement")).to_have_value(new_id)
    finally:
        page.close()


# -- 7. large text, for a projector ----------------------------------------------------------------
def test_large_text_switch_survives_a_reload(app: App, browser) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT)  # its own localStorage: the other pages keep normal text
    page = context.new_page()
    try:
        page.goto(f"{app.url}/csm/open?{urlencode({'engagement': EID, 'workbook': 'engagement_brief', 'token': TOKEN})}")
        wait_for_form(page, app, "engagement_brief")
        html, switch = page.locator("html"), page.locator(".ws-large-switch")
        cells = page.locator("#rendered_cells > div")
        expect(html).not_to_have_class(re.compile(r"\bws-large\b"))
        expect(switch).to_have_attribute("aria-pressed", "false")
        assert cells.evaluate("e => getComputedStyle(e).zoom") == "1"

        switch.click()
        expect(html).to_have_class(re.compile(r"\bws-large\b"))
        expect(switch).to_have_attribute("aria-pressed", "true")
        assert cells.evaluate("e => getComputedStyle(e).zoom") == "1.3"
        # A third larger at 1280x720, the five tabs' labels wrap instead of being cut.
        assert page.locator(".lm-TabBar-tabLabel").count() == 5 and not cut_tab_labels(page)

        page.reload(wait_until="domcontentloaded")
        expect(html).to_have_class(re.compile(r"\bws-large\b"))
        wait_for_form(page, app, "engagement_brief")
        expect(switch).to_have_attribute("aria-pressed", "true")
        assert cells.evaluate("e => getComputedStyle(e).zoom") == "1.3"

        switch.click()  # and off again, also remembered
        page.reload(wait_until="domcontentloaded")
        expect(html).not_to_have_class(re.compile(r"\bws-large\b"))
    finally:
        context.close()


# -- 8. an unknown engagement ------------------------------------------------------------------------
def test_an_unknown_engagement_is_a_404_that_names_it(app: App, session: Any) -> None:
    page = session.new_page()
    try:
        reply = page.goto(f"{app.url}/voila/render/02_outcome_discovery.ipynb?engagement=nope")
        assert reply is not None and reply.status == 404
        heading = page.locator("h1").first.inner_text()
        assert "'nope'" in heading, heading
        text = page.evaluate("document.body.innerText")
        assert "Traceback" not in text
        assert page.locator(".csm-workshop, .ws-bar").count() == 0
    finally:
        page.close()


def test_the_404_page_requests_nothing_from_another_host(app: App, session: Any) -> None:
    page = session.new_page()
    watch(page, app, "404")
    try:
        page.goto(f"{app.url}/voila/render/02_outcome_discovery.ipynb?engagement=nope")
        page.wait_for_load_state("load")
    finally:
        page.close()
    assert_local(app, app.requests["404"])


# -- 9. nothing from another host ------------------------------------------------------------------
def assert_local(app: App, urls: list[str]) -> None:
    ws = app.url.replace("http://", "ws://", 1)
    elsewhere = [
        u for u in urls if not u.startswith((app.url + "/", ws + "/")) and not u.startswith(("data:", "blob:", "about:"))
    ]
    assert not elsewhere, f"requests to another host: {elsewhere}"


def test_workbook_pages_request_nothing_from_another_host(app: App, pages: Pages) -> None:
    for workbook in WORKBOOKS:
        pages.get(workbook)  # recorded from its first request on
    for workbook in WORKBOOKS:
        urls = app.requests[f"shown:{workbook}"]
        assert any("/voila/render/" in u for u in urls) and any(u.startswith("ws://") for u in urls), urls
        assert_local(app, urls)
    assert_local(app, [u for label, found in app.requests.items() if label != "404" for u in found])


# -- 10. a store held by another process -------------------------------------------------------------
def test_a_busy_store_says_so_keeps_the_typed_value_and_retry_saves(app: App, pages: Pages, hold_write_lock) -> None:
    """Another process holds the write lock: "saving…", then busy naming that process with Retry and
    nothing written; the typed value stays in the box, and Retry saves it once the lock is gone.

    The lock is released as soon as the busy line has been checked; its own end (the form's wait plus
    a few seconds) is only a ceiling, and the test fails if it came before the checks were done.
    """
    from playwright.sync_api import expect

    from csm_nb.forms.widgets import SAVE_WAIT_SECONDS

    page = pages.get("outcome_discovery")
    page.get_by_role("tab", name="2. The outcome and its targets").click()  # its questions are built when first opened
    box, retry = page.locator(f".csm-field-{RUN_RATE} input"), page.locator(f".csm-retry-{RUN_RATE}")
    box.wait_for(state="visible", timeout=UI_TIMEOUT)
    mark = Mark(page, f".csm-status-{RUN_RATE}", ".csm-state")

    def read() -> tuple[Any, int] | None:
        return stored(app.db, EID, "outcome_discovery", RUN_RATE)

    if read() is None:  # run on its own: start from a saved value, as after the first test
        type_and_check(mark, box, "1,790", read=read, saved_text="✓ saved", expected=1790)
    before = read()
    assert before is not None
    expected = 1777 if before[0] != 1777 else 1778  # a value the file does not hold yet
    typed = f"{expected:,}"
    expect(retry).to_be_hidden()

    holder = hold_write_lock(app.db, SAVE_WAIT_SECONDS + 5)
    locked_at = time.monotonic()
    mark.forget()
    box.fill(typed)
    box.press("Enter")
    expect(mark.fresh).to_have_text("saving…", timeout=UI_TIMEOUT)
    expect(mark.fresh).to_contain_text("Not saved: the store is busy", timeout=UI_TIMEOUT)
    busy_after, busy = time.monotonic() - locked_at, mark.fresh.inner_text()
    assert busy.startswith(f"Not saved: the store is busy (held by pid {holder.pid} ("), busy
    named = re.findall(r"pid (\d+) \(", busy)  # the other workbooks' kernels have the file open but hold no lock
    assert named == [str(holder.pid)], f"the lock is held by pid {holder.pid} only, but the form names {named}: {busy!r}"
    assert busy.endswith("your answer is kept here, press Retry"), busy
    assert busy_after >= SAVE_WAIT_SECONDS - 0.5, f"'busy' after {busy_after:.1f} s: the form did not wait for the store"
    expect(retry).to_be_visible()
    expect(retry).to_have_text("Retry")
    expect(box).to_have_value(typed)
    assert read() == before, f"the mark says {busy!r} but the file changed from {before} to {read()}"
    assert holder.process.poll() is None, "the lock ended by itself before the busy form was checked: hold it longer"

    holder.release()
    # Nothing saves by itself once the lock is gone (a wrong write would land at once: give it a second).
    after = poll(read, lambda now: now != before, seconds=1.0)
    assert after == before, f"the lock is gone and nobody pressed Retry, yet the file went from {before} to {after}"
    expect(mark.fresh).to_have_text(busy)
    mark.forget()
    retry.click()
    expect(mark.fresh).to_have_text("✓ saved", timeout=UI_TIMEOUT)
    after = poll(read, lambda now: now is not None and now[1] > before[1])
    assert after == (expected, before[1] + 1), f"Retry: the mark says '✓ saved' but the file holds {after} (was {before})"
    expect(retry).to_be_hidden()
    expect(box).to_have_value(typed)
