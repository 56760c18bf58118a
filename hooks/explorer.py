"""MkDocs hook: the data of the "Explore the embedding space" page, from the checkpoint this build renders with.

``on_config`` gets the build's state (hooks/buildstate.py: its keys, leased, and the
modules the fork server preloads). If ``.cache/explorer/<key>/`` holds the data (the key:
hooks/cachekey.py), the build takes a snapshot of it (hard links in its private folder:
hooks/buildcache.py), so a build that prunes the cache meanwhile cannot take it away.
Otherwise it starts this build's fork server (hooks/forkserver.py), if hooks/kernels.py has
not already, and ``bertsteps explorer`` in a fork of it, in the background, into its
private folder: the export runs while MkDocs reads the pages and the chapters execute, and
``on_env`` (before MkDocs copies any file) waits for it, publishes it with one rename (if
another build published the same data meanwhile, that copy is kept) and adds the files,
served under ``assets/explorer/``. A rebuild with nothing changed reuses the data; a change
of the bertsteps sources, the checkpoint or the listed distributions makes a new key and
new data (the rule the chapters follow; the explorer's key leaves out what only chapters
read: examples/data/ and benchmark results). Caches of
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
import buildstate  # hooks/buildstate.py
import forkserver  # hooks/forkserver.py
import mkdocs.plugins
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.explorer")

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


_running: list[Export] = []  # the export under way, if one is


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    on_shutdown()  # an export left by an earlier build of `mkdocs serve` that failed
    state = buildstate.for_config(config)  # leases this build's keys
    snapshot, complete = buildcache.snapshot_of("explorer")
    if not (complete and (snapshot / "manifest.json").is_file()):
        forkserver.start(
            state.preload, state.build_id, "the explorer's data to export"
        )
        snapshot = buildcache.private(f"explorer-export-{time.time_ns()}")
        _running.append(Export(snapshot, buildcache.published("explorer")))
    state.explorer_folder = snapshot
    return config


@mkdocs.plugins.event_priority(
    100
)  # MkDocs copies static files right after this event
def on_env(env: object, config: MkDocsConfig, files: Files) -> object:
    while _running:
        _running.pop().wait()
    folder = buildstate.for_config(config).explorer_folder
    assert folder is not None, "hooks/explorer.py: on_config did not run"
    for path in sorted(folder.iterdir()):
        files.append(
            File.generated(
                config, f"{SITE_FOLDER}/{path.name}", abs_src_path=str(path)
            )
        )
    return env


def on_build_error(error: Exception) -> None:
    on_shutdown()


def on_shutdown() -> None:
    """A build that failed before on_env leaves no export behind."""
    while _running:
        _running.pop().kill()
