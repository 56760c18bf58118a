"""The sentences and search commands: their output, and errors as one line with status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

import bertsteps
from bertsteps.cli import main

SENTENCES = [
    "A man is eating food.",
    "Someone is having a meal.",
    "The stock market fell sharply.",
]


def test_sentences_prints_the_similarity_matrix(
    capsys: pytest.CaptureFixture[str], bert: bertsteps.Bert, tmp_path: Path
) -> None:
    plot = tmp_path / "m.svg"
    assert main(["sentences", *SENTENCES, "--plot", str(plot)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        f"  {i}  {s}" for i, s in enumerate(SENTENCES, start=1)
    ]
    assert lines[3] == "" and lines[4].split() == ["1", "2", "3"]
    expected = bertsteps.cosine_matrix(
        bertsteps.sentence_vectors(bert, SENTENCES)
    )
    for i, line in enumerate(lines[5:8]):
        label, *values = line.split()
        assert label == str(i + 1)
        assert [float(v) for v in values] == pytest.approx(
            expected[i].tolist(), abs=0.006
        )
    assert (
        float(lines[5].split()[2]) > 0.5 > float(lines[5].split()[3])
    )  # the paraphrase is closest
    assert lines[8] == f"wrote {plot}"
    assert plot.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_sentences_with_another_pooling_and_layer(
    capsys: pytest.CaptureFixture[str], tiny_folder: Path, tiny: bertsteps.Bert
) -> None:
    assert (
        main(
            [
                "sentences",
                *SENTENCES,
                "--pooling",
                "max",
                "--layer",
                "1",
                "--checkpoint",
                str(tiny_folder),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    rows = capsys.readouterr().out.splitlines()[5:8]
    expected = bertsteps.cosine_matrix(
        bertsteps.sentence_vectors(tiny, SENTENCES, pooling="max", layer=1)
    )
    for i, line in enumerate(rows):
        assert [float(v) for v in line.split()[1:]] == pytest.approx(
            expected[i].tolist(), abs=0.006
        )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_search_ranks_paragraphs_of_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = write(
        tmp_path,
        "notes.md",
        "# Notes\n\nThe tokenizer splits rare words\ninto smaller pieces from its vocabulary.\n\n"
        "Attention lets every token look at the others.\n",
    )
    other = write(
        tmp_path,
        "other.txt",
        "Bake the bread for forty minutes.\n\n\nThe train leaves at noon.\n",
    )
    assert (
        main(
            [
                "search",
                "how are words broken into subword units?",
                str(notes),
                str(other),
                "-k",
                "3",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    score, where, *first = lines[0].split()
    assert (
        where == f"{notes}:3"
        and " ".join(first) == "The tokenizer splits rare words"
    )
    scores = [float(line.split()[0]) for line in lines]
    assert scores == sorted(scores, reverse=True) and float(score) > 0.4
    assert (
        main(["search", "bread", str(other)]) == 0
    )  # -k 5, but only 2 paragraphs
    found = [line.split()[1] for line in capsys.readouterr().out.splitlines()]
    assert found == [f"{other}:1", f"{other}:4"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["sentences", "a", "b", "--pooling", "sum"],
            "unknown pooling 'sum': use one of mean, cls, max, pooler",
        ),
        (["sentences", "a", "  "], "sentence 1 is empty or only spaces"),
        (["sentences", "a", "b", "--layer", "9"], "layer=9 is out of range"),
        (
            ["sentences", "a", "b", "--plot", "m.txt"],
            "--plot m.txt: the file name must end in .svg, .png or .pdf",
        ),
        (["search", "query", "MISSING.md"], "MISSING.md: no such file"),
        (["search", " ", "EMPTY.md"], "the query is empty"),
        (["search", "query", "EMPTY.md"], "no paragraphs in"),
        (
            ["search", "query", "FULL.md", "--pooling", "avg"],
            "unknown pooling 'avg'",
        ),
    ],
)
def test_errors_are_one_line(
    args: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "EMPTY.md", "\n\n  \n")
    write(tmp_path, "FULL.md", "Some text.\n")
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip().splitlines()
    assert (
        len(err) == 1
        and err[0].startswith("bertsteps: error: ")
        and message in err[0]
    ), captured.err


def test_pooler_on_a_checkpoint_without_one(
    tiny_mlm_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "sentences",
                "a",
                "b",
                "--pooling",
                "pooler",
                "--checkpoint",
                str(tiny_mlm_folder),
                "--device",
                "cpu",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1
        and "has no pooler weights, so pooling='pooler' is impossible"
        in err[0]
    )


def test_search_notes_cut_paragraphs(
    tiny_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = write(
        tmp_path, "long.md", " ".join(["word"] * 300) + "\n\nshort paragraph\n"
    )
    assert (
        main(
            [
                "search",
                "word",
                str(long),
                "--checkpoint",
                str(tiny_folder),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert (
        captured.err.strip()
        == f"note: 1 paragraph(s) longer than {tiny_folder} reads were cut to fit"
    )
    assert len(captured.out.splitlines()) == 2


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "sentences" in out and "search" in out
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    assert (
        "paragraphs (blank-line separated) of FILEs" in capsys.readouterr().out
    )
