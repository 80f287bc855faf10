"""Every workbook runs top to bottom under nbval (lax: cells must not raise; outputs are not
compared), against a seeded store: headless, as nbval is no person's front end (a report, and
the results in ``<workbook>.json`` beside the notebook), and as a person in JupyterLab opens it
(the forms)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import run_nbval

from csm_nb.run.service import import_engagements

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("front_end", ["headless", "lab"])
def test_all_workbooks_pass_nbval_lax(tmp_path: Path, front_end: str) -> None:
    db = tmp_path / "store.sqlite"
    import_engagements(sorted((ROOT / "examples").glob("*.yaml")), db=db)
    env = {**os.environ, "CSM_NB_DB": str(db), "CSM_NB_RUNS": str(tmp_path / "runs")}
    if front_end == "lab":
        env["JPY_SESSION_NAME"] = str(tmp_path / "workbooks" / "01_engagement_brief.ipynb")  # as jupyter_server sets it
    # Copies: nbval runs each kernel beside its notebook, and a headless run writes its results there.
    folder = tmp_path / "workbooks"
    shutil.copytree(ROOT / "workbooks", folder, ignore=shutil.ignore_patterns(".*"))
    notebooks = sorted(str(p) for p in folder.glob("*.ipynb"))
    assert notebooks
    result = run_nbval(notebooks, folder=tmp_path, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    import nbformat

    # nbval makes one test item per code cell: every one of them must have run and passed.
    cells = sum(sum(c.cell_type == "code" for c in nbformat.read(p, as_version=4).cells) for p in notebooks)
    assert result.stdout.splitlines()[-1].startswith(f"{cells} passed")
    written = sorted(p.name for p in folder.iterdir() if p.suffix in {".json", ".xlsx"})
    if front_end == "lab":
        assert written == []  # a person's run writes no results file
    else:
        expected = [f"{Path(n).stem.split('_', 1)[1]}.json" for n in notebooks] + ["cash_flow.xlsx"]
        assert written == sorted(expected)
        assert json.loads((folder / "cash_flow.json").read_text())["engagement"] == "ad-campaign"
