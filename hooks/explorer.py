"""MkDocs hook: the data of the "Explore the embedding space" page, from the checkpoint this build renders with.

``on_config`` runs after hooks/examples.py (which sets ``config.extra["build_fingerprint"]``
and leases it) and hooks/kernels.py (which starts the fork server when something must be
computed). If ``.cache/explorer/<fingerprint>/`` holds the data, the build takes a snapshot
of it (hard links in its private folder: hooks/buildcache.py), so a build that prunes the
cache meanwhile cannot take it away. Otherwise it starts ``bertsteps explorer`` in a fork of
that server, in the background, into its private folder: the export runs while MkDocs reads
the pages and the chapters execute, and ``on_env`` (before MkDocs copies any file) waits for
it, publishes it with one rename (if another build published the same data meanwhile, that
copy is kept) and adds the files, served under ``assets/explorer/``. A rebuild with nothing
changed reuses the data; a change of the bertsteps sources, the checkpoint or the installed
packages makes a new fingerprint and new data (the rule the chapters follow). Caches of
other fingerprints are removed when no live build uses them (``buildcache.begin``).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import buildcache  # hooks/buildcache.py
import forkserver  # hooks/forkserver.py
import mkdocs.plugins
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.explorer")

CACHE_ROOT = buildcache.CACHE / "explorer"
SITE_FOLDER = "assets/explorer"


class Export:
    """``bertsteps explorer`` running in the background into ``folder``, this build's own."""

    def __init__(self, folder: Path, published: Path) -> None:
        self.folder = folder
        self.published = published
        self.started = time.perf_counter()
        command = [
            sys.executable,
            forkserver.__file__,
            "run",
            "bertsteps",
            "explorer",
            str(folder),
        ]
        env = {**os.environ, forkserver.ENV: forkserver.socket_path()}
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )

    def wait(self) -> None:
        """Wait for the export, then publish it."""
        output, _ = self.process.communicate()
        if self.process.returncode != 0:
            raise PluginError(
                f"the explorer's data could not be exported:\n{output.decode(errors='replace')}"
            )
        manifest = json.loads((self.folder / "manifest.json").read_text())
        first = buildcache.publish_folder(
            self.folder, self.published
        )  # complete or absent, never in between
        log.info(
            "explorer data for %s: %.1f MB in %.0f s (while the build went on)%s",
            manifest["checkpoint"],
            manifest["data_bytes"] / 1e6,
            time.perf_counter() - self.started,
            ""
            if first
            else "; another build published the same data first, which is kept",
        )

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


_running: Export | None = None


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    global _running
    on_shutdown()  # an export left by an earlier build of `mkdocs serve` that failed
    published = CACHE_ROOT / config.extra["build_fingerprint"]
    snapshot = buildcache.private("explorer")
    if not (
        buildcache.snapshot(published, snapshot)
        and (snapshot / "manifest.json").is_file()
    ):
        forkserver.start(
            config.extra["forkserver_preload"], "the explorer's data to export"
        )
        snapshot = buildcache.private(f"explorer-export-{time.time_ns()}")
        _running = Export(snapshot, published)
    config.extra["explorer_folder"] = str(snapshot)
    return config


@mkdocs.plugins.event_priority(
    100
)  # MkDocs copies static files right after this event
def on_env(env: object, config: MkDocsConfig, files: Files) -> object:
    global _running
    if _running is not None:
        running, _running = _running, None
        running.wait()
    for path in sorted(Path(config.extra["explorer_folder"]).iterdir()):
        files.append(
            File.generated(
                config, f"{SITE_FOLDER}/{path.name}", abs_src_path=str(path)
            )
        )
    return env


def on_build_error(error: Exception) -> None:
    on_shutdown()


def on_shutdown() -> (
    None
):  # a build that failed before on_env leaves no export behind
    global _running
    if _running is not None:
        _running.kill()
        _running = None
