"""``csm-nb workshop`` without a browser: what it checks before it starts, the notebook it serves,
the remembered engagement, the start page's engagement creation, and a stop that leaves nothing.

The forms in the app, in Chromium, are in ``test_workshop_app_browser.py``.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import nbformat
import pytest
from conftest import _free_port, descendants, running, store_with_example

from csm_nb import config
from csm_nb.cli import main
from csm_nb.data.recent import last_engagement, memory_path, remember_engagement
from csm_nb.errors import InputError, NotFoundError
from csm_nb.run.workshop import open_path, workshop_command
from csm_nb.run.workshop_server import check_engagement, create_engagement, prepare_notebook, workbook_by_id, workshop_workbooks

EID = "employee-engagement"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- what the command checks before anything starts ----------------------------------------------
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["workshop", "nope"], "no workshop workbook 'nope'; the workshop has: engagement_brief, outcome_discovery"),
        (["workshop", "cash_flow"], "no workshop workbook 'cash_flow'"),  # a report, not a form
        (["workshop", "--engagement", "ghost"], "engagement 'ghost' is not in the store"),
        (["workshop", "--engagement", "../etc"], "engagement '../etc' is not valid"),
    ],
)
def test_a_bad_workbook_or_engagement_is_one_line_and_the_store_is_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    db = store_with_example(tmp_path / "store.sqlite", EID)
    before = digest(db)
    code = main(["--db", str(db), *argv])
    err = capsys.readouterr().err
    assert code != 0
    assert expected in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert digest(db) == before and not memory_path(db).exists()


def test_a_missing_store_is_named_and_not_created(tmp_path: Path) -> None:
    db = tmp_path / "nowhere.sqlite"
    with pytest.raises(NotFoundError, match="does not exist yet; create an engagement on the start page"):
        check_engagement(db, EID)
    assert not db.exists()


def test_the_command_listens_on_loopback_with_a_token_and_opens_the_asked_page(tmp_path: Path) -> None:
    db = store_with_example(tmp_path / "store.sqlite", EID)
    command = workshop_command(db=db, workbook="outcome_discovery", engagement=EID, port=8123, token="t0k", open_browser=False)
    assert command.argv[1:3] == ["-m", "csm_nb.run.workshop_server"]
    assert f"--db={db.resolve()}" in command.argv and "--port=8123" in command.argv and "--token=t0k" in command.argv
    assert "--no-browser" in command.argv and command.env["CSM_NB_DB"] == str(db.resolve())
    assert command.url == f"http://127.0.0.1:8123/csm/open?engagement={EID}&workbook=outcome_discovery&token=t0k"
    # Without a token one is made, long and different each time.
    tokens = {workshop_command(db=db, port=8123).url.rsplit("token=", 1)[1] for _ in range(3)}
    assert len(tokens) == 3 and all(len(t) >= 30 for t in tokens)


@pytest.mark.parametrize(
    ("workbook", "engagement", "expected"),
    [
        (None, None, "/"),
        ("kpi_workshop", None, "/?workbook=kpi_workshop"),
        (None, "acme", "/?engagement=acme"),
        ("kpi_workshop", "acme", "/csm/open?engagement=acme&workbook=kpi_workshop"),
    ],
)
def test_open_path(workbook: str | None, engagement: str | None, expected: str) -> None:
    assert open_path(workbook=workbook, engagement=engagement) == expected


def test_the_workshop_offers_the_workbooks_with_forms_in_the_registry_order() -> None:
    from csm_nb.run.registry import WORKBOOKS

    offered = workshop_workbooks()
    assert [w.id for w in offered] == [e.id for e in WORKBOOKS if e.page is not None and e.page.WORKSHOP]
    assert {w.id for w in offered} == {
        "engagement_brief",
        "outcome_discovery",
        "kpi_workshop",
        "financial_linkage",
        "engagement_plan",
        "customer_jobs",
    }
    assert all(w.blurb and w.title and (config.workbooks_dir() / w.notebook).is_file() for w in offered)
    assert workbook_by_id("kpi_workshop").notebook == "03_kpi_workshop.ipynb"


# -- the notebook the app runs -------------------------------------------------------------------------
def test_the_served_notebook_gets_the_engagement_as_papermill_injects_it_and_loses_the_lab_only_cells(tmp_path: Path) -> None:
    db = store_with_example(tmp_path / "store.sqlite", EID)
    workbook = workbook_by_id("kpi_workshop")
    original = nbformat.read(config.workbooks_dir() / workbook.notebook, as_version=4)
    prepared = prepare_notebook(nbformat.from_dict(original), workbook=workbook, engagement_id=EID, db=db)
    tags = [c.metadata.get("tags", []) for c in prepared.cells]
    where = next(i for i, t in enumerate(tags) if "parameters" in t)
    injected = prepared.cells[where + 1]
    assert "injected-parameters" in tags[where + 1]
    assert f'engagement_id = "{EID}"' in injected.source and f'db = "{db}"' in injected.source
    # Gone: Lab's "To start" note and the analysts' DataFrame; kept: the form cell (interactive-only code).
    assert not any("analyst" in t for t in tags)
    assert not any(c.cell_type == "markdown" and "interactive-only" in t for c, t in zip(prepared.cells, tags))
    assert any("page.forms()" in c.source for c in prepared.cells)
    assert len(prepared.cells) == len(original.cells) - 3 + 1
    shown = prepared.metadata["csm_workshop"]
    assert shown["engagement"] == EID and shown["workbook"] == "kpi_workshop" and shown["title"] == workbook.title
    assert [w[0] for w in shown["workbooks"]] == [w.id for w in workshop_workbooks()]


# -- the remembered engagement ---------------------------------------------------------------------------
def test_the_last_engagement_is_remembered_beside_the_store(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    assert last_engagement(db) is None
    assert remember_engagement(db, "acme-2026") is True
    assert last_engagement(db) == "acme-2026"
    assert json.loads(memory_path(db).read_text()) == {"last_engagement": "acme-2026"}
    assert remember_engagement(db, "beta") and last_engagement(db) == "beta"


@pytest.mark.parametrize(
    "content",
    ['{"last_engagement": "../../etc"}', "not json", "[1, 2]", '{"last_engagement": 7}', '{"other": "x"}'],
)
def test_a_damaged_memory_means_nothing_remembered(tmp_path: Path, content: str) -> None:
    db = tmp_path / "store.sqlite"
    memory_path(db).write_text(content)
    assert last_engagement(db) is None


def test_the_memory_is_never_written_through_a_link(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    memory_path(db).symlink_to(target)
    assert last_engagement(db) is None  # a link is not read either
    assert remember_engagement(db, "acme") is False
    assert target.read_text() == "keep me" and memory_path(db).is_symlink()


# -- creating an engagement on the start page -------------------------------------------------------
@pytest.mark.parametrize(
    ("new_id", "customer", "expected"),
    [
        ("Bad Id!", "Acme", "New engagement id 'Bad Id!' is not valid"),
        ("acme", "   ", "Customer is empty"),
        ("acme", "x" * 201, "Customer is 201 characters long; keep it to 200"),
        (EID, "Helios again", f"an engagement '{EID}' already exists (Helios Care Services); choose it from the list"),
    ],
)
def test_creating_a_bad_engagement_says_why_and_leaves_the_store_as_it_was(
    tmp_path: Path, new_id: str, customer: str, expected: str
) -> None:
    db = store_with_example(tmp_path / "store.sqlite", EID)
    before = digest(db)
    with pytest.raises(InputError) as caught:
        create_engagement(db, new_id, customer)
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert digest(db) == before


def test_creating_an_engagement_stores_it(tmp_path: Path) -> None:
    from csm_nb.data.store import Store

    db = tmp_path / "new.sqlite"  # the start page may create the store itself
    assert create_engagement(db, " acme-2026 ", " Acme Corp ") == "acme-2026"
    with Store(db) as store:
        assert store.load("acme-2026").customer == "Acme Corp"
    assert check_engagement(db, "acme-2026") == "acme-2026"


# -- the running app: pages, the token, and a stop that leaves nothing ---------------------------------
@pytest.mark.slow
def test_the_app_serves_the_start_page_and_a_workbook_then_sigterm_leaves_no_process_and_no_socket(tmp_path: Path) -> None:
    db = store_with_example(tmp_path / "store.sqlite", EID)
    port = _free_port()
    log = (tmp_path / "workshop.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "csm-nb"), "--db", str(db), "workshop", "--no-browser", f"--port={port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        url = None
        for _ in range(300):
            text = (tmp_path / "workshop.log").read_text()
            if "workshop: " in text:
                url = text.split("workshop: ", 1)[1].split()[0]
                break
            time.sleep(0.1)
        assert url and url.startswith(f"{base}/?token=")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        deadline = time.monotonic() + 60
        while True:
            try:
                start = opener.open(url, timeout=10).read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, (tmp_path / "workshop.log").read_text()
                time.sleep(0.2)
        assert "Start a workshop" in start and f'value="{EID}"' in start
        anonymous = urllib.request.urlopen(f"{base}/csm/open?engagement={EID}&workbook=outcome_discovery", timeout=10)
        assert "/login" in anonymous.url  # no token, no cookie: the login page, not a workbook
        page = opener.open(f"{base}/csm/open?engagement={EID}&workbook=outcome_discovery", timeout=60).read().decode()
        assert "voila" in page and "Outcome discovery" in page and "Traceback" not in page
        assert last_engagement(db) == EID
        processes = descendants(process.pid)
        servers = [p for p in processes if b"csm_nb.run.forkserver" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert servers, "the app runs its kernels from a fork server"
        sockets = {
            Path(part.decode()).parent
            for p in servers
            for part in Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
            if part.endswith(b".sock") or b"/csmnb-" in part
        }
        assert sockets and all(s.is_dir() for s in sockets)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        log.close()
    deadline = time.monotonic() + 15
    while any(running(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert code in (0, 128 + signal.SIGTERM)
    assert not [p for p in processes if running(p)], "processes left behind: " + (tmp_path / "workshop.log").read_text()[-2000:]
    assert not [s for s in sockets if s.exists()]
    # Voilà's folder of kernel connection files, named in its log, is gone too.
    connections = (tmp_path / "workshop.log").read_text().split("Storing connection files in ", 1)[1].split()[0].rstrip(".")
    assert connections.startswith("/tmp/voila_") and not Path(connections).exists()
