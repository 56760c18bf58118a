"""The deploy command, proven offline: `make sites` with a bert-base-uncased-shaped checkpoint.

GitHub's runners load the real ``bert-base-uncased``; here a randomly initialised model with
exactly its configuration and heads stands in for it, placed in a temporary Hugging Face
cache under that hub name, with ``HF_HUB_OFFLINE=1``. The exact deploy command then builds
both renderings strictly, and a reader switches between them in Chromium.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, make_bert_base_shaped_hub_cache

pytestmark = pytest.mark.slow

DEPLOY = 'make sites CHECKPOINTS="bert-base-uncased bundled"'  # .github/workflows/docs.yml
SLUGS = ["bert-base-uncased", "all-minilm-l6-v2"]


def test_the_workflow_publishes_what_this_file_builds() -> None:
    workflow = (ROOT / ".github" / "workflows" / "docs.yml").read_text()
    assert f"run: {DEPLOY}" in workflow
    assert (
        "actions/cache@v4" in workflow
        and "~/.cache/huggingface/hub" in workflow
    )
    assert workflow.index("run: make test") < workflow.index(f"run: {DEPLOY}")


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sites")
    make_bert_base_shaped_hub_cache(root / "hf")
    out = root / "site"
    env = {k: v for k, v in os.environ.items() if k != "BERTSTEPS_CHECKPOINT"}
    env.update(
        {
            "HF_HOME": str(root / "hf"),
            "HF_HUB_OFFLINE": "1",
            "MPLBACKEND": "Agg",
        }
    )
    done = subprocess.run(
        [
            *DEPLOY.replace('"', "").split()[:2],
            "CHECKPOINTS=bert-base-uncased bundled",
            f"SITES_OUT={out}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=2400,
        check=False,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-5000:]
    assert not re.search(r"^(WARNING|ERROR)\s+-", log, re.MULTILINE), log[
        -5000:
    ]
    return out


def test_each_checkpoint_has_a_whole_rendering(sites: Path) -> None:
    versions = json.loads((sites / "versions.json").read_text())
    assert [v["version"] for v in versions] == SLUGS
    assert versions[0]["title"] == "bert-base-uncased (12 layers, hidden 768)"
    assert versions[1]["title"] == "all-MiniLM-L6-v2 (6 layers, hidden 384)"
    assert 'url=bert-base-uncased/"' in (sites / "index.html").read_text()
    for slug, name in zip(
        SLUGS,
        ["bert-base-uncased", "sentence-transformers/all-MiniLM-L6-v2"],
        strict=True,
    ):
        chapters = sorted((sites / slug / "examples").glob("*/index.html"))
        assert {p.parent.name for p in chapters} == {
            p.stem for p in (ROOT / "examples").glob("*.py")
        }
        for page in [sites / slug / "index.html", *chapters]:
            html = page.read_text()
            assert f"Rendered with <code>{name}</code>" in html, page
            assert '"provider":"mike"' in html.replace(" ", ""), (
                page
            )  # Material's version selector
        assert (sites / slug / "search" / "search_index.json").is_file()
        assert (
            sites / slug / "assets" / "explorer" / "manifest.json"
        ).is_file()


def test_the_bert_base_rendering_names_its_model_and_fills_masks(
    sites: Path,
) -> None:
    home = (sites / "bert-base-uncased" / "index.html").read_text()
    assert (
        "<code>bert-base-uncased</code>, the original pretrained BERT" in home
    )
    masked = (
        sites
        / "bert-base-uncased"
        / "examples"
        / "masked_words"
        / "index.html"
    ).read_text()
    assert "top guesses" in masked  # the predictions table
    assert "has no masked-language-model head" not in masked


def test_explorer_data_for_hidden_768_fits_its_budget(sites: Path) -> None:
    manifest = json.loads(
        (
            sites
            / "bert-base-uncased"
            / "assets"
            / "explorer"
            / "manifest.json"
        ).read_text()
    )
    assert manifest["hidden_size"] == 768
    assert 0 < manifest["data_bytes"] <= 8_000_000, manifest["data_bytes"]


@pytest.fixture(scope="module")
def sites_server(sites: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(sites))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.mark.parametrize(
    "page_path", ["examples/self_attention/", "explorer/", ""]
)
def test_the_switcher_changes_checkpoint_and_keeps_the_page(
    sites_server: str, browser: object, page_path: str
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(
        sites_server, wait_until="networkidle"
    )  # the redirect to the first rendering
    assert page.url == sites_server + "bert-base-uncased/"
    page.goto(
        sites_server + "bert-base-uncased/" + page_path,
        wait_until="networkidle",
    )
    current = page.locator(".md-version__current")
    current.wait_for()
    assert current.inner_text().startswith("bert-base-uncased")
    current.focus()  # the list opens on focus (keyboard) as on hover
    page.locator(".md-version__link", has_text="all-MiniLM-L6-v2").click()
    page.wait_for_url(sites_server + "all-minilm-l6-v2/" + page_path)
    assert (
        "Rendered with sentence-transformers/all-MiniLM-L6-v2"
        in page.locator(".bertsteps-rendered-with").inner_text()
    )
    page.locator(".md-version__current").focus()
    page.locator(".md-version__link", has_text="bert-base-uncased").click()
    page.wait_for_url(sites_server + "bert-base-uncased/" + page_path)
    page.screenshot(
        path=str(
            ROOT
            / "test-artifacts"
            / "screenshots"
            / f"sites-{page_path.strip('/').replace('/', '-') or 'home'}.png"
        )
    )
    page.close()
    assert problems == []
