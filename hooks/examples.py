"""MkDocs hook: the chapters in examples/ become executed notebook pages.

- ``on_files`` adds ``examples/*.py`` (jupytext percent format) to the site before
  mkdocs-jupyter looks at the files, so the chapters live outside ``docs/``.
- ``on_config`` makes mkdocs-jupyter's cache safe: its cache key covers only a notebook's
  bytes and the plugin's settings, so the cache folder is named after a fingerprint of
  everything else a page depends on, a fixed list documented in hooks/cachekey.py (the
  bertsteps sources of this checkout, the checkpoint, the versions of a fixed list of
  distributions, the data and benchmark results the chapters read). Change any of them
  and every chapter runs again; change nothing and none does. The kernels get this
  checkout first on their ``PYTHONPATH``, so they import the sources the key covers.
- two builds at once share that cache safely (hooks/buildcache.py): mkdocs-jupyter writes
  its entries in place, so each build gets a private cache folder, seeded with hard links
  to the published ``.cache/mkdocs-jupyter/<fingerprint>/``; ``on_post_build`` publishes
  the new entries (a hard link each, which never replaces one) and drops the ones this
  build no longer uses, unless another live build uses the same fingerprint. Other
  fingerprints' caches are pruned when no live build leases them.
- ``on_pre_page`` notes each chapter whose render wrote a new cache entry (it was
  executed); with ``$BERTSTEPS_BUILD_RECORD`` set, ``on_post_build`` writes that list.
- ``on_config`` also bounds each cell's run time (``extra.cell_timeout_s`` in mkdocs.yml),
  so a hanging cell fails the build instead of the CI job.
- each chapter page offers its notebook as ``.ipynb`` for download.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import buildcache  # hooks/buildcache.py: MkDocs puts a hook's own folder on sys.path while loading it
import buildstate  # hooks/buildstate.py: what the hooks hand on to each other
import jupytext
import mkdocs.plugins
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.examples")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# where a build writes what it executed, when set (tests, benchmarks/site_build.py)
RECORD_ENV = "BERTSTEPS_BUILD_RECORD"
# this process's own folder (a unique name) for its nbconvert settings and its kernels'
# local sockets: never a file another build may be rewriting or binding
JUPYTER = Path(tempfile.mkdtemp(prefix="bertsteps-jupyter-"))
atexit.register(shutil.rmtree, JUPYTER, ignore_errors=True)


@mkdocs.plugins.event_priority(100)
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    state = buildstate.for_config(config)  # leases this build's cache keys
    # mkdocs-jupyter's `cache_dir` option, pointed at this build's private copy
    config.plugins["mkdocs-jupyter"].config["cache_dir"] = str(
        state.chapters_cache
    )

    timeout = int(config.extra.get("cell_timeout_s", 300))
    buildcache.write_atomic(
        JUPYTER / "config" / "jupyter_nbconvert_config.json",
        json.dumps(
            {
                # NotebookClient, the parent of ExecutePreprocessor: mkdocs-jupyter replaces the
                # whole ExecutePreprocessor section with its own settings
                # once the last cell has answered there is nothing left to wait for: a kernel
                # asked to shut down politely spends over a second tearing torch down
                "NotebookClient": {
                    "timeout": timeout,
                    "interrupt_on_timeout": False,
                    "shutdown_kernel": "immediate",
                },
                # local sockets between the build and its kernels: nothing listens on the network.
                # Named <ip>-1, <ip>-2...: by default ./kernel-ipc-N in the working folder, where
                # two builds at once would bind each other's and mix their kernels' messages
                "KernelManager": (
                    {"transport": "ipc", "ip": str(JUPYTER / "kernel")}
                    if os.name == "posix"
                    else {"transport": "tcp"}
                ),
            }
        ),
    )
    buildstate.prepend_env("JUPYTER_CONFIG_PATH", str(JUPYTER / "config"))
    os.environ["JUPYTER_PREFER_ENV_PATH"] = (
        "1"  # the kernel of this environment, not a user-wide one
    )
    os.environ.setdefault(
        "PYDEVD_DISABLE_FILE_VALIDATION", "1"
    )  # no debugger warning in cell outputs
    return config


@mkdocs.plugins.event_priority(
    -100
)  # after mkdocs-jupyter's on_pre_page, which sets the page's render
def on_pre_page(page: Page, config: MkDocsConfig, files: Files) -> Page:
    """Record which chapters this build executes: those whose render wrote a new cache entry."""
    state = buildstate.for_config(config)
    if not _is_chapter(page):
        return page
    cache = state.chapters_cache
    render = page.render

    def recorded(config: MkDocsConfig, files: Files) -> None:
        before = {path.name for path in cache.glob("*.json")}
        render(config, files)
        if {path.name for path in cache.glob("*.json")} - before:
            state.executed.append(page.file.src_uri)

    page.render = recorded  # type: ignore[method-assign]
    return page


def _publish(state: buildstate.BuildState, complete: bool) -> None:
    """Publish the chapter outputs this build computed; a complete build also drops those it did not use."""
    used = {
        path.name for path in state.chapters_cache.glob("*.json")
    }  # mkdocs-jupyter evicted the others
    buildcache.publish_files(
        state.chapters_cache,
        buildcache.published("mkdocs-jupyter"),
        keep=used if complete else None,
    )


def _record(state: buildstate.BuildState, ok: bool) -> None:
    """With ``$BERTSTEPS_BUILD_RECORD`` set, write what this build executed there (JSON), for tests and benchmarks."""
    target = os.environ.get(RECORD_ENV)
    if target:
        buildcache.write_atomic(
            Path(target),
            json.dumps(
                {
                    "ok": ok,
                    "executed": sorted(state.executed),
                    "fingerprints": state.fingerprints.by_kind(),
                },
                indent=1,
            ),
        )


@mkdocs.plugins.event_priority(
    -100
)  # after mkdocs-jupyter's own on_post_build (its eviction)
def on_post_build(config: MkDocsConfig) -> None:
    state = buildstate.for_config(config)
    _publish(state, complete=True)
    _record(state, ok=True)


@mkdocs.plugins.event_priority(-100)
def on_build_error(error: Exception) -> None:
    """A failed build still publishes the outputs of the chapters that ran, so the next build reuses them."""
    state = buildstate.current()
    if state is not None:
        for path in state.chapters_cache.glob("*.json"):
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except ValueError:  # written when the error struck
                path.unlink()
        _publish(state, complete=False)
        _record(state, ok=False)


@mkdocs.plugins.event_priority(100)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    for path in sorted(EXAMPLES.glob("*.py")):
        # a real File with the repository as its source folder (mkdocs-jupyter wraps it)
        files.append(
            File(
                f"examples/{path.name}",
                str(ROOT),
                config.site_dir,
                config.use_directory_urls,
            )
        )
    return files


def _is_chapter(page: Page) -> bool:
    return page.file.src_uri.startswith(
        "examples/"
    ) and page.file.src_uri.endswith(".py")


def on_page_context(
    context: dict, page: Page, config: MkDocsConfig, nav: object
) -> dict:
    if _is_chapter(page):
        page.meta["ipynb"] = Path(page.file.src_uri).with_suffix(".ipynb").name
    return context


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    if _is_chapter(page):
        notebook = jupytext.read(page.file.abs_src_path)
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        target = Path(page.file.abs_dest_path).parent / page.meta["ipynb"]
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(notebook, target, fmt="ipynb")
    return output
