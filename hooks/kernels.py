"""MkDocs hook: the chapters run in kernels forked from one process that imported torch once.

A chapter spends most of its time importing torch and transformers (3.5 s of its 4 s as
a plain script, on the machine of benchmarks/site_build.py). ``on_config`` installs the
``bertsteps-build`` kernelspec that mkdocs.yml names for mkdocs-jupyter: an ordinary
ipykernel, started through ``hooks/forkserver.py``. When some chapter (or the explorer's
data) has to be computed, it also starts the fork server, which imports those modules
while MkDocs reads the configuration; every kernel is then a fork of it: a new process
with a clean namespace whose imports are already done. The server stops with the build.

Two builds at once (``mkdocs serve`` open while a test builds) never share a kernelspec or
a server: each process writes its kernelspec into its own temporary folder, naming its own
server's socket (hooks/forkserver.py), and rewrites it atomically on a ``serve`` rebuild.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import buildcache  # hooks/buildcache.py
import forkserver  # hooks/forkserver.py: MkDocs puts a hook's own folder on sys.path while loading it
import mkdocs.plugins
from mkdocs.config.defaults import MkDocsConfig

ROOT = Path(__file__).resolve().parent.parent
# this process's own Jupyter data folder (a unique name): its kernelspec names this
# process's server, so two builds at the same time never use each other's
KERNELS = Path(tempfile.mkdtemp(prefix="bertsteps-kernels-"))
atexit.register(shutil.rmtree, KERNELS, ignore_errors=True)


def preload(config: MkDocsConfig) -> list[str]:
    """The modules every chapter imports, the model class of this build's checkpoint included."""
    model_type = config.extra["checkpoint"]["model_type"].replace("-", "_")
    # not matplotlib: it reads $MPLBACKEND when imported, and ipykernel sets that at start
    return [
        "numpy",
        "torch",
        "bertsteps.checkpoints",
        f"transformers.models.{model_type}.modeling_{model_type}",
    ]


def chapters_to_execute(config: MkDocsConfig) -> int:
    """How many chapters mkdocs-jupyter will execute in this build (those not in its cache)."""
    plugin = config.plugins["mkdocs-jupyter"]
    chapters = list((ROOT / "examples").glob("*.py"))
    if not plugin.config["execute"]:
        return 0
    try:
        from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path
    except ImportError:  # another mkdocs-jupyter: assume every chapter runs
        return len(chapters)
    if not plugin.config["cache"]:
        return len(chapters)
    return sum(
        not _get_cache_path(
            plugin.config["cache_dir"],
            _compute_cache_key(str(path), plugin.config, True),
        ).exists()
        for path in chapters
    )


@mkdocs.plugins.event_priority(
    50
)  # after hooks/examples.py (cache folder), before hooks/explorer.py
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    name = config.plugins["mkdocs-jupyter"].config["kernel_name"]
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
    paths = [
        str(KERNELS),
        *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep)),
    ]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    config.extra["forkserver_preload"] = preload(config)
    count = chapters_to_execute(config)
    if count:
        forkserver.start(
            config.extra["forkserver_preload"],
            f"{count} chapter{'s' if count > 1 else ''} to execute",
        )
    return config


def on_shutdown() -> None:
    forkserver.stop()
