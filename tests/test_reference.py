"""The API reference (docs/reference/*.md): complete, truthful, and cross-referenced.

The reference is a section of pages: an overview (docs/reference/index.md) and one page per
group of names, every one of them in mkdocs.yml's nav. Across the pages, every public name has
exactly one ``::: bertsteps.NAME`` directive; every name shown with a
short heading is importable from ``bertsteps``; helpers shown from a module are shown with
their full path and importable from it; no docstring holds a Sphinx role (mkdocstrings
prints those as raw text); and every ``[text][bertsteps...]`` cross-reference in the
package's docstrings names something the pages document. The strict build (tests/test_site.py)
then fails on any reference autorefs cannot resolve.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest
import yaml

import bertsteps

ROOT = Path(__file__).resolve().parent.parent
SECTION = ROOT / "docs" / "reference"
PAGES = sorted(SECTION.glob("*.md"))
PACKAGE = ROOT / "bertsteps"
SPHINX_ROLE = re.compile(
    r":(?:py:)?(?:func|class|meth|data|mod|attr|exc|obj|const|ref):`"
)
CROSS_REFERENCE = re.compile(r"\]\[(bertsteps(?:\.\w+)*)\]")


def directives() -> list[tuple[str, dict[str, object]]]:
    """``(identifier, options)`` for every ``::: identifier`` on the pages, page by page."""
    found: list[tuple[str, dict[str, object]]] = []
    lines = [
        line
        for page in PAGES
        for line in [*page.read_text(encoding="utf-8").splitlines(), ""]
    ]
    for i, line in enumerate(lines):
        if not line.startswith(":::"):
            continue
        block = []
        for following in lines[i + 1 :]:
            if not following.startswith("    "):
                break
            block.append(following[4:])
        options = (yaml.safe_load("\n".join(block)) or {}).get("options", {})
        found.append((line[3:].strip(), options))
    return found


def public_directives() -> list[str]:
    """The names documented as ``bertsteps.NAME``: the pages say they import from bertsteps."""
    return [
        ident.split(".")[1]
        for ident, _ in directives()
        if ident.count(".") == 1
        and not (PACKAGE / f"{ident.split('.')[1]}.py").exists()
    ]


def module_directives() -> dict[str, dict[str, object]]:
    return {
        ident.split(".")[1]: options
        for ident, options in directives()
        if ident.count(".") == 1
        and (PACKAGE / f"{ident.split('.')[1]}.py").exists()
    }


def docstrings_in(path: Path) -> list[tuple[str, str]]:
    """``(where, docstring)`` for the module and every class and function in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(
            node,
            ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef,
        ):
            doc = ast.get_docstring(node)
            if doc:
                found.append((f"{path.name}:{getattr(node, 'name', '')}", doc))
    return found


def nav_files(entry: object) -> list[str]:
    """Every file a ``nav:`` entry of mkdocs.yml names, sections included."""
    if isinstance(entry, str):
        return [entry]
    if isinstance(entry, dict):
        return [f for value in entry.values() for f in nav_files(value)]
    if isinstance(entry, list):
        return [f for item in entry for f in nav_files(item)]
    return []


def test_the_reference_is_a_section_of_pages() -> None:
    assert not (ROOT / "docs" / "reference.md").exists()
    # the overview keeps the URL reference/
    assert SECTION / "index.md" in PAGES
    assert 5 <= len(PAGES) - 1 <= 10, PAGES
    # only the overview has no directive; every other page documents something
    for page in PAGES:
        has = ":::" in page.read_text(encoding="utf-8")
        assert has == (page.name != "index.md"), page.name


def test_every_page_of_the_section_is_in_the_nav() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = nav_files(config["nav"])
    for page in PAGES:
        path = page.relative_to(ROOT / "docs").as_posix()
        assert listed.count(path) == 1, path
    assert "reference.md" not in listed


def test_the_overview_links_every_public_name_once() -> None:
    text = (SECTION / "index.md").read_text(encoding="utf-8")
    # autorefs ([bertsteps.load][]), or a plain link to the anchor on its page
    linked = re.findall(
        r"\[bertsteps\.(\w+)\](?:\[\]|\([\w-]+\.md#bertsteps\.\1\))", text
    )
    assert sorted(linked) == sorted(bertsteps.__all__)
    # its statements about imports are those the tests below check
    assert "from bertsteps import load" in text
    assert "from bertsteps.similarity import as_matrix" in text


def test_the_page_reads_its_directives() -> None:
    found = dict(directives())
    assert found["bertsteps.load"] == {"separate_signature": False}
    assert found["bertsteps.similarity"]["members"] == [
        "as_matrix",
        "unit_rows",
        "unit_embeddings",
        "excluded_ids",
    ]


@pytest.mark.parametrize("name", sorted(bertsteps.__all__))
def test_no_public_docstring_has_a_sphinx_role(name: str) -> None:
    obj = getattr(bertsteps, name)
    texts = [inspect.getdoc(obj) or ""]
    if inspect.isclass(obj):
        texts += [
            inspect.getdoc(member) or ""
            for attr, member in vars(obj).items()
            if not attr.startswith("_")
        ]
    for text in texts:
        assert not SPHINX_ROLE.search(text), (name, text)


def test_no_docstring_in_the_package_has_a_sphinx_role() -> None:
    docs = [d for p in sorted(PACKAGE.glob("*.py")) for d in docstrings_in(p)]
    assert len(docs) > 250
    offending = [where for where, doc in docs if SPHINX_ROLE.search(doc)]
    assert offending == []


def test_every_public_name_has_its_own_directive() -> None:
    shown = public_directives()
    assert len(shown) == len(set(shown)), "a name is documented twice"
    assert sorted(shown) == sorted(bertsteps.__all__)


def test_every_short_heading_is_importable_from_bertsteps() -> None:
    namespace: dict[str, object] = {}
    names = public_directives()
    exec(f"from bertsteps import {', '.join(names)}", namespace)
    for name in names:
        module = importlib.import_module(
            f"bertsteps.{bertsteps._EXPORTS[name]}"
        )
        assert namespace[name] is getattr(module, name)


def test_helpers_are_shown_with_the_module_they_import_from() -> None:
    modules = module_directives()
    assert {"checkpoints", "similarity", "by_hand", "masked_lm"} <= set(
        modules
    )
    helpers = 0
    for module_name, options in modules.items():
        module = importlib.import_module(f"bertsteps.{module_name}")
        members = options.get("members")
        assert options.get("show_root_heading") is False, module_name
        if members is False:
            continue  # only the module's docstring
        assert isinstance(members, list) and members, module_name
        # the page states these are imported from their module: it shows the full path
        assert options.get("show_object_full_path") is True, module_name
        for member in members:
            assert member not in bertsteps.__all__, (
                f"{member} is public: give it its own ::: bertsteps.{member}"
            )
            assert getattr(module, member).__module__ == module.__name__
            helpers += 1
    assert helpers == 15


def documented_identifiers() -> set[str]:
    """What the pages render an anchor for: public names, their members, listed helpers."""
    found = set()
    for name in bertsteps.__all__:
        found.add(f"bertsteps.{name}")
        obj = getattr(bertsteps, name)
        if inspect.isclass(obj):
            found |= {
                f"bertsteps.{name}.{attr}"
                for attr, member in vars(obj).items()
                if not attr.startswith("_") and inspect.getdoc(member)
            }
    for module_name, options in module_directives().items():
        members = options.get("members")
        if isinstance(members, list):
            found |= {f"bertsteps.{module_name}.{m}" for m in members}
    return found


def test_every_cross_reference_names_something_documented() -> None:
    documented = documented_identifiers()
    targets = {
        (path.name, target)
        for path in PACKAGE.glob("*.py")
        for target in CROSS_REFERENCE.findall(path.read_text(encoding="utf-8"))
    }
    assert len(targets) > 40
    assert ("checkpoints.py", "bertsteps.load") in targets
    unresolved = sorted(t for t in targets if t[1] not in documented)
    assert unresolved == []
