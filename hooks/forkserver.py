"""Start Python programs as forks of one process that has already imported torch.

Every chapter of the site runs in its own Jupyter kernel, and every kernel would spend
about 3.5 s importing torch and transformers before its first cell: on this project that
is most of a chapter's time. Each build starts its own server (``start``: a server of an
earlier build, such as the last rebuild of ``mkdocs serve``, is stopped first) and stops
it when it ends; it imports those third-party modules (never ``bertsteps``, whose sources
may change between two builds) and then forks a fresh child for every kernel (and for the
explorer export), so each child starts with them already in memory and nothing else: its
own process, its own globals, a clean IPython namespace. Nothing is executed in the server
besides imports.

Forking is safe only in a process with one thread and no CUDA context: before each fork
the server checks both (``fork_hazard``; threads counted in ``/proc/self/task``, native
ones included) and otherwise answers "refused", and ``run`` starts the module the ordinary
way. The server runs with ``OPENBLAS_NUM_THREADS=1`` so that importing numpy and torch
starts no BLAS thread pool (numpy's matrix products in a kernel then use one thread;
torch's own threads are unaffected). Its socket lives in a folder of mode 0700 that only
this user can enter, checked before the server listens. ``run`` waits at most
``FORK_DEADLINE_S`` for its child, then runs the module itself.

    python hooks/forkserver.py serve SOCKET MODULE...   # import MODULEs, then fork on request
    python hooks/forkserver.py run MODULE ARG...        # like `python -m MODULE ARG...`

``run`` is what a kernelspec or a hook starts. With ``$BERTSTEPS_FORKSERVER`` naming a
live server's socket it hands its standard streams, environment, working folder and
arguments to the server, which forks a child that runs ``MODULE`` as ``__main__``; ``run``
then stands in for that child: signals it receives are passed on, and it exits with the
child's status. Without a server it simply becomes ``python -m MODULE ARG...``. If ``run``
is killed, the server kills its child, so no orphan outlives the build.

A child gets the caller's environment, but modules the server preloaded were imported
with the server's, which is the build's: the same as a kernel's apart from Jupyter's own
variables. So only modules that do not read those at import time are preloaded
(ipykernel and matplotlib are not), and each child reseeds Python's and numpy's random
generators, as a new process would have its own.
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import os
import runpy
import selectors
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

ENV = "BERTSTEPS_FORKSERVER"
# set (to anything) to start no server: every kernel is a new process (benchmarks/site_build.py)
DISABLE_ENV = "BERTSTEPS_NO_FORKSERVER"
# how long `run` waits for the server's child before running the module alone
FORK_DEADLINE_S = float(os.environ.get("BERTSTEPS_FORK_DEADLINE_S", "120"))
_HEADER = struct.Struct("!I")  # length of the JSON request that follows


@dataclass
class Job:
    """What a forked child runs: a module as ``__main__``, with the caller's world."""

    module: str
    args: list[str]
    env: dict[str, str]
    cwd: str
    fds: list[
        int
    ]  # the caller's stdin, stdout and stderr, received over the socket


# ---------------------------------------------------------------------------- server


def serve(path: str, preload: list[str]) -> Job | None:
    """Import ``preload``, then fork a child per request on the UNIX socket ``path``.

    Returns only in a forked child, with the job it must run; the server itself runs
    until its parent (the build) exits or it is sent SIGTERM.
    """
    problem = private_folder_problem(Path(path).parent)
    if problem:
        print(f"forkserver: not serving: {problem}", file=sys.stderr)
        return None
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(
        16
    )  # callers may connect while the imports below still run
    parent = os.getppid()
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as error:
            print(
                f"forkserver: could not preload {name}: {error}",
                file=sys.stderr,
            )

    stopping = False
    refused = False  # said once why the server does not fork

    def on_sigterm(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_sigterm)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    children: dict[
        int, socket.socket
    ] = {}  # pid -> the connection of its `run`
    while not stopping and os.getppid() == parent:
        for key, _ in selector.select(timeout=0.05):
            if key.fileobj is listener:
                connection, _ = listener.accept()
                job = _receive(connection)
                if job is None:
                    connection.close()
                    continue
                hazard = fork_hazard()
                if hazard:  # the caller runs the module the ordinary way
                    if not refused:
                        print(
                            f"forkserver: not forking: {hazard}",
                            file=sys.stderr,
                        )
                    refused = True
                    for fd in job.fds:
                        os.close(fd)
                    try:
                        connection.sendall(f"refused {hazard}\n".encode())
                    except OSError:
                        pass
                    connection.close()
                    continue
                pid = os.fork()
                if (
                    pid == 0
                ):  # the child: drop the server's sockets, become the job
                    selector.close()
                    listener.close()
                    connection.close()
                    for other in children.values():
                        other.close()
                    return job
                for fd in job.fds:
                    os.close(fd)
                connection.sendall(f"{pid}\n".encode())
                children[pid] = connection
                selector.register(connection, selectors.EVENT_READ, pid)
            else:  # a `run` went away (killed): its child must not outlive it
                pid = key.data
                gone = key.fileobj
                assert isinstance(gone, socket.socket)
                if not gone.recv(1):
                    selector.unregister(gone)
                    _kill(pid)
        for pid, connection in list(children.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                code = (
                    128 - code if code < 0 else code
                )  # killed by signal N: 128 + N, as a shell says
                try:
                    connection.sendall(f"{code}\n".encode())
                except OSError:
                    pass
                if connection.fileno() >= 0:
                    try:
                        selector.unregister(connection)
                    except (KeyError, ValueError):
                        pass
                connection.close()
                del children[pid]
    for pid in children:
        _kill(pid)
    listener.close()
    Path(path).unlink(missing_ok=True)
    return None


def fork_hazard() -> str:
    """Why forking this process now would be unsafe, or ``""``.

    A fork copies only the calling thread: a lock another thread held stays locked in the
    child forever. So the server forks only while it has a single thread (native threads
    counted, such as a BLAS library's pool), and never once CUDA is initialised (a CUDA
    context does not survive a fork).
    """
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:  # not Linux: Python's own threads at least
        threads = threading.active_count()
    if threads != 1:
        return f"{threads} threads are running"
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_initialized():
                return "CUDA is initialised"
        except (
            Exception
        ) as error:  # a torch without the check: assume the worst
            return f"cannot tell whether CUDA is initialised ({error})"
    return ""


def private_folder_problem(folder: Path) -> str:
    """Why ``folder`` is not private to this user (owned by them, mode 0700), or ``""``."""
    try:
        info = folder.lstat()
    except OSError as error:
        return f"{folder}: {error}"
    if not stat.S_ISDIR(info.st_mode):
        return f"{folder} is not a folder"
    if info.st_uid != os.getuid():
        return f"{folder} belongs to another user"
    if stat.S_IMODE(info.st_mode) != 0o700:
        return (
            f"{folder} has mode {oct(stat.S_IMODE(info.st_mode))}, not 0o700"
        )
    return ""


def _receive(connection: socket.socket) -> Job | None:
    """Read one request: the caller's stdin, stdout and stderr, then the job as JSON."""
    connection.settimeout(
        10
    )  # a caller that connects and says nothing must not stall the server
    try:
        header, fds, _, _ = socket.recv_fds(connection, _HEADER.size, 3)
        if len(header) < _HEADER.size or len(fds) != 3:
            return None
        (size,) = _HEADER.unpack(header)
        payload = b""
        while len(payload) < size:
            chunk = connection.recv(size - len(payload))
            if not chunk:
                return None
            payload += chunk
    except OSError:
        return None
    connection.settimeout(None)
    request = json.loads(payload)
    return Job(
        request["module"], request["args"], request["env"], request["cwd"], fds
    )


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def become(job: Job) -> None:
    """In the forked child: take the caller's streams, environment and folder, run the job."""
    for target, fd in enumerate(job.fds):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False, buffering=1)
    sys.stderr = open(2, "w", closefd=False, buffering=1)
    os.environ.clear()
    os.environ.update(job.env)
    os.chdir(job.cwd)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _reseed()
    sys.argv = [job.module, *job.args]
    sys.path[0] = (
        job.cwd
    )  # where `python -m` looks first (the server had hooks/ there)
    runpy.run_module(job.module, run_name="__main__", alter_sys=True)


def _reseed() -> None:
    """A forked child starts with the server's random state; give it its own, as a new process has."""
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()


# ---------------------------------------------------------------------------- client


def run(module: str, args: list[str]) -> int:
    """Run ``module`` with ``args`` in a fork of the server, standing in for it; returns its status."""
    signals = (
        signal.SIGINT,
        signal.SIGTERM,
        signal.SIGHUP,
        signal.SIGQUIT,
        signal.SIGUSR1,
        signal.SIGUSR2,
    )
    pending: list[int] = []  # signals that came before the child's pid did
    child = 0
    handle: int | None = (
        None  # a pidfd for the child: the child itself, even once its pid is reused
    )

    def forward(signum: int, frame: object) -> None:
        if not child:
            pending.append(signum)
            return
        try:
            if handle is None:
                os.kill(child, signum)
            elif handle >= 0:
                signal.pidfd_send_signal(handle, signum)
        except ProcessLookupError:
            pass

    for signum in signals:  # from the start: a signal sent while the server forks waits for the child
        signal.signal(signum, forward)
    path = os.environ.get(ENV)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if not path:
            raise OSError("no fork server")
        connection.connect(path)
        env = {k: v for k, v in os.environ.items() if k != ENV}
        request = json.dumps(
            {"module": module, "args": args, "env": env, "cwd": os.getcwd()}
        ).encode()
        connection.settimeout(FORK_DEADLINE_S)  # the server may be importing
        socket.send_fds(connection, [_HEADER.pack(len(request))], [0, 1, 2])
        connection.sendall(request)
        stream = connection.makefile("rb")
        line = stream.readline()
        if not line:
            raise OSError("the fork server closed the connection")
        if not line.strip().isdigit():  # "refused <why>": not safe to fork now
            raise OSError(line.decode(errors="replace").strip())
        connection.settimeout(None)  # the child runs as long as it runs
    except OSError:  # no server, it is gone, late or refused: the ordinary way
        connection.close()
        for signum in signals:
            signal.signal(signum, signal.SIG_DFL)
        for number in pending:  # what this process would have done with them
            os.kill(os.getpid(), number)
        os.execv(sys.executable, [sys.executable, "-m", module, *args])
    # by pidfd, not by pid: with pids wrapping around every few minutes on a busy machine, a
    # signal sent by pid after the server reaped the child could hit another build
    try:
        handle = os.pidfd_open(int(line))
    except ProcessLookupError:  # already gone: nothing to pass signals on to
        handle = -1
    except (AttributeError, OSError):  # not Linux 5.3 or later: by pid
        handle = None
    child = int(line)
    for number in pending:
        forward(number, None)
    line = stream.readline()  # the child's exit status
    return int(line) if line.strip() else 1


# ---------------------------------------------------------------------------- the build's side


class _Build:
    """This process's server: at most one, started for one build."""

    server: subprocess.Popen[bytes] | None = None
    build = ""  # the build it was started for
    socket: Path | None = None
    stop_registered = False


def socket_path() -> str:
    """The socket this process's server listens on (or will): what ``$BERTSTEPS_FORKSERVER`` names.

    It is in a temporary folder of this process's own (a unique name, mode 0700: only this
    user can enter it; the server checks before it listens), so two builds at once, each
    with its server, never meet; in the temporary folder because a UNIX socket's path may
    not be longer than 107 bytes.
    """
    if _Build.socket is None:
        folder = Path(tempfile.mkdtemp(prefix="bertsteps-forkserver-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _Build.socket = folder / "server.sock"
    return str(_Build.socket)


def running() -> bool:
    """Whether this process has started a server that is still alive."""
    return _Build.server is not None and _Build.server.poll() is None


def start(preload: list[str], build: str, reason: str = "") -> None:
    """Start a server for ``build`` (it imports ``preload`` in the background).

    A server of the same build is kept; one of an earlier build (``mkdocs serve`` rebuilds
    in one process) is stopped first, so no kernel ever runs a module imported before
    the sources changed. Only on Linux: elsewhere forking a process that has imported torch
    is unsafe (macOS) or impossible (Windows), and ``run`` finds no server and starts
    programs the ordinary way.
    """
    if not sys.platform.startswith("linux") or os.environ.get(DISABLE_ENV):
        return
    if running() and _Build.build == build:
        return
    stop()
    logging.getLogger("mkdocs.hooks.forkserver").info(
        "fork server started%s; it imports %s once for every kernel",
        f" ({reason})" if reason else "",
        ", ".join(preload),
    )
    path = socket_path()
    Path(path).unlink(missing_ok=True)
    # no BLAS thread pool in the server: a fork copies only the calling thread (fork_hazard)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    _Build.server = subprocess.Popen(
        [sys.executable, __file__, "serve", path, *preload],
        stdin=subprocess.DEVNULL,
        env=env,
    )
    _Build.build = build
    if not _Build.stop_registered:
        atexit.register(stop)
        _Build.stop_registered = True


def stop_unless(build: str) -> None:
    """Stop this process's server unless it was started for ``build``."""
    if _Build.build != build:
        stop()


def stop() -> None:
    """Stop the server and the children it still has (there are none after a build)."""
    server, _Build.server, _Build.build = _Build.server, None, ""
    if server is not None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if _Build.socket is not None:
        _Build.socket.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "serve":
        job = serve(argv[1], argv[2:])
        if job is None:
            return 0
        become(job)  # runs until the module returns or raises SystemExit
        return 0
    if len(argv) >= 2 and argv[0] == "run":
        return run(argv[1], argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
