"""The command line: each command's output, errors as one line, and a --help that loads
nothing heavy (its time is measured in benchmarks/run.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bertsteps
from bertsteps.cli import main


def run(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bertsteps", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


HEAVY = ("torch", "transformers", "matplotlib", "numpy")
COMMANDS = [
    "info",
    "tokens",
    "similarity",
    "nearest",
    "analogy",
    "neighbours",
    "explorer",
    "sentences",
    "search",
    "fill",
]


def test_help_lists_every_command_and_imports_nothing_heavy() -> None:
    """``python -m bertsteps --help`` exactly, in a fresh interpreter that then reports
    which heavy libraries it has loaded: none."""
    code = (
        "import runpy, sys\n"
        "sys.argv = ['bertsteps', '--help']\n"
        "try:\n"
        "    runpy.run_module('bertsteps', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as done:\n"
        "    status = done.code\n"
        f"print(status, sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stderr.strip().splitlines()[-1] == "0 []", out.stderr
    assert out.stdout.startswith("usage: bertsteps ")
    listed = re.findall(r"^    ([a-z]+)\b", out.stdout, re.MULTILINE)
    assert listed == COMMANDS, out.stdout


def test_info(
    capsys: pytest.CaptureFixture[str], bert: bertsteps.Bert
) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "sentence-transformers/all-MiniLM-L6-v2" in out
    lines = {line[:15].strip(): line[15:].strip() for line in out.splitlines()}
    assert (
        lines["layers"] == "6"
        and lines["hidden size"] == "384"
        and lines["vocab size"] == "30,522"
    )


def test_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tokens", "let's tokenize something?"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert [r[1] for r in rows] == [
        "[CLS]",
        "let",
        "'",
        "s",
        "token",
        "##ize",
        "something",
        "?",
        "[SEP]",
    ]
    assert [int(r[2]) for r in rows] == [
        101,
        2292,
        1005,
        1055,
        19204,
        4697,
        2242,
        1029,
        102,
    ]


def test_similarity_prints_matrix_and_writes_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bert: bertsteps.Bert
) -> None:
    words = ["king", "queen", "man", "woman", "dog", "cat", "apple", "pear"]
    plot = tmp_path / "m.svg"
    assert main(["similarity", *words, "--plot", str(plot)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == words
    expected = bertsteps.cosine_matrix(bertsteps.word_vectors(bert, words))
    for i, line in enumerate(lines[1:9]):
        label, *values = line.split()
        assert label == words[i]
        assert [float(v) for v in values] == pytest.approx(
            expected[i].tolist(), abs=0.006
        )
    svg = plot.read_text()
    assert svg.startswith("<?xml") and "<svg " in svg
    # The file draws its text as paths; matplotlib names each drawn text in a comment.
    drawn = re.findall(r"<!-- (.*?) -->", svg)
    assert drawn[:16] == words + words  # column labels, then row labels
    cells = [float(v) for v in drawn[16:80]]
    assert cells == pytest.approx(expected.flatten().tolist(), abs=0.006)
    assert drawn[80] == (
        f"cosine similarity of input word embeddings ({bert.name})"
    )


def test_nearest_and_analogy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nearest", "king", "-k", "5"]) == 0
    tokens = [line.split()[1] for line in capsys.readouterr().out.splitlines()]
    assert len(tokens) == 5 and "queen" in tokens[:3]
    assert main(["analogy", "man", "king", "woman", "-k", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "man : king :: woman : ?"
    assert "queen" in [line.split()[1] for line in out[1:]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nearest", "\u2603"], "[UNK]"),
        (
            ["similarity", "king", "queen", "--plot", "m.gif"],
            ".svg, .png or .pdf",
        ),
        (["info", "--checkpoint", "./missing-folder"], "no checkpoint folder"),
        (["info", "--device", "cuda:99"], "device"),
        (["similarity", "king", "tokenize", "--strategy", "error"], "##ize"),
    ],
)
def test_errors_are_one_line_without_traceback(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # m.gif and ./missing-folder: relative paths
    capsys.readouterr()
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bertsteps: error: ")
    assert message in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "m.gif").exists()


def test_an_error_from_python_dash_m_is_one_line_and_status_2() -> None:
    """The same, through the real entry point in a new process."""
    out = run("info", "--checkpoint", "./missing-folder")
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("bertsteps: error: ")
    assert "no checkpoint folder" in lines[0]


def test_bad_k_is_a_usage_error() -> None:
    out = run("nearest", "king", "-k", "0")
    assert (
        out.returncode == 2
        and "positive whole number" in out.stderr
        and "Traceback" not in out.stderr
    )
