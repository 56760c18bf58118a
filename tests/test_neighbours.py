"""The vocabulary-wide neighbour table: the fast symmetric way equals the plain way, and ``nearest``."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest
import torch

import bertsteps
from bertsteps.cli import main
from bertsteps.neighbours import (
    _symmetric_topk,
    neighbour_table,
    neighbour_table_plain,
)
from bertsteps.similarity import excluded_ids, unit_rows

from .conftest import make_random_checkpoint

K = 10
WORDS = [
    "king",
    "queen",
    "dog",
    "paris",
    "computer",
    "happy",
    "music",
    "water",
    "ran",
    "science",
    "blue",
    "the",
]

Table = tuple[torch.Tensor, torch.Tensor]


@pytest.fixture(scope="module")
def fast(bert: bertsteps.Bert) -> Table:
    return neighbour_table(bert, K)


@pytest.fixture(scope="module")
def plain(bert: bertsteps.Bert) -> Table:
    return neighbour_table_plain(bert, K, chunk_size=2048)


def assert_same_table(got: Table, want: Table, unit: torch.Tensor) -> None:
    """Equal up to the order of exactly tied scores: the same scores, and ids differ only where scores tie."""
    (gi, gs), (wi, ws) = got, want
    assert gi.shape == wi.shape and gs.shape == ws.shape
    torch.testing.assert_close(gs, ws, rtol=0, atol=1e-6)
    differ = (gi != wi).any(dim=1).nonzero().flatten()
    for row in differ.tolist():
        # each id the fast table chose really has the score it reports ...
        recomputed = unit[gi[row]] @ unit[row]
        torch.testing.assert_close(recomputed, gs[row], rtol=0, atol=1e-6)
        # ... and where the ids differ, the plain table's score at that rank is the same (a tie)
        for rank in (gi[row] != wi[row]).nonzero().flatten().tolist():
            assert gs[row, rank] == ws[row, rank], (row, rank)
    assert bool((gi[:, 0] == wi[:, 0]).logical_or(gs[:, 0] == ws[:, 0]).all())


@pytest.mark.slow  # the 30,522-token neighbour table (tens of seconds)
def test_shapes_dtypes_and_order(bert: bertsteps.Bert, fast: Table) -> None:
    indices, scores = fast
    n = bert.embedding_matrix.shape[0]
    assert indices.shape == scores.shape == (n, K) == (30522, K)
    assert indices.dtype == torch.int64 and scores.dtype == torch.float32
    assert indices.device.type == scores.device.type == "cpu"
    assert bool((scores[:, :-1] >= scores[:, 1:]).all())  # best first
    assert bool(((scores > -1.0001) & (scores < 1.0001)).all())
    assert int(indices.min()) >= 0 and int(indices.max()) < n
    scores.add_(
        0.0
    )  # ordinary tensors, not inference tensors: in-place use works


@pytest.mark.slow  # the 30,522-token neighbour table (tens of seconds)
def test_own_and_excluded_tokens_are_never_neighbours(
    bert: bertsteps.Bert, fast: Table
) -> None:
    indices, _ = fast
    assert not bool((indices == torch.arange(indices.shape[0])[:, None]).any())
    assert not bool(torch.isin(indices, excluded_ids(bert)).any())
    assert all(len(set(row)) == K for row in indices.tolist()[::97])
    cls = bert.tokenizer.cls_token_id
    assert (
        len(set(indices[cls].tolist())) == K
    )  # special tokens still get rows


@pytest.mark.slow  # the 30,522-token neighbour table (tens of seconds)
def test_equals_the_plain_computation(
    bert: bertsteps.Bert, fast: Table, plain: Table
) -> None:
    assert_same_table(fast, plain, unit_rows(bert.embedding_matrix))
    assert (
        int((fast[0][:, 0] == plain[0][:, 0]).sum()) >= 30522 - 5
    )  # ties are rare


@pytest.mark.slow  # the 30,522-token neighbour table (tens of seconds)
def test_plain_equals_a_direct_computation(
    bert: bertsteps.Bert, plain: Table
) -> None:
    matrix = (
        bert.embedding_matrix.double()
    )  # float64, independent of the float32 code
    unit = matrix / matrix.norm(dim=1, keepdim=True)
    rows = torch.cat(
        [
            excluded_ids(bert)[:3],
            torch.randperm(30522, generator=torch.Generator().manual_seed(0))[
                :40
            ],
        ]
    )
    scores = unit[rows] @ unit.T
    scores[:, excluded_ids(bert)] = -math.inf
    scores[torch.arange(len(rows)), rows] = -math.inf
    top = scores.topk(K, dim=1)
    torch.testing.assert_close(
        plain[1][rows].double(), top.values, rtol=0, atol=1e-5
    )
    assert bool((plain[0][rows, 0] == top.indices[:, 0]).all())


@pytest.mark.slow  # the 30,522-token neighbour table (tens of seconds)
def test_rows_equal_nearest(bert: bertsteps.Bert, fast: Table) -> None:
    indices, scores = fast
    for word in WORDS:
        (token_id,) = bert.tokenizer.convert_tokens_to_ids([word])
        found = bertsteps.nearest(bert, word, k=K)
        assert [
            n.token for n in found
        ] == bert.tokenizer.convert_ids_to_tokens(
            indices[token_id].tolist()
        ), word
        assert [n.score for n in found] == pytest.approx(
            scores[token_id].tolist(), abs=1e-5
        )
    king = bert.tokenizer.convert_tokens_to_ids("king")
    assert bert.tokenizer.convert_ids_to_tokens(
        indices[king, :3].tolist()
    ) == ["kings", "queen", "monarch"]


@pytest.mark.slow  # the 30,522-token neighbour table (tens of seconds)
def test_random_checkpoint_gets_a_table_of_its_own_size(
    tiny: bertsteps.Bert,
) -> None:
    assert tiny.embedding_matrix.shape[1] == 48
    got = neighbour_table(
        tiny, 5, chunk_size=2000
    )  # rounded up to 2016 rows per block
    assert got[0].shape == got[1].shape == (tiny.embedding_matrix.shape[0], 5)
    assert_same_table(
        got,
        neighbour_table_plain(tiny, 5, device="cpu"),
        unit_rows(tiny.embedding_matrix),
    )
    pad = (
        tiny.tokenizer.pad_token_id
    )  # a zero row: every cosine is 0, all ties
    assert got[1][pad].tolist() == [0.0] * 5


def test_nan_embeddings_are_refused(tmp_path: Path) -> None:
    broken = bertsteps.load(
        make_random_checkpoint(
            tmp_path / "nan", hidden_size=16, layers=1, heads=2
        ),
        device="cpu",
    )
    with torch.no_grad():
        broken.model.get_input_embeddings().weight[2000, 3] = math.nan
    for table in (neighbour_table, neighbour_table_plain):
        with pytest.raises(bertsteps.BertStepsError, match="NaN or infinite"):
            table(broken, 3)


@pytest.mark.parametrize(
    ("n", "block", "k"),
    [
        (2, 32, 1),
        (31, 32, 5),
        (33, 32, 32),
        (100, 64, 7),
        (257, 96, 3),
        (300, 32, 299),
    ],
)
def test_symmetric_blocks_equal_brute_force(
    n: int, block: int, k: int
) -> None:
    gen = torch.Generator().manual_seed(n)
    x = unit_rows(torch.randn(n, 16, generator=gen))
    if n > 40:
        x[40:45] = x[3]  # exact duplicates: tied scores
    scores, positions = _symmetric_topk(x, torch.arange(n), k, block)
    full = x @ x.T
    full.fill_diagonal_(-math.inf)
    top = full.topk(k, dim=1)
    torch.testing.assert_close(scores, top.values, rtol=0, atol=1e-6)
    assert not bool((positions == torch.arange(n)[:, None]).any())
    picked = full.gather(1, positions)
    torch.testing.assert_close(picked, scores, rtol=0, atol=1e-6)


@pytest.mark.parametrize("k", [0, -1, True, 2.5, "3"])
def test_bad_k(bert: bertsteps.Bert, k: object) -> None:
    with pytest.raises(
        bertsteps.BertStepsError,
        match=rf"^k must be a positive int, got {re.escape(repr(k))}$",
    ):
        neighbour_table(bert, k)  # type: ignore[arg-type]


def test_k_beyond_the_tokens_that_can_be_neighbours(
    bert: bertsteps.Bert,
) -> None:
    # 30,522 tokens less the 999 special and [unusedN] ones and the token itself
    with pytest.raises(
        bertsteps.BertStepsError,
        match=r"^k=30522 is more than the 29522 tokens that can be neighbours",
    ):
        neighbour_table(bert, 30522)


@pytest.mark.parametrize("chunk_size", [0, -4, 1.5, True, "1024"])
def test_bad_chunk_size(bert: bertsteps.Bert, chunk_size: object) -> None:
    with pytest.raises(bertsteps.BertStepsError, match="chunk_size"):
        neighbour_table(bert, chunk_size=chunk_size)  # type: ignore[arg-type]
    with pytest.raises(bertsteps.BertStepsError, match="chunk_size"):
        neighbour_table_plain(bert, chunk_size=chunk_size)  # type: ignore[arg-type]


@pytest.mark.slow  # the 30,522-token neighbour table (tens of seconds)
def test_cli_writes_a_parseable_tsv(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bert: bertsteps.Bert,
    fast: Table,
) -> None:
    out = tmp_path / "table.tsv"
    assert (
        main(
            [
                "neighbours",
                "--all",
                "-k",
                "3",
                "--out",
                str(out),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert (
        capsys.readouterr().out.strip()
        == f"wrote {out}: 30,522 tokens x 3 neighbours"
    )
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == [
        "token",
        "neighbour_1",
        "score_1",
        "neighbour_2",
        "score_2",
        "neighbour_3",
        "score_3",
    ]
    assert len(rows) == 30523 and all(len(row) == 7 for row in rows)
    assert [
        row[0] for row in rows[1:]
    ] == bert.tokenizer.convert_ids_to_tokens(list(range(30522)))
    indices, scores = fast
    for token_id in (
        bert.tokenizer.convert_tokens_to_ids("king"),
        bert.tokenizer.cls_token_id,
        2000,
        30521,
    ):
        row = rows[1 + token_id]
        assert row[1::2] == bert.tokenizer.convert_ids_to_tokens(
            indices[token_id, :3].tolist()
        )
        assert [float(s) for s in row[2::2]] == pytest.approx(
            scores[token_id, :3].tolist(), abs=5e-5
        )


def test_cli_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["neighbours", "king", "dog", "-k", "3"]) == 0
    out = capsys.readouterr().out.split("\n\n")
    assert [block.splitlines()[0] for block in out] == ["king:", "dog:"]
    assert [line.split()[1] for line in out[0].splitlines()[1:]] == [
        "kings",
        "queen",
        "monarch",
    ]
    assert [line.split()[1] for line in out[1].splitlines()[1:]] == [
        "dogs",
        "canine",
        "puppy",
    ]
    path = tmp_path / "words.tsv"
    assert (
        main(["neighbours", "king", "dog", "-k", "2", "--out", str(path)]) == 0
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "token\tneighbour_1\tscore_1\tneighbour_2\tscore_2"
    assert [line.split("\t")[:2] for line in lines[1:]] == [
        ["king", "kings"],
        ["dog", "dogs"],
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["neighbours"], "either WORDs or --all"),
        (["neighbours", "king", "--all"], "either WORDs or --all"),
        (["neighbours", "--all", "-k", "40000"], "k=40000 is more than"),
        (["neighbours", "--all", "--out", "."], "is a folder"),
        (
            [
                "neighbours",
                "king",
                "--out",
                "/nonexistent-bertsteps-folder/t.tsv",
            ],
            "does not exist; create it first",
        ),
        (["neighbours", "\u2603"], "[UNK]"),
    ],
)
def test_cli_errors_are_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1
    assert lines[0].startswith("bertsteps: error: ") and message in lines[0]
