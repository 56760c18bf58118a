"""Two builds at once in one checkout (``mkdocs serve`` open while ``make test`` builds) both succeed.

hooks/buildcache.py: every cache entry is written in a build's private folder and published
with one atomic step; a build reads snapshots (hard links), never published entries in
place; pruning spares the fingerprints that live builds lease.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT
from tests.conftest import mkdocs_build as _mkdocs_build
from tests.test_site import CHAPTER, copy_project

pytestmark = pytest.mark.slow

CHAPTERS = {
    "one.py": CHAPTER.format(title="one"),
    "two.py": CHAPTER.format(title="two"),
}


class Built(subprocess.CompletedProcess[str]):
    """A build's process, and what its hooks recorded (``$BERTSTEPS_BUILD_RECORD``)."""

    record: dict[str, object]


def mkdocs_build(
    project: Path, site: Path, env: dict[str, str] | None = None
) -> Built:
    record = site.parent / f"{site.name}.record.json"
    out = _mkdocs_build(
        project, site, {**(env or {}), "BERTSTEPS_BUILD_RECORD": str(record)}
    )
    built = Built(out.args, out.returncode, out.stdout, out.stderr)
    built.record = json.loads(record.read_text()) if record.is_file() else {}
    return built


def executed(out: Built) -> set[str]:
    """The chapters this build executed, as hooks/examples.py recorded them."""
    chapters = out.record["executed"]
    assert isinstance(chapters, list)
    return {Path(uri).stem for uri in chapters}


def log_of(out: subprocess.CompletedProcess[str]) -> str:
    return out.stdout + out.stderr


def assert_clean(out: subprocess.CompletedProcess[str]) -> None:
    """A strict build that succeeded without a warning."""
    assert out.returncode == 0, log_of(out)[-5000:]
    assert "WARNING" not in log_of(out), log_of(out)[-5000:]


def chapter_html(site: Path, name: str) -> str:
    """A chapter page, with anything that may differ between two builds of the same sources made equal."""
    html = (site / "examples" / name / "index.html").read_text()
    return re.sub(
        r"\bcell-id=[\w-]+", "cell-id=ID", html
    )  # jupytext gives each cell a random id


def names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


def test_two_cold_builds_at_once(tmp_path: Path, tiny_folder: Path) -> None:
    """Both compute the same chapters and the same explorer data at the same time; both succeed."""
    project = copy_project(tmp_path / "p", CHAPTERS)
    shutil.rmtree(
        project / ".cache", ignore_errors=True
    )  # cold: nothing to reuse
    env = {
        "PYTHONPATH": str(project),
        "BERTSTEPS_CHECKPOINT": str(tiny_folder),
    }
    sites = [tmp_path / "site-a", tmp_path / "site-b"]
    with ThreadPoolExecutor(2) as pool:
        outs = list(
            pool.map(lambda site: mkdocs_build(project, site, env), sites)
        )
    for out in outs:
        assert_clean(out)
        assert executed(out) == {
            "one",
            "two",
        }  # each build ran both chapters itself
    for name in ("one", "two"):
        assert chapter_html(sites[0], name) == chapter_html(sites[1], name)
        assert "hidden size 48" in chapter_html(sites[0], name)
    manifests = [
        json.loads(
            (site / "assets" / "explorer" / "manifest.json").read_text()
        )
        for site in sites
    ]
    assert manifests[0] == manifests[1] and manifests[0]["hidden_size"] == 48

    # one published copy of each entry, whole; no lease or private folder left behind
    keys = outs[0].record["fingerprints"]
    assert isinstance(keys, dict) and keys == outs[1].record["fingerprints"]
    (fingerprint,) = names(project / ".cache" / "explorer")
    assert fingerprint == keys["explorer"]
    assert (
        json.loads(
            (
                project / ".cache" / "explorer" / fingerprint / "manifest.json"
            ).read_text()
        )
        == manifests[0]
    )
    assert names(project / ".cache" / "mkdocs-jupyter") == {
        keys["mkdocs-jupyter"]
    }
    entries = list(
        (
            project / ".cache" / "mkdocs-jupyter" / keys["mkdocs-jupyter"]
        ).iterdir()
    )
    assert len(entries) == 2 and all(
        json.loads(p.read_text())["content"] for p in entries
    )
    assert names(project / ".cache" / "builds") == set()

    again = mkdocs_build(
        project, tmp_path / "site-c", env
    )  # and what they published is used
    assert_clean(again)
    assert executed(again) == set() and "explorer data for" not in log_of(
        again
    )


def test_pruning_spares_a_cache_another_build_is_using(
    tmp_path: Path, tiny_folder: Path, tiny_mlm_folder: Path
) -> None:
    """A build with another checkpoint starts while the first reads its cache: both succeed."""
    marker = tmp_path / "slow-started"
    slow = f"# %% [markdown]\n# # Slow\n# %%\nimport pathlib, time\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(8)\n"
    project = copy_project(tmp_path / "p", CHAPTERS)
    shutil.rmtree(project / ".cache", ignore_errors=True)
    first_env = {
        "PYTHONPATH": str(project),
        "BERTSTEPS_CHECKPOINT": str(tiny_folder),
    }
    other_env = {
        "PYTHONPATH": str(project),
        "BERTSTEPS_CHECKPOINT": str(tiny_mlm_folder),
    }
    assert_clean(
        warm := mkdocs_build(project, tmp_path / "site-warm", first_env)
    )
    assert executed(warm) == {"one", "two"}
    (first,) = names(project / ".cache" / "explorer")
    (first_chapters,) = names(project / ".cache" / "mkdocs-jupyter")

    (project / "examples" / "slow.py").write_text(slow)
    with ThreadPoolExecutor(2) as pool:
        reader = pool.submit(
            mkdocs_build, project, tmp_path / "site-first", first_env
        )
        deadline = time.monotonic() + 300
        while (
            not marker.exists()
        ):  # the first build has taken its snapshots and runs `slow`
            assert time.monotonic() < deadline and not reader.done(), (
                "the first build never reached its slow chapter"
            )
            time.sleep(0.1)
        pruner = pool.submit(
            mkdocs_build, project, tmp_path / "site-other", other_env
        )
        first_out, other_out = reader.result(), pruner.result()
    assert_clean(first_out)
    assert_clean(other_out)
    assert executed(first_out) == {"slow"}  # one and two came from the cache
    assert "explorer data for" not in log_of(first_out)
    assert executed(other_out) == {"one", "two", "slow"}
    assert "hidden size 48" in chapter_html(tmp_path / "site-first", "one")
    assert "hidden size 32" in chapter_html(tmp_path / "site-other", "one")
    for site, hidden in (("site-first", 48), ("site-other", 32)):
        assert (
            json.loads(
                (
                    tmp_path / site / "assets" / "explorer" / "manifest.json"
                ).read_text()
            )["hidden_size"]
            == hidden
        )

    # the second build did not prune the first one's fingerprint, which was leased
    (other,) = names(project / ".cache" / "explorer") - {first}
    (other_chapters,) = names(project / ".cache" / "mkdocs-jupyter") - {
        first_chapters
    }
    assert names(project / ".cache" / "explorer") == {first, other}
    assert names(project / ".cache" / "mkdocs-jupyter") == {
        first_chapters,
        other_chapters,
    }
    assert (
        len(
            list(
                (
                    project / ".cache" / "mkdocs-jupyter" / first_chapters
                ).iterdir()
            )
        )
        == 3
    )  # slow's entry published too
    assert (
        names(project / ".cache" / "builds") == set()
    )  # both leases ended with their builds

    # once nobody uses it, it goes
    alone = mkdocs_build(project, tmp_path / "site-alone", other_env)
    assert_clean(alone)
    assert executed(alone) == set()
    assert names(project / ".cache" / "explorer") == {other}
    assert names(project / ".cache" / "mkdocs-jupyter") == {other_chapters}


# ---------------------------------------------------------------------------------------
# hooks/buildcache.py on its own, in this process


@pytest.fixture()
def buildcache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "buildcache_under_test", ROOT / "hooks" / "buildcache.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(module, "BUILDS", tmp_path / "cache" / "builds")
    yield module
    module.end()


def publish(
    buildcache: ModuleType, tmp_path: Path, fingerprint: str, text: str
) -> Path:
    folder = tmp_path / f"made-{fingerprint}-{time.time_ns()}"
    folder.mkdir()
    (folder / "manifest.json").write_text(text)
    (folder / "data.bin").write_bytes(text.encode() * 1000)
    buildcache.publish_folder(
        folder, buildcache.CACHE / "explorer" / fingerprint
    )
    return folder


def lease(buildcache: ModuleType, pid: int, fingerprint: str) -> Path:
    path = buildcache.BUILDS / f"{pid}-test.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "pid": pid,
                "host": socket.gethostname(),
                "fingerprint": fingerprint,
            }
        )
    )
    (buildcache.BUILDS / f"{pid}-test").mkdir()
    return path


def test_prune_keeps_what_live_builds_lease(
    buildcache: ModuleType, tmp_path: Path
) -> None:
    for fingerprint in ("live", "dead", "mine"):
        publish(buildcache, tmp_path, fingerprint, fingerprint)
    running = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"]
    )
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    try:
        lease(buildcache, running.pid, "live")
        lease(buildcache, int(gone.stdout), "dead")
        buildcache.begin({"explorer": "mine"})
        assert names(buildcache.CACHE / "explorer") == {"live", "mine"}
        # the dead build's lease and private folder are gone, the live one's stay
        stems = {
            path.name.removesuffix(".json")
            for path in buildcache.BUILDS.iterdir()
        }
        assert stems == {f"{running.pid}-test", buildcache.lease_path().stem}
    finally:
        running.kill()
        running.wait()
    buildcache.begin({"explorer": "mine"})  # now nobody uses "live"
    assert names(buildcache.CACHE / "explorer") == {"mine"}


def test_a_snapshot_outlives_the_published_entry(
    buildcache: ModuleType, tmp_path: Path
) -> None:
    publish(buildcache, tmp_path, "fp", "first")
    taken = buildcache.private("snapshot")
    assert buildcache.snapshot(buildcache.CACHE / "explorer" / "fp", taken)
    buildcache.prune(
        buildcache.CACHE / "explorer", keep=set()
    )  # as a build on another host might
    assert not (buildcache.CACHE / "explorer" / "fp").exists()
    assert (taken / "manifest.json").read_text() == "first" and (
        taken / "data.bin"
    ).read_bytes() == b"first" * 1000
    assert not buildcache.snapshot(
        buildcache.CACHE / "explorer" / "fp", buildcache.private("again")
    )


def test_the_first_publication_wins_and_readers_never_see_a_partial_one(
    buildcache: ModuleType, tmp_path: Path
) -> None:
    published = buildcache.CACHE / "explorer" / "fp"
    seen: list[tuple[str, int]] = []
    stop = threading.Event()

    def read() -> None:  # a reader polling the entry while it is published
        while not stop.is_set():
            if published.is_dir():
                seen.append(
                    (
                        (published / "manifest.json").read_text(),
                        len((published / "data.bin").read_bytes()),
                    )
                )

    reader = threading.Thread(target=read)
    reader.start()
    try:
        first = publish(buildcache, tmp_path, "fp", "first")
        time.sleep(0.05)
        second = publish(buildcache, tmp_path, "fp", "second")
        time.sleep(0.05)
    finally:
        stop.set()
        reader.join()
    assert (
        published / "manifest.json"
    ).read_text() == "first"  # the second build's copy was discarded
    assert (
        second / "manifest.json"
    ).read_text() == "second"  # and its own folder is still its own
    assert first.is_dir() and len(seen) > 0
    assert set(seen) == {("first", 5000)}
    files = buildcache.private("entries")
    (files / "a.json").write_text("new a")
    (buildcache.CACHE / "mkdocs-jupyter" / "fp").mkdir(parents=True)
    (buildcache.CACHE / "mkdocs-jupyter" / "fp" / "a.json").write_text("old a")
    (buildcache.CACHE / "mkdocs-jupyter" / "fp" / "stale.json").write_text(
        "unused"
    )
    (files / "b.json").write_text("b")
    assert (
        buildcache.publish_files(
            files,
            buildcache.CACHE / "mkdocs-jupyter" / "fp",
            keep={"a.json", "b.json"},
        )
        == 1
    )
    published_files = {
        p.name: p.read_text()
        for p in (buildcache.CACHE / "mkdocs-jupyter" / "fp").iterdir()
    }
    assert published_files == {"a.json": "old a", "b.json": "b"}
