"""What the build's hooks tell each other: one typed object per build.

Every hook that needs something another hook computed calls :func:`for_config` with the
MkDocs configuration of the build under way: the first call of a build (whichever hook
makes it, in whatever order MkDocs runs them) creates the :class:`BuildState` and leases its
cache keys (``buildcache.begin``); later calls of the same build get the same object.
``mkdocs serve`` loads a new configuration for every rebuild, and so gets a new state.

``config.extra`` holds only what templates and Markdown pages read (``checkpoint``, for
the footer and the home page; ``version``, for Material's version selector).
"""

from __future__ import annotations

import importlib
import os
import secrets
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import buildcache  # hooks/buildcache.py
import cachekey  # hooks/cachekey.py: MkDocs puts a hook's own folder on sys.path while loading it
from mkdocs.config.defaults import MkDocsConfig

ROOT = Path(__file__).resolve().parent.parent


@dataclass(eq=False)
class BuildState:
    """One build: its keys, its checkpoint, and what its hooks hand on to each other."""

    config: MkDocsConfig
    root: Path = ROOT
    # tells one build of a `mkdocs serve` session from the next (hooks/forkserver.py
    # restarts its server when this changes)
    build_id: str = field(default_factory=lambda: secrets.token_hex(8))
    # the folder whose files the explorer page serves (hooks/explorer.py)
    explorer_folder: Path | None = None
    # the chapter files that became pages, and those this build executed (hooks/examples.py)
    executed: list[str] = field(default_factory=list)

    @cached_property
    def fingerprints(self) -> cachekey.Fingerprints:
        """The keys of this build's caches (hooks/cachekey.py)."""
        return cachekey.fingerprints(self.root)

    @cached_property
    def chapters_cache(self) -> Path:
        """This build's private copy of the chapters' published cache (hard links: hooks/buildcache.py).

        mkdocs-jupyter reads and writes its entries here (hooks/examples.py); entries pruned
        while the copy was taken simply run again.
        """
        folder, _ = buildcache.snapshot_of("mkdocs-jupyter")
        return folder

    @cached_property
    def card(self) -> Any:
        """What the checkpoint this build renders with is: its ``bertsteps.ModelCard``."""
        return bertsteps(self.root).model_card()

    @property
    def preload(self) -> list[str]:
        """What the fork server imports for every kernel: third-party modules only.

        Never ``bertsteps``: a kernel imports it itself, so it always runs the sources this
        build's key was computed from. Not matplotlib: it reads ``$MPLBACKEND`` when
        imported, and ipykernel sets that at start.
        """
        model_type = self.card.model_type.replace("-", "_")
        return [
            "numpy",
            "torch",
            f"transformers.models.{model_type}.modeling_{model_type}",
        ]


_latest: list[
    BuildState
] = []  # the state of the latest build, once there is one


def for_config(config: MkDocsConfig) -> BuildState:
    """The state of the build that ``config`` configures, created on the first call."""
    if not _latest or _latest[0].config is not config:
        if _latest:  # a rebuild of `mkdocs serve`: read this checkout's bertsteps afresh
            _forget_bertsteps()
        state = BuildState(config)
        # lease this build's keys and prune the caches no live build uses (hooks/buildcache.py)
        buildcache.begin(state.fingerprints.by_kind())
        # kernels and the explorer's export import this checkout's bertsteps: the sources
        # its keys cover, however MkDocs was started
        prepend_env("PYTHONPATH", str(state.root))
        _latest[:] = [state]
    return _latest[0]


def current() -> BuildState | None:
    """The state of the latest build (for events that get no configuration, such as ``on_build_error``)."""
    return _latest[0] if _latest else None


def _forget_bertsteps() -> None:
    """Drop the bertsteps modules this process imported, so the next import reads the sources as they are now."""
    for name in [
        n
        for n in sys.modules
        if n == "bertsteps" or n.startswith("bertsteps.")
    ]:
        del sys.modules[name]


def prepend_env(name: str, value: str) -> None:
    """``value`` first in the path list ``$name`` (once)."""
    paths = [
        value,
        *filter(None, os.environ.get(name, "").split(os.pathsep)),
    ]
    os.environ[name] = os.pathsep.join(dict.fromkeys(paths))


def bertsteps(root: Path = ROOT, module: str = "bertsteps") -> Any:
    """A module of this checkout's ``bertsteps`` (``root`` first on ``sys.path``, as the kernels have it).

    Imported by name: the hooks are type-checked on their own, not with the package.
    """
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(module)
