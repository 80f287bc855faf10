"""The two install routes agree, and the project stands on its own."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_lists_the_same_dependencies_as_pyproject() -> None:
    project = _pyproject()["project"]
    wanted = {r.replace(" ", "") for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {r.replace(" ", "") for r in extra}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {d.replace(" ", "") for d in env["dependencies"] if isinstance(d, str)}
    conda = {d for d in conda if _name(d) not in {"python", "pip"}}
    assert conda == wanted, f"only in environment.yml: {sorted(conda - wanted)}; only in pyproject: {sorted(wanted - conda)}"
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.replace(" ", "") == "python" + project["requires-python"]


def test_every_package_directory_is_listed_for_installation() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {str(p.parent.relative_to(ROOT)).replace("/", ".") for p in (ROOT / "csm_nb").rglob("__init__.py")}
    assert found == listed


def test_every_data_file_beside_the_code_is_in_the_wheel() -> None:
    """Package data (the question bank, the built-in engagement models) is listed in pyproject's package-data."""
    package_data = _pyproject()["tool"]["setuptools"]["package-data"]
    shipped = {
        path
        for package, patterns in package_data.items()
        for pattern in patterns
        for path in (ROOT / package.replace(".", "/")).glob(pattern)
    }
    data_files = {
        p
        for p in (ROOT / "csm_nb" / "data").rglob("*")
        if p.is_file() and p.suffix in {".yaml", ".yml", ".json"} and "__pycache__" not in p.parts
    }
    assert {p.relative_to(ROOT).as_posix() for p in data_files - shipped} == set()
    assert {"csm_nb/data/models/high-touch.yaml", "csm_nb/data/models/low-touch.yaml"} <= {
        p.relative_to(ROOT).as_posix() for p in shipped
    }


def test_calculation_modules_do_not_import_notebook_machinery() -> None:
    code = (
        "import sys, csm_nb.method.cashflow, csm_nb.data.engagement, csm_nb.data.store, csm_nb.data.tables, csm_nb.render.charts;"
        "heavy = [m for m in ('papermill', 'nbconvert', 'ipywidgets', 'IPython', 'matplotlib') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_workbooks_are_committed_without_outputs() -> None:
    import nbformat

    notebooks = sorted((ROOT / "workbooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
        for line in tagged[0].source.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                assert "# help:" in line, f"{path.name}: parameter line without a '# help:' comment: {line}"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"


# A folder beside the project, or a citation of a document that is not in it (split so this file passes).
OUTSIDE = re.compile(r"\.\./" + "shared|shared/" + r"seeds|\b" + "SP" + r"EC\b")


def test_nothing_reads_outside_the_project() -> None:
    files = [
        p
        for folder in ("csm_nb", "tests", "benchmarks", "docs", "templates", "workbooks", "examples")
        for p in (ROOT / folder).rglob("*")
        if p.suffix in {".py", ".md", ".j2", ".ipynb", ".yaml", ".css", ".json"}
    ]
    offenders = []
    for path in files + [ROOT / "README.md", ROOT / "Makefile", ROOT / ".ci" / "run"]:
        text = path.read_text(encoding="utf-8")
        if OUTSIDE.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("see SP" + "EC 4.2", True),
        ("(SP" + "EC section 3)", True),
        ("open('../" + "shared/x.csv')", True),
        ("_INSP" + "ECTED = {}", False),
        ("the cash-flow table's columns", False),
    ],
)
def test_the_stands_alone_check_catches_a_citation(text: str, caught: bool) -> None:
    assert bool(OUTSIDE.search(text)) is caught


def test_papermill_reads_every_parameter_and_its_help() -> None:
    import ast

    import nbformat
    from papermill.translators import PythonTranslator

    for path in sorted((ROOT / "workbooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assigned = [n.targets[0].id for n in ast.parse(cell.source).body if isinstance(n, ast.Assign)]
        inspected = PythonTranslator.inspect(cell)
        assert [p.name for p in inspected] == assigned, f"{path.name}: papermill cannot parse some parameter lines"
        assert all(p.help.startswith("help:") and len(p.help) > 10 for p in inspected), path.name
