"""Build the whole site once per checkpoint, side by side, with a version selector to switch.

    python hooks/sites.py bert-base-uncased bundled     # what `make sites` runs
    python hooks/sites.py --out site /path/to/folder ""

Each CHECKPOINT is what ``BERTSTEPS_CHECKPOINT`` takes (a hub name or a folder);
``bundled`` or an empty string is the bundled default. For each one:

- a strict ``mkdocs build`` renders the whole site into ``OUT/<slug>/`` (the slug comes
  from the checkpoint's name: ``bert-base-uncased``, ``all-minilm-l6-v2``), with its own
  search index, explorer data and build cache (``.cache/sites/<slug>/``), so rebuilding
  one rendering never touches another. It is built beside the old one and swapped in,
  so an interrupted build leaves the previous rendering as it was;
- ``OUT/versions.json`` lists the renderings in the format Material for MkDocs' version
  selector reads (``extra.version.provider: mike``, switched on by ``BERTSTEPS_SITE_VERSION``
  in ``hooks/assets.py``), each titled with the checkpoint and its size;
- ``OUT/index.html`` redirects to the first rendering.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = {"", "bundled"}


def slug(name: str) -> str:
    """A folder name for a checkpoint's rendering: the last part of its name, lowercase.

    Examples:
        >>> slug("sentence-transformers/all-MiniLM-L6-v2"), slug("/tmp/x/bert-base-uncased/")
        ('all-minilm-l6-v2', 'bert-base-uncased')
    """
    last = name.rstrip("/").rsplit("/", 1)[-1]
    text = re.sub(r"[^a-z0-9._-]+", "-", last.lower()).strip("-.")
    if not text:
        raise SystemExit(
            f"sites: cannot make a folder name from checkpoint {name!r}"
        )
    return text


def describe(checkpoint: str) -> dict[str, object]:
    """The entry of ``versions.json`` for one checkpoint (read from its files, no weights loaded)."""
    # imported by name: the hooks are type-checked on their own, not with the package
    model_card = importlib.import_module("bertsteps").model_card
    card = model_card(None if checkpoint in BUNDLED else checkpoint)
    name = card.name.rstrip("/").rsplit("/", 1)[
        -1
    ]  # "all-MiniLM-L6-v2": the header has little room
    return {
        "version": slug(card.name),
        "title": f"{name} ({card.layers} layers, hidden {card.hidden_size})",
        "aliases": [],
    }


def _write_atomic(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, delete=False, encoding="utf-8", suffix=".tmp"
    ) as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)


def build(
    checkpoint: str, entry: dict[str, object], out: Path, cache: Path
) -> None:
    """Render the whole site for ``checkpoint`` into ``out/<slug>``, replacing the old one only on success."""
    name = str(entry["version"])
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"BERTSTEPS_CHECKPOINT", "BERTSTEPS_BUILD_CACHE"}
    }
    if checkpoint not in BUNDLED:
        env["BERTSTEPS_CHECKPOINT"] = checkpoint
    env["BERTSTEPS_BUILD_CACHE"] = str(cache / name)
    env["BERTSTEPS_SITE_VERSION"] = name
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("NO_MKDOCS_2_WARNING", "1")
    fresh = Path(tempfile.mkdtemp(prefix=f".{name}.building-", dir=out))
    print(f"sites: building {entry['title']} into {out / name}/", flush=True)
    try:
        cmd = [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(fresh),
        ]
        done = subprocess.run(cmd, cwd=ROOT, env=env, check=False)
        if done.returncode != 0:
            raise SystemExit(
                f"sites: the build for {checkpoint or 'bundled'} failed (exit {done.returncode}); {out / name} is unchanged"
            )
        target = out / name
        old = out / f".{name}.old-{os.getpid()}"
        if target.exists():
            os.replace(target, old)
        os.replace(fresh, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


REDIRECT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BERT Step by Step</title>
<meta http-equiv="refresh" content="0; url={0}/">
<link rel="canonical" href="{0}/"></head>
<body><p><a href="{0}/">BERT Step by Step, rendered with {1}</a></p></body></html>
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sites", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "checkpoints",
        nargs="+",
        metavar="CHECKPOINT",
        help="hub names or folders; 'bundled' or '' for the default",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "site",
        help="the folder of all renderings (default: site/)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / ".cache" / "sites",
        help="build caches, one folder per rendering",
    )
    args = parser.parse_args(argv)
    checkpoints = [c.strip() for c in args.checkpoints]
    entries = [describe(c) for c in checkpoints]
    slugs = [str(e["version"]) for e in entries]
    if len(set(slugs)) != len(slugs):
        raise SystemExit(
            f"sites: two checkpoints give the same folder name: {slugs}"
        )
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for checkpoint, entry in zip(checkpoints, entries, strict=True):
        build(checkpoint, entry, out, args.cache.resolve())
    _write_atomic(out / "versions.json", json.dumps(entries, indent=2) + "\n")
    _write_atomic(
        out / "index.html", REDIRECT.format(slugs[0], entries[0]["title"])
    )
    print(f"sites: {len(entries)} renderings in {out}: {', '.join(slugs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
