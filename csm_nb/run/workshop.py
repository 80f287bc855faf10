"""``csm-nb workshop``: the workshop forms as an app, without code, for a room with a projector.

The app is Voilà (:mod:`csm_nb.run.workshop_server`) on the workbooks folder,
in a process of its own that listens on 127.0.0.1 only and asks for a token.
``workshop_command`` checks what was asked (the workbook, the engagement) and
builds the command line, so a mistyped id is one line before anything starts;
``run_workshop`` runs it in the foreground like ``csm-nb lab``: Ctrl+C or
SIGTERM stops the server, its kernels and its fork server, and nothing of it
is left (no process, no socket).
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from dataclasses import dataclass
from urllib.parse import urlencode

from csm_nb.run.lab import ServerCommand

STOP_TIMEOUT = 10.0  # seconds the server gets to shut its kernels down before its group is killed


@dataclass(frozen=True)
class WorkshopCommand(ServerCommand):
    url: str  # the first page, with the token


def open_path(*, workbook: str | None, engagement: str | None) -> str:
    """The app's first page: the workbook for the engagement when both are given, else the start page.

    >>> open_path(workbook="outcome_discovery", engagement="acme")
    '/csm/open?engagement=acme&workbook=outcome_discovery'
    >>> open_path(workbook=None, engagement="acme")
    '/?engagement=acme'
    """
    query = {"engagement": engagement or "", "workbook": workbook or ""}
    query = {k: v for k, v in query.items() if v}
    if workbook and engagement:
        return "/csm/open?" + urlencode(query)
    return "/" + ("?" + urlencode(query) if query else "")


DEFAULT_PORT = 8866  # Voilà's own; the same address each time lets the browser keep the app's scripts cached


def free_port(preferred: int = 0) -> int:
    """``preferred`` if nothing listens on it on 127.0.0.1, else a port the system picks that is free now."""
    for port in dict.fromkeys((preferred, 0)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free TCP port on 127.0.0.1")


def workshop_command(
    *,
    workbook: str | None = None,
    engagement: str | None = None,
    db: str | os.PathLike[str] | None = None,
    port: int | None = None,
    open_browser: bool = True,
    token: str | None = None,
    author: str | None = None,
) -> WorkshopCommand:
    """The command, environment and first URL of the workshop app; a bad workbook or engagement is one line."""
    from csm_nb.run.lab import server_environment, workbooks_and_store
    from csm_nb.run.workshop_server import check_engagement, workbook_by_id

    workbooks, store = workbooks_and_store(db)
    if workbook:
        workbook = workbook_by_id(workbook).id
    if engagement:
        engagement = check_engagement(store, engagement)
    port = int(port) if port else free_port(DEFAULT_PORT)
    token = token or secrets.token_urlsafe(24)
    first = open_path(workbook=workbook, engagement=engagement)
    env = server_environment(workbooks=workbooks, store=store, author=author)
    argv = [
        sys.executable,
        "-m",
        "csm_nb.run.workshop_server",
        f"--db={store}",
        f"--port={port}",
        f"--token={token}",
        f"--open-path={first}",
    ]
    if not open_browser:
        argv.append("--no-browser")
    sep = "&" if "?" in first else "?"
    url = f"http://127.0.0.1:{port}{first}{sep}{urlencode({'token': token})}"
    return WorkshopCommand(argv, env, workbooks, store, url)


def run_workshop(**options: object) -> int:
    """Start the workshop app in the foreground; its exit code (Ctrl+C or SIGTERM stops it and its kernels)."""
    import subprocess

    from csm_nb.run.lab import supervise

    command = workshop_command(**options)  # type: ignore[arg-type]
    print(f"store: {command.db}{'' if command.db.is_file() else ' (new: create an engagement on the start page)'}", flush=True)
    print(f"workshop: {command.url}", flush=True)
    print("Ctrl+C stops it.", flush=True)
    process = subprocess.Popen(command.argv, env=command.env, cwd=command.cwd, start_new_session=True)
    return supervise(process, timeout=STOP_TIMEOUT)
