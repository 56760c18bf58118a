"""MkDocs hook: the data of the "Explore the embedding space" page, from the checkpoint this build renders with.

``on_config`` runs after hooks/examples.py's (which sets ``config.extra["build_fingerprint"]``
at priority 100) and writes :func:`bertsteps.explorer.export`'s files into
``.cache/explorer/<fingerprint>/``, once: a rebuild with nothing changed reuses them, and a
change of the bertsteps sources, the checkpoint or the installed packages makes a new
fingerprint and new data (the rule the chapters follow). Caches of other fingerprints
are removed. ``on_files`` serves the files under ``assets/explorer/``, for ``mkdocs build``
and ``mkdocs serve`` alike.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.explorer")

ROOT = Path(__file__).resolve().parent.parent
CACHE_ROOT = Path(os.environ.get("BERTSTEPS_BUILD_CACHE", ROOT / ".cache")) / "explorer"
SITE_FOLDER = "assets/explorer"


def explorer_data(fingerprint: str) -> Path:
    """The folder of the explorer's data for this fingerprint, exported if it is not there yet."""
    folder = CACHE_ROOT / fingerprint
    if not (folder / "manifest.json").is_file():
        import bertsteps
        from bertsteps.explorer import export

        partial = CACHE_ROOT / f"{fingerprint}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        start = time.perf_counter()
        manifest = export(bertsteps.load(), partial)
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)  # complete or absent: an interrupted export is never reused
        log.info(
            "explorer data for %s: %.1f MB in %.0f s",
            manifest["checkpoint"],
            manifest["data_bytes"] / 1e6,
            time.perf_counter() - start,
        )
    for old in CACHE_ROOT.iterdir():  # other packages, checkpoints or versions: never used again
        if old.name != fingerprint:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
    return folder


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    folder = explorer_data(config.extra["build_fingerprint"])
    config.extra["explorer_folder"] = str(folder)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    folder = Path(config.extra["explorer_folder"])
    for path in sorted(folder.iterdir()):
        files.append(File.generated(config, f"{SITE_FOLDER}/{path.name}", abs_src_path=str(path)))
    return files
