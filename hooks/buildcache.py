"""The build's caches, safe with two builds at once (``mkdocs serve`` open while ``make test`` builds).

Used by hooks/examples.py (the chapters' outputs) and hooks/explorer.py (the explorer's
data), each through ``begin`` (once per build, with every kind's key: hooks/cachekey.py),
``snapshot_of`` and ``published``. Everything lives under ``.cache/`` (or ``$BERTSTEPS_BUILD_CACHE``)::

    <kind>/<fingerprint>/...         published entries: complete, never changed once there
    builds/<pid>-<token>.json        a lease: the live build <pid> uses these keys (one per kind)
    builds/<pid>-<token>/            that build's private folder
    builds/<pid>-<token>.trash-*/    what it is deleting

Three rules make sharing safe:

- **Write privately, publish atomically.** A build fills an entry in its private folder and
  publishes it in one step that never replaces anything: ``os.rename`` of a folder onto a
  name that does not exist yet, ``os.link`` of a file. If another build published the same
  entry meanwhile, the existing one is kept and this build's copy discarded.
- **Read a snapshot.** A build never reads a published entry in place: ``snapshot`` first
  hard-links its files into the private folder (a link is atomic, and a linked file stays
  whole even if the published name is deleted) and reports whether every file came.
- **Prune what no live build leases.** ``begin`` writes this build's lease, then deletes the
  published fingerprints that neither it nor a live build leases (live: its pid is running
  on this host; a lease written on another host counts as live for a day after it was
  written), and the private folders of builds that are gone. A folder is renamed away before
  it is deleted, so a snapshot taken meanwhile is whole or visibly incomplete, never quietly
  partial. A recycled pid only keeps a cache longer. Correctness never depends on leases
  (snapshots do that); they spare a live build from computing its entries twice.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("BERTSTEPS_BUILD_CACHE", ROOT / ".cache"))
BUILDS = CACHE / "builds"
UNCHECKABLE_S = (
    24 * 3600
)  # how long a lease or folder whose build cannot be checked (another host) is kept

_stem = f"{os.getpid()}-{secrets.token_hex(4)}"  # this process's lease and private folder
_fingerprints: dict[str, str] = {}  # cache kind -> key, of the build under way


def lease_path() -> Path:
    """This process's lease."""
    return BUILDS / f"{_stem}.json"


def private(name: str = "") -> Path:
    """This build's private folder (or a subfolder ``name`` of it, created): nobody else reads it."""
    folder = BUILDS / _stem / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def begin(fingerprints: Mapping[str, str]) -> None:
    """Start a build that uses ``fingerprints`` (cache kind -> key): lease them, empty the private folder, prune.

    Under each kind's folder, the keys that neither this build nor a live build leases are
    deleted. ``mkdocs serve`` calls this again for every rebuild, in the same process.
    """
    if not _fingerprints:
        atexit.register(end)
    _fingerprints.clear()
    _fingerprints.update(fingerprints)
    BUILDS.mkdir(parents=True, exist_ok=True)
    write_atomic(
        lease_path(),
        json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "fingerprints": _fingerprints,
            }
        ),
    )
    _remove(BUILDS / _stem)  # what an earlier build of this process left
    private()
    for kind, fingerprint in _fingerprints.items():
        prune(CACHE / kind, keep={fingerprint, *live_fingerprints(kind)})
    _prune_builds()


def published(kind: str) -> Path:
    """Where the published entries of ``kind`` for this build's key live: ``<cache>/<kind>/<key>``."""
    return CACHE / kind / _fingerprints[kind]


def snapshot_of(kind: str) -> tuple[Path, bool]:
    """This build's private copy of the published ``kind`` entries (hard links), and whether it is whole."""
    into = private(kind)
    return into, snapshot(published(kind), into)


def end() -> None:
    """The process is done: remove its private folder, then its lease."""
    _remove(BUILDS / _stem)
    lease_path().unlink(missing_ok=True)


def live_fingerprints(kind: str, exclude_self: bool = False) -> set[str]:
    """The keys of ``kind`` leased by live builds (this one too unless ``exclude_self``)."""
    found = set()
    for lease, info in _leases():
        if _alive(lease, info) and not (exclude_self and lease.stem == _stem):
            fingerprints = info["fingerprints"]
            key = fingerprints.get(kind, fingerprints.get("*"))
            if key is not None:
                found.add(key)
    return found


def prune(folder: Path, keep: set[str]) -> None:
    """Delete what ``folder`` holds besides the fingerprints in ``keep``."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name not in keep:
            _remove(entry)


def snapshot(published: Path, into: Path) -> bool:
    """Hard-link the files of ``published`` into ``into``; whether every one of them came.

    ``False`` when ``published`` does not exist or was pruned while linking: then ``into``
    holds only some of its files (each of them whole).
    """
    try:
        files = [
            p
            for p in published.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        ]  # not a copy on its way in
    except FileNotFoundError:
        return False
    if not published.is_dir():
        return False
    complete = True
    for path in files:
        target = into / path.relative_to(published)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            _link(path, target)
        except FileNotFoundError:  # pruned meanwhile
            complete = False
    return complete


def publish_folder(folder: Path, published: Path) -> bool:
    """Publish ``folder`` (complete) as ``published`` by renaming it; ``False`` if another build was first.

    A copy made of links is renamed, so ``folder`` stays this build's own to read.
    """
    staging = private(f"publish-{secrets.token_hex(4)}")
    staging.rmdir()
    shutil.copytree(folder, staging, copy_function=_link)
    published.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(
            staging, published
        )  # onto an empty folder too; onto a full one: ENOTEMPTY or EEXIST
    except OSError:
        if not published.is_dir():
            raise
        _remove(
            staging
        )  # the same entry, published by another build: keep that one
        return False
    return True


def publish_files(
    folder: Path, published: Path, keep: set[str] | None = None
) -> int:
    """Publish each file of ``folder`` into ``published`` by hard-linking it; how many were new.

    A file already there is kept. With ``keep``, published files not named in it are removed,
    unless a live build other than this one leases the same fingerprint (it may want them).
    """
    published.mkdir(parents=True, exist_ok=True)
    new = 0
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        target = published / path.name
        try:
            os.link(path, target)
        except FileExistsError:
            continue
        except (
            FileNotFoundError
        ):  # ``published`` was pruned meanwhile (a build on another host)
            return new
        except OSError:  # no hard links on this file system: a whole copy renamed into place
            temporary = published / f".{path.name}.{_stem}.tmp"
            shutil.copyfile(path, temporary)
            os.replace(temporary, target)
        new += 1
    if keep is not None and published.name not in live_fingerprints(
        published.parent.name, exclude_self=True
    ):
        for path in published.iterdir():
            if path.name not in keep:
                _remove(path)
    return new


def write_atomic(path: Path, text: str) -> None:
    """Write ``path`` so that a reader sees the old text or the new, never a part of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{_stem}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


# ---------------------------------------------------------------------------- helpers


def _link(source: Path | str, target: Path | str) -> None:
    """Hard-link ``source`` as ``target``, or copy it where the file system has no hard links."""
    try:
        os.link(source, target)
    except (FileNotFoundError, FileExistsError):
        raise
    except OSError:
        shutil.copyfile(source, target)


def _remove(path: Path) -> None:
    """Delete a file or folder; a folder is first renamed to ``builds/<this build>.trash-*``, in one step."""
    if path.is_dir() and not path.is_symlink():
        trash = BUILDS / f"{_stem}.trash-{secrets.token_hex(4)}"
        try:
            os.rename(path, trash)
        except FileNotFoundError:  # someone else removed it first
            return
        except OSError:  # on another file system: delete it where it is
            trash = path
        shutil.rmtree(trash, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _leases() -> list[tuple[Path, dict[str, Any]]]:
    """Every readable lease in ``builds/`` with its contents (``fingerprints``: kind -> key)."""
    found = []
    for lease in BUILDS.glob("*.json") if BUILDS.is_dir() else []:
        try:
            info = json.loads(lease.read_text())
            if "fingerprints" in info:
                keys = {
                    str(k): str(v) for k, v in info["fingerprints"].items()
                }
            else:  # written by an older build: one key for every kind
                keys = {"*": str(info["fingerprint"])}
            found.append(
                (
                    lease,
                    {
                        "pid": int(info["pid"]),
                        "host": str(info["host"]),
                        "fingerprints": keys,
                    },
                )
            )
        except (
            OSError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
        ):  # gone meanwhile, or not a lease
            continue
    return found


def _alive(lease: Path, info: dict[str, Any]) -> bool:
    """Whether the build that wrote ``lease`` may still be running."""
    if info["host"] != socket.gethostname():
        try:
            return time.time() - lease.stat().st_mtime < UNCHECKABLE_S
        except FileNotFoundError:
            return False
    try:
        os.kill(info["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _prune_builds() -> None:
    """Remove the leases, private folders and trash of builds that are gone."""
    leases = {lease.stem: _alive(lease, info) for lease, info in _leases()}
    for entry in BUILDS.iterdir():
        stem = entry.name.split(".")[
            0
        ]  # <stem>.json, <stem>/, <stem>.trash-*/
        if stem in (_stem, ""):
            continue
        if stem in leases:
            dead = not leases[stem]
        else:  # its lease is gone (a build removes its folder first), or not ours at all
            try:
                dead = time.time() - entry.stat().st_mtime > UNCHECKABLE_S
            except FileNotFoundError:
                continue
        if dead:
            _remove(entry)
