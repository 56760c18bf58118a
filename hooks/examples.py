"""MkDocs hook: the chapters in examples/ become executed notebook pages.

- ``on_files`` adds ``examples/*.py`` (jupytext percent format) to the site before
  mkdocs-jupyter looks at the files, so the chapters live outside ``docs/``.
- ``on_config`` makes mkdocs-jupyter's cache safe: its cache key covers only a notebook's
  bytes and the plugin's settings, so the cache folder is named after a fingerprint of
  everything else a page depends on (the bertsteps sources, the checkpoint, the installed
  packages, the benchmark results that the Performance page plots). Change any of them and
  every chapter runs again; change nothing and none does.
- two builds at once share that cache safely (hooks/buildcache.py): mkdocs-jupyter writes
  its entries in place, so each build gets a private cache folder, seeded with hard links
  to the published ``.cache/mkdocs-jupyter/<fingerprint>/``; ``on_post_build`` publishes
  the new entries (a hard link each, which never replaces one) and drops the ones this
  build no longer uses, unless another live build uses the same fingerprint. Other
  fingerprints' caches are pruned when no live build leases them.
- ``on_config`` also bounds each cell's run time (``extra.cell_timeout_s`` in mkdocs.yml),
  so a hanging cell fails the build instead of the CI job.
- each chapter page offers its notebook as ``.ipynb`` for download.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import buildcache  # hooks/buildcache.py: MkDocs puts a hook's own folder on sys.path while loading it
import jupytext
import mkdocs.plugins
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.examples")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# BERTSTEPS_BUILD_CACHE moves the cache (benchmarks/site_build.py times cold builds with it)
CACHE_ROOT = buildcache.CACHE / "mkdocs-jupyter"
# this process's own folder (a unique name) for its nbconvert settings and its kernels'
# local sockets: never a file another build may be rewriting or binding
JUPYTER = Path(tempfile.mkdtemp(prefix="bertsteps-jupyter-"))
atexit.register(shutil.rmtree, JUPYTER, ignore_errors=True)
_config: MkDocsConfig | None = None  # the build under way, for on_build_error


def build_fingerprint() -> str:
    """A hash of what every chapter's output depends on, besides the chapter itself."""
    from bertsteps.checkpoints import resolve

    h = hashlib.sha256()
    package = Path(
        next(
            iter(
                importlib.util.find_spec(
                    "bertsteps"
                ).submodule_search_locations
            )
        )
    )  # as kernels import it
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    for path in sorted(
        (ROOT / "benchmarks").glob("*.json")
    ):  # the Performance page plots these
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for path in sorted(
        p for p in (EXAMPLES / "data").rglob("*") if p.is_file()
    ):  # data the chapters read
        h.update(path.relative_to(EXAMPLES).as_posix().encode())
        h.update(path.read_bytes())
    source = resolve()
    h.update(f"checkpoint={source.kind}:{source.checkpoint}".encode())
    for path in sorted(p for p in source.folder.rglob("*") if p.is_file()):
        stat = path.stat()
        h.update(
            f"{path.relative_to(source.folder)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
        )
        if path.suffix in {".json", ".txt"}:
            h.update(path.read_bytes())
    dists = sorted(
        f"{d.metadata['Name']}=={d.version}".lower()
        for d in metadata.distributions()
    )
    h.update("\n".join(dists).encode())
    h.update(f"{sys.version}|{platform.platform()}".encode())
    return h.hexdigest()[:16]


@mkdocs.plugins.event_priority(100)
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    global _config
    _config = config
    fingerprint = build_fingerprint()
    config.extra["build_fingerprint"] = fingerprint
    # caches of other packages, checkpoints or versions that no live build uses are removed
    buildcache.begin(fingerprint, ["mkdocs-jupyter", "explorer"])
    plugin = config.plugins["mkdocs-jupyter"]
    private = buildcache.private("mkdocs-jupyter")
    buildcache.snapshot(
        CACHE_ROOT / fingerprint, private
    )  # entries pruned meanwhile simply run again
    plugin.config["cache_dir"] = str(private)

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
    paths = [
        str(JUPYTER / "config"),
        *filter(
            None, os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep)
        ),
    ]
    os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    os.environ["JUPYTER_PREFER_ENV_PATH"] = (
        "1"  # the kernel of this environment, not a user-wide one
    )
    os.environ.setdefault(
        "PYDEVD_DISABLE_FILE_VALIDATION", "1"
    )  # no debugger warning in cell outputs
    return config


def _publish(config: MkDocsConfig, complete: bool) -> None:
    """Publish the chapter outputs this build computed; a complete build also drops those it did not use."""
    private = Path(config.plugins["mkdocs-jupyter"].config["cache_dir"])
    used = {
        path.name for path in private.glob("*.json")
    }  # mkdocs-jupyter evicted the others
    buildcache.publish_files(
        private,
        CACHE_ROOT / config.extra["build_fingerprint"],
        keep=used if complete else None,
    )


@mkdocs.plugins.event_priority(
    -100
)  # after mkdocs-jupyter's own on_post_build (its eviction)
def on_post_build(config: MkDocsConfig) -> None:
    _publish(config, complete=True)


@mkdocs.plugins.event_priority(-100)
def on_build_error(error: Exception) -> None:
    """A failed build still publishes the outputs of the chapters that ran, so the next build reuses them."""
    if _config is not None:
        private = Path(_config.plugins["mkdocs-jupyter"].config["cache_dir"])
        for path in private.glob("*.json"):
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except ValueError:  # written when the error struck
                path.unlink()
        _publish(_config, complete=False)


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
