from __future__ import annotations

from pathlib import Path

import pytest

from csm_nb import config
from csm_nb.data.files import output_dir_for
from csm_nb.errors import InputError


@pytest.mark.parametrize("good", ["a", "acme-2026", "0abc", "x" * 64, "a-b-c"])
def test_valid_engagement_ids(good: str) -> None:
    assert config.check_engagement_id(good) == good


@pytest.mark.parametrize("bad", ["", "-a", "Acme", "a_b", "a/b", "../../etc", "..", "x" * 65, "a b", None, 12])
def test_invalid_engagement_ids_are_refused(bad: object) -> None:
    with pytest.raises(InputError, match="not valid"):
        config.check_engagement_id(bad)


def test_output_dir_stays_inside_the_runs_dir(tmp_path: Path) -> None:
    assert output_dir_for("acme", tmp_path) == (tmp_path / "acme").resolve()
    with pytest.raises(InputError):
        output_dir_for("../acme", tmp_path)


def test_store_path_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CSM_NB_DB", str(tmp_path / "env.sqlite"))
    assert config.db_path(tmp_path / "explicit.sqlite") == tmp_path / "explicit.sqlite"
    assert config.db_path() == tmp_path / "env.sqlite"
    monkeypatch.delenv("CSM_NB_DB")
    assert config.db_path() == config.project_dir() / "csm-nb.sqlite"


def test_project_paths_point_at_the_checkout() -> None:
    assert (config.workbooks_dir() / "05_cash_flow.ipynb").is_file()
    assert (config.templates_dir() / "csm_report" / "index.html.j2").is_file()
    assert any(config.examples_dir().glob("*.yaml"))


def test_author_prefers_the_explicit_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSM_NB_AUTHOR", "Dana")
    assert config.author() == "Dana"
    monkeypatch.delenv("CSM_NB_AUTHOR")
    monkeypatch.setenv("USER", "dwhitfield")
    assert config.author() == "dwhitfield"


def test_the_readme_states_the_limits_the_code_applies() -> None:
    from pathlib import Path

    from csm_nb import config
    from csm_nb.data.store import MAX_ANSWER_CHARS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = dict(line.strip("|").split("|")[:2] for line in readme.splitlines() if line.startswith("| ") and line.count("|") == 3)
    rows = {k.strip(): v.strip() for k, v in rows.items()}
    assert rows["engagement file"] == f"{config.MAX_DOCUMENT_BYTES // 2**20} MB, and {config.MAX_YAML_NODES:,} values"
    assert rows["CSV or .xlsx file"] == f"{config.MAX_TABLE_BYTES // 2**20} MB"
    assert rows["rows in one table"] == f"{config.MAX_TABLE_ROWS:,}"
    assert rows["cash-flow periods"] == f"{config.MAX_CASH_FLOW_PERIODS:,}"
    assert rows["period index"].startswith(f"0 to {config.MAX_PERIOD_INDEX:,} ")
    assert rows["one workshop answer"] == f"{MAX_ANSWER_CHARS:,} characters"
