"""Sybil: every Python code block in docs/ and README.md, and every docstring example in bertsteps/ is a test.

Blocks within one Markdown page share a namespace, in order. A block with ``>>>`` is
checked as a doctest (its printed output must match); any other block must run
without raising.
"""

from __future__ import annotations

import doctest
import os

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser
from sybil.parsers.rest import DocTestParser

# Unit tests and docstrings state facts of the bundled default; tests that need another
# checkpoint make one and pass it explicitly.
os.environ.pop("BERTSTEPS_CHECKPOINT", None)

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

docs = Sybil(
    parsers=[PythonCodeBlockParser(doctest_optionflags=FLAGS)],
    patterns=["*.md"],
    path="docs",
    name="docs",
)
readme = Sybil(
    parsers=[PythonCodeBlockParser(doctest_optionflags=FLAGS)],
    patterns=["README.md"],
    path=".",
    name="readme",
)
docstrings = Sybil(
    parsers=[DocTestParser(optionflags=FLAGS)],
    patterns=["*.py"],
    path="bertsteps",
    name="docstrings",
)

# Sybil's public API: `a + b` gives a collection (a list of Sybil) used like one Sybil
sybils = docs + readme
sybils.append(docstrings)
pytest_collect_file = sybils.pytest()

# Docstring examples that compute a table over the whole vocabulary (about 20 s each on
# two cores) run with the slow tests (`make test`), not in `make check`.
SLOW_DOCSTRINGS = ("bertsteps/explorer.py", "bertsteps/neighbours.py")


def pytest_collection_modifyitems(config: object, items: list) -> None:
    import pytest

    for item in items:
        if item.nodeid.startswith(SLOW_DOCSTRINGS) and "sybil" in item.nodeid:
            item.add_marker(pytest.mark.slow)
