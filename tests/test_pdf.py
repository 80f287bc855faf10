"""Reports printed to PDF by headless Chromium (``csm-nb report --pdf``, ``csm-nb portfolio --pdf``).

The page counts each example prints to go to ``tests/output/pdf_pages.json`` (ignored by git).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import store_with_example

from csm_nb import config
from csm_nb.cli import main
from csm_nb.errors import InputError, NotFoundError, RunError
from csm_nb.run.pdf import page_count, print_pdf

OUTPUT = Path(__file__).parent / "output"
A4 = (595.0, 842.0)  # points, to the nearest point


def needs_chromium() -> str:
    try:
        return config.chromium()
    except NotFoundError:
        pytest.skip("Chromium is not installed (make test installs it)")


def media_box(pdf: Path) -> tuple[float, float]:
    found = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf.read_bytes())
    assert found, f"{pdf}: no page size"
    return float(found.group(1)), float(found.group(2))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_report_pdf_writes_an_a4_pdf_beside_each_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needs_chromium()
    db = store_with_example(tmp_path / "store.sqlite", "ad-campaign")
    out = tmp_path / "runs"
    assert main(["--db", str(db), "report", "--engagement", "ad-campaign", "--out", str(out), "--pdf"]) == 0
    said = capsys.readouterr().out.splitlines()
    folder = out / "ad-campaign"
    pages = sorted(p for p in folder.glob("*.html") if not p.name.startswith("index"))
    assert [p.stem for p in pages] == [
        "account_health",
        "cash_flow",
        "csm_activities",
        "engagement_brief",
        "engagement_plan",
        "renewal_prep",
        "stakeholder_map",
        "success_plan",
        "value_report",
    ]
    counts = {}
    for page in pages:
        pdf = page.with_suffix(".pdf")
        assert f"pdf: {pdf}" in said
        assert pdf.read_bytes()[:5] == b"%PDF-"
        assert tuple(round(x) for x in media_box(pdf)) == A4  # the report's @page rule, not the browser's Letter
        counts[page.stem] = page_count(pdf)
        assert 1 <= counts[page.stem] <= 6
    assert not (folder / "index.pdf").exists()  # the index is a page of links, not a report
    assert not (folder / "index-internal.pdf").exists()
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "pdf_pages.json").write_text(json.dumps({"ad-campaign": counts}, indent=2) + "\n")


@pytest.mark.slow
def test_portfolio_pdf_prints_every_report_of_the_run(tmp_path: Path) -> None:
    needs_chromium()
    db = store_with_example(tmp_path / "store.sqlite", "ad-campaign")
    store_with_example(db, "order-to-ship")
    code = main(["--db", str(db), "portfolio", "--out", str(tmp_path / "runs"), "--label", "m", "--pdf", "--quiet"])
    assert code == 0
    printed = sorted(p.relative_to(tmp_path / "runs" / "m").as_posix() for p in (tmp_path / "runs" / "m").rglob("*.pdf"))
    assert printed == ["ad-campaign/value_report.pdf", "order-to-ship/value_report.pdf"]
    assert all(page_count(tmp_path / "runs" / "m" / p) >= 1 for p in printed)


@pytest.mark.parametrize(
    ("chromium_env", "path_has_chromium", "expected"),
    [
        ("/nowhere/chromium", True, "CSM_NB_CHROMIUM is '/nowhere/chromium', which is not a program here"),
        ("", False, "printing PDFs needs Chromium, which is not installed: install Debian's chromium"),
    ],
)
def test_without_chromium_pdf_stops_before_rendering_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    chromium_env: str,
    path_has_chromium: bool,
    expected: str,
) -> None:
    db = store_with_example(tmp_path / "store.sqlite", "ad-campaign")
    before = digest(db)
    monkeypatch.setenv("CSM_NB_CHROMIUM", chromium_env)
    if not path_has_chromium:
        monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    for command in (["report", "--engagement", "ad-campaign"], ["portfolio", "--label", "m"]):
        code = main(["--db", str(db), *command, "--out", str(tmp_path / "runs"), "--pdf"])
        err = capsys.readouterr().err
        assert code == 1 and expected in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "runs").exists() and digest(db) == before  # nothing rendered, nothing written


def test_a_pdf_is_never_written_through_a_link(tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    html.write_text("<p>hello</p>")
    target = tmp_path / "elsewhere.pdf"
    target.write_bytes(b"keep me")
    (tmp_path / "report.pdf").symlink_to(target)
    with pytest.raises(InputError, match="is a symbolic link"):
        print_pdf(html, chromium=shutil.which("true") or "/bin/true")
    assert target.read_bytes() == b"keep me" and (tmp_path / "report.pdf").is_symlink()


def test_a_chromium_that_fails_is_one_line_and_leaves_no_pdf(tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    html.write_text("<p>hello</p>")
    with pytest.raises(RunError) as caught:
        print_pdf(html, chromium=shutil.which("false") or "/bin/false")
    assert f"Chromium could not print {html.resolve()} to PDF: exit code 1" == str(caught.value)
    assert not html.with_suffix(".pdf").exists()


def test_page_count_reads_the_page_tree(tmp_path: Path) -> None:
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj\n")
    assert page_count(pdf) == 2
    pdf.write_bytes(b"not a pdf")
    with pytest.raises(RunError, match="has no page tree"):
        page_count(pdf)
