"""The workshop app's server: Voilà on the workbooks, with a start page and forked kernels.

``csm-nb workshop`` runs this module as its own process (``python -m
csm_nb.run.workshop_server``); :mod:`csm_nb.run.workshop` builds the command
and supervises it. What it adds to a plain ``voila workbooks/``:

* **a start page** at ``/`` (``templates/csm_workshop/start.html.j2``): pick an
  engagement from the store or create one, then a workshop workbook; plain
  HTML forms, so it shows at once and needs no kernel. The last engagement
  opened from a store is remembered beside it (``<store>.workshop.json``).
* **the engagement by link**: ``/csm/open?engagement=ID&workbook=WB`` checks
  both and sends the browser to ``voila/render/<notebook>?engagement=ID``;
  Voilà's ``prelaunch_hook`` (``WorkshopApp.prepare``) puts ``engagement_id``
  and ``db`` into the notebook as papermill does (an ``injected-parameters``
  cell after the ``parameters`` cell), drops the cells meant for Lab only
  (instructions to run all cells, the analysts' DataFrames) and hands the
  template what its header shows. An unknown engagement is one line on
  Voilà's error page.
* **kernels forked** from a warm server (:mod:`csm_nb.run.forkserver`) that
  has imported the workshop pages, pandas, matplotlib and ipywidgets once,
  started with the app: a workbook opens without paying for its imports, and
  each page still has a kernel process of its own.
* **the house look**: the ``csm_workshop`` template extends Voilà's ``lab``
  template with the reports' stylesheet, a header (engagement, workbook
  steps, large text) and no request to any other host.

Only 127.0.0.1 is listened on, and every page but the stylesheet needs the
token (Voilà's identity provider; the first URL carries it, a cookie the rest).
"""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from csm_nb import config
from csm_nb.data.recent import last_engagement, remember_engagement
from csm_nb.errors import CsmError, InputError, NotFoundError

APP_TEMPLATE = "csm_workshop"
START_TEMPLATE = "start.html.j2"


@dataclass(frozen=True)
class WorkshopWorkbook:
    """A workbook with workshop forms: its id, title, notebook file and a line for the start page."""

    id: str
    title: str
    notebook: str
    blurb: str


def workshop_workbooks() -> list[WorkshopWorkbook]:
    """The workbooks whose pages have forms for a workshop (``Page.WORKSHOP``), in the registry's order.

    >>> [w.id for w in workshop_workbooks()]
    ['engagement_brief', 'outcome_discovery', 'kpi_workshop', 'financial_linkage', 'engagement_plan', 'customer_jobs']
    """
    from csm_nb.run.registry import WORKBOOKS

    return [
        WorkshopWorkbook(e.id, e.title, e.notebook, e.page.WORKSHOP_BLURB)
        for e in WORKBOOKS
        if e.page is not None and e.page.WORKSHOP
    ]


def workbook_by_notebook(notebook: str) -> WorkshopWorkbook | None:
    name = Path(notebook).name
    return next((w for w in workshop_workbooks() if w.notebook == name), None)


def workbook_by_id(workbook_id: str) -> WorkshopWorkbook:
    for w in workshop_workbooks():
        if w.id == workbook_id:
            return w
    known = ", ".join(w.id for w in workshop_workbooks())
    raise NotFoundError(f"no workshop workbook {workbook_id!r}; the workshop has: {known}")


# -- what a page needs from the store --------------------------------------------------------
def engagement_choices(db: Path) -> list[tuple[str, str]]:
    """(id, "Customer (id)") of every engagement in ``db``; none when the store does not exist yet."""
    from csm_nb.data.store import Store

    if not db.is_file():
        return []
    with Store.existing(db) as store:
        return [(e.id, f"{e.customer} ({e.id})") for e in store.engagements()]


def check_engagement(db: Path, engagement_id: object) -> str:
    """``engagement_id`` if it is a valid id of an engagement in ``db``; else one line saying what to do."""
    from csm_nb.data.store import Store

    eid = config.check_engagement_id(engagement_id, where="engagement")
    if not db.is_file():
        raise NotFoundError(f"the store {db} does not exist yet; create an engagement on the start page")
    with Store.existing(db) as store:
        if not store.exists(eid):
            raise NotFoundError(f"engagement {eid!r} is not in the store {db}; pick one on the start page")
    return eid


def create_engagement(db: Path, engagement_id: str, customer: str) -> str:
    """Create an empty engagement (id and customer) in ``db``; the id, or one line saying what is wrong."""
    from csm_nb.data.store import Store

    with Store(db) as store:
        return store.create_engagement(
            engagement_id, customer, summary="created on the workshop start page", where="New engagement id"
        )


def prepare_notebook(notebook: Any, *, workbook: WorkshopWorkbook, engagement_id: str, db: Path) -> Any:
    """The notebook as the app runs it: parameters injected as papermill injects them, Lab-only cells
    dropped, and what the template's header shows in ``metadata.csm_workshop``.

    Dropped: markdown cells tagged ``interactive-only`` (how to run the notebook in Lab) and cells
    tagged ``analyst`` (DataFrames for analysts). Everything else runs as in Lab.
    """
    from papermill.parameterize import parameterize_notebook

    def kept(cell: Any) -> bool:
        tags = set(cell.get("metadata", {}).get("tags", []))
        return "analyst" not in tags and not (cell.get("cell_type") == "markdown" and "interactive-only" in tags)

    notebook.cells = [c for c in notebook.cells if kept(c)]
    # What papermill's own loader adds before it parameterises (load_notebook_node).
    notebook.metadata.setdefault("papermill", {})
    for cell in notebook.cells:
        cell.metadata.setdefault("tags", [])
    prepared = parameterize_notebook(
        notebook, {"engagement_id": engagement_id, "db": str(db)}, kernel_name="python3", language="python"
    )
    choices = engagement_choices(db)
    prepared.metadata["csm_workshop"] = {
        "engagement": engagement_id,
        "engagement_label": dict(choices).get(engagement_id, engagement_id),
        "engagements": [list(c) for c in choices],
        "workbook": workbook.id,
        "title": workbook.title,
        "workbooks": [[w.id, w.title] for w in workshop_workbooks()],
    }
    return prepared


# -- the Voilà application ----------------------------------------------------------------------
def _handlers(app: Any) -> list[tuple[str, type, dict[str, Any]]]:
    """The app's own pages (built here so that importing this module does not import tornado)."""
    import jinja2
    import markupsafe
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.utils import url_path_join
    from tornado import web

    templates = config.templates_dir()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(templates / APP_TEMPLATE), str(templates)]), autoescape=True)

    class Base(JupyterHandler):  # type: ignore[misc]
        def write_error(self, status_code: int, **kwargs: Any) -> None:
            # jupyter_server's own error pages are not in this app; this is the app's one.
            error = kwargs.get("exc_info", (None, None))[1]
            reason = getattr(error, "reason", None) or self._reason
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.finish(
                env.get_template("error.html").render(status_code=status_code, status_message=reason, base_url=app.base_url)
            )

        def url(self, path: str, **query: str) -> str:
            target = url_path_join(app.base_url, path)
            query = {k: v for k, v in query.items() if v}
            return target + ("?" + urlencode(query) if query else "")

        def start_page(self, *, error: str = "", status: int = 200, **values: str) -> None:
            db = app.db
            try:
                choices = engagement_choices(db)
            except CsmError as exc:
                choices, error = [], error or str(exc)
            selected = values.get("engagement") or last_engagement(db) or ""
            if selected not in dict(choices):
                selected = choices[0][0] if choices else ""
            self.set_status(status)
            self.set_header("Cache-Control", "no-store")
            self.finish(
                env.get_template(START_TEMPLATE).render(
                    engagements=choices,
                    selected=selected,
                    workbooks=workshop_workbooks(),
                    workbook=values.get("workbook", ""),
                    new_id=values.get("new_id", ""),
                    new_customer=values.get("new_customer", ""),
                    error=error,
                    store=str(db),
                    open_url=self.url("csm/open"),
                    create_url=self.url("csm/engagements"),
                    xsrf=markupsafe.Markup(self.xsrf_form_html()),  # tornado's own, already escaped
                )
            )

    class Start(Base):
        @web.authenticated
        def get(self) -> None:
            self.start_page(engagement=self.get_argument("engagement", ""), workbook=self.get_argument("workbook", ""))

    class Open(Base):
        @web.authenticated
        def get(self) -> None:
            # Without an engagement: the one last opened from this store (the workbook links in a page).
            engagement = self.get_argument("engagement", "") or last_engagement(app.db) or ""
            workbook = self.get_argument("workbook", "")
            try:
                chosen = workbook_by_id(workbook)
                if not engagement:
                    raise InputError("choose an engagement first")
                eid = check_engagement(app.db, engagement)
            except CsmError as exc:
                self.start_page(error=str(exc), status=400, engagement=engagement, workbook=workbook)
                return
            remember_engagement(app.db, eid)
            self.redirect(self.url(f"voila/render/{chosen.notebook}", engagement=eid))

    class Create(Base):
        @web.authenticated
        def post(self) -> None:
            self.check_xsrf_cookie()
            new_id, customer = self.get_argument("id", ""), self.get_argument("customer", "")
            workbook = self.get_argument("workbook", "")
            try:
                eid = create_engagement(app.db, new_id, customer)
            except CsmError as exc:
                self.start_page(error=f"Not created: {exc}", status=400, new_id=new_id, new_customer=customer, workbook=workbook)
                return
            remember_engagement(app.db, eid)
            self.redirect(self.url("", engagement=eid, workbook=workbook))

    base = app.base_url
    return [
        (url_path_join(base, "/?"), Start, {}),
        (url_path_join(base, "/csm/open"), Open, {}),
        (url_path_join(base, "/csm/engagements"), Create, {}),
    ]


def _app_class() -> type:
    from voila.app import Voila

    class WorkshopApp(Voila):  # type: ignore[misc]
        """Voilà with the start page, the engagement from the link, forked kernels and the house template."""

        db = Path()
        open_path = "/"

        def setup_template_dirs(self) -> None:
            super().setup_template_dirs()
            templates = config.templates_dir()
            # Ours first: its index.html.j2 extends Voilà's lab one by its full path; templates/ holds report.css.
            self.template_paths[:0] = [str(templates / APP_TEMPLATE), str(templates)]

        def init_settings(self) -> dict[str, Any]:
            self.voila_configuration.prelaunch_hook = self.prepare
            return super().init_settings()

        def init_handlers(self) -> list:
            return _handlers(self) + super().init_handlers()

        def prepare(self, handler: Any, notebook: Any, cwd: str) -> Any:
            """Voilà's prelaunch hook: the engagement from the link, checked, into the notebook."""
            from tornado import web

            workbook = workbook_by_notebook(handler.request.path)
            if workbook is None:
                raise web.HTTPError(404, reason="Not a workshop workbook: open the workshop's start page")
            try:
                eid = check_engagement(self.db, handler.get_argument("engagement", ""))
            except CsmError as exc:
                raise web.HTTPError(404, reason=str(exc)) from None
            return prepare_notebook(notebook, workbook=workbook, engagement_id=eid, db=self.db)

        def launch_browser(self) -> None:
            url = f"{self.connection_url.rstrip('/')}{self.open_path}"
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    return WorkshopApp


def fork_server_warm_up() -> str:
    """What the app's fork server imports once: the workshop pages, pandas, matplotlib, ipywidgets."""
    from csm_nb.run.registry import warm_up_code

    return warm_up_code([w.id for w in workshop_workbooks()]) + "\nimport ipywidgets\nimport csm_nb.forms.kpi"


def main(argv: list[str] | None = None) -> int:
    from csm_nb.run import forkserver, lean_imports

    lean_imports()
    parser = argparse.ArgumentParser(prog="python -m csm_nb.run.workshop_server")
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--token", required=True)
    parser.add_argument("--open-path", default="/")
    parser.add_argument("--no-browser", action="store_true")
    options = parser.parse_args(argv)

    # The fork server first: its imports (about 2 s) run while Voilà's are done here.
    server = forkserver.ForkServer.start(fork_server_warm_up()) if forkserver.enabled() else None
    app_class = _app_class()
    import papermill.parameterize  # noqa: F401 - now, not in the first page's request

    specs = "jupyter_client.kernelspec.KernelSpecManager"
    if server is not None:
        _forked_specs_class().socket = str(server.socket_path)
        specs = f"{__name__}.ForkedKernelSpecs"
    app = app_class.instance()
    sep = "&" if "?" in options.open_path else "?"
    app.db = Path(options.db)
    app.open_path = f"{options.open_path}{sep}{urlencode({'token': options.token})}"
    voila_argv = [
        str(config.workbooks_dir().resolve()),
        f"--port={options.port}",
        "--Voila.port_retries=0",
        "--Voila.ip=127.0.0.1",
        f"--token={options.token}",
        "--template=lab",
        "--theme=light",
        "--show_tracebacks=False",
        f"--VoilaConfiguration.kernel_spec_manager_class={specs}",
        f"--Voila.open_browser={not options.no_browser}",
    ]
    try:
        app.initialize(voila_argv)
        app.start()
    finally:
        if server is not None:
            server.stop()
    return 0


_FORKED_SPECS: type | None = None


def _forked_specs_class() -> type:
    global _FORKED_SPECS
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    from csm_nb.run import forkserver

    class ForkedKernelSpecs(KernelSpecManager):  # type: ignore[misc]
        """Every notebook's kernel, whatever its kernel spec says, is forked by the app's fork server."""

        socket = ""

        def get_all_specs(self) -> dict[str, Any]:
            return {"python3": {"resource_dir": "", "spec": forkserver.kernel_spec(self.socket)}}

        def get_kernel_spec(self, kernel_name: str) -> Any:
            return KernelSpec(resource_dir="", **forkserver.kernel_spec(self.socket))

    _FORKED_SPECS = ForkedKernelSpecs
    return ForkedKernelSpecs


def __getattr__(name: str) -> Any:
    # Voilà imports the kernel spec manager class by name; it is built on first use (jupyter_client).
    if name == "ForkedKernelSpecs":
        return _forked_specs_class()
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(main())
