"""The site: a strict build, the cache rules, and what a reader sees in headless Chromium.

The build runs with ``MPLBACKEND=Agg`` on purpose: CI often sets it, and the figures must
be on the page all the same. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

# The session fixtures `site` (one strict build), `server` and `browser` are in conftest.py,
# shared with tests/test_explorer_browser.py.
from tests.conftest import ROOT, mkdocs_build

ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
SEED_WORDS = ["king", "queen", "man", "woman", "dog", "cat", "apple", "pear"]

pytestmark = pytest.mark.slow


def chapter_pages(site: Path) -> list[Path]:
    return sorted((site / "examples").glob("*/index.html"))


def all_pages(site: Path) -> list[Path]:
    skip = ("assets/", "search/")
    return sorted(
        p
        for p in site.rglob("index.html")
        if not p.relative_to(site).as_posix().startswith(skip)
    )


# ---------------------------------------------------------------------------------------
# The built HTML


def test_every_chapter_is_in_the_site(site: Path) -> None:
    chapters = {p.stem for p in (ROOT / "examples").glob("*.py")}
    assert (
        chapters and {p.parent.name for p in chapter_pages(site)} == chapters
    )


def test_chapter_figures_are_rendered_even_with_agg_backend(
    site: Path,
) -> None:
    html = (site / "examples" / "word_embeddings" / "index.html").read_text()
    tags = re.findall(
        r'<figure class="bertsteps-figure"[^>]*>\s*(<svg\b[^>]*>)', html
    )
    assert tags, "the heatmap is missing from the word-embeddings chapter"
    for tag in tags:
        assert 'role="img"' in tag
        alt = re.search(r'aria-label="([^"]+)"', tag)
        assert (
            alt
            and "king" in alt.group(1)
            and "No description" not in alt.group(1)
        )
    svg = html[html.index('<figure class="bertsteps-figure"') :]
    svg = svg[: svg.index("</figure>")]
    for word in SEED_WORDS:
        assert f">{word}</text>" in svg, word


def test_no_images_without_alt_text(site: Path) -> None:
    for page in all_pages(site):
        html = page.read_text()
        assert "No description has been provided for this image" not in html, (
            page
        )
        for tag in re.findall(r"<img\b[^>]*>", html):
            assert re.search(r'\balt="[^"]+"', tag), f"{page}: {tag[:120]}"


def test_heatmaps_say_where_their_numbers_are(site: Path) -> None:
    """A heatmap whose cells do not show its values carries them in a table under it, and
    its alt text says which (bertsteps.plot_matrix): checked on the built chapters."""
    figures = [
        figure
        for page in chapter_pages(site)
        for figure in re.findall(
            r'<figure class="bertsteps-figure".*?</figure>',
            page.read_text(),
            re.DOTALL,
        )
        if "Heatmap" in figure[:600] or "heatmaps" in figure[:600]
    ]
    with_table = [f for f in figures if "bertsteps-numbers" in f]
    assert len(figures) >= 6 and len(with_table) >= 2, (
        len(figures),
        len(with_table),
    )
    for figure in figures:
        label = re.search(r'aria-label="([^"]*)"', figure)
        assert label is not None, figure[:200]
        if "bertsteps-numbers" in figure:
            assert "each cell shows its value" not in label[1].lower(), label[
                1
            ]
            assert "<td>" in figure and "<caption>" in figure, label[1]
        elif label[1].startswith(
            "Heatmap"
        ):  # one heatmap: its values in its cells
            assert label[1].lower().endswith("each cell shows its value."), (
                label[1]
            )


def test_no_stderr_or_errors_in_cell_outputs(site: Path) -> None:
    for page in chapter_pages(site):
        html = page.read_text()
        stderr = re.search(
            r'<div\b[^>]*data-mime-type="application/vnd.jupyter.stderr"[^>]*>(.{0,300})',
            html,
            re.DOTALL,
        )
        assert stderr is None, (
            f"{page} shows stderr output: {stderr.group(1) if stderr else ''}"
        )
        assert not re.search(
            r'<div\b[^>]*class="[^"]*jp-OutputArea-error', html
        ), page
        assert "Traceback (most recent call last)" not in html, page


def test_every_asset_is_served_by_the_site(site: Path) -> None:
    external = re.compile(
        r'<(?:script|img|iframe|source|embed)\b[^>]*\bsrc="(https?:)?//'
        r'|<link\b(?=[^>]*\brel="(?:stylesheet|preload|modulepreload|icon|manifest)")[^>]*\bhref="(https?:)?//'
    )
    for page in all_pages(site):
        html = page.read_text()
        match = external.search(html)
        assert match is None, (
            f"{page} loads {html[match.start() : match.start() + 160]}"
        )
        assert (
            "fonts.googleapis" not in html
            and "cdnjs" not in html
            and "cdn.jsdelivr" not in html
        )


def test_chapters_offer_their_notebook(site: Path) -> None:
    for page in chapter_pages(site):
        name = page.parent.name
        html = page.read_text()
        assert f'href="{name}.ipynb" download' in html
        notebook = nbformat.read(page.parent / f"{name}.ipynb", as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata["kernelspec"]["name"] == "python3"
        assert any(c.cell_type == "code" for c in notebook.cells)


def test_footer_and_home_name_the_checkpoint(site: Path) -> None:
    from bertsteps import model_card

    card = model_card()
    home = (site / "index.html").read_text()
    assert f"<code>{card.name}</code>, {card.short}" in home
    assert (
        "MiniLM-L6-H384-uncased" in home and "masked-word pretraining" in home
    )  # its training, said
    assert re.search(r"<th[^>]*><code>bert-base-uncased</code></th>", home), (
        "no bert-base comparison table"
    )
    assert re.search(
        r"<td>layers</td>\s*<td[^>]*>6</td>\s*<td[^>]*>12</td>", home
    ), "no layers row"
    for page in all_pages(site):
        assert (
            f"Rendered with <code>{card.name}</code>, {card.short}"
            in page.read_text()
        ), page


# Claims that describe structure trained weights can have and random weights cannot: in a
# build with a random checkpoint each must be printed as not holding. (page, claim id)
STRUCTURE_CLAIMS: list[tuple[str, str]] = [
    *(
        ("embedding_layer", claim_id)
        for claim_id in (
            "position-falls",
            "position-ripples",
            "position-zero-longest",
            "one-part-longest",
        )
    ),
    ("word_embeddings", "king-queen-near"),
    ("word_embeddings", "same-kind-nearest"),
    *(
        ("embedding_space", claim_id)
        for claim_id in (
            "inflections-near",
            "analogy-ranks",
            "groups-cluster",
            "groups-cluster-in-picture",
            "pieces-closer",
            "probe-pieces-near-pieces",
            "pieces-near-pieces",
            "hubs-uneven",
            "hubs-central",
        )
    ),
    *(
        ("self_attention", claim_id)
        for claim_id in (
            "unscaled-sharper",
            "first-layer-previous-token",
            "first-layer-token-itself",
            "first-layer-next-token",
            "first-layer-special-tokens",
            "first-layer-same-word",
            "first-layer-focused-head",
            "all-layers-named-heads",
        )
    ),
    *(
        ("feed_forward", claim_id)
        for claim_id in (
            "ffn-mostly-off",
            "layernorm-matters",
            "one-layer-turns-most",
            "blocks-change-substantially",
            "pooler-trained",
        )
    ),
    ("contextual_embeddings", "senses-separate"),
    ("contextual_embeddings", "layers-add-context"),
    ("contextual_embeddings", "bank-sorted-by-meaning"),
    *(
        ("sentence_vectors", claim_id)
        for claim_id in (
            "sentence-best",
            "sentence-recipe",
            "sentence-context",
            "sentence-cosine-scale",
            "sentence-partners",
            "search-tokenization",
            "word-feature-best",
            "word-feature-context",
        )
    ),
]


def claims_on(page: Path) -> dict[str, str]:
    found = re.findall(
        r'<details class="bertsteps-claim" data-claim="([a-z0-9-]+)" data-holds="(true|false)"',
        page.read_text(),
    )
    ids = [claim_id for claim_id, _ in found]
    assert len(ids) == len(set(ids)), f"{page}: a claim id is used twice"
    return dict(found)


def test_a_random_checkpoint_claims_no_structure(
    random_site: Path, site: Path
) -> None:
    assert len(STRUCTURE_CLAIMS) == 39 == len(set(STRUCTURE_CLAIMS))
    for chapter, claim_id in STRUCTURE_CLAIMS:
        page = Path("examples", chapter, "index.html")
        random_claims, default_claims = (
            claims_on(random_site / page),
            claims_on(site / page),
        )
        assert claim_id in default_claims, (
            f"{chapter}: claim {claim_id} is not on the default build's page"
        )
        assert random_claims.get(claim_id) == "false", (
            f"{chapter}: claim {claim_id} is {random_claims.get(claim_id)} with random weights"
        )
    # the one claim that says random-looking rows are unrelated says so for random weights
    assert (
        claims_on(random_site / "examples" / "embedding_layer" / "index.html")[
            "position-rows-unrelated"
        ]
        == "true"
    )


def test_every_checkpoint_dependent_sentence_says_how_it_was_decided(
    site: Path,
) -> None:
    counts = {
        page.parent.name: len(claims_on(page)) for page in chapter_pages(site)
    }
    assert sum(counts.values()) >= 20, counts
    html = (site / "examples" / "embedding_layer" / "index.html").read_text()
    assert "<summary>How this sentence was decided</summary>" in html


def test_no_page_says_seed(site: Path, random_site: Path) -> None:
    """The notebook the site grew from is named by its title, never by an internal nickname."""
    for built in (site, random_site):
        for page in all_pages(built):
            text = re.sub(r"<[^>]+>", " ", page.read_text())
            match = re.search(r"(?i)\bseed\b", text)
            assert match is None, (
                f"{page}: ...{text[max(0, match.start() - 80) : match.end() + 80]}..."
            )
    word_embeddings = (
        site / "examples" / "word_embeddings" / "index.html"
    ).read_text()
    assert "BERT Step by Step: Word Embeddings" in word_embeddings


# ---------------------------------------------------------------------------------------
# What a reader sees


def site_paths(site: Path) -> list[str]:
    rels = [p.parent.relative_to(site).as_posix() for p in all_pages(site)]
    return ["" if rel == "." else rel + "/" for rel in rels]


@pytest.mark.parametrize(
    ("width", "scheme"), [(1280, "light"), (1280, "dark"), (390, "light")]
)
def test_pages_in_the_browser(
    site: Path, server: str, browser: object, width: int, scheme: str
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme
    )  # type: ignore[attr-defined]
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in {"error", "warning"}
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "requestfailed",
        lambda r: problems.append(f"failed request: {r.url} {r.failure}"),
    )
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith((server, "data:", "blob:"))
            else problems.append(f"outside request: {r.url}")
        ),
    )
    for path in site_paths(site):
        page.goto(server + path, wait_until="networkidle")
        name = (
            path.strip("/").replace("/", "-") or "home"
        ) + f"-{width}-{scheme}.png"
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)
        # nothing wider than the screen: a table or output that overflows scrolls in its own box
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 1, (
            f"{path} is {overflow}px wider than a {width}px screen"
        )
        covered = (
            page.evaluate(  # the copy button sits above the code, not over it
                """() => [...document.querySelectorAll('.jp-InputArea-editor')].filter(e => {
                const button = e.querySelector('.zeroclipboard-container');
                const code = e.querySelector('pre');
                return button && code && button.getBoundingClientRect().bottom > code.getBoundingClientRect().top + 1;
            }).length"""
            )
        )
        assert covered == 0, f"{path}: {covered} copy buttons over their code"
        covered = (
            page.evaluate(  # Material's copy buttons too (Markdown, API pages)
                """() => [...document.querySelectorAll('.md-typeset pre')].filter(pre => {
                const nav = pre.querySelector(':scope > .md-code__nav');
                const code = pre.querySelector(':scope > code');
                if (!nav || !code) return false;
                const top = code.getBoundingClientRect().top
                    + parseFloat(getComputedStyle(code).paddingTop);
                return nav.getBoundingClientRect().bottom > top + 1;
            }).length"""
            )
        )
        assert covered == 0, (
            f"{path}: {covered} of Material's copy buttons over their code"
        )
        if (
            width >= 1280
        ):  # every chapter's code fits its column (79 characters)
            sideways = page.evaluate(
                """() => [...document.querySelectorAll('.highlight-ipynb pre')]
                    .filter(e => e.scrollWidth > e.clientWidth + 1)
                    .map(e => e.textContent.split('\\n').find(l => l.length > 79) || e.textContent.slice(0, 80))"""
            )
            assert sideways == [], (
                f"{path}: code that scrolls sideways: {sideways}"
            )
    context.close()
    assert problems == [], "\n".join(problems)


def test_a_code_cells_copy_button_copies_its_code(
    site: Path, server: str, browser: object
) -> None:
    """The copy button copies the cell's code exactly as the chapter's source has it."""
    import jupytext

    notebook = jupytext.read(ROOT / "examples" / "word_embeddings.py")
    first = next(
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code"
        and "hide-input" not in cell.metadata.get("tags", [])
    )
    context = browser.new_context(  # type: ignore[attr-defined]
        permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.goto(server + "examples/word_embeddings/", wait_until="networkidle")
    page.locator("clipboard-copy").first.click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.strip() == first.strip()
    assert len(first.splitlines()) > 3
    context.close()


def test_word_embeddings_chapter_as_read(
    site: Path, server: str, browser: object
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(server + "examples/word_embeddings/", wait_until="networkidle")
    heatmap = page.locator("figure.bertsteps-figure svg").first
    assert heatmap.is_visible()
    box = heatmap.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300
    labels = heatmap.locator("text").all_text_contents()
    for word in SEED_WORDS:
        assert word in labels
    # the formula is typeset (MathML, at build time), not left as raw TeX: the cosine's
    # fraction stands taller than a line of text
    formula = page.locator("math[display=block]").first
    assert formula.is_visible()
    assert formula.locator("mfrac").count() == 1
    box = formula.bounding_box()
    assert box is not None and box["height"] > 30, box  # taller than a line
    markdown_text = " ".join(
        page.locator(".jp-RenderedMarkdown").all_inner_texts()
    )
    assert "$$" not in markdown_text and "\\frac" not in markdown_text
    page.close()


# ---------------------------------------------------------------------------------------
# Build rules, on a small copy of the project


def copy_project(
    dest: Path,
    chapters: dict[str, str] | None = None,
    extra: dict[str, object] | None = None,
) -> Path:
    import yaml

    for name in (
        "hooks",
        "overrides",
        "bertsteps",
        "docs/javascripts",
        "docs/stylesheets",
    ):
        shutil.copytree(ROOT / name, dest / name)
    explorer_cache = ROOT / ".cache" / "explorer"
    if explorer_cache.is_dir():  # the copy has the same fingerprint: no minute spent exporting the same data again
        shutil.copytree(explorer_cache, dest / ".cache" / "explorer")
    (dest / "docs" / "index.md").write_text("# A small copy of the site\n")
    (dest / "examples").mkdir()
    for name, text in (chapters or {}).items():
        (dest / "examples" / name).write_text(text)
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config.pop("nav")  # only what is there
    config["validation"]["nav"]["omitted_files"] = "ignore"
    config.setdefault("extra", {}).update(extra or {})
    (dest / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return dest


CHAPTER = """# %% [markdown]
# # {title}
# %%
import sys
print("torch imported before the first cell:", "torch" in sys.modules)
# %%
import bertsteps
bert = bertsteps.load()
bertsteps.tokenize(bert, "{title}").tokens
"""


def executed(record: Path) -> set[str]:
    """The chapters a build executed, as its hooks recorded them ($BERTSTEPS_BUILD_RECORD)."""
    data = json.loads(record.read_text())
    assert data["ok"] is True
    return {Path(p).stem for p in data["executed"]}


def test_cache_rules(tmp_path: Path, tiny_folder: Path) -> None:
    """Nothing changed: nothing runs. One chapter changed: it alone runs. The package or the
    checkpoint changed: everything runs again, so no page is ever stale."""
    project = copy_project(
        tmp_path / "p",
        {
            "one.py": CHAPTER.format(title="one"),
            "two.py": CHAPTER.format(title="two"),
        },
    )
    record = tmp_path / "record.json"
    env = {  # the copy's bertsteps, for the hooks and the kernels; its own cache
        "PYTHONPATH": str(project),
        "BERTSTEPS_BUILD_CACHE": str(project / ".cache"),
        "BERTSTEPS_BUILD_RECORD": str(record),
    }

    exports: list[
        bool
    ] = []  # per build: was the explorer's data exported again?
    servers: list[
        bool
    ] = []  # per build: was a fork server started for the kernels?

    def build(extra_env: dict[str, str] | None = None) -> set[str]:
        out = mkdocs_build(
            project,
            tmp_path / "site",
            {**env, **(extra_env or {})},
            strict=False,
        )
        assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
        exports.append("explorer data for" in out.stdout + out.stderr)
        servers.append("fork server started" in out.stdout + out.stderr)
        assert (
            len(list((project / ".cache" / "explorer").iterdir())) == 1
        )  # other fingerprints are removed
        return executed(record)

    def explorer_hidden_size() -> int:
        return json.loads(
            (
                tmp_path / "site" / "assets" / "explorer" / "manifest.json"
            ).read_text()
        )["hidden_size"]

    assert build() == {"one", "two"}
    # the kernels were forks of the server, which had imported torch (hooks/kernels.py)
    assert (
        "torch imported before the first cell: True"
        in (tmp_path / "site" / "examples" / "one" / "index.html").read_text()
    )
    assert build() == set()
    (project / "examples" / "two.py").write_text(
        CHAPTER.format(title="two, changed")
    )
    assert build() == {"two"}
    assert servers[:3] == [
        True,
        False,
        True,
    ]  # started only when something has to run
    assert exports[1:] == [
        False,
        False,
    ]  # the explorer's data follows the same rule as the chapters
    with (project / "bertsteps" / "__init__.py").open("a") as f:
        f.write("\n# a change to the package\n")
    assert build() == {"one", "two"}
    assert build() == set()
    assert exports[3:] == [True, False] and explorer_hidden_size() == 384
    assert build({"BERTSTEPS_CHECKPOINT": str(tiny_folder)}) == {"one", "two"}
    html = (tmp_path / "site" / "examples" / "one" / "index.html").read_text()
    assert "hidden size 48" in html  # the footer follows the checkpoint too
    assert (
        exports[5] and explorer_hidden_size() == 48
    )  # and so does the explorer


@pytest.mark.parametrize(
    ("chapter", "extra", "message"),
    [
        (
            "# %%\nraise ValueError('a broken chapter')\n",
            {},
            "a broken chapter",
        ),
        (
            "# %%\nimport time\ntime.sleep(120)\n",
            {"cell_timeout_s": 3},
            "timed out",
        ),
        (
            "# %% [markdown]\n# # Links\n# [nowhere](../no-such-chapter/)\n",
            {},
            "no-such-chapter",
        ),
    ],
    ids=["error", "hang", "broken-link"],
)
def test_a_bad_chapter_fails_the_strict_build(
    tmp_path: Path, chapter: str, extra: dict[str, object], message: str
) -> None:
    project = copy_project(tmp_path / "p", {"bad.py": chapter}, extra)
    out = mkdocs_build(
        project, tmp_path / "site", {"PYTHONPATH": str(project)}
    )
    assert out.returncode != 0
    assert message in out.stdout + out.stderr


def test_api_reference_links_its_cross_references(site: Path) -> None:
    import posixpath

    import bertsteps

    # the reference is a section: an overview (reference/) and a page per group of names
    pages = sorted((site / "reference").rglob("index.html"))
    assert len(pages) >= 6, pages
    articles = {}
    for page in pages:
        html = page.read_text()
        folder = page.parent.relative_to(site).as_posix() + "/"
        article = html.split("<article", 1)[1]
        articles[folder] = article.split("</article>", 1)[0]
    ids = {
        folder: set(re.findall(r'\bid="([^"]+)"', article))
        for folder, article in articles.items()
    }
    anchors = set().union(*ids.values())
    missing = [n for n in bertsteps.__all__ if f"bertsteps.{n}" not in anchors]
    assert missing == []
    # every public name has one entry: its anchor is on exactly one page
    for name in bertsteps.__all__:
        anchor = f"bertsteps.{name}"
        holders = [f for f, found in ids.items() if anchor in found]
        assert len(holders) == 1, (name, holders)
    targets = []
    autorefs = 0
    roles = (":func:", ":class:", ":meth:", ":data:", ":attr:", ":mod:")
    for folder, article in articles.items():
        for role in roles:
            assert role not in article, (folder, role)
        # resolved cross-references are links to anchors on a reference page (this one or
        # another); unresolved ones would be left as <autoref> tags or as [text][identifier]
        autorefs += article.count('<a class="autorefs autorefs-internal"')
        for href in re.findall(r'\shref="([^"#]*#bertsteps[\w.]*)"', article):
            path, anchor = href.split("#", 1)
            target = posixpath.normpath(posixpath.join(folder, path)) + "/"
            targets.append((folder, target, anchor))
        assert "<autoref" not in article, folder
        assert re.findall(r"\]\[bertsteps[\w.]*\]", article) == [], folder
    assert autorefs >= 40 + len(bertsteps.__all__)
    unresolved = [t for t in targets if t[2] not in ids.get(t[1], set())]
    assert unresolved == []
    linked = {anchor for _, _, anchor in targets}
    assert {"bertsteps.load", "bertsteps.CheckpointError"} <= linked
    # the overview links every public name to its entry
    overview = {a for f, _, a in targets if f == "reference/"}
    assert {f"bertsteps.{n}" for n in bertsteps.__all__} <= overview
