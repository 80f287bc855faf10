"""A run killed at any of its output renames (issue 9, report 5).

``engine._land_outputs`` removes the old page, then renames json, ipynb and
html (the page carries the fingerprint and comes last). A subprocess whose
``engine._land`` double SIGKILLs its own process before rename 1, 2 or 3, or
after the last, stands in for a kill at each point. Afterwards no final name
holds a half-written file, ``report`` renders again unless every output
landed, and the next run removes the killed run's temporary and socket
folders (their pid is in the name and dead).

Uses the tiny fixture workbook (tests/fixtures/workbooks) and checks with
``run_workbook(skip_current=True)``, the call ``report`` makes per workbook.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from csm_nb.data.store import Store
from csm_nb.model import CashFlowLine, Engagement
from csm_nb.run import engine, export, registry

FIXTURE_WORKBOOKS = Path(__file__).parent / "fixtures" / "workbooks"
WORKBOOK = "tiny_report"
RENAMES = len(engine.OUTPUT_SUFFIXES)

# Runs ``csm-nb ARGS`` with engine._land replaced by a double that SIGKILLs this process before
# rename number AT (0-based), or after the last one when AT == number of renames.
KILLER = """
import os, signal, sys
from csm_nb import cli
from csm_nb.run import engine

at, calls, real = int(sys.argv[1]), [0], engine._land

def land(staged, final):
    if calls[0] == at:
        os.kill(os.getpid(), signal.SIGKILL)
    real(staged, final)
    calls[0] += 1
    if calls[0] == at:
        os.kill(os.getpid(), signal.SIGKILL)

engine._land = land
sys.exit(cli.main(sys.argv[2:]))
"""


def engagement(customer: str) -> Engagement:
    return Engagement(
        id="acme",
        customer=customer,
        cash_flow=[CashFlowLine("Week 0", 10.0, None, 0.0, None), CashFlowLine("Week 1", 0.0, None, 30.0, None)],
    )


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Complete outputs of an earlier run (customer "Acme"), then the data changed (customer "Acme Ltd")."""
    base = tmp_path_factory.mktemp("kill")
    db, out = base / "store.sqlite", base / "earlier"
    previous = os.environ.get("CSM_NB_WORKBOOKS")
    os.environ["CSM_NB_WORKBOOKS"] = str(FIXTURE_WORKBOOKS)
    try:
        with Store(db) as store:
            store.save(engagement("Acme"))
        old = engine.run_workbook(WORKBOOK, engagement_id="acme", out=out, db=db)
        with Store(db) as store:
            current = store.load("acme")
            current.customer = "Acme Ltd"
            store.save(current)
            changed = store.load("acme")
        new_stamp = engine.fingerprint(changed, registry.get_workbook(WORKBOOK), {})
    finally:
        if previous is None:
            os.environ.pop("CSM_NB_WORKBOOKS")
        else:
            os.environ["CSM_NB_WORKBOOKS"] = previous
    old_stamp = nbformat.read(old.outputs[".ipynb"], as_version=4).metadata["csm_nb"]["fingerprint"]
    assert old_stamp != new_stamp
    return {"db": db, "earlier": out / "acme", "old_stamp": old_stamp, "new_stamp": new_stamp}


def final_files_parse(folder: Path) -> list[str]:
    """The outputs under their final names, each checked to be whole; returns the names present."""
    present = []
    for suffix, path in engine.outputs_for(folder, WORKBOOK).items():
        if not path.exists():
            continue
        present.append(suffix)
        if suffix == ".json":
            json.loads(path.read_text())
        elif suffix == ".ipynb":
            nbformat.validate(nbformat.read(path, as_version=4))
        else:
            assert path.read_text().rstrip().endswith("</html>"), path
    return present


@pytest.mark.slow
@pytest.mark.parametrize("at", range(RENAMES + 1), ids=[f"before-{s}" for s in engine.OUTPUT_SUFFIXES] + ["after-last"])
def test_a_kill_at_any_rename_leaves_whole_files_and_the_report_renders_again(
    at: int,
    earlier_run: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CSM_NB_WORKBOOKS", str(FIXTURE_WORKBOOKS))
    out = tmp_path / "runs"
    folder = out / "acme"
    shutil.copytree(earlier_run["earlier"], folder)  # the earlier run's complete outputs
    assert export.html_fingerprint(folder / f"{WORKBOOK}.html") == earlier_run["old_stamp"]

    killed = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLER,
            str(at),
            "--db",
            str(earlier_run["db"]),
            "run",
            WORKBOOK,
            "--engagement",
            "acme",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = killed.communicate(timeout=180)
    assert killed.returncode == -signal.SIGKILL, stderr

    # What the kill left: whole files only, and the killed run's folders (proof the cleanup below is needed).
    # Until the new page lands there is no page at all (the old one went first): json and ipynb, old or new.
    assert final_files_parse(folder) == ([".json", ".ipynb"] if at < RENAMES else list(engine.OUTPUT_SUFFIXES))
    assert len(list(folder.glob(f".{WORKBOOK}.{killed.pid}.*.tmp"))) == 1
    # The kernels' socket folder, and the fork server's (when kernels are forked).
    sockets = list(Path("/tmp").glob(f"csmnb-{killed.pid}-*"))
    assert 1 <= len(sockets) <= 2
    assert not engine.is_current(folder, WORKBOOK, earlier_run["old_stamp"])  # never the old page beside new data

    # What ``report`` does for each workbook (render_engagement_report runs only workbooks with a page module).
    result = engine.run_workbook(WORKBOOK, engagement_id="acme", out=out, db=earlier_run["db"], skip_current=True)
    page = (folder / f"{WORKBOOK}.html").read_text()
    if at < RENAMES:
        assert not result.skipped, f"a run killed before rename {at + 1} was taken as up to date"
        assert result.timings  # it really ran
    else:  # every output had landed, with the new fingerprint: up to date is the truth
        assert result.skipped
    assert export.html_fingerprint(folder / f"{WORKBOOK}.html") == earlier_run["new_stamp"]
    assert nbformat.read(folder / f"{WORKBOOK}.ipynb", as_version=4).metadata["csm_nb"]["fingerprint"] == earlier_run["new_stamp"]
    assert "Customer: Acme Ltd" in page
    assert json.loads((folder / f"{WORKBOOK}.json").read_text())["customer"] == "Acme Ltd"
    assert final_files_parse(folder) == list(engine.OUTPUT_SUFFIXES)
    # The next run (even one with nothing to render) removed what the killed one left: its pid is dead.
    assert not list(folder.glob(f".{WORKBOOK}.*.tmp"))
    assert not [p for p in sockets if p.exists()]
