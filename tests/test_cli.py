"""The command line: each command's output, errors as one line, and a fast --help."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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
    )


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = "import sys, bertsteps.cli as c; print(any(m in sys.modules for m in ('torch', 'transformers', 'matplotlib')))"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True
        ).stdout.strip()
        == "False"
    )
    start = time.perf_counter()
    out = run("--help")
    assert time.perf_counter() - start < 1.0
    assert out.returncode == 0
    for command in (
        "info",
        "tokens",
        "similarity",
        "nearest",
        "analogy",
        "neighbours",
    ):
        assert command in out.stdout


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
    assert svg.lstrip().startswith(("<?xml", "<svg")) and all(
        f">{w}<" in svg or w in svg for w in words
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
    args: list[str], message: str
) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("bertsteps: error: ")
        and message in lines[0]
    )
    assert "Traceback" not in out.stderr


def test_bad_k_is_a_usage_error() -> None:
    out = run("nearest", "king", "-k", "0")
    assert (
        out.returncode == 2
        and "positive whole number" in out.stderr
        and "Traceback" not in out.stderr
    )
