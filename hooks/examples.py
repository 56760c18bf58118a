"""MkDocs hook: the chapters in examples/ become executed notebook pages.

- ``on_files`` adds ``examples/*.py`` (jupytext percent format) to the site before
  mkdocs-jupyter looks at the files, so the chapters live outside ``docs/``.
- ``on_config`` makes mkdocs-jupyter's cache safe: its cache key covers only a notebook's
  bytes and the plugin's settings, so the cache folder is named after a fingerprint of
  everything else a page depends on (the bertsteps sources, the checkpoint, the installed
  packages, the benchmark results that the Performance page plots). Change any of them and every chapter runs again; change nothing and none does.
- ``on_config`` also bounds each cell's run time (``extra.cell_timeout_s`` in mkdocs.yml),
  so a hanging cell fails the build instead of the CI job.
- each chapter page offers its notebook as ``.ipynb`` for download.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import platform
import shutil
import sys
from importlib import metadata
from pathlib import Path

import jupytext
import mkdocs.plugins
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.examples")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# BERTSTEPS_BUILD_CACHE moves the cache (benchmarks/site_build.py times cold builds with it)
CACHE_ROOT = Path(os.environ.get("BERTSTEPS_BUILD_CACHE", ROOT / ".cache")) / "mkdocs-jupyter"


def build_fingerprint() -> str:
    """A hash of what every chapter's output depends on, besides the chapter itself."""
    from bertsteps.checkpoints import resolve

    h = hashlib.sha256()
    package = Path(next(iter(importlib.util.find_spec("bertsteps").submodule_search_locations)))  # as kernels import it
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    for path in sorted((ROOT / "benchmarks").glob("*.json")):  # the Performance page plots these
        h.update(path.name.encode())
        h.update(path.read_bytes())
    source = resolve()
    h.update(f"checkpoint={source.kind}:{source.checkpoint}".encode())
    for path in sorted(p for p in source.folder.rglob("*") if p.is_file()):
        stat = path.stat()
        h.update(f"{path.relative_to(source.folder)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        if path.suffix in {".json", ".txt"}:
            h.update(path.read_bytes())
    dists = sorted(f"{d.metadata['Name']}=={d.version}".lower() for d in metadata.distributions())
    h.update("\n".join(dists).encode())
    h.update(f"{sys.version}|{platform.platform()}".encode())
    return h.hexdigest()[:16]


@mkdocs.plugins.event_priority(100)
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    fingerprint = build_fingerprint()
    plugin = config.plugins["mkdocs-jupyter"]
    plugin.config["cache_dir"] = str(CACHE_ROOT / fingerprint)
    config.extra["build_fingerprint"] = fingerprint
    if CACHE_ROOT.is_dir():  # caches of other packages, checkpoints or versions can never be used again
        for old in CACHE_ROOT.iterdir():
            if old.is_dir() and old.name != fingerprint:
                shutil.rmtree(old, ignore_errors=True)

    timeout = int(config.extra.get("cell_timeout_s", 300))
    jupyter_config = ROOT / ".cache" / "jupyter-config"
    jupyter_config.mkdir(parents=True, exist_ok=True)
    (jupyter_config / "jupyter_nbconvert_config.json").write_text(
        json.dumps(
            {
                # NotebookClient, the parent of ExecutePreprocessor: mkdocs-jupyter replaces the
                # whole ExecutePreprocessor section with its own settings
                # once the last cell has answered there is nothing left to wait for: a kernel
                # asked to shut down politely spends over a second tearing torch down
                "NotebookClient": {"timeout": timeout, "interrupt_on_timeout": False, "shutdown_kernel": "immediate"},
                # local sockets between the build and its kernels: nothing listens on the network
                "KernelManager": {"transport": "ipc" if os.name == "posix" else "tcp"},
            }
        )
    )
    paths = [str(jupyter_config), *filter(None, os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]
    os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    os.environ["JUPYTER_PREFER_ENV_PATH"] = "1"  # the kernel of this environment, not a user-wide one
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # no debugger warning in cell outputs
    return config


@mkdocs.plugins.event_priority(100)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    for path in sorted(EXAMPLES.glob("*.py")):
        # a real File with the repository as its source folder (mkdocs-jupyter wraps it)
        files.append(File(f"examples/{path.name}", str(ROOT), config.site_dir, config.use_directory_urls))
    return files


def _is_chapter(page: Page) -> bool:
    return page.file.src_uri.startswith("examples/") and page.file.src_uri.endswith(".py")


def on_page_context(context: dict, page: Page, config: MkDocsConfig, nav: object) -> dict:
    if _is_chapter(page):
        page.meta["ipynb"] = Path(page.file.src_uri).with_suffix(".ipynb").name
    return context


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    if _is_chapter(page):
        notebook = jupytext.read(page.file.abs_src_path)
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        target = Path(page.file.abs_dest_path).parent / page.meta["ipynb"]
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(notebook, target, fmt="ipynb")
    return output
