"""Every workbook runs top to bottom as a person would open it (nbval, lax:
cells must not raise; outputs are not compared), against a seeded store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from csm_nb.run.service import import_engagements

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_all_workbooks_pass_nbval_lax(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    import_engagements(sorted((ROOT / "examples").glob("*.yaml")), db=db)
    env = {**os.environ, "CSM_NB_DB": str(db), "CSM_NB_RUNS": str(tmp_path / "runs")}
    notebooks = sorted(str(p) for p in (ROOT / "workbooks").glob("*.ipynb"))
    assert notebooks
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-o",
            "addopts=",
            *notebooks,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    import nbformat

    # nbval makes one test item per code cell: every one of them must have run and passed.
    cells = sum(sum(c.cell_type == "code" for c in nbformat.read(p, as_version=4).cells) for p in notebooks)
    assert result.stdout.splitlines()[-1].startswith(f"{cells} passed")
