"""What a scheduler does with a workbook (Airflow's PapermillOperator, cron): plain papermill, then plain
nbconvert with the project's template, as README "Plain papermill and nbconvert" documents it.

For every workbook in the registry that gives the same report (its visible text) and the same results
file as ``csm-nb run``; the header comes from the notebook as it ran; what is for a person in JupyterLab
(the "To start" cell, the analysts' DataFrames, the headings' pilcrow links) stays out of the page
without any export option. Also: the one rule for forms or report (``config.interactive_session``),
and where a headless run without ``results_path`` puts its results.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import run_nbval

from csm_nb import config
from csm_nb.errors import InputError
from csm_nb.method.dates import date_words
from csm_nb.render.header import REPORT_HEADER_MIME
from csm_nb.run.registry import WORKBOOKS
from csm_nb.run.service import import_engagements

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EID = "employee-engagement"  # every workbook in the registry applies to it
FRONT_ENDS = ("CSM_NB_INTERACTIVE", "JPY_SESSION_NAME", "VOILA_KERNEL_ID")


class VisibleText(HTMLParser):
    """The text a reader sees (the title included), one stripped run of text an item; no styles, no scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._hidden += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.items.append(" ".join(data.split()))


def visible_text(page: Path) -> list[str]:
    parser = VisibleText()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.items


def headless_env() -> dict[str, str]:
    """This environment without any front end's marks (module fixtures run before the autouse one)."""
    return {k: v for k, v in os.environ.items() if k not in FRONT_ENDS}


# -- both paths, once for the module ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every registry workbook for the example engagement: through plain papermill + nbconvert (``plain``)
    and through ``csm-nb run`` (``engine``), each as the README tells a person to type it."""
    base = tmp_path_factory.mktemp("plain-papermill")
    db = base / "store.sqlite"
    import_engagements(sorted((ROOT / "examples").glob("*.yaml")), db=db)
    plain, engine = base / "plain", base / "engine"
    plain.mkdir()
    env = headless_env()
    stderr: dict[str, str] = {}
    for entry in WORKBOOKS:
        # papermill workbooks/01_engagement_brief.ipynb engagement_brief.ipynb -p engagement_id ID -p db STORE
        done = subprocess.run(
            [
                str(BIN / "papermill"),
                str(ROOT / "workbooks" / entry.notebook),
                f"{entry.id}.ipynb",
                "-p",
                "engagement_id",
                EID,
                "-p",
                "db",
                str(db),
                "--no-progress-bar",
            ],
            cwd=plain,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        stderr[entry.id] = done.stderr
    # jupyter nbconvert --to html --template csm_report --TemplateExporter.extra_template_basedirs=templates *.ipynb
    done = subprocess.run(
        [
            str(BIN / "jupyter"),
            "nbconvert",
            "--to",
            "html",
            "--template",
            "csm_report",
            f"--TemplateExporter.extra_template_basedirs={ROOT / 'templates'}",
            *sorted(p.name for p in plain.glob("*.ipynb")),
        ],
        cwd=plain,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (plain / "nbconvert.stderr").write_text(done.stderr, encoding="utf-8")
    for entry in WORKBOOKS:
        done = subprocess.run(
            [str(BIN / "csm-nb"), "--db", str(db), "run", entry.id, "--engagement", EID, "--out", str(engine)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    (plain / "papermill.stderr.json").write_text(json.dumps(stderr), encoding="utf-8")
    return {"plain": plain, "engine": engine / EID, "db": db}


@pytest.mark.slow
@pytest.mark.parametrize("workbook", [e.id for e in WORKBOOKS])
def test_plain_papermill_and_nbconvert_make_the_report_csm_nb_run_makes(both: dict[str, Path], workbook: str) -> None:
    plain, engine = both["plain"], both["engine"]
    text = visible_text(plain / f"{workbook}.html")
    assert text == visible_text(engine / f"{workbook}.html")
    # The results, written without a results_path beside the notebook (papermill's working directory).
    plain_results = json.loads((plain / f"{workbook}.json").read_text(encoding="utf-8"))
    assert plain_results == json.loads((engine / f"{workbook}.json").read_text(encoding="utf-8"))
    assert plain_results["engagement"] == EID
    said = json.loads((plain / "papermill.stderr.json").read_text(encoding="utf-8"))[workbook]
    assert f"csm-nb: no results_path given; the results are in {plain / workbook}.json" in said
    # The header and footer are the notebook's own: the engine adds nothing to them.
    entry = next(e for e in WORKBOOKS if e.id == workbook)
    title = entry.title
    today = dt.date.today().isoformat()
    if entry.page.AUDIENCE == "internal":  # the band comes first, then the same header
        assert text[1] == "Internal: not for the customer"
        text = [text[0], *text[2:]]
    assert text[:5] == [
        f"{title} · Helios Care Services",
        title,
        "Helios Care Services",
        "Employee engagement, Phase One",
        f"Prepared {today} · Figures as of {date_words(dt.date.today())} · Customer Success Manager: Sam Okafor · Amounts in USD",
    ]
    assert text[-1].startswith("Engagement employee-engagement, revision 1. Figures come from the engagement's agreed data")
    # What is for a person in JupyterLab is not in the page at all (not merely hidden).
    page = (plain / f"{workbook}.html").read_text(encoding="utf-8")
    assert "To start:" not in page and "For analysts:" not in page and "Run All" not in page
    assert "anchor-link" not in page and "¶" not in page
    assert "report-header+json" not in page and '<div class="prompt' not in page


@pytest.mark.slow
def test_the_plain_runs_say_nothing_odd_and_write_the_spreadsheet_beside_the_results(both: dict[str, Path]) -> None:
    plain = both["plain"]
    assert "not able to be represented" not in (plain / "nbconvert.stderr").read_text(encoding="utf-8")
    said = json.loads((plain / "papermill.stderr.json").read_text(encoding="utf-8"))["cash_flow"]
    assert f"the results are in {plain / 'cash_flow.json'} (and cash_flow.xlsx beside it)" in said
    assert (plain / "cash_flow.xlsx").read_bytes()[:2] == b"PK"  # a spreadsheet (a zip), as csm-nb run writes
    assert (both["engine"] / "cash_flow.xlsx").is_file()
    figures = json.loads((plain / "cash_flow.json").read_text(encoding="utf-8"))
    assert (
        figures["currency"] == "USD"
        and figures["profit_est"] == figures["totals"]["revenue_est"] - figures["totals"]["expenditure_est"]
    )
    # The executed notebook carries the header once, as an output of its last cell.
    nb = nbformat.read(plain / "cash_flow.ipynb", as_version=4)
    headers = [
        (i, o)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.outputs
        if REPORT_HEADER_MIME in o.get("data", {})
    ]
    assert [i for i, _ in headers] == [len(nb.cells) - 1]
    header = headers[0][1]["data"][REPORT_HEADER_MIME]
    assert (header["engagement_id"], header["workbook"], header["csm"], header["currency"]) == (
        EID,
        "cash_flow",
        "Sam Okafor",
        "USD",
    )
    assert set(headers[0][1]["data"]) == {REPORT_HEADER_MIME}  # nothing JupyterLab would show


@pytest.mark.slow
def test_plain_papermill_refuses_a_store_that_does_not_exist_and_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "store.sqlite"
    done = subprocess.run(
        [
            str(BIN / "papermill"),
            str(ROOT / "workbooks" / "05_cash_flow.ipynb"),
            "out.ipynb",
            "-p",
            "engagement_id",
            "ad-campaign",
            "-p",
            "db",
            str(missing),
            "--no-progress-bar",
        ],
        cwd=tmp_path,
        env=headless_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    # papermill's own error ends with the cell's one line.
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: store {missing} does not exist; check the db parameter (or CSM_NB_DB), "
        "or import an engagement first with: csm-nb import FILE"
    )
    assert "PapermillExecutionError" in done.stderr
    assert not missing.exists() and not missing.parent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ipynb"]  # and no results file


# -- the rule: forms or a report ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("environment", "results_path", "interactive"),
    [
        ({}, "", False),  # papermill, nbconvert --execute, nbval, a script
        ({"JPY_SESSION_NAME": "/work/workbooks/02_outcome_discovery.ipynb"}, "", True),  # JupyterLab, Notebook
        ({"VOILA_KERNEL_ID": "0b5f"}, None, True),  # Voila: the workshop app
        ({"JPY_SESSION_NAME": "/w/x.ipynb"}, "/tmp/x.json", False),  # a results path: a report, whatever the front end
        ({"JPY_SESSION_NAME": "/w/x.ipynb", "CSM_NB_INTERACTIVE": "0"}, "", False),
        ({"CSM_NB_INTERACTIVE": "yes"}, "", True),
        ({"CSM_NB_INTERACTIVE": " Off "}, "", False),
        ({"CSM_NB_INTERACTIVE": "", "VOILA_KERNEL_ID": "k"}, "", True),  # empty: detected
    ],
)
def test_interactive_session(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], results_path: str | None, interactive: bool
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert config.interactive_session(results_path) is interactive


def test_a_bad_override_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "maybe")
    with pytest.raises(InputError) as info:
        config.interactive_session()
    assert str(info.value) == "CSM_NB_INTERACTIVE is 'maybe'; set it to 1 (forms) or 0 (a report), or unset it"


def test_every_page_asks_the_rule(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    import_engagements([ROOT / "examples" / f"{EID}.yaml"], db=db)
    pages = {e.id: e.page for e in WORKBOOKS}
    assert all(p is not None for p in pages.values())
    assert {w: p.open(EID, db=str(db)).interactive for w, p in pages.items()} == dict.fromkeys(pages, False)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "x.ipynb"))
    assert {w: p.open(EID, db=str(db)).interactive for w, p in pages.items()} == dict.fromkeys(pages, True)


def test_a_headless_run_without_a_results_path_writes_beside_it_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from csm_nb.pages import cash_flow

    db = tmp_path / "store.sqlite"
    import_engagements([ROOT / "examples" / "ad-campaign.yaml"], db=db)
    monkeypatch.chdir(tmp_path)
    page = cash_flow.open_page("ad-campaign", db=str(db))
    page.save_results("")
    results = json.loads((tmp_path / "cash_flow.json").read_text(encoding="utf-8"))
    assert results == json.loads(json.dumps(page.results_json())) and results["engagement"] == "ad-campaign"
    assert (results["as_of"], results["audience"]) == (dt.date.today().isoformat(), "customer")  # empty as_of: today
    assert (tmp_path / "cash_flow.xlsx").read_bytes()[:2] == b"PK"
    err = capfd.readouterr().err
    assert (
        err == f"csm-nb: no results_path given; the results are in {tmp_path / 'cash_flow.json'} (and cash_flow.xlsx beside it)\n"
    )
    # Run by a person, the same call writes nothing.
    (tmp_path / "cash_flow.json").unlink()
    page.interactive = True
    page.save_results("")
    assert not (tmp_path / "cash_flow.json").exists() and capfd.readouterr().err == ""


@pytest.mark.slow
def test_a_forked_kernel_gets_the_front_ends_environment(tmp_path: Path) -> None:
    """jupyter_server passes JPY_SESSION_NAME in the environment it starts a kernel with; the fork server's
    children get that environment, so a notebook opened in Lab on the ``csm-nb`` kernel shows its forms."""
    import asyncio

    from jupyter_client import AsyncKernelManager

    from csm_nb.run import forkserver

    async def ask(env: dict[str, str], server: forkserver.ForkServer) -> str:
        manager = AsyncKernelManager(kernel_name="csm-nb", kernel_spec_manager=forkserver.spec_manager(str(server.socket_path)))
        await manager.start_kernel(cwd=str(tmp_path), env=env)
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            reply = await client.execute_interactive(
                "from csm_nb import config; print(config.interactive_session(), end='')", timeout=60, output_hook=seen.append
            )
            assert reply["content"]["status"] == "ok"
            return "".join(m["content"].get("text", "") for m in seen if m["msg_type"] == "stream")
        finally:
            seen.clear()
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    seen: list[dict] = []
    server = forkserver.ForkServer.start("import csm_nb.config")
    try:
        lab = asyncio.run(ask({**headless_env(), "JPY_SESSION_NAME": str(tmp_path / "a.ipynb")}, server))
        plain = asyncio.run(ask(headless_env(), server))
    finally:
        server.stop()
    assert (lab, plain) == ("True", "False")


# -- the template on its own --------------------------------------------------------------------------------------
def test_the_template_reads_the_header_from_the_output_and_drops_what_is_for_lab() -> None:
    """Plain nbconvert, no export option: the header from the output of the private type, the cells tagged
    interactive-only and the headings' pilcrow links left out, whatever the anchor link text."""
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    header = {
        "engagement_id": "acme",
        "customer": "Acme & <Sons>",
        "initiative": "Faster shipping",
        "csm": "Sam",
        "currency": "EUR",
        "workbook": "cash_flow",
        "title": "Cash flow",
        "generated": "2026-03-01",
        "revision": 4,
    }
    code = nbformat.v4.new_code_cell("page.save_results(results_path)")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="csm-nb: no results_path given\n"),
        nbformat.v4.new_output("display_data", data={REPORT_HEADER_MIME: header}),
    ]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# How to run it\n\n**To start:** Run All", metadata={"tags": ["interactive-only"]}),
        nbformat.v4.new_markdown_cell("## What it shows\n\nText with a ¶ of its own."),
        code,
    ]
    for link_text in ("¶", "", "<b>#</b>"):
        exporter = HTMLExporter(
            template_name="csm_report", extra_template_basedirs=[str(ROOT / "templates")], anchor_link_text=link_text
        )
        page, _ = exporter.from_notebook_node(nb)
        parser = VisibleText()
        parser.feed(page)
        assert parser.items[:5] == [
            "Cash flow · Acme & <Sons>",
            "Cash flow",
            "Acme & <Sons>",
            "Faster shipping",
            "Prepared 2026-03-01 · Customer Success Manager: Sam · Amounts in EUR",
        ]
        assert parser.items[5:7] == ["What it shows", "Text with a ¶ of its own."]
        assert len(parser.items) == 8 and parser.items[7].startswith("Engagement acme, revision 4. Figures come")
        assert "anchor-link" not in page and "To start" not in page and '<h2 id="What-it-shows">What it shows</h2>' in page
        assert page.count('class="cell"') == 0  # the cell with only the header and stderr is not shown


@pytest.mark.parametrize("audience", ["customer", "internal"])
def test_the_header_shows_the_as_of_date_and_an_internal_report_its_band(audience: str) -> None:
    from nbconvert import HTMLExporter

    from csm_nb.model import Engagement
    from csm_nb.render.header import report_header

    header = report_header(
        Engagement("acme", "Acme", csm="Sam", currency="EUR"),
        workbook="health",
        title="Health",
        as_of=dt.date(2026, 11, 30),
        audience=audience,
    )
    header["generated"] = "2026-12-01"
    code = nbformat.v4.new_code_cell("page.save_results(results_path)")
    code.outputs = [nbformat.v4.new_output("display_data", data={REPORT_HEADER_MIME: header})]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Figures."), code]
    exporter = HTMLExporter(template_name="csm_report", extra_template_basedirs=[str(ROOT / "templates")])
    page, _ = exporter.from_notebook_node(nb)
    parser = VisibleText()
    parser.feed(page)
    band = ["Internal: not for the customer"] if audience == "internal" else []
    assert parser.items[: 4 + len(band)] == [
        "Health · Acme",
        *band,  # above the header, the first thing on the page
        "Health",
        "Acme",
        "Prepared 2026-12-01 · Figures as of 30 November 2026 · Customer Success Manager: Sam · Amounts in EUR",
    ]


@pytest.mark.slow
def test_nbval_without_a_store_fails_at_the_cell_that_opens_it(tmp_path: Path) -> None:
    """The first failure nbval reports is the setup cell, in its one line; the cells after it can only
    fail for want of its ``page``. No store is created at the missing path."""
    (tmp_path / "05_cash_flow.ipynb").write_bytes((ROOT / "workbooks" / "05_cash_flow.ipynb").read_bytes())
    missing = tmp_path / "nope" / "store.sqlite"
    done = run_nbval(["05_cash_flow.ipynb"], folder=tmp_path, env={**headless_env(), "CSM_NB_DB": str(missing)}, timeout=300)
    assert done.returncode == 1, done.stdout[-3000:]
    report = done.stdout.split("short test summary info")[0]
    sections = re.split(r"_{3,} 05_cash_flow\.ipynb::Cell (\d+) _{3,}", report)[1:]
    failed = dict(zip(sections[::2], sections[1::2]))
    assert list(failed) == [str(n) for n in range(1, len(failed) + 1)] and len(failed) > 5, report[-3000:]
    assert f"error: store {missing} does not exist; check the db parameter (or CSM_NB_DB)" in failed["1"]
    assert "NameError" not in failed["1"] and "Traceback (most recent call last)" not in failed["1"]
    assert all("name 'page' is not defined" in text for cell, text in failed.items() if cell != "1")
    assert not missing.parent.exists()
