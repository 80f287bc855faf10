"""``csm-nb``: the command line (demo, import, export, run, report, portfolio, lab, workshop, list, kernelspec).

A thin layer: each command parses its arguments, calls a function in
``csm_nb.run.service`` or ``csm_nb.run.engine`` and prints. User errors print one line,
``error: <message>``, and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from csm_nb import __version__, config
from csm_nb.errors import CsmError, UsageError

if TYPE_CHECKING:  # the CLI imports its commands' modules lazily, to start fast
    from csm_nb.run.service import EngagementReport

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


# Control characters (terminal escapes, carriage returns) from stored text never reach the terminal raw.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    r"""``text`` with control characters (and bidirectional overrides) shown as ``?``; tabs and newlines stay.

    >>> printable("Acme\x1b[31m red\r")
    'Acme?[31m red?'
    """
    return _CONTROL.sub("?", text)


# The logs ``import --engagement`` appends, as its report line names them.
LOG_WORDS = {"events": "events", "moments": "moment log", "activities": "activities", "pulse": "pulse answers"}


def _say(text: str) -> None:
    print(printable(text), flush=True)


def _imported_line(item: object) -> str:
    from csm_nb.run.service import Imported

    assert isinstance(item, Imported)
    what = {"model": "model ", "maturity_model": "maturity model "}.get(item.kind, "")
    line = f"{item.status} {what}{item.engagement_id} (revision {item.revision}) from {item.source}"
    if item.note:
        line += f": {item.note}"
    if item.kept:
        line += f"; kept from the store: {'; '.join(item.kept)}"
    return line


def cmd_import(args: argparse.Namespace) -> int:
    from csm_nb.run.service import import_engagements

    if getattr(args, "engagement", None):
        if args.replace:
            raise CsmError("--replace is for engagement files; measurement files only add or correct rows")
        return cmd_import_measurements(args)
    for item in import_engagements(args.files, db=args.db, replace=args.replace):
        _say(_imported_line(item))
    return EXIT_OK


def cmd_import_measurements(args: argparse.Namespace) -> int:
    """``import FILE... --engagement ID``: append measurements, events or moment-log entries (CSV/XLSX, told by the
    header); the same rows again change nothing."""
    from csm_nb.run.service import import_logs

    for item in import_logs(args.files, engagement_id=args.engagement, db=args.db):
        counts = item.counts
        log = "" if item.kind == "measurements" else f" ({LOG_WORDS[item.kind]})"
        _say(
            f"{args.engagement}: {counts['added']} added, {counts['updated']} updated, {counts['unchanged']} unchanged "
            f"from {item.source}{log}"
        )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from csm_nb.run.service import render_engagement_report

    chromium = config.chromium() if args.pdf else None  # a missing Chromium stops here, before any rendering
    pages = _say_report(render_engagement_report(args.engagement, db=args.db, out=args.out, as_of=args.as_of))
    if chromium:
        _say_pdfs(pages, chromium=chromium)
    return EXIT_OK


def _say_pdfs(pages: list[Path], *, chromium: str) -> None:
    from csm_nb.run.pdf import print_reports

    for pdf in print_reports(pages, chromium=chromium):
        _say(f"pdf: {pdf}")


def _say_report(report: EngagementReport) -> list[Path]:
    """One line per rendered or up-to-date report, then the index; returns the HTML paths."""
    paths = [result.outputs[".html"] for result in report.results]
    for result, html in zip(report.results, paths):
        _say(f"{'up to date' if result.skipped else 'rendered'}: {html}")
    _say(f"index: {report.index}")
    if report.internal_index is not None:
        _say(f"internal index (not for the customer): {report.internal_index}")
    return paths


def cmd_export(args: argparse.Namespace) -> int:
    from csm_nb.run.service import export_engagement, export_model

    if (args.engagement_id is None) == (args.model is None):
        raise UsageError("export takes an engagement ID or --model ID, one of them")
    if args.model is not None:
        text = export_model(args.model, db=args.db, to=args.output)
    else:
        text = export_engagement(args.engagement_id, db=args.db, to=args.output)
    if args.output:
        _say(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from csm_nb.run.engine import run_workbook
    from csm_nb.run.parameters import coerce_parameter

    parameters = {name: coerce_parameter(value) for name, value in args.parameter or []}
    result = run_workbook(
        args.workbook, engagement_id=args.engagement, out=args.out, parameters=parameters, db=args.db, as_of=args.as_of
    )
    for path in result.outputs.values():
        _say(str(path))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from csm_nb.data.store import Store

    with Store(args.db) as store:
        rows = store.engagements()
    if not rows:
        _say(f"no engagements in {config.db_path(args.db)}; import one with: csm-nb import FILE")
    for e in rows:
        _say(f"{e.id}\t{printable(e.customer)}\trevision {e.revision}\t{e.updated_at} by {printable(e.updated_by)}")
    return EXIT_OK


def cmd_lab(args: argparse.Namespace) -> int:
    from csm_nb.run.lab import run_lab

    return run_lab(db=args.db, port=args.port, open_browser=not args.no_browser, author=args.author, notebook=args.workbook)


def cmd_workshop(args: argparse.Namespace) -> int:
    from csm_nb.run.workshop import run_workshop

    return run_workshop(
        workbook=args.workbook,
        engagement=args.engagement,
        db=args.db,
        port=args.port,
        open_browser=not args.no_browser,
        author=args.author,
    )


def cmd_kernelspec(args: argparse.Namespace) -> int:
    from csm_nb.run.forkserver import install_kernel_spec

    where = install_kernel_spec(prefix=args.prefix, user=args.user)
    _say(f"installed kernel 'csm-nb' in {where}; run a workbook with: papermill -k csm-nb IN.ipynb OUT.ipynb")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from csm_nb.run.service import (
        example_files,
        import_engagements,
        render_engagement_report,
    )

    imported = import_engagements(example_files(), db=args.db, keep_changed=True)
    _say(f"store: {config.db_path(args.db)}")
    reports: list[Path] = []
    for item in imported:
        if item.status == "kept":
            _say(_imported_line(item))
        reports += _say_report(render_engagement_report(item.engagement_id, db=args.db, out=args.out))
    _say(f"{len(reports)} HTML reports for {len(imported)} engagements under {config.runs_dir(args.out)}")
    return EXIT_OK


def cmd_portfolio(args: argparse.Namespace) -> int:
    """Every engagement's report; exit 0 all good, 3 some engagements failed (see summary.json)."""
    from csm_nb.run.parameters import coerce_parameter
    from csm_nb.run.portfolio import progress_for, run_portfolio

    if args.workers is not None and args.scheduler:
        raise UsageError("--workers is for local runs; with --scheduler the Dask cluster decides")
    workbooks = [w.strip() for chunk in args.workbooks or [] for w in chunk.split(",") if w.strip()]
    chromium = config.chromium() if args.pdf else None  # a missing Chromium stops here, before any rendering
    result = run_portfolio(
        db=args.db,
        out=args.out,
        label=args.label,
        workbooks=workbooks or None,
        ids=args.engagement or [],
        tags=args.tag or [],
        csm=args.csm,
        workers=args.workers,
        scheduler=args.scheduler,
        resume=args.resume,
        as_of=args.as_of,
        parameters={name: coerce_parameter(value) for name, value in args.parameter or []},
        cell_timeout=args.timeout,
        progress=progress_for(quiet=args.quiet),
    )
    counts = result.counts()
    rendered = sum(e.rendered for e in result.engagements)
    if not args.quiet or result.failed:
        _say(
            f"{len(result.engagements)} engagements: {counts['ok']} rendered, {counts['up_to_date']} up to date, "
            f"{counts['failed']} failed, {counts['nothing_to_report']} with nothing to report "
            f"({rendered} reports in {result.duration_s:.1f} s)"
        )
        _say(f"index: {result.index_path}")
        _say(f"summary: {result.summary_path}")
    if chromium:
        pages = [
            result.run_dir / w.outputs["html"]
            for e in result.engagements
            for w in e.workbooks
            if w.status in ("ok", "up_to_date") and w.outputs.get("html")
        ]
        from csm_nb.run.pdf import print_reports

        printed = print_reports(pages, chromium=chromium)
        if not args.quiet:
            _say(f"{len(printed)} PDFs beside the reports")
    for failed in result.failed:
        print(printable(f"failed: {failed.engagement_id}: {failed.error}"), file=sys.stderr)
    return result.exit_code


AS_OF_HELP = "the date the reports are judged at (YYYY-MM-DD); everything that depends on 'now' uses it (default: today)"
PDF_HELP = "also print each report to an A4 PDF beside its HTML (needs Chromium: chromium on the PATH, or CSM_NB_CHROMIUM)"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="SQLite store file (default: $CSM_NB_DB, else csm-nb.sqlite in the project)",
    )
    # What the two commands that start a server on the workbooks (lab, workshop) share.
    server = argparse.ArgumentParser(add_help=False)
    server.add_argument("--no-browser", action="store_true", help="do not open a browser; print the address instead")
    server.add_argument(
        "--author", metavar="NAME", help="name recorded with every saved answer (default: $CSM_NB_AUTHOR, else the login name)"
    )
    parser = argparse.ArgumentParser(
        prog="csm-nb",
        parents=[common],
        description="Consultative workbooks for Customer Success Managers: import engagements, run workbooks, render reports.",
    )
    parser.add_argument("--version", action="version", version=f"csm-nb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "demo",
        parents=[common],
        help="seed the store with the example engagements and render their reports",
        description="Import the example engagements and render every report that applies into runs/. Safe to repeat: unchanged reports are skipped.",
    )
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "import",
        parents=[common],
        help="import engagement and engagement-model files into the store",
        description="Validate and import engagement files (YAML, schema csm-nb/engagement@1) and engagement models "
        "(YAML or JSON, schema csm-nb/engagement-model@1). All files are checked first and written in one "
        "transaction. Importing over a stored engagement merges: measurements, moment-log entries, events and "
        "workshop answers added since are kept; if the file lacks anything else (an outcome, a KPI, a "
        "cash-flow period), nothing is written unless --replace is given.",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--replace",
        action="store_true",
        help="let the files remove what they do not have (outcomes, KPIs, periods, measurements added since)",
    )
    p.add_argument(
        "--engagement",
        metavar="ID",
        help="the files are logs to append to engagement ID (CSV/XLSX), told by the header: measurements "
        "(kpi, period, value), events (date, type, ...), activities (date, type, title, ...) or the moment log (moment, ...); rows already there "
        "with the same values change nothing",
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "export",
        parents=[common],
        help="write an engagement (or an engagement model) from the store as a file",
        description="Export one engagement as YAML, or with --model one engagement model (the store's, else the "
        "built-in one: high-touch, low-touch), to standard output or to --output FILE (a model is written as JSON "
        "when FILE ends in .json).",
    )
    p.add_argument("engagement_id", metavar="ID", nargs="?")
    p.add_argument("--model", metavar="ID", help="export this engagement model instead of an engagement")
    p.add_argument("-o", "--output", metavar="FILE")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "run",
        parents=[common],
        help="run one workbook headlessly for one engagement",
        description="Execute WORKBOOK for an engagement with papermill and write DIR/ID/WORKBOOK.{ipynb,html,json}.",
    )
    p.add_argument("workbook", metavar="WORKBOOK", help="workbook id, e.g. cash_flow")
    p.add_argument("--engagement", required=True, metavar="ID")
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/)")
    p.add_argument("--as-of", metavar="DATE", help=AS_OF_HELP)
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="set a workbook parameter, e.g. -p discount_rate 0.002 (repeatable)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "report",
        parents=[common],
        help="render every report that applies to one engagement, plus an index page",
        description="Run every workbook that applies to the engagement (the value report always does) and write "
        "DIR/ID/index.html linking them. Reports already up to date are not re-rendered.",
    )
    p.add_argument("--engagement", required=True, metavar="ID")
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/)")
    p.add_argument("--as-of", metavar="DATE", help=AS_OF_HELP)
    p.add_argument("--pdf", action="store_true", help=PDF_HELP)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "portfolio",
        parents=[common],
        help="render every engagement's report (for schedulers), with an index and summary.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the chosen workbooks (default: the value report) for every engagement in the store, or those\n"
        "matching --engagement/--tag/--csm, into DIR/LABEL/ID/, and write DIR/LABEL/index.html and summary.json.\n"
        "Each notebook runs in its own kernel; one failing engagement does not stop the others.",
        epilog="exit codes: 0 every engagement rendered; 3 some engagements failed (listed in summary.json and\n"
        "on stderr); 1 the store or selection is wrong; 2 a usage error; 143 stopped by SIGTERM.\n\n"
        "examples:\n  csm-nb portfolio\n  csm-nb portfolio --label 2026-03 --resume --quiet\n"
        "  csm-nb portfolio --csm 'Dana Whitfield' --workbooks cash_flow,progress\n"
        "  csm-nb portfolio --scheduler tcp://10.0.0.5:8786",
    )
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/)")
    p.add_argument("--label", metavar="LABEL", help="run folder under DIR (default: today's date, e.g. 2026-03-31)")
    p.add_argument(
        "--as-of",
        metavar="DATE",
        help=AS_OF_HELP.replace("(default: today)", "(default: the --label when it is a date, else today)"),
    )
    p.add_argument(
        "--workbooks",
        action="append",
        metavar="ID[,ID...]",
        help="workbooks to run (default: value_report, or every workbook that applies when there is none)",
    )
    p.add_argument("--engagement", action="append", metavar="ID", help="only this engagement (repeatable)")
    p.add_argument("--tag", action="append", metavar="TAG", help="only engagements with this tag (repeatable: any of them)")
    p.add_argument("--csm", metavar="NAME", help="only this CSM's engagements (name as in the engagement file, any case)")
    p.add_argument(
        "--workers", type=int, metavar="N", help="notebooks run at once on this machine (default: the number of cores)"
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="send the work to an existing Dask distributed scheduler, e.g. tcp://host:8786 "
        "(its workers must see the same store and output folder)",
    )
    p.add_argument(
        "--resume", action="store_true", help="skip reports that are complete and newer than their data (after a stopped run)"
    )
    p.add_argument("--pdf", action="store_true", help=PDF_HELP)
    p.add_argument("--quiet", action="store_true", help="print nothing but failures")
    p.add_argument(
        "--timeout", type=float, default=600.0, metavar="SECONDS", help="time limit for one notebook cell (default: 600)"
    )
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="set a parameter of the workbooks that have it, e.g. -p discount_rate 0.002 (repeatable)",
    )
    p.set_defaults(func=cmd_portfolio)

    p = sub.add_parser("list", parents=[common], help="list the engagements in the store")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "lab",
        parents=[common, server],
        help="open JupyterLab on the workbooks, wired to the store",
        description="Start JupyterLab in the workbooks folder with CSM_NB_DB set to the store, so the "
        "workshop forms save every answer there. Stop it with Ctrl+C.",
    )
    p.add_argument("workbook", nargs="?", metavar="WORKBOOK", help="open this workbook first, e.g. outcome_discovery")
    p.add_argument("--port", type=int, metavar="N", help="port to listen on (default: Jupyter's, 8888 or the next free one)")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser(
        "workshop",
        parents=[common, server],
        help="open the workshop forms as an app, without code (for a projector)",
        description="Start the workshop app: the forms of the workshop workbooks, served by Voila on "
        "127.0.0.1 with a token, without code or Jupyter menus. A start page picks the engagement (or "
        "creates one) and the workbook; every answer is saved to the store as it is typed. Stop it with Ctrl+C.",
        epilog="examples:\n  csm-nb workshop\n  csm-nb workshop outcome_discovery --engagement acme-2026",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("workbook", nargs="?", metavar="WORKBOOK", help="open this workbook, e.g. outcome_discovery")
    p.add_argument("--engagement", metavar="ID", help="the engagement to open (default: pick it on the start page)")
    p.add_argument("--port", type=int, metavar="N", help="port to listen on (default: 8866, or a free one if that is taken)")
    p.set_defaults(func=cmd_workshop)

    p = sub.add_parser(
        "kernelspec",
        help="install the csm-nb kernel (fast start) for plain papermill and Jupyter",
        description="Install the kernel spec 'csm-nb': a Python kernel forked from a warm server that has "
        "ipykernel, pandas, matplotlib and the workbooks' modules imported, so each notebook starts in a "
        "fresh process without paying its imports. Then a scheduler runs a workbook on the fast path with "
        "plain papermill: papermill -k csm-nb IN.ipynb OUT.ipynb -p engagement_id ID",
    )
    place = p.add_mutually_exclusive_group()
    place.add_argument(
        "--prefix", metavar="DIR", help="install under DIR/share/jupyter/kernels (default: this Python environment)"
    )
    place.add_argument("--user", action="store_true", help="install for this user (~/.local/share/jupyter/kernels)")
    p.set_defaults(func=cmd_kernelspec)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from csm_nb.run import lean_imports

    lean_imports()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "db"):
        args.db = None
    try:
        if args.db is not None and not str(args.db).strip():
            raise CsmError("--db is empty; give the store's file path (e.g. --db csm-nb.sqlite) or leave --db out")
        return int(args.func(args) or EXIT_OK)
    except CsmError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # a path a person gave: a file where a folder should be, a full disk, no permission
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {printable(where + (exc.strerror or str(exc)))}; check the path and try again", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
