"""Shared fixtures: the bundled default checkpoint, small random BERTs made on the spot, and
the built site with a server and a headless Chromium (one build for every test file that needs it)."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import bertsteps
from benchmarks.pages import RENDER_EVERYTHING


def make_random_checkpoint(
    folder: Path,
    *,
    hidden_size: int = 48,
    layers: int = 2,
    heads: int = 4,
    mlm_head: bool = False,
    seed: int = 0,
) -> Path:
    """Save a randomly initialised BERT with the default checkpoint's tokenizer into ``folder``."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertModel

    default = bertsteps.load()
    config = BertConfig(
        vocab_size=default.tokenizer.vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden_size * 2,
        max_position_embeddings=128,
    )
    torch.manual_seed(seed)
    model = (BertForMaskedLM if mlm_head else BertModel)(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    default.tokenizer.save_pretrained(folder)
    return folder


def make_bert_base_shaped_hub_cache(
    hf_home: Path, name: str = "bert-base-uncased", seed: int = 0
) -> Path:
    """A randomly initialised BERT with exactly bert-base-uncased's configuration and heads
    (``BertForPreTraining``: masked-LM and next-sentence), with the bundled tokenizer, saved as
    safetensors into a Hugging Face cache under the hub name ``name``. Returns the snapshot folder;
    with ``HF_HOME=hf_home`` and ``HF_HUB_OFFLINE=1``, ``bertsteps.load(name)`` finds it there."""
    import torch
    from transformers import BertConfig, BertForPreTraining

    from bertsteps.provenance import BERT_BASE_UNCASED_CONFIG

    config = BertConfig(
        **{
            k: v
            for k, v in BERT_BASE_UNCASED_CONFIG.items()
            if k != "model_type"
        }
    )
    config.architectures = ["BertForPreTraining"]
    torch.manual_seed(seed)
    model = BertForPreTraining(config)
    commit = "0" * 40
    repo = hf_home / "hub" / f"models--{name.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(snapshot, safe_serialization=True)
    bertsteps.load().tokenizer.save_pretrained(snapshot)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot


@pytest.fixture(scope="session")
def bert() -> bertsteps.Bert:
    return bertsteps.load()


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_checkpoint(
        tmp_path_factory.mktemp("tiny-bert"), hidden_size=48, layers=2, heads=4
    )


@pytest.fixture(scope="session")
def tiny_mlm_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_checkpoint(
        tmp_path_factory.mktemp("tiny-mlm"),
        hidden_size=32,
        layers=3,
        heads=2,
        mlm_head=True,
    )


@pytest.fixture(scope="session")
def tiny(tiny_folder: Path) -> bertsteps.Bert:
    return bertsteps.load(tiny_folder, device="cpu")


# ---------------------------------------------------------------------------------------
# The site, built once per session, a server for it and a browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get(
    "BERTSTEPS_CHROMIUM", "/usr/bin/chromium"
)  # Debian's package
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def mkdocs_build(
    project: Path,
    site: Path,
    env: dict[str, str] | None = None,
    strict: bool = True,
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if k != "BERTSTEPS_CHECKPOINT"
    }
    full_env.update({"MPLBACKEND": "Agg", "NO_MKDOCS_2_WARNING": "1"})
    full_env.update(env or {})
    args = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "-f",
        str(project / "mkdocs.yml"),
        "-d",
        str(site),
    ]
    return subprocess.run(
        [*args, "--strict"] if strict else args,
        check=False,
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site") / "site"
    out = mkdocs_build(ROOT, folder)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-5000:]
    assert not re.search(r"^(WARNING|ERROR)\s+-", log, re.MULTILINE), log[
        -5000:
    ]
    assert "WARNING" not in log, log[-5000:]  # nor from the kernels
    return folder


@pytest.fixture(scope="session")
def random_site(
    tmp_path_factory: pytest.TempPathFactory, tiny_folder: Path
) -> Path:
    """The whole site built strictly with a small random BERT, in a cache of its own
    (so the default build's cache is left alone)."""
    root = tmp_path_factory.mktemp("random-site")
    folder = root / "site"
    out = mkdocs_build(
        ROOT,
        folder,
        {
            "BERTSTEPS_CHECKPOINT": str(tiny_folder),
            "BERTSTEPS_BUILD_CACHE": str(root / "cache"),
        },
    )
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-5000:]
    assert "WARNING" not in log, log[-5000:]
    return folder


def run_chapter(
    chapter: Path,
    tmp_path: Path,
    checkpoint: Path | None = None,
    probe: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """A chapter run as a script in a new interpreter, with ``checkpoint`` (default: the
    bundled one); with ``probe``, that code runs instead, given the chapter's path."""
    env = {k: v for k, v in os.environ.items() if k != "BERTSTEPS_CHECKPOINT"}
    env["MPLBACKEND"] = "Agg"
    if checkpoint is not None:
        env["BERTSTEPS_CHECKPOINT"] = str(checkpoint)
    code = [str(chapter)] if probe is None else ["-c", probe, str(chapter)]
    return subprocess.run(
        [sys.executable, *code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def probe_chapter(
    chapter: Path, probe: str, tmp_path: Path, checkpoint: Path | None = None
) -> Any:
    """What ``probe`` printed last, as JSON, after running the chapter (it must succeed)."""
    out = run_chapter(chapter, tmp_path, checkpoint, probe)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def server(site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's Chromium with `apt-get install chromium` (.ci/run does), "
            "or point BERTSTEPS_CHROMIUM at another Chromium or Chrome"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        render_everything(b)
        yield b
        b.close()


# The site lets the browser skip laying out chapter cells far from the screen
# (content-visibility: auto, docs/stylesheets/extra.css). The checks measure and look at
# every cell (overflow, scrolling blocks, axe, full-page screenshots), so each page the
# tests open renders them all (the same script as benchmarks/pages.py's axe runs).


def render_everything(browser: Any) -> None:
    """Every page and context made from ``browser`` runs :data:`RENDER_EVERYTHING`."""
    new_context, new_page = browser.new_context, browser.new_page

    def context(*args: Any, **kwargs: Any) -> Any:
        made = new_context(*args, **kwargs)
        made.add_init_script(RENDER_EVERYTHING)
        return made

    def page(*args: Any, **kwargs: Any) -> Any:
        made = new_page(*args, **kwargs)
        made.add_init_script(RENDER_EVERYTHING)
        return made

    browser.new_context, browser.new_page = context, page
