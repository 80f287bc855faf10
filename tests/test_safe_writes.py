"""Writes never go through links or over special files (issue 9, report 7).

Every output (reports, summary.json, index pages, ``export -o``) is written by
``csm_nb.data.results.write_bytes_atomic``: it refuses a target that exists and is
not a regular file, refuses a linked folder under ``runs/`` that nobody named,
and turns an OSError into one line naming the path, leaving no temporary file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from csm_nb import cli
from csm_nb.data import results
from csm_nb.data.files import output_dir_for
from csm_nb.data.store import Store
from csm_nb.errors import CsmError, InputError
from csm_nb.model import Engagement
from csm_nb.run import portfolio


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "store.sqlite"
    with Store(db) as s:
        s.save(Engagement(id="acme", customer="Acme"))
    return db


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- the target itself ------------------------------------------------------------------------------
def test_a_regular_file_is_replaced_atomically_with_normal_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    mask = os.umask(0o022)
    try:
        results.write_text_atomic(target, "new")
    finally:
        os.umask(mask)
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert leftovers(tmp_path) == []


def test_a_symlink_target_is_refused_and_what_it_points_at_is_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "report.html"
    link.symlink_to(victim)
    with pytest.raises(InputError) as info:
        results.write_text_atomic(link, "overwritten?")
    assert str(info.value) == (
        f"cannot write {link}: it is a symbolic link; csm-nb only replaces regular files, so remove it or choose another name"
    )
    assert link.is_symlink() and victim.read_text() == "precious" and leftovers(tmp_path) == []


def test_a_fifo_target_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"it is a FIFO \(named pipe\)"):
        results.write_text_atomic(fifo, "x")
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and leftovers(tmp_path) == []


def test_a_directory_target_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "summary.json"
    folder.mkdir()
    with pytest.raises(InputError, match="it is a directory"):
        results.write_text_atomic(folder, "{}")
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_a_device_target_is_refused(tmp_path: Path) -> None:
    """``-o /dev/full`` as root used to turn the device node into a plain file."""
    with pytest.raises(InputError, match="cannot write /dev/null: it is a device"):
        results.write_text_atomic(Path("/dev/null"), "x")
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_export_to_a_fifo_is_one_line_and_the_fifo_stays(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "engagement.yaml"
    os.mkfifo(fifo)
    assert cli.main(["--db", str(store), "export", "acme", "-o", str(fifo)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: cannot write {fifo}: it is a FIFO (named pipe); csm-nb only replaces regular files, "
        "so remove it or choose another name"
    )
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


# -- the folder it goes in ------------------------------------------------------------------------
def test_a_linked_folder_the_user_named_is_fine_for_export(store: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "shared").symlink_to(real)
    assert cli.main(["--db", str(store), "export", "acme", "-o", str(tmp_path / "shared" / "acme.yaml")]) == 0
    assert "id: acme" in (real / "acme.yaml").read_text()


def test_outputs_refuse_a_linked_folder_when_told_not_to_follow(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir()
    (tmp_path / "acme").symlink_to(real)
    with pytest.raises(InputError, match="its folder .*acme is a symbolic link"):
        results.write_text_atomic(tmp_path / "acme" / "index.html", "<html></html>", follow_parent=False)
    assert list(real.iterdir()) == []


def test_a_linked_engagement_folder_under_runs_is_refused(tmp_path: Path) -> None:
    runs, elsewhere = tmp_path / "runs", tmp_path / "elsewhere"
    runs.mkdir()
    elsewhere.mkdir()
    (runs / "acme").symlink_to(elsewhere)
    with pytest.raises(InputError) as info:
        output_dir_for("acme", runs)
    assert str(info.value) == (
        f"{runs / 'acme'} is a symbolic link; csm-nb does not write folders through links: remove the link or use another --out"
    )
    # Even a link to a sibling inside runs/ (the old check only caught links leaving runs/).
    (runs / "beta").mkdir()
    (runs / "gamma").symlink_to(runs / "beta")
    with pytest.raises(InputError, match="is a symbolic link"):
        output_dir_for("gamma", runs)
    # A linked runs folder itself is what the user named with --out: fine.
    (tmp_path / "runs-link").symlink_to(runs)
    assert output_dir_for("beta", tmp_path / "runs-link") == runs.resolve() / "beta"


def test_an_engagement_folder_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "acme").write_text("not a folder")
    with pytest.raises(InputError, match=r"acme is a file, not a folder"):
        output_dir_for("acme", tmp_path)
    (tmp_path / "runs.txt").write_text("")
    with pytest.raises(InputError, match=r"--out .*runs.txt is a file, not a folder"):
        output_dir_for("acme", tmp_path / "runs.txt")


def test_a_target_under_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(CsmError) as info:
        results.write_text_atomic(tmp_path / "file" / "deeper" / "x.html", "x")
    assert str(info.value) == f"cannot write into {tmp_path / 'file' / 'deeper'}: Not a directory"


# -- the portfolio's run folder and lock ------------------------------------------------------------
def test_a_linked_label_folder_is_refused(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs, elsewhere = tmp_path / "runs", tmp_path / "elsewhere"
    runs.mkdir()
    elsewhere.mkdir()
    (runs / "month").symlink_to(elsewhere)
    assert cli.main(["--db", str(store), "portfolio", "--out", str(runs), "--label", "month"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {runs.resolve() / 'month'} is a symbolic link; csm-nb does not write folders through links: "
        "remove the link or use another --out"
    )
    assert list(elsewhere.iterdir()) == []


def test_a_lock_file_linked_to_another_file_is_refused_and_that_file_unchanged(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "runs" / "month"
    run_dir.mkdir(parents=True)
    victim = tmp_path / "notes.txt"
    victim.write_text("do not truncate me\n")
    (run_dir / ".portfolio.lock").symlink_to(victim)
    assert cli.main(["--db", str(store), "portfolio", "--out", str(tmp_path / "runs"), "--label", "month"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    assert f"{run_dir.resolve() / '.portfolio.lock'} is a symbolic link" in err
    assert victim.read_text() == "do not truncate me\n"
    assert sorted(p.name for p in run_dir.iterdir()) == [".portfolio.lock"]  # nothing else written


def test_a_lock_file_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".portfolio.lock")
    with pytest.raises(InputError, match=r"is a FIFO \(named pipe\), not a lock file"):
        with portfolio._run_lock(tmp_path):
            pass


def test_the_lock_file_holds_the_owner_and_a_second_run_is_refused(tmp_path: Path) -> None:
    from csm_nb.errors import ConflictError

    with portfolio._run_lock(tmp_path):
        assert (tmp_path / ".portfolio.lock").read_text() == f"pid {os.getpid()}"
        # flock is per open file: a second open in this process contends like another process would.
        with pytest.raises(ConflictError, match=rf"another portfolio run \(pid {os.getpid()}\) is writing"):
            with portfolio._run_lock(tmp_path):
                pass


def test_portfolio_out_pointing_at_a_file_is_one_line(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "runs"
    target.write_text("a file")
    assert cli.main(["--db", str(store), "portfolio", "--out", str(target)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: --out {target} is a file, not a folder; give a folder for the run"
    assert target.read_text() == "a file"


# -- a failing disk -----------------------------------------------------------------------------------
def test_a_full_disk_is_one_line_naming_the_path_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "runs" / "x" / "y.html"
    target.parent.mkdir(parents=True)
    target.write_text("the last good report")
    calls: list[int] = []

    def full_disk(fd: int, data: bytes) -> None:
        calls.append(len(data))
        os.write(fd, data[:10])  # part of it landed before the disk filled up
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(results, "_write_all", full_disk)
    with pytest.raises(CsmError) as info:
        results.write_text_atomic(target, "<html>" + "x" * 1000 + "</html>")
    assert str(info.value) == f"cannot write {target}: No space left on device"
    assert calls == [1013]
    assert target.read_text() == "the last good report" and sorted(p.name for p in target.parent.iterdir()) == ["y.html"]


def test_a_full_disk_from_the_cli_is_one_line(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full_disk(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(results, "_write_all", full_disk)
    out = tmp_path / "acme.yaml"
    assert cli.main(["--db", str(store), "export", "acme", "-o", str(out)]) == 1
    assert capsys.readouterr().err.strip() == f"error: cannot write {out}: No space left on device"
    assert list(tmp_path.glob("*.tmp")) == [] and not out.exists()
