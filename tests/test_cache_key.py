"""hooks/cachekey.py: one cache key per checkout, however MkDocs is started and in a clean copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT, mkdocs_build
from tests.test_site import CHAPTER, copy_project

HOOKS = ROOT / "hooks"

# prints the keys of the checkout in argv[1]; argv[2] says what sys.path holds
SHOW = """\
import json, sys
root, mode = sys.argv[1], sys.argv[2]
if mode == "without-root":  # as `mkdocs build` has it: the script's folder, not the checkout
    sys.path[:] = [p for p in sys.path if p not in ("", ".", root)]
elif mode == "root-first":  # as `python -m mkdocs build` has it
    sys.path.insert(0, root)
sys.path.insert(0, {hooks!r})
import cachekey
from pathlib import Path
print(json.dumps(cachekey.fingerprints(Path(root)).by_kind()))
"""


def keys(root: Path, mode: str, cwd: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "BERTSTEPS_CHECKPOINT"}
    env.pop("PYTHONPATH", None)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            SHOW.format(hooks=str(HOOKS)),
            str(root),
            mode,
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Path]]:
    """A copy of this checkout's files (tracked and not ignored: the working tree as it is,
    without egg-info, caches or benchmark tools' leftovers), committed, and a git clone of it."""
    base = tmp_path_factory.mktemp("copies")
    copy = base / "copy"
    listed = git(
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        cwd=ROOT,
    )
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    git("init", "-q", cwd=copy)
    git("add", "-A", cwd=copy)
    git(
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "-m",
        "copy",
        cwd=copy,
    )
    clone = base / "clone"
    git("clone", "-q", str(copy), str(clone), cwd=base)
    yield [copy, clone]


def test_one_key_however_mkdocs_is_started(copies: list[Path]) -> None:
    """`mkdocs build`, `python -m mkdocs build` (a stray bertsteps.egg-info then on sys.path),
    this checkout, a plain copy of it and a git clone: the same keys."""
    copy, clone = copies
    # (this checkout may hold the stray bertsteps.egg-info `pip install -e` leaves;
    # the clone gets one below either way)
    expected = keys(ROOT, "without-root", cwd=Path("/"))
    assert keys(ROOT, "root-first", cwd=ROOT) == expected
    for where in (copy, clone):
        assert keys(where, "without-root", cwd=Path("/")) == expected
        assert keys(where, "root-first", cwd=where) == expected
    # a stray egg-info of another version in the copy changes nothing either
    egg = clone / "bertsteps.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: bertsteps\nVersion: 9.9.9\n"
    )
    assert keys(clone, "root-first", cwd=clone) == expected


def test_what_changes_which_key(tmp_path: Path, copies: list[Path]) -> None:
    """Results no page reads change nothing; results and data the chapters read change the
    chapters' key only; a change to bertsteps changes both."""
    project = tmp_path / "p"
    shutil.copytree(copies[0], project, ignore=shutil.ignore_patterns(".git"))
    before = keys(project, "without-root", cwd=Path("/"))
    for name in ("sites.json", "new-measurements.json"):
        (project / "benchmarks" / name).write_text('{"changed": true}\n')
    assert keys(project, "without-root", cwd=Path("/")) == before

    (project / "benchmarks" / "pages.json").write_text("{}\n")
    (project / "benchmarks" / "site_build.json").write_text("{}\n")
    after = keys(project, "without-root", cwd=Path("/"))
    assert after["explorer"] == before["explorer"]
    assert after["mkdocs-jupyter"] != before["mkdocs-jupyter"]

    with (project / "examples" / "data" / "sentence_pairs.tsv").open("a") as f:
        f.write("a\tb\n")
    data = keys(project, "without-root", cwd=Path("/"))
    assert data["explorer"] == before["explorer"]
    assert data["mkdocs-jupyter"] not in {
        before["mkdocs-jupyter"],
        after["mkdocs-jupyter"],
    }

    with (project / "bertsteps" / "errors.py").open("a") as f:
        f.write("\n# changed\n")
    code = keys(project, "without-root", cwd=Path("/"))
    assert code["explorer"] != before["explorer"]
    assert code["mkdocs-jupyter"] != data["mkdocs-jupyter"]


def test_a_fixed_list_of_distributions() -> None:
    sys.path.insert(0, str(HOOKS))
    try:
        import cachekey
    finally:
        sys.path.remove(str(HOOKS))
    found = cachekey.versions()
    assert found[:2] == [
        f"torch=={metadata.version('torch')}",
        f"transformers=={metadata.version('transformers')}",
    ]
    assert len(found) == len(cachekey.DISTRIBUTIONS)
    assert not any(line.startswith("bertsteps==") for line in found)
    assert cachekey.versions(["no-such-distribution-here"]) == [
        "no-such-distribution-here==missing"
    ]


# ---------------------------------------------------------------------------------------
# hooks/kernels.py counts the chapters to execute with mkdocs-jupyter's private key
# function, only for a checked version; anything else counts every chapter


@pytest.fixture()
def kernels() -> Iterator[ModuleType]:
    sys.path.insert(0, str(HOOKS))
    try:
        import kernels as module

        yield module
    finally:
        sys.path.remove(str(HOOKS))


def test_the_installed_mkdocs_jupyter_is_a_checked_version(
    kernels: ModuleType,
) -> None:
    """Fails when mkdocs-jupyter is upgraded past the checked range: check its
    _compute_cache_key and _get_cache_path against its on_pre_page, then widen the range."""
    version = metadata.version("mkdocs-jupyter")
    assert kernels._checked_version(version), version
    assert kernels._checked_version("0.26.0")
    assert not kernels._checked_version("0.27.0")
    assert not kernels._checked_version("0.25.9")
    assert not kernels._checked_version("garbage")


def plugin_config(cache: Path) -> dict[str, object]:
    """mkdocs-jupyter's settings as mkdocs.yml gives them, with ``cache`` as its cache folder."""
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    settings = dict(config.plugins["mkdocs-jupyter"].config)
    settings["cache_dir"] = str(cache)
    return settings


def test_chapters_to_execute_counts_what_is_not_cached(
    kernels: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chapters = sorted((ROOT / "examples").glob("*.py"))[:3]
    settings = plugin_config(tmp_path)
    assert kernels.chapters_to_execute(settings, chapters) == 3
    # the entry mkdocs-jupyter would read for the first chapter
    from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

    _get_cache_path(
        tmp_path, _compute_cache_key(str(chapters[0]), settings, True)
    ).write_text("{}")
    assert kernels.chapters_to_execute(settings, chapters) == 2
    assert (
        kernels.chapters_to_execute({**settings, "execute": False}, chapters)
        == 0
    )
    assert (
        kernels.chapters_to_execute({**settings, "cache": False}, chapters)
        == 3
    )
    # an unchecked version, or any failure: every chapter counts
    monkeypatch.setattr(kernels.metadata, "version", lambda name: "0.99.0")
    assert kernels.chapters_to_execute(settings, chapters) == 3
    monkeypatch.undo()
    broken = {k: v for k, v in settings.items() if k != "kernel_name"}
    assert kernels.chapters_to_execute(broken, chapters) == 3


# ---------------------------------------------------------------------------------------
# the same key in practice: a build started one way reuses what the other way built


@pytest.mark.slow
def test_mkdocs_build_after_python_m_mkdocs_build_executes_nothing(
    tmp_path: Path,
) -> None:
    project = copy_project(
        tmp_path / "p",
        {
            "one.py": CHAPTER.format(title="one"),
            "two.py": CHAPTER.format(title="two"),
        },
    )
    record = tmp_path / "record.json"
    env = {"BERTSTEPS_BUILD_RECORD": str(record)}
    first = mkdocs_build(project, tmp_path / "site-1", env)  # python -m mkdocs
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    first_record = json.loads(record.read_text())
    assert first_record["executed"] == ["examples/one.py", "examples/two.py"]

    # `mkdocs build`, the console script: the repository root is not on sys.path
    script = Path(sys.executable).with_name("mkdocs")
    full_env = {
        k: v for k, v in os.environ.items() if k != "BERTSTEPS_CHECKPOINT"
    }
    full_env.update(env, MPLBACKEND="Agg", NO_MKDOCS_2_WARNING="1")
    full_env.pop("PYTHONPATH", None)
    second = subprocess.run(
        [
            str(script),
            "build",
            "--strict",
            "-f",
            str(project / "mkdocs.yml"),
            "-d",
            str(tmp_path / "site-2"),
        ],
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert second.returncode == 0, (second.stdout + second.stderr)[-4000:]
    second_record = json.loads(record.read_text())
    assert second_record["fingerprints"] == first_record["fingerprints"]
    assert second_record["executed"] == []
    assert "explorer data for" not in second.stdout + second.stderr
    assert "fork server started" not in second.stdout + second.stderr
    one = (tmp_path / "site-2" / "examples" / "one" / "index.html").read_text()
    assert "torch imported before the first cell: True" in one
