"""Kernels forked from a warm parent: one fresh process per notebook, without paying its imports.

A kernel that imports ipykernel, numpy, pandas, matplotlib and ``csm_nb``
spends about 1.3 s of CPU before it runs a line of a notebook. The fork
server pays that once: it is a plain Python process that imports all of
it (and draws one chart, so matplotlib's fonts and the house style are
loaded; once idle it also builds the HTML exporter), then waits on a Unix
socket in a folder only its user can enter (``mkdtemp``, mode 0700). For each
kernel asked of it, it forks; the child becomes that notebook's ipykernel
(``IPKernelApp`` on the connection file jupyter_client wrote) and is killed
after the one notebook. So each notebook still has a process of its own,
started from the same clean state: whatever a notebook imports or changes
(a module global, an environment variable, the working directory, a
matplotlib rcParam) dies with its process and is never seen by the next.

How it plugs in: ``ForkProvisioner`` is a jupyter_client kernel provisioner
(entry point ``csm-nb-fork``). ``KernelPool`` starts a server of its own and
hands its socket to the provisioner through a kernel spec made in code; the
installed kernel spec ``csm-nb`` (``csm-nb kernelspec``) names the same
provisioner without a socket, and then one server per process is started on
first use, so plain papermill runs the fast path too::

    papermill -k csm-nb workbooks/05_cash_flow.ipynb out.ipynb -p engagement_id ad-campaign

Safety of the fork: the server never starts a thread or opens a ZMQ socket
before it forks (checked at start); numerical libraries are held to one
thread there (``OPENBLAS_NUM_THREADS`` and friends, unless already set),
which also keeps two kernels on a two-core machine from fighting over the
cores. Each child gets a new session and process group (so an interrupt or
kill reaches that kernel alone), the environment and working directory the
kernel manager asked for, a reseeded numpy random state, and the server as
its parent handle, so ipykernel's own parent poller ends the kernel when the
server goes; the server ends when its owner goes (it polls for that twice a
second). It runs with ``python -P`` in its own folder, so a stray module in
the caller's working directory is never imported in place of a real one;
each kernel gets its working directory on ``sys.path``, as a kernel launched
the ordinary way has.

``CSM_NB_FORK=0`` turns it off (kernels are then launched the ordinary way).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from csm_nb.errors import RunError

PROVISIONER_NAME = "csm-nb-fork"
KERNEL_NAME = "csm-nb"
# Thread counts for numerical libraries in the server (and so in every kernel), unless already set.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
MAX_REQUEST_BYTES = 1 << 20
_ENV_SWITCH = "CSM_NB_FORK"


def enabled() -> bool:
    """Forking is used where the platform has ``fork`` and ``CSM_NB_FORK`` is not ``0``."""
    return hasattr(os, "fork") and os.environ.get(_ENV_SWITCH, "1").strip() not in {"0", "false", "no", "off"}


def used_for(kernel_name: str) -> bool:
    """Are kernels of this name forked? Python's own (``python3``), when forking is enabled; a kernel
    asked for by another name is started the ordinary way."""
    return enabled() and kernel_name == "python3"


# -- the owner's side -----------------------------------------------------------------------
class ForkServer:
    """A fork server process owned by this process, on a socket in a private folder of its own.

    ``ForkServer.start(warm_up)`` launches it and returns at once (the
    server imports while the caller goes on); kernels and exports are then
    asked of it through ``socket_path``; ``stop()`` ends it and removes the folder.
    """

    def __init__(self, folder: Path, *, warm_up: str = "") -> None:
        self.folder, self.warm_up = Path(folder), warm_up
        self.socket_path = self.folder / "fork.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, warm_up: str = "") -> ForkServer:
        from csm_nb.run.sockets import new_socket_dir

        server = cls(new_socket_dir(), warm_up=warm_up)
        env = {**ONE_THREAD, **os.environ}
        server.process = subprocess.Popen(
            # -P: the working directory is not put on sys.path, so a stray numbers.py there is never imported
            # in place of the standard library's; the server works in its own folder.
            [sys.executable, "-P", "-m", "csm_nb.run.forkserver", str(server.socket_path), warm_up, str(os.getpid())],
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=server.folder,
            start_new_session=True,  # Ctrl+C in the terminal is the owner's to handle, not the server's
        )
        (server.folder / "fork.pid").write_text(str(server.process.pid), encoding="ascii")
        return server

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cpu_seconds(self) -> float | None:
        """The CPU the server itself has used (its imports, once), not its kernels'."""
        from csm_nb.run.sockets import cpu_seconds

        return cpu_seconds(self.process.pid) if self.process is not None and self.running else None

    def stop(self) -> None:
        """End the server (kernels it forked end with it: their parent poller sees it go) and remove its folder."""
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.terminate()
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)


async def _ask(socket_path: str | Path, request: dict[str, Any], *, timeout: float) -> int | None:
    """Send one request to the server at ``socket_path`` and return the pid it forked (None: the server
    is not ready for that kind yet). Waits (up to ``timeout``) for a server that is still importing."""
    payload = json.dumps(request).encode() + b"\n"
    deadline = time.monotonic() + timeout
    while True:
        try:
            reader, writer = await asyncio.open_unix_connection(str(socket_path))
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if _server_gone(Path(socket_path)):
                raise RunError("the kernel fork server stopped (its error, if any, is printed above)") from None
            if time.monotonic() > deadline:
                raise RunError(f"the kernel fork server at {socket_path} did not answer within {timeout:g} s") from None
            await asyncio.sleep(0.02)
    try:
        writer.write(payload)
        await writer.drain()
        reply = json.loads(await asyncio.wait_for(reader.readline(), timeout) or b"{}")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    if reply.get("not_ready"):
        return None
    if "pid" not in reply:
        raise RunError(f"the kernel fork server could not start a {request['kind']}: {reply.get('error', 'no answer')}")
    return int(reply["pid"])


def _server_gone(socket_path: Path) -> bool:
    """Has the server behind ``socket_path`` ended? (its owner wrote its pid beside the socket)"""
    from csm_nb.run.sockets import alive

    try:
        pid = int((socket_path.parent / "fork.pid").read_text(encoding="ascii"))
    except (OSError, ValueError):
        return False
    return not alive(pid)


async def request_kernel(socket_path: str | Path, *, argv: list[str], cwd: str, env: dict[str, str], timeout: float) -> int:
    """Ask the server for a kernel started with ``argv`` (a kernel spec's command line); returns its pid."""
    pid = await _ask(socket_path, {"kind": "kernel", "argv": argv, "cwd": cwd, "env": env}, timeout=timeout)
    assert pid is not None  # a server is always ready for kernels
    return pid


async def export_report(socket_path: str | Path, *, notebook: Path, html: Path, stamp: str, timeout: float) -> float | None:
    """Export ``notebook`` to ``html`` in a child forked from the server (the exporter is loaded there, and
    the exports of many notebooks run on every core); returns the CPU seconds the export took. None: the
    server has not loaded the exporter yet (export by yourself). An export that fails raises ``RunError``."""
    status = html.with_name(html.name + ".status")
    pid = await _ask(
        socket_path,
        {"kind": "export", "notebook": str(notebook), "html": str(html), "stamp": stamp, "status": str(status)},
        timeout=timeout,
    )
    if pid is None:
        return None
    process, deadline = ForkedProcess(pid), time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            raise RunError(f"exporting {notebook.name} took more than {timeout:g} s")
        await asyncio.sleep(0.005)
    try:
        outcome = json.loads(status.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        outcome = {"ok": False, "error": "the exporting process ended without a word"}
    finally:
        status.unlink(missing_ok=True)
    if not outcome.get("ok"):
        raise RunError(f"could not export {notebook.name} to HTML: {outcome.get('error')}")
    return float(outcome.get("cpu_s") or 0.0)


class ForkedProcess:
    """What jupyter_client's local provisioner needs of a ``Popen``, for a kernel the server forked.

    The kernel is the server's child, not ours, so its exit is seen by its
    pid going away (the server reaps its children at once)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        from csm_nb.run.sockets import alive

        if self.returncode is None and not alive(self.pid):
            self.returncode = 0  # its exit status went to the server
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            time.sleep(0.01)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _provisioner_class() -> type:
    from jupyter_client.provisioning import LocalProvisioner
    from traitlets import Unicode

    class ForkProvisioner(LocalProvisioner):  # type: ignore[misc]
        """A kernel provisioner that forks kernels from a warm server (see the module docstring)."""

        server_socket = Unicode("", config=True, help="The fork server's socket; empty: this process's own server")

        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            socket_path = self.server_socket or str(shared_server().socket_path)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
            pid = await request_kernel(socket_path, argv=list(cmd), cwd=cwd, env=env, timeout=120.0)
            self.process = ForkedProcess(pid)
            self.pid, self.pgid, self.cwd = pid, pid, cwd
            return self.connection_info

    return ForkProvisioner


def __getattr__(name: str) -> Any:
    # The class is built on first use so that importing this module does not import jupyter_client.
    if name == "ForkProvisioner":
        cls = _provisioner_class()
        globals()["ForkProvisioner"] = cls
        return cls
    raise AttributeError(name)


def kernel_spec(server_socket: str = "") -> dict[str, Any]:
    """The kernel spec (``kernel.json``) of a Python kernel forked by the server at ``server_socket``
    (empty: the process's own server, started on first use)."""
    provisioner: dict[str, Any] = {"provisioner_name": PROVISIONER_NAME}
    if server_socket:
        provisioner["config"] = {"server_socket": server_socket}
    return {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (csm-nb, fast start)",
        "language": "python",
        "metadata": {"kernel_provisioner": provisioner, "debugger": False},
    }


def spec_manager(server_socket: str) -> Any:
    """A kernel spec manager whose every kernel is forked by the server at ``server_socket``."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class _Forked(KernelSpecManager):  # type: ignore[misc]
        def get_kernel_spec(self, kernel_name: str) -> Any:
            return KernelSpec(resource_dir="", **kernel_spec(server_socket))

    return _Forked()


_SHARED: ForkServer | None = None
_SHARED_LOCK = threading.Lock()


def shared_server() -> ForkServer:
    """This process's own server (for the installed ``csm-nb`` kernel spec), started on first use and
    warmed with every workbook's modules; it ends with this process."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None or not _SHARED.running:
            import atexit

            from csm_nb.run.registry import WORKBOOKS, warm_up_code

            _SHARED = ForkServer.start(warm_up_code([e.id for e in WORKBOOKS]))
            atexit.register(_SHARED.stop)
        return _SHARED


def install_kernel_spec(*, prefix: str | None = None, user: bool = False) -> str:
    """Install the ``csm-nb`` kernel spec (default: into this Python environment); returns its folder."""
    import tempfile

    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "kernel.json").write_text(json.dumps(kernel_spec(), indent=1) + "\n", encoding="utf-8")
        return KernelSpecManager().install_kernel_spec(
            folder, KERNEL_NAME, user=user, prefix=None if user else (prefix or sys.prefix)
        )


# -- the server's side ------------------------------------------------------------------------
def serve(socket_path: str, warm_up: str, owner: int) -> None:
    """Import everything once, then fork a kernel for every request until the owner goes.

    The server answers as soon as the kernels' modules are in (ipykernel and
    ``warm_up``); the HTML exporter (nbconvert, about 1.7 s of imports) is
    loaded once the first kernels are out and no request waits, so the first
    kernel of a single run is not held up by it; an export asked for before
    that is answered "not ready" and the asker exports by itself. An export is
    a child of its own too: it starts from the server's clean state, never
    from a notebook's.
    """
    # ``owner`` is the pid of the process that started the server: if it is already gone, so is the server.
    from csm_nb.run import lean_imports

    lean_imports()
    # What IPKernelApp.initialize would import in every child (0.1 s of it is the debugger's debugpy).
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # no "frozen modules" warning on stderr
    import ipykernel.debugger  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import ipykernel.zmqshell  # noqa: F401

    exec(compile(warm_up or "pass", "<warm-up>", "exec"), {"__name__": "__csm_nb_warm_up__"})
    _check_no_threads()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped at once: a gone pid is a gone kernel
    server = os.getpid()

    def stop(*_: Any) -> None:
        # Straight out: SystemExit raised here could land inside a weakref callback and be printed as
        # "Exception ignored"; nothing in the server needs flushing. A forked child never removes the socket.
        if os.getpid() == server:
            with contextlib.suppress(OSError):
                os.unlink(socket_path)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    partial = socket_path + ".partial"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(partial)
    listener.bind(partial)
    listener.listen(64)
    os.rename(partial, socket_path)  # the socket appears ready to accept, never half-made
    exporter, served = False, 0
    try:
        while os.getppid() == owner:
            # Once the first kernels are out and nobody has asked for 0.2 s, load the exporter.
            # Otherwise wake up every 0.5 s to see whether the owner is still there.
            listener.settimeout(0.2 if not exporter and served else 0.5)
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                if not exporter and served:
                    _load_exporter()
                    exporter = True
                continue
            served += 1
            with conn:
                conn.setblocking(True)
                conn.settimeout(10)
                try:
                    request = _read_request(conn)
                except (OSError, ValueError) as exc:
                    _reply(conn, {"error": f"bad request: {exc}"})
                    continue
                if request["kind"] == "export" and not exporter:
                    _reply(conn, {"not_ready": True})  # the asker exports by itself rather than wait for the import
                    continue
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    conn.close()
                    if request["kind"] == "export":
                        _export(request)  # never returns
                    _become_kernel(request)  # never returns
                _reply(conn, {"pid": pid})
    finally:
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(socket_path)


def _load_exporter() -> None:
    import nbformat

    from csm_nb.run.export import export_html

    export_html(nbformat.v4.new_notebook())  # builds the exporter and loads its templates
    _check_no_threads()


def _check_no_threads() -> None:
    if threading.active_count() != 1:  # forking with threads running can deadlock a child
        raise SystemExit(f"csm-nb fork server: {threading.active_count()} threads after warm-up; not forking")


def _read_request(conn: socket.socket) -> dict[str, Any]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            raise ValueError("request too large")
    request = json.loads(data)
    if not isinstance(request, dict) or request.get("kind") not in {"kernel", "export"}:
        raise ValueError("expected {kind: kernel | export, ...}")
    if request["kind"] == "kernel" and not isinstance(request.get("argv"), list):
        raise ValueError("expected {kind: kernel, argv, cwd, env}")
    if request["kind"] == "export" and not all(isinstance(request.get(k), str) for k in ("notebook", "html", "stamp", "status")):
        raise ValueError("expected {kind: export, notebook, html, stamp, status}")
    return request


def _reply(conn: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(message).encode() + b"\n")


def kernel_arguments(argv: list[str]) -> list[str]:
    """The kernel app's own arguments from a kernel spec's command line (what follows the launcher module).

    >>> kernel_arguments(["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "/tmp/k.json", "--x=1"])
    ['-f', '/tmp/k.json', '--x=1']
    """
    for i, part in enumerate(argv):
        if part in {"ipykernel_launcher", "ipykernel"} and i > 0 and argv[i - 1] == "-m":
            rest = argv[i + 1 :]
            return rest[1:] if part == "ipykernel" and rest[:1] == ["kernel"] else rest
    return list(argv[1:])


def _export(request: dict[str, Any]) -> None:
    """In a forked child: export one executed notebook to its report page, and say how it went in ``status``."""
    code, outcome = 1, {"ok": False, "error": "the export stopped"}
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        from csm_nb.run.export import export_file

        export_file(request["notebook"], request["html"], request["stamp"])
        usage = resource.getrusage(resource.RUSAGE_SELF)
        code, outcome = 0, {"ok": True, "cpu_s": usage.ru_utime + usage.ru_stime}
    except BaseException as exc:
        outcome = {"ok": False, "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}
    finally:
        with contextlib.suppress(Exception):
            Path(request["status"]).write_text(json.dumps(outcome), encoding="utf-8")
        os._exit(code)


def _become_kernel(request: dict[str, Any]) -> None:
    """In the forked child: a session of its own, the asked-for directory and environment, then ipykernel."""
    code = 1
    try:
        os.setsid()
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL if signum != signal.SIGINT else signal.default_int_handler)
        env = {str(k): str(v) for k, v in (request.get("env") or {}).items()}
        env["JPY_PARENT_PID"] = str(os.getppid())  # ipykernel ends this kernel when the server goes
        os.environ.clear()
        os.environ.update(env)
        os.chdir(request.get("cwd") or "/")
        sys.path.insert(0, os.getcwd())  # as `python -m ipykernel_launcher` has it: modules beside the notebook import
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        if "numpy" in sys.modules:  # every child would otherwise draw the same "random" numbers
            sys.modules["numpy"].random.seed()
        from ipykernel.kernelapp import IPKernelApp

        # ipykernel read JPY_PARENT_PID when the server imported it, so the parent is also named here.
        arguments = [*kernel_arguments(list(request["argv"])), f"--IPKernelApp.parent_handle={os.getppid()}"]
        sys.argv = [sys.executable, "-m", "ipykernel_launcher", *arguments]
        app = IPKernelApp.instance()
        app.initialize(sys.argv[3:])
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException as exc:  # nothing may return into the server's loop
        with contextlib.suppress(Exception):
            sys.stderr.write(f"csm-nb forked kernel: {type(exc).__name__}: {exc}\n")
            sys.stderr.flush()
    finally:
        os._exit(code)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
