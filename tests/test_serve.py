"""`mkdocs serve`: an edit of a bertsteps module reaches the next rendering of every chapter.

The fork server (hooks/forkserver.py) is started for one build and preloads no bertsteps
module, so after an edit the rebuilt page shows what the new code computes, never a mix
of old and new modules (which the cache would then keep under the new key).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.test_site import copy_project

pytestmark = pytest.mark.slow

DEADLINE_S = 900  # for the first build, and again for the rebuild

# a chapter that prints a constant of a bertsteps module the old server preloaded
PROBE = """# %% [markdown]
# # Probe
# %%
import os, sys
from bertsteps.errors import SERVE_MARKER
print("marker:", SERVE_MARKER)
print("kernel parent:", os.getppid())
print("torch preloaded:", "torch" in sys.modules)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode()
    except (urllib.error.URLError, OSError):
        return ""


def wait_for_page(
    url: str, pattern: str, serve: subprocess.Popen[str], log: Path
) -> re.Match[str]:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        found = re.search(pattern, fetch(url))
        if found:
            return found
        assert serve.poll() is None, (
            f"mkdocs serve exited: {log.read_text()[-4000:]}"
        )
        time.sleep(1)
    pytest.fail(f"{url} never showed {pattern!r}: {log.read_text()[-4000:]}")


def test_an_edit_of_bertsteps_reaches_the_served_page(
    tmp_path: Path, tiny_folder: Path
) -> None:
    project = copy_project(tmp_path / "p", {"probe.py": PROBE})
    module = project / "bertsteps" / "errors.py"
    original = module.read_text()
    module.write_text(original + '\nSERVE_MARKER = "first"\n')
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        BERTSTEPS_CHECKPOINT=str(tiny_folder),  # a small explorer export
        BERTSTEPS_BUILD_CACHE=str(tmp_path / "cache"),
        MPLBACKEND="Agg",
        NO_MKDOCS_2_WARNING="1",
    )
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mkdocs",
                "serve",
                "-f",
                str(project / "mkdocs.yml"),
                "-a",
                f"127.0.0.1:{port}",
            ],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        # served under site_url's path (/bertsteps/), as the log says
        deadline = time.monotonic() + DEADLINE_S
        while not (
            serving := re.search(r"Serving on (http://\S+)", log.read_text())
        ):
            assert time.monotonic() < deadline and serve.poll() is None, (
                log.read_text()[-4000:]
            )
            time.sleep(1)
        url = serving.group(1).rstrip("/") + "/examples/probe/"
        pattern = (
            r"marker: (\w+)\s+kernel parent: (\d+)\s+torch preloaded: (\w+)"
        )
        first = wait_for_page(url, pattern, serve, log)
        assert first.group(1) == "first" and first.group(3) == "True"

        module.write_text(original + '\nSERVE_MARKER = "second"\n')
        second = wait_for_page(
            url, pattern.replace(r"(\w+)", "(second)", 1), serve, log
        )
        assert second.group(3) == "True"  # still a fork of a server...
        assert second.group(2) != first.group(2)  # ...but a new one
        assert "not forking" not in log.read_text()
    finally:
        serve.send_signal(signal.SIGINT)  # Ctrl-C: mkdocs shuts down
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(timeout=30)
        # no fork server outlives `mkdocs serve`
        leftovers = subprocess.run(
            ["pgrep", "-s", str(serve.pid), "-f", "forkserver.py serve"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        try:
            os.killpg(serve.pid, signal.SIGKILL)  # whatever is left
        except ProcessLookupError:
            pass
    assert serve.returncode == 0, log.read_text()[-4000:]
    assert leftovers == []
