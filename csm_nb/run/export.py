"""HTML export of an executed notebook through the project's nbconvert template
(``templates/csm_report``: code hidden, no prompts, no scripts), and the
fingerprint a report page carries in its ``<head>``."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from csm_nb import config

FINGERPRINT_META = "csm-nb-fingerprint"
_FINGERPRINT_TAG = re.compile(rb'<meta name="csm-nb-fingerprint" content="([0-9a-f]+)">')
_HEAD_TAG = re.compile(r"<head[^>]*>", flags=re.IGNORECASE)


def with_fingerprint(page: str, stamp: str) -> str:
    """The report page with its fingerprint in a ``<meta>`` tag at the top of ``<head>``.

    >>> with_fingerprint("<html><head><title>x</title></head></html>", "ab12")
    '<html><head>\\n<meta name="csm-nb-fingerprint" content="ab12"><title>x</title></head></html>'
    """
    tag = f'\n<meta name="{FINGERPRINT_META}" content="{stamp}">'
    found = _HEAD_TAG.search(page)
    return page[: found.end()] + tag + page[found.end() :] if found else tag.lstrip() + page


def html_fingerprint(path: Path) -> str | None:
    """The fingerprint a report page was made with (read from its first 64 KB), or None."""
    try:
        with open(path, "rb") as handle:
            found = _FINGERPRINT_TAG.search(handle.read(65536))
    except OSError:
        return None
    return found.group(1).decode() if found else None


# -- HTML export ----------------------------------------------------------------
_EXPORTER: Any = None
_EXPORTER_LOCK = threading.Lock()


def html_exporter() -> Any:
    """One configured exporter per process (building it parses the templates)."""
    global _EXPORTER
    with _EXPORTER_LOCK:
        if _EXPORTER is None:
            from nbconvert import HTMLExporter
            from traitlets.config import Config

            cfg = Config()
            cfg.TemplateExporter.exclude_input = True
            cfg.TemplateExporter.exclude_input_prompt = True
            cfg.TemplateExporter.exclude_output_prompt = True
            # The template itself drops the cells tagged interactive-only and the headings' pilcrow links,
            # so plain `jupyter nbconvert --template csm_report` makes the same page as this exporter.
            _EXPORTER = HTMLExporter(
                config=cfg, template_name="csm_report", extra_template_basedirs=[str(config.templates_dir())]
            )
    return _EXPORTER


def export_html(nb: Any) -> str:
    exporter = html_exporter()
    with _EXPORTER_LOCK:  # one exporter per process; a Dask worker may run tasks in several threads
        body, _ = exporter.from_notebook_node(nb)
    return body


def export_file(notebook: str | Path, html: str | Path, stamp: str) -> None:
    """Export the executed notebook file ``notebook`` to the report page ``html`` with its fingerprint.

    This is what a forked kernel runs once its notebook is done, so the
    exports of a portfolio run on every core, not all in the one parent.
    """
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    Path(html).write_text(with_fingerprint(export_html(nb), stamp), encoding="utf-8")


def preload() -> None:
    """Import the notebook machinery and build the exporter now (about 2 s of CPU, once a process).

    Called in a helper thread while the first kernels start, so the two overlap
    and no notebook's timing absorbs it.
    """
    import nbclient  # noqa: F401
    import nbformat  # noqa: F401
    from papermill.parameterize import parameterize_notebook  # noqa: F401

    html_exporter()
