"""hooks/forkserver.py: the build's kernels are forks of one process that imported torch once."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "hooks" / "forkserver.py"

spec = importlib.util.spec_from_file_location("forkserver", SCRIPT)
assert spec is not None and spec.loader is not None
forkserver = importlib.util.module_from_spec(spec)
sys.modules["forkserver"] = forkserver  # dataclasses look their module up
spec.loader.exec_module(forkserver)

# a module the tests run as __main__, from the caller's folder
PROBE = """\
import json, os, random, sys
print(json.dumps({
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "env": os.environ.get("PROBE_VALUE"),
    "server_env": os.environ.get("BERTSTEPS_FORKSERVER"),
    "preloaded": "decimal" in sys.modules,
    "threads": len(os.listdir("/proc/self/task")),
    "random": random.random(),
    "stdin": sys.stdin.read() if "--stdin" in sys.argv else None,
}))
code = int(os.environ.get("PROBE_EXIT", "0"))
if code == 99:
    raise RuntimeError("the probe failed")
sys.exit(code)
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "probe.py").write_text(PROBE)
    (tmp_path / "sleeper.py").write_text(
        "import os, pathlib, sys, time\n"
        "pathlib.Path(sys.argv[1]).write_text(str(os.getpid()))\n"
        "try:\n"
        "    time.sleep(60)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "    sys.exit(5)\n"
    )
    return tmp_path


def wait_for_socket() -> int:
    """The pid of this process's server, once it listens."""
    deadline = time.monotonic() + 30
    while not Path(forkserver.socket_path()).exists():
        assert time.monotonic() < deadline, (
            "the fork server did not open its socket"
        )
        time.sleep(0.02)
    assert forkserver._Build.server is not None
    return forkserver._Build.server.pid


@pytest.fixture()
def server() -> Iterator[int]:
    forkserver.start(
        ["decimal"], "build-1"
    )  # a module the probe did not import itself
    yield wait_for_socket()
    forkserver.stop()


def run(
    folder: Path,
    module: str,
    *args: str,
    env: dict[str, str] | None = None,
    **kw: object,
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PROBE_VALUE": "from the caller", **(env or {})}
    return subprocess.run(
        [sys.executable, str(SCRIPT), "run", module, *args],
        cwd=folder,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kw,  # type: ignore[arg-type]
    )


def probe(out: subprocess.CompletedProcess[str]) -> dict[str, object]:
    import json

    return json.loads(out.stdout.splitlines()[0])


def test_a_child_is_a_fork_of_the_server_with_the_callers_world(
    folder: Path, server: int
) -> None:
    env = {forkserver.ENV: forkserver.socket_path()}
    out = run(
        folder, "probe", "a", "b c", "--stdin", env=env, input="typed in"
    )
    assert out.returncode == 0, out.stderr
    seen = probe(out)
    assert seen["ppid"] == server  # forked by the server, not started by `run`
    assert seen["threads"] == 1  # the server forked with one thread
    assert seen["preloaded"] is True  # and so it has what the server imported
    assert seen["argv"] == ["a", "b c", "--stdin"]
    assert seen["cwd"] == str(
        folder
    )  # and the module was found there, as `python -m` finds it
    assert seen["env"] == "from the caller"
    assert seen["server_env"] is None  # the server's address is not passed on
    assert seen["stdin"] == "typed in"
    other = probe(run(folder, "probe", env=env))
    assert (
        other["pid"] != seen["pid"] and other["random"] != seen["random"]
    )  # each child its own random state


def test_exit_status_and_errors_come_back(folder: Path, server: int) -> None:
    env = {forkserver.ENV: forkserver.socket_path()}
    assert run(folder, "probe", env={**env, "PROBE_EXIT": "3"}).returncode == 3
    out = run(folder, "probe", env={**env, "PROBE_EXIT": "99"})
    assert (
        out.returncode == 1 and "RuntimeError: the probe failed" in out.stderr
    )
    out = run(folder, "no_such_module", env=env)
    assert (
        out.returncode == 1 and "No module named no_such_module" in out.stderr
    )


def test_without_a_server_it_is_python_dash_m(folder: Path) -> None:
    for env in ({}, {forkserver.ENV: str(folder / "nobody-listens.sock")}):
        out = run(folder, "probe", "x", env={**env, "PROBE_EXIT": "4"})
        assert out.returncode == 4, out.stderr
        seen = probe(out)
        assert seen["argv"] == ["x"] and seen["preloaded"] is False
        assert (
            seen["ppid"] == os.getpid()
        )  # `run` itself became the program (exec), no fork


def wait_for(path: Path) -> int:
    deadline = time.monotonic() + 30
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.02)
    return int(path.read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return (
            Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
        )  # a zombie is dead, only not yet reaped
    except (ProcessLookupError, FileNotFoundError):
        return False


def test_signals_reach_the_child_and_killing_run_kills_it(
    folder: Path, server: int
) -> None:
    env = {**os.environ, forkserver.ENV: forkserver.socket_path()}
    command = [sys.executable, str(SCRIPT), "run", "sleeper"]
    first = subprocess.Popen(
        [*command, "pid1"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    child = wait_for(folder / "pid1")
    first.send_signal(signal.SIGINT)  # what a kernel manager's interrupt sends
    assert (
        first.wait(timeout=30) == 5
        and first.stdout is not None
        and first.stdout.read() == "interrupted\n"
    )

    second = subprocess.Popen([*command, "pid2"], cwd=folder, env=env)
    child = wait_for(folder / "pid2")
    second.kill()  # SIGKILL cannot be passed on: the server sees the connection close
    second.wait(timeout=30)
    deadline = time.monotonic() + 30
    while alive(child):
        assert time.monotonic() < deadline, "the child outlived its `run`"
        time.sleep(0.05)


def test_stopping_the_server_stops_its_children(
    folder: Path, server: int
) -> None:
    env = {**os.environ, forkserver.ENV: forkserver.socket_path()}
    running = subprocess.Popen(
        [sys.executable, str(SCRIPT), "run", "sleeper", "pid"],
        cwd=folder,
        env=env,
    )
    child = wait_for(folder / "pid")
    forkserver.stop()
    assert running.wait(timeout=30) != 0
    assert not alive(child)
    assert not Path(forkserver.socket_path()).exists()


def test_each_process_has_a_socket_of_its_own() -> None:
    """Two builds at once never share a server: each names a socket in a folder only it uses."""
    show = (
        "import importlib.util, os, sys\n"
        f"spec = importlib.util.spec_from_file_location('forkserver', {str(SCRIPT)!r})\n"
        "module = importlib.util.module_from_spec(spec); sys.modules['forkserver'] = module\n"
        "spec.loader.exec_module(module)\n"
        "path = module.socket_path()\n"
        "print(path, oct(os.stat(os.path.dirname(path)).st_mode & 0o777), os.path.isdir(os.path.dirname(path)))\n"
    )
    others = [
        subprocess.run(
            [sys.executable, "-c", show],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for _ in range(2)
    ]
    paths = {forkserver.socket_path(), *(path for path, _, _ in others)}
    assert len(paths) == 3 and len({Path(p).parent for p in paths}) == 3
    for path, mode, existed in others:
        assert mode == "0o700" and existed == "True"
        assert not Path(
            path
        ).parent.exists()  # removed when its process exited


def test_a_new_build_gets_a_new_server(folder: Path) -> None:
    """`mkdocs serve` rebuilds in one process: a server never serves a second build."""
    try:
        forkserver.start(["decimal"], "build-1")
        first = wait_for_socket()
        forkserver.start(["decimal"], "build-1")  # the same build: kept
        assert wait_for_socket() == first
        forkserver.start(["decimal"], "build-2")
        second = wait_for_socket()
        assert second != first and not alive(first)
        env = {forkserver.ENV: forkserver.socket_path()}
        assert probe(run(folder, "probe", env=env))["ppid"] == second
        forkserver.stop_unless("build-2")  # its own build: kept
        assert forkserver.running()
        forkserver.stop_unless("build-3")  # a build that needs no server
        assert not forkserver.running() and not alive(second)
    finally:
        forkserver.stop()
    assert not forkserver.running()


UNSAFE = {
    # a preloaded module that leaves a thread running: forking would copy only one of two
    "threaded": "import threading, time\n"
    "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n",
    # a torch whose CUDA is initialised (a stand-in: this machine may have no GPU)
    "cudainit": "import sys, types\n"
    "torch = types.ModuleType('torch')\n"
    "torch.cuda = types.SimpleNamespace(is_initialized=lambda: True)\n"
    "sys.modules['torch'] = torch\n",
}


@pytest.mark.parametrize("module", sorted(UNSAFE))
def test_an_unsafe_server_does_not_fork(
    folder: Path, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a second thread or CUDA initialised the server refuses: `run` becomes `python -m`."""
    (folder / f"{module}.py").write_text(UNSAFE[module])
    monkeypatch.setenv("PYTHONPATH", str(folder))  # where the server finds it
    try:
        forkserver.start([module], f"unsafe-{module}")
        server = wait_for_socket()
        out = run(
            folder,
            "probe",
            "x",
            env={forkserver.ENV: forkserver.socket_path(), "PROBE_EXIT": "6"},
        )
        assert out.returncode == 6, out.stderr
        seen = probe(out)
        assert (
            seen["ppid"] == os.getpid() != server
        )  # not a fork: `run` exec'd
        assert seen["preloaded"] is False and seen["argv"] == ["x"]
        assert forkserver.running()  # the server itself stays up, refusing
    finally:
        forkserver.stop()


def test_fork_hazard_counts_threads_and_cuda() -> None:
    code = (
        "import importlib.util, sys, threading, time, types\n"
        f"spec = importlib.util.spec_from_file_location('fs', {str(SCRIPT)!r})\n"
        "fs = importlib.util.module_from_spec(spec); sys.modules['fs'] = fs\n"
        "spec.loader.exec_module(fs)\n"
        "print(repr(fs.fork_hazard()))\n"
        "threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n"
        "print(repr(fs.fork_hazard()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert out.stdout.splitlines() == ["''", "'2 threads are running'"]


def test_the_socket_folder_must_be_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    out = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "serve",
            str(shared / "server.sock"),
            "decimal",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0
    assert "has mode 0o755, not 0o700" in out.stderr
    assert not (shared / "server.sock").exists()
    assert forkserver.private_folder_problem(tmp_path / "missing") != ""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    assert forkserver.private_folder_problem(private) == ""


def test_run_gives_up_on_a_server_that_never_answers(folder: Path) -> None:
    """A server that accepts nothing: `run` runs the module itself after its deadline."""
    import socket
    import tempfile

    # files, not pipes: the streams `run` sent stay open in the mute socket's queue
    out_path, err_path = folder / "out.txt", folder / "err.txt"
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "mute.sock")
        mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        mute.bind(path)
        mute.listen(4)  # connections wait in the backlog forever
        try:
            start = time.monotonic()
            with out_path.open("w") as out, err_path.open("w") as err:
                code = subprocess.run(
                    [sys.executable, str(SCRIPT), "run", "probe"],
                    cwd=folder,
                    env={
                        **os.environ,
                        forkserver.ENV: path,
                        "BERTSTEPS_FORK_DEADLINE_S": "2",
                        "PROBE_EXIT": "7",
                    },
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    timeout=60,
                    check=False,
                ).returncode
            took = time.monotonic() - start
        finally:
            mute.close()
    assert code == 7, err_path.read_text()
    seen = json.loads(out_path.read_text().splitlines()[0])
    assert seen["ppid"] == os.getpid() and seen["preloaded"] is False
    assert 2 <= took < 30


def test_the_build_preloads_no_bertsteps_module() -> None:
    """Kernels import bertsteps themselves, so an edit under `mkdocs serve` reaches them."""
    sys.path.insert(0, str(ROOT / "hooks"))
    try:
        import buildstate
        from mkdocs.config.defaults import MkDocsConfig

        state = buildstate.BuildState(MkDocsConfig())
        assert state.preload == [
            "numpy",
            "torch",
            "transformers.models.bert.modeling_bert",
        ]
    finally:
        sys.path.remove(str(ROOT / "hooks"))
