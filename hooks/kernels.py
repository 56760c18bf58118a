"""MkDocs hook: the chapters run in kernels forked from one process that imported torch once.

A chapter spends most of its time importing torch and transformers (3.5 s of its 4 s as
a plain script, on the machine of benchmarks/site_build.py). ``on_config`` installs the
``bertsteps-build`` kernelspec that mkdocs.yml names for mkdocs-jupyter: an ordinary
ipykernel, started through ``hooks/forkserver.py``. When some chapter (or the explorer's
data) has to be computed, it also starts the fork server, which imports those modules
(numpy, torch and the checkpoint's transformers model: third-party modules only, never
``bertsteps``) while MkDocs reads the configuration; every kernel is then a fork of it: a
new process with a clean namespace whose imports are already done and which imports
bertsteps itself. The server is started for one build and stops with it
(``on_post_build``, ``on_build_error``): every rebuild of ``mkdocs serve`` gets a fresh one.

Two builds at once (``mkdocs serve`` open while a test builds) never share a kernelspec or
a server: each process writes its kernelspec into its own temporary folder, naming its own
server's socket (hooks/forkserver.py), and rewrites it atomically on a ``serve`` rebuild.
"""

from __future__ import annotations

import atexit
import json
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import buildcache  # hooks/buildcache.py
import buildstate  # hooks/buildstate.py
import forkserver  # hooks/forkserver.py: MkDocs puts a hook's own folder on sys.path while loading it
import mkdocs.plugins
from mkdocs.config.defaults import MkDocsConfig

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# this process's own Jupyter data folder (a unique name): its kernelspec names this
# process's server, so two builds at the same time never use each other's
KERNELS = Path(tempfile.mkdtemp(prefix="bertsteps-kernels-"))
atexit.register(shutil.rmtree, KERNELS, ignore_errors=True)


# mkdocs-jupyter versions whose private cache-key functions were checked to match what its
# on_pre_page does (tests/test_cache_key.py pins the installed one to this range)
CHECKED_MKDOCS_JUPYTER = (
    (0, 26),
    (0, 27),
)  # from 0.26 up to, not including, 0.27


def _checked_version(version: str) -> bool:
    try:
        major_minor = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    low, high = CHECKED_MKDOCS_JUPYTER
    return low <= major_minor < high


def chapters_to_execute(plugin_config: Any, chapters: list[Path]) -> int:
    """How many of ``chapters`` mkdocs-jupyter will execute (those not in its cache).

    mkdocs-jupyter names its cache entries with a private function; it is called only for a
    version in :data:`CHECKED_MKDOCS_JUPYTER`, and any failure counts every chapter (the
    server then starts when maybe none runs: slower, never wrong).
    """
    try:
        if not plugin_config["execute"]:
            return 0
        if not plugin_config["cache"]:
            return len(chapters)
        if not _checked_version(metadata.version("mkdocs-jupyter")):
            return len(chapters)
        from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

        return sum(
            not _get_cache_path(
                plugin_config["cache_dir"],
                _compute_cache_key(str(path), plugin_config, True),
            ).exists()
            for path in chapters
        )
    except Exception:  # another mkdocs-jupyter: assume every chapter runs
        return len(chapters)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    state = buildstate.for_config(config)
    plugin = config.plugins["mkdocs-jupyter"]
    name = plugin.config["kernel_name"]
    spec = {
        "argv": [
            sys.executable,
            forkserver.__file__,
            "run",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ],
        "display_name": "Python 3 (bertsteps build)",
        "language": "python",
        "env": {forkserver.ENV: forkserver.socket_path()},
        "metadata": {"debugger": False},
    }
    buildcache.write_atomic(
        KERNELS / "kernels" / name / "kernel.json", json.dumps(spec, indent=1)
    )
    buildstate.prepend_env("JUPYTER_PATH", str(KERNELS))
    # the plugin reads this build's private copy of the cache (hooks/examples.py)
    settings = {**plugin.config, "cache_dir": str(state.chapters_cache)}
    count = chapters_to_execute(settings, sorted(EXAMPLES.glob("*.py")))
    if count:
        forkserver.start(
            state.preload,
            state.build_id,
            f"{count} chapter{'s' if count > 1 else ''} to execute",
        )
    else:  # a server of an earlier `mkdocs serve` build must not serve this one
        forkserver.stop_unless(state.build_id)
    return config


@mkdocs.plugins.event_priority(-200)
def on_post_build(config: MkDocsConfig) -> None:
    """Every kernel and the explorer's export are done: the server goes with the build."""
    forkserver.stop()


def on_build_error(error: Exception) -> None:
    forkserver.stop()


def on_shutdown() -> None:
    forkserver.stop()
