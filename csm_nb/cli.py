"""``csm-nb``: the command line (SPEC section 3).

A thin layer: each command parses its arguments, calls a function in
``csm_nb.service`` or ``csm_nb.runner`` and prints. User errors print one line,
``error: <message>``, and exit 1; usage errors exit 2.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, config
from .errors import CsmError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _say(text: str) -> None:
    print(text, flush=True)


def cmd_import(args: argparse.Namespace) -> int:
    from .service import import_engagements

    for item in import_engagements(args.files, db=args.db):
        _say(f"{item.status} {item.engagement_id} (revision {item.revision}) from {item.source}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .service import export_engagement

    text = export_engagement(args.engagement_id, db=args.db, to=args.output)
    if args.output:
        _say(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import coerce_parameter, run_workbook

    parameters = {name: coerce_parameter(value) for name, value in args.parameter or []}
    result = run_workbook(args.workbook, engagement_id=args.engagement, out=args.out, parameters=parameters, db=args.db)
    for path in result.outputs.values():
        _say(str(path))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from .store import Store

    with Store(args.db) as store:
        rows = store.engagements()
    if not rows:
        _say(f"no engagements in {config.db_path(args.db)}; import one with: csm-nb import FILE")
    for e in rows:
        _say(f"{e.id}\t{e.customer}\trevision {e.revision}\t{e.updated_at} by {e.updated_by}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .service import example_files, import_engagements, render_reports

    imported = import_engagements(example_files(), db=args.db)
    _say(f"store: {config.db_path(args.db)}")
    reports: list[Path] = []
    for item in imported:
        for result in render_reports(item.engagement_id, db=args.db, out=args.out):
            html = result.outputs[".html"]
            reports.append(html)
            _say(f"{'up to date' if result.skipped else 'rendered'}: {html}")
    _say(f"{len(reports)} HTML reports for {len(imported)} engagements under {config.runs_dir(args.out)}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", metavar="PATH", default=argparse.SUPPRESS,
        help="SQLite store file (default: $CSM_NB_DB, else csm-nb.sqlite in the project)",
    )
    parser = argparse.ArgumentParser(
        prog="csm-nb", parents=[common],
        description="Consultative workbooks for Customer Success Managers: import engagements, run workbooks, render reports.",
    )
    parser.add_argument("--version", action="version", version=f"csm-nb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("demo", parents=[common], help="seed the store with the example engagements and render their reports",
                       description="Import the example engagements and render every report that applies into runs/. Safe to repeat: unchanged reports are skipped.")
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", parents=[common], help="import engagement file(s) into the store",
                       description="Validate and import engagement files (YAML, schema csm-nb/engagement@1). All files are checked before any is written; an existing id is replaced.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", parents=[common], help="write an engagement from the store as an engagement file",
                       description="Export one engagement as YAML (to standard output, or to --output FILE).")
    p.add_argument("engagement_id", metavar="ID")
    p.add_argument("-o", "--output", metavar="FILE")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("run", parents=[common], help="run one workbook headlessly for one engagement",
                       description="Execute WORKBOOK for an engagement with papermill and write DIR/ID/WORKBOOK.{ipynb,html,json}.")
    p.add_argument("workbook", metavar="WORKBOOK", help="workbook id, e.g. cash_flow")
    p.add_argument("--engagement", required=True, metavar="ID")
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="set a workbook parameter, e.g. -p discount_rate 0.002 (repeatable)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("list", parents=[common], help="list the engagements in the store")
    p.set_defaults(func=cmd_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "db"):
        args.db = None
    try:
        return int(args.func(args) or EXIT_OK)
    except CsmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
