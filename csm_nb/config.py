"""The one place that resolves paths and settings.

Order of precedence for every setting: an explicit argument, then an
environment variable, then a default. Notebooks, the CLI and the tests ask
this module; none of them hard-codes a path.

==================  ====================  ======================================
setting             environment variable  default
==================  ====================  ======================================
store (SQLite)      ``CSM_NB_DB``         ``<project>/csm-nb.sqlite``
output directory    ``CSM_NB_RUNS``       ``<project>/runs``
workbooks           ``CSM_NB_WORKBOOKS``  ``<project>/workbooks``
templates           ``CSM_NB_TEMPLATES``  ``<project>/templates``
examples            ``CSM_NB_EXAMPLES``   ``<project>/examples``
Chromium (PDFs)     ``CSM_NB_CHROMIUM``   ``chromium`` (or Chrome) on the PATH
==================  ====================  ======================================

Whether a workbook shows its forms or renders its report is detected
(``interactive_session``); ``CSM_NB_INTERACTIVE`` overrides it.

``<project>`` is the checkout the package was installed from (an editable
install), or the current directory when the package lives elsewhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from csm_nb.errors import InputError, NotFoundError

PACKAGE_DIR = Path(__file__).resolve().parent
ENGAGEMENT_SCHEMA = "csm-nb/engagement@1"
MODEL_SCHEMA = "csm-nb/engagement-model@1"  # an engagement model (csm_nb.data.engagement_model)
ENGAGEMENT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
AUTHOR_ENV = "CSM_NB_AUTHOR"
CHROMIUM_ENV = "CSM_NB_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INTERACTIVE_ENV = "CSM_NB_INTERACTIVE"
# Set in a kernel's environment by a person's front end: jupyter_server (JupyterLab, Notebook) names the
# notebook of the session; Voila names the kernel it runs the page in.
FRONT_END_VARIABLES = ("JPY_SESSION_NAME", "VOILA_KERNEL_ID")

# Input limits (README "Limits"): far above any real engagement, low enough
# that a careless or hostile file is refused in a moment instead of filling
# memory. A 10,000-period cash flow renders in seconds; a million periods
# needed more than 8 GB.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024  # an engagement YAML file
MAX_YAML_NODES = 500_000  # values in one engagement file (lists, mappings and scalars)
MAX_TABLE_BYTES = 50 * 1024 * 1024  # a CSV or .xlsx file
MAX_TABLE_ROWS = 200_000  # data rows in one table (measurements)
MAX_CASH_FLOW_PERIODS = 10_000  # rows of one cash flow
MAX_PERIOD_INDEX = 1_200  # a period index: a century of months
MAX_YAML_DEPTH = 32  # lists and mappings inside one another (real files need fewer than ten)
MAX_NUMBER_CHARS = 100  # one whole number as written: longer is a pasted code, and 1:2:3... sexagesimals grow quadratically


def project_dir() -> Path:
    """The checkout that holds ``workbooks/`` (editable install), else the cwd."""
    candidate = PACKAGE_DIR.parent
    if (candidate / "workbooks").is_dir():
        return candidate
    return Path.cwd()


def _from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else default


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The SQLite store: ``explicit``, else ``$CSM_NB_DB``, else the project's file."""
    if explicit:
        return Path(explicit).expanduser()
    return _from_env("CSM_NB_DB", project_dir() / "csm-nb.sqlite")


def runs_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    return _from_env("CSM_NB_RUNS", project_dir() / "runs")


def workbooks_dir() -> Path:
    return _from_env("CSM_NB_WORKBOOKS", project_dir() / "workbooks")


def templates_dir() -> Path:
    return _from_env("CSM_NB_TEMPLATES", project_dir() / "templates")


def examples_dir() -> Path:
    return _from_env("CSM_NB_EXAMPLES", project_dir() / "examples")


def chromium() -> str:
    """The Chromium that prints reports to PDF: ``$CSM_NB_CHROMIUM``, else the first of
    ``CHROMIUM_NAMES`` on the PATH; a missing one is one line that says what to install."""
    import shutil

    named = os.environ.get(CHROMIUM_ENV, "").strip()
    if named:
        found = shutil.which(named)
        if not found:
            raise NotFoundError(
                f"{CHROMIUM_ENV} is {named!r}, which is not a program here; set it to Chromium's path, or unset it"
            )
        return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise NotFoundError(
        "printing PDFs needs Chromium, which is not installed: install Debian's chromium "
        f"(apt-get install chromium) or set {CHROMIUM_ENV} to a Chromium or Chrome program"
    )


def interactive_session(results_path: str | os.PathLike[str] | None = None) -> bool:
    """Does a workbook run here for a person at a front end (forms), or headlessly (a report)?

    The one rule every page's ``open_page`` follows:

    * a ``results_path`` given to the workbook means a headless run, whatever the front end
      (``csm-nb run`` always gives one);
    * else ``CSM_NB_INTERACTIVE`` decides when set: ``1``/``true``/``yes``/``on`` means forms,
      ``0``/``false``/``no``/``off`` a report (for a front end not detected below, or a test);
    * otherwise interactive means a kernel started for a person: JupyterLab or Jupyter Notebook
      (jupyter_server puts ``JPY_SESSION_NAME``, the notebook's path, in the environment of the
      kernel it starts for a notebook; forked kernels get that environment too) or Voila, as in
      ``csm-nb workshop`` (it sets ``VOILA_KERNEL_ID`` in the kernel before the first cell);
    * anything else is headless: ``csm-nb run``, plain papermill, ``jupyter nbconvert --execute``,
      nbval, a script.

    A run started from inside a notebook (``!papermill ...``, or papermill's Python API in a Lab
    kernel) inherits that notebook's ``JPY_SESSION_NAME``: give it a ``results_path`` (a headless run
    whatever the front end) or ``CSM_NB_INTERACTIVE=0``. Any other value of the variable is refused.
    """
    if results_path:
        return False
    named = os.environ.get(INTERACTIVE_ENV, "").strip().lower()
    if named in {"1", "true", "yes", "on"}:
        return True
    if named in {"0", "false", "no", "off"}:
        return False
    if named:
        raise InputError(
            f"{INTERACTIVE_ENV} is {os.environ[INTERACTIVE_ENV]!r}; set it to 1 (forms) or 0 (a report), or unset it"
        )
    return any(os.environ.get(name, "").strip() for name in FRONT_END_VARIABLES)


def headless_results_path(workbook_id: str) -> Path:
    """Where a headless run that was given no ``results_path`` writes its results: ``<workbook>.json`` in
    the working directory (the kernel's: papermill's ``--cwd``, else where papermill was started)."""
    return Path.cwd() / f"{workbook_id}.json"


def author() -> str:
    """Who is saving: ``$CSM_NB_AUTHOR``, else the login name."""
    explicit = os.environ.get(AUTHOR_ENV, "").strip()
    if explicit:
        return explicit
    for name in ("USER", "USERNAME", "LOGNAME"):
        if os.environ.get(name):
            return os.environ[name]
    return "unknown"


def check_engagement_id(value: object, *, where: str = "engagement id") -> str:
    """Return ``value`` if it is a valid engagement id, else raise ``InputError``.

    Ids become directory names under ``runs/``, so this is also the guard
    against path traversal: ``../../etc`` is refused here.

    >>> check_engagement_id("acme-2026")
    'acme-2026'
    """
    if not isinstance(value, str) or not ENGAGEMENT_ID_PATTERN.fullmatch(value):
        raise InputError(
            f"{where} {value!r} is not valid: use 1-64 lower-case letters, digits "
            "and hyphens, starting with a letter or digit (e.g. 'acme-2026')"
        )
    return value
