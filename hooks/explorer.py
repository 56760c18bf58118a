"""MkDocs hook: the data of the "Explore the embedding space" page, from the checkpoint this build renders with.

``on_config`` runs after hooks/examples.py (which sets ``config.extra["build_fingerprint"]``)
and hooks/kernels.py (which starts the fork server when something must be computed). If
``.cache/explorer/<fingerprint>/`` lacks the data, it starts ``bertsteps explorer`` in a
fork of that server, in the background: the export runs while MkDocs reads the pages and
the chapters execute, and ``on_env`` (before MkDocs copies any file) waits for it and
adds the files, served under ``assets/explorer/``. A
rebuild with nothing changed reuses the data; a change of the bertsteps sources, the
checkpoint or the installed packages makes a new fingerprint and new data (the rule the
chapters follow). Caches of other fingerprints are removed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import forkserver  # hooks/forkserver.py
import mkdocs.plugins
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.explorer")

ROOT = Path(__file__).resolve().parent.parent
CACHE_ROOT = Path(os.environ.get("BERTSTEPS_BUILD_CACHE", ROOT / ".cache")) / "explorer"
SITE_FOLDER = "assets/explorer"


class Export:
    """``bertsteps explorer`` running in the background into ``<folder>.partial``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.partial = folder.with_name(f"{folder.name}.partial")
        shutil.rmtree(self.partial, ignore_errors=True)
        self.started = time.perf_counter()
        command = [sys.executable, forkserver.__file__, "run", "bertsteps", "explorer", str(self.partial)]
        env = {**os.environ, forkserver.ENV: forkserver.socket_path()}
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def wait(self) -> None:
        output, _ = self.process.communicate()
        if self.process.returncode != 0:
            raise PluginError(f"the explorer's data could not be exported:\n{output.decode(errors='replace')}")
        manifest = json.loads((self.partial / "manifest.json").read_text())
        shutil.rmtree(self.folder, ignore_errors=True)
        self.partial.rename(self.folder)  # complete or absent: an interrupted export is never reused
        log.info(
            "explorer data for %s: %.1f MB in %.0f s (while the build went on)",
            manifest["checkpoint"],
            manifest["data_bytes"] / 1e6,
            time.perf_counter() - self.started,
        )


_running: Export | None = None


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    global _running
    fingerprint = config.extra["build_fingerprint"]
    folder = CACHE_ROOT / fingerprint
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    for old in CACHE_ROOT.iterdir():  # other packages, checkpoints or versions: never used again
        if old.name not in (fingerprint, f"{fingerprint}.partial"):
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
    if not (folder / "manifest.json").is_file() and (_running is None or _running.folder != folder):
        forkserver.start(config.extra["forkserver_preload"], "the explorer's data to export")
        _running = Export(folder)
    config.extra["explorer_folder"] = str(folder)
    return config


@mkdocs.plugins.event_priority(100)  # MkDocs copies static files right after this event
def on_env(env: object, config: MkDocsConfig, files: Files) -> object:
    global _running
    if _running is not None:
        running, _running = _running, None
        running.wait()
    for path in sorted(Path(config.extra["explorer_folder"]).iterdir()):
        files.append(File.generated(config, f"{SITE_FOLDER}/{path.name}", abs_src_path=str(path)))
    return env


def on_shutdown() -> None:  # a build that failed before on_env leaves no export behind
    global _running
    if _running is not None:
        _running.process.kill()
        _running.process.wait()
        _running = None
