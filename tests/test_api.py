"""The public API has one source of truth: ``_EXPORTS`` in ``bertsteps/__init__.py``.

``__all__`` and the ``TYPE_CHECKING`` imports must name exactly the same names, from
exactly the same modules; every name must be defined in the module the table names;
``import bertsteps`` must stay lazy; and the README's layout lists every module.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bertsteps

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bertsteps"
INIT = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))


def _type_checking_imports() -> dict[str, str]:
    """name -> module for every ``from .module import name`` under ``if TYPE_CHECKING:``."""
    blocks = [
        node
        for node in INIT.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1, "expected one `if TYPE_CHECKING:` block"
    found: dict[str, str] = {}
    for node in blocks[0].body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1, (
            f"only `from .module import ...` belongs there, got {ast.unparse(node)}"
        )
        for alias in node.names:
            assert alias.asname is None, f"{alias.name} is renamed"
            assert alias.name not in found, f"{alias.name} imported twice"
            assert node.module is not None
            found[alias.name] = node.module
    return found


def _literal_all() -> list[str]:
    for node in INIT.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "__all__"
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return value
    raise AssertionError("bertsteps/__init__.py assigns no literal __all__")


def _top_level_names(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        ):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(
            node.target, ast.Name
        ):
            names.add(node.target.id)
    return names


def test_the_export_table_is_the_public_api() -> None:
    exports = bertsteps._EXPORTS
    assert len(exports) >= 100
    assert exports["load"] == "checkpoints"
    assert exports["fill_mask"] == "masked_lm"
    assert _literal_all() == bertsteps.__all__
    assert len(set(bertsteps.__all__)) == len(bertsteps.__all__)
    assert set(bertsteps.__all__) == set(exports)


def test_type_checking_imports_equal_the_export_table() -> None:
    assert _type_checking_imports() == bertsteps._EXPORTS


@pytest.mark.parametrize("name", sorted(bertsteps._EXPORTS))
def test_every_export_is_defined_in_its_module(name: str) -> None:
    module = bertsteps._EXPORTS[name]
    assert name in _top_level_names(module), (
        f"bertsteps.{module} does not define {name}"
    )
    value = getattr(importlib.import_module(f"bertsteps.{module}"), name)
    assert getattr(bertsteps, name) is value


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(
        AttributeError, match="module 'bertsteps' has no attribute 'lod'"
    ):
        _ = bertsteps.lod  # type: ignore[attr-defined]


def test_import_stays_lazy() -> None:
    code = (
        "import sys, bertsteps\n"
        "heavy = ('torch', 'transformers', 'matplotlib', 'numpy')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "print(set(bertsteps.__all__) <= set(dir(bertsteps)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout.split("\n")[:2] == ["[]", "True"]


def _layout_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert match is not None, "README.md has no '## Layout' section"
    return match.group(1)


def test_readme_layout_lists_every_module_once() -> None:
    listed = re.findall(
        r"^\| `bertsteps/(\w+)\.py` \| \S.*\|$", _layout_section(), re.M
    )
    modules = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert "checkpoints" in modules and "validation" in modules
    assert sorted(listed) == modules
