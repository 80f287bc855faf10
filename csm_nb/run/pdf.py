"""Reports printed to PDF: the report's own HTML and print stylesheet, printed by headless Chromium.

``csm-nb report --pdf`` and ``csm-nb portfolio --pdf`` write ``<workbook>.pdf`` beside each
report's ``<workbook>.html``: A4, as the page's ``@page`` rule asks, with no browser header or
footer. Chromium is Debian's ``chromium`` (or ``chromium-browser``, ``google-chrome``) found on
the PATH, or the program ``CSM_NB_CHROMIUM`` names (:func:`csm_nb.config.chromium`); without it
the command stops before rendering anything, in one line that says what to install.

Why Chromium and not a Python PDF library: the reports are laid out by CSS (grids, the print
rules of ``report.css``, inline SVG charts); WeasyPrint would need its own system libraries and
lays some of that out differently, while Chromium is already what the tests and a CSM read the
reports in. Each report is printed by its own short-lived Chromium with a throw-away profile
(about 1.3 s a report on the 2-core machine), into a temporary file that is then renamed into
place, so a report's PDF is either whole or absent, and never written through a link.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from csm_nb.errors import RunError

PRINT_TIMEOUT = 120.0  # seconds one report may take to print


def print_pdf(html: Path, *, chromium: str, pdf: Path | None = None, timeout: float = PRINT_TIMEOUT) -> Path:
    """Print the report ``html`` to ``pdf`` (default: beside it, ``.pdf``); the PDF's path."""
    from csm_nb.data.results import check_target, write_bytes_atomic

    html = Path(html).resolve()
    pdf = Path(pdf) if pdf is not None else html.with_suffix(".pdf")
    check_target(pdf)  # a link, FIFO or folder under that name is refused before Chromium starts
    with tempfile.TemporaryDirectory(prefix="csm-nb-pdf-") as work:
        out = Path(work) / "report.pdf"
        argv = [
            chromium,
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(work) / 'profile'}",
            f"--print-to-pdf={out}",
            html.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox (containers, CI)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise RunError(
                f"Chromium took more than {timeout:.0f} s to print {html}; try again, or print it from a browser"
            ) from None
        except OSError as exc:
            raise RunError(f"cannot start Chromium ({chromium}): {exc.strerror or exc}; check CSM_NB_CHROMIUM") from None
        if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            said = [line for line in (done.stderr or "").splitlines() if line.strip()]
            reason = said[-1][:300] if said else f"exit code {done.returncode}"
            raise RunError(f"Chromium could not print {html} to PDF: {reason}")
        write_bytes_atomic(pdf, out.read_bytes())
    return pdf


def print_reports(pages: Iterable[Path], *, chromium: str, workers: int | None = None) -> list[Path]:
    """Print every report in ``pages`` beside itself, one Chromium per core at a time; the PDFs, in order."""
    from concurrent.futures import ThreadPoolExecutor

    pages = list(pages)
    with ThreadPoolExecutor(max_workers=max(1, min(len(pages), workers or os.cpu_count() or 1))) as pool:
        return list(pool.map(lambda page: print_pdf(page, chromium=chromium), pages))


def page_count(pdf: Path) -> int:
    """How many pages a PDF has: the largest ``/Count`` of its page tree (Chromium writes it uncompressed)."""
    counts = [int(n) for n in re.findall(rb"/Count\s+(\d+)", Path(pdf).read_bytes())]
    if not counts:
        raise RunError(f"{pdf} has no page tree; is it a PDF?")
    return max(counts)
