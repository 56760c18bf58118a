"""Labelled sentence pairs, and how well a kind of sentence vector separates them.

A pair file is tab-separated text with a header ``label  first  second`` and one pair
per line; lines starting with ``#`` are comments. Labels are ``paraphrase`` (same
meaning), ``related`` (same topic, another meaning) and ``unrelated``.

How well cosines separate two groups of pairs is measured by the ROC AUC: the chance
that a pair drawn from the first group scores higher than one drawn from the second
(ties count one half). 1 is a perfect separation, 0.5 is chance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .errors import BertStepsError

if TYPE_CHECKING:
    import os

    from .checkpoints import Bert
    from .sentences import Pooling

LABELS: tuple[str, ...] = ("paraphrase", "related", "unrelated")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class SentencePair:
    """Two sentences and how their meanings relate; ``line`` is where the pair is in its file.

    Examples:
        >>> SentencePair("It rains.", "Rain is falling.", "paraphrase").label
        'paraphrase'
    """

    first: str
    second: str
    label: str
    line: int = 0


def read_pairs(path: str | os.PathLike[str]) -> list[SentencePair]:
    """Read a pair file (tab-separated ``label  first  second``, a header, ``#`` comments).

    Examples:
        >>> import tempfile, pathlib
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "pairs.tsv"
        >>> _ = file.write_text("label\\tfirst\\tsecond\\nrelated\\tI swim.\\tThe pool is cold.\\n")
        >>> read_pairs(file)
        [SentencePair(first='I swim.', second='The pool is cold.', label='related', line=2)]
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise BertStepsError(
            f"cannot read the pair file {file}: {err.strerror or err}"
        ) from err
    pairs: list[SentencePair] = []
    header_seen = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if not header_seen:
            if fields != ["label", "first", "second"]:
                raise BertStepsError(
                    f"{file}:{number}: the first line must be the header 'label<TAB>first<TAB>second'"
                )
            header_seen = True
            continue
        if len(fields) != 3:
            raise BertStepsError(
                f"{file}:{number}: expected 3 tab-separated fields (label, first, second), got {len(fields)}"
            )
        label, first, second = (f.strip() for f in fields)
        if label not in LABELS:
            raise BertStepsError(
                f"{file}:{number}: unknown label {label!r}: use one of {', '.join(LABELS)}"
            )
        if not first or not second:
            raise BertStepsError(
                f"{file}:{number}: a sentence is empty: both sentences need some text"
            )
        pairs.append(SentencePair(first, second, label, number))
    if not pairs:
        raise BertStepsError(
            f"{file} holds no pairs: add lines 'label<TAB>first<TAB>second' after the header"
        )
    return pairs


def roc_auc(
    positives: Sequence[float] | torch.Tensor,
    negatives: Sequence[float] | torch.Tensor,
) -> float:
    """The chance that a positive scores above a negative (ties count 1/2): the ROC AUC.

    Computed from ranks (the Mann-Whitney statistic): rank all scores together, ties
    getting their average rank; the AUC is the positives' rank sum, less its smallest
    possible value, over the number of positive-negative pairs.

    Examples:
        >>> roc_auc([0.9, 0.8], [0.1, 0.85])
        0.75
        >>> roc_auc([0.5], [0.5])
        0.5
    """
    pos = torch.as_tensor(positives, dtype=torch.float64).flatten()
    neg = torch.as_tensor(negatives, dtype=torch.float64).flatten()
    if pos.numel() == 0 or neg.numel() == 0:
        raise BertStepsError(
            "roc_auc() needs at least one positive and one negative score"
        )
    if not bool(torch.isfinite(pos).all() and torch.isfinite(neg).all()):
        raise BertStepsError(
            "roc_auc() got NaN or infinite scores: clean the scores first"
        )
    scores = torch.cat([pos, neg])
    below = (scores.unsqueeze(1) > scores.unsqueeze(0)).sum(
        dim=1
    )  # how many are smaller
    equal = (scores.unsqueeze(1) == scores.unsqueeze(0)).sum(
        dim=1
    )  # itself included
    ranks = below + (equal + 1) / 2  # average rank, counting from 1
    n_pos, n_neg = pos.numel(), neg.numel()
    u = float(ranks[:n_pos].sum()) - n_pos * (n_pos + 1) / 2
    return u / (n_pos * n_neg)


def word_overlap(first: str, second: str) -> float:
    """Shared words over all words of the two sentences (Jaccard index of lowercase word sets).

    A baseline that knows nothing of meaning: it sees only which words are written.

    Examples:
        >>> word_overlap("The cat sat.", "the dog sat")
        0.5
    """
    a, b = (
        set(_WORD.findall(first.lower())),
        set(_WORD.findall(second.lower())),
    )
    return len(a & b) / len(a | b) if a | b else 0.0


def _pair_cosines(vectors: torch.Tensor, rows: list[int]) -> torch.Tensor:
    unit = torch.nn.functional.normalize(vectors, dim=1)
    first, second = unit[rows[0::2]], unit[rows[1::2]]
    return (first * second).sum(dim=1)


def _sentences(pairs: Sequence[SentencePair]) -> tuple[list[str], list[int]]:
    """The distinct sentences of ``pairs``, and each pair's two rows among them (first, second, ...)."""
    if not pairs:
        raise BertStepsError("no pairs given: pass at least one SentencePair")
    texts = list(dict.fromkeys(s for p in pairs for s in (p.first, p.second)))
    row = {text: i for i, text in enumerate(texts)}
    return texts, [row[s] for p in pairs for s in (p.first, p.second)]


def pair_cosines(
    bert: Bert,
    pairs: Sequence[SentencePair],
    *,
    pooling: Pooling = "mean",
    layer: int = -1,
) -> torch.Tensor:
    """The cosine of each pair's two sentence vectors, ``(len(pairs),)``, in the pairs' order.

    Examples:
        >>> from bertsteps import load
        >>> pairs = [SentencePair("A dog barks.", "A dog is barking.", "paraphrase")]
        >>> float(pair_cosines(load(), pairs)[0]) > 0.8
        True
    """
    from .sentences import sentence_vectors

    texts, rows = _sentences(pairs)
    return _pair_cosines(
        sentence_vectors(bert, texts, pooling=pooling, layer=layer), rows
    )


@dataclass(frozen=True)
class Separation:
    """How one kind of sentence vector scores labelled pairs.

    ``auc`` is the ROC AUC of paraphrase against unrelated pairs, ``auc_related`` of
    paraphrase against related pairs; ``mean_cosine`` maps each label to its pairs'
    mean cosine. ``layer`` counts from 0, the embedding output.
    """

    pooling: str
    layer: int
    auc: float
    auc_related: float
    mean_cosine: dict[str, float]


def scores_by_label(
    scores: torch.Tensor, pairs: Sequence[SentencePair]
) -> dict[str, torch.Tensor]:
    """Split per-pair ``scores`` by label; every label of ``LABELS`` must have pairs.

    Examples:
        >>> pairs = [SentencePair("a", "b", label) for label in LABELS]
        >>> scores_by_label(torch.tensor([0.9, 0.5, 0.1]), pairs)["related"]
        tensor([0.5000])
    """
    if len(scores) != len(pairs):
        raise BertStepsError(
            f"{len(scores)} scores for {len(pairs)} pairs: give one score per pair"
        )
    groups = {
        label: scores[[i for i, p in enumerate(pairs) if p.label == label]]
        for label in LABELS
    }
    missing = [label for label, group in groups.items() if group.numel() == 0]
    if missing:
        raise BertStepsError(
            f"no pairs labelled {', '.join(missing)}: every label in {', '.join(LABELS)} needs pairs"
        )
    return groups


def _separation(
    pooling: str,
    layer: int,
    scores: torch.Tensor,
    pairs: Sequence[SentencePair],
) -> Separation:
    groups = scores_by_label(scores, pairs)
    return Separation(
        pooling=pooling,
        layer=layer,
        auc=roc_auc(groups["paraphrase"], groups["unrelated"]),
        auc_related=roc_auc(groups["paraphrase"], groups["related"]),
        mean_cosine={
            label: float(group.mean()) for label, group in groups.items()
        },
    )


def separation(
    bert: Bert,
    pairs: Sequence[SentencePair],
    *,
    pooling: Pooling = "mean",
    layer: int = -1,
) -> Separation:
    """Score every pair's cosine with one pooling and layer, and measure how the labels separate.

    Examples:
        >>> from bertsteps import load
        >>> pairs = [SentencePair("A dog barks.", "A dog is barking.", "paraphrase"),
        ...          SentencePair("A dog barks.", "Dogs need walks.", "related"),
        ...          SentencePair("A dog barks.", "Taxes rose in May.", "unrelated")]
        >>> s = separation(load(), pairs)
        >>> s.layer, s.auc, s.mean_cosine["paraphrase"] > s.mean_cosine["unrelated"]
        (6, 1.0, True)
    """
    from .sentences import check_layer

    scores_by_label(
        torch.zeros(len(pairs)), pairs
    )  # every label present, before any work
    return _separation(
        pooling,
        check_layer(bert, layer),
        pair_cosines(bert, pairs, pooling=pooling, layer=layer),
        pairs,
    )


def separations(
    bert: Bert,
    pairs: Sequence[SentencePair],
    *,
    poolings: Sequence[Pooling] = ("mean", "cls", "max", "pooler"),
    layers: Sequence[int] | None = None,
) -> list[Separation]:
    """[`separation`][bertsteps.separation] for every pooling and layer, from one pass of the encoder.

    ``layers`` defaults to ``compared_layers``. ``"pooler"`` is measured only with
    the last layer, and only where the checkpoint has a pooler.

    Examples:
        >>> from bertsteps import load
        >>> pairs = [SentencePair("A dog barks.", "A dog is barking.", "paraphrase"),
        ...          SentencePair("A dog barks.", "Dogs need walks.", "related"),
        ...          SentencePair("A dog barks.", "Taxes rose in May.", "unrelated")]
        >>> [(s.pooling, s.layer) for s in separations(load(), pairs, poolings=["mean", "pooler"], layers=[0, 6])]
        [('mean', 0), ('mean', 6), ('pooler', 6)]
    """
    from .sentences import check_layer, has_pooler, num_layers, pooled_layers

    last = num_layers(bert)
    chosen = (
        compared_layers(bert)
        if layers is None
        else sorted({check_layer(bert, layer) for layer in layers})
    )
    scores_by_label(
        torch.zeros(len(pairs)), pairs
    )  # every label present, before any work
    texts, rows = _sentences(pairs)
    usable = [
        p
        for p in poolings
        if p != "pooler" or (last in chosen and has_pooler(bert))
    ]
    vectors = (
        pooled_layers(bert, texts, poolings=usable, layers=chosen)
        if usable
        else {}
    )
    return [
        _separation(
            pooling, layer, _pair_cosines(vectors[pooling, layer], rows), pairs
        )
        for pooling in poolings
        for layer in chosen
        if (pooling, layer) in vectors
    ]


def compared_layers(bert: Bert) -> list[int]:
    """The layers compared by default: the embedding output, the middle, the last two.

    Examples:
        >>> from bertsteps import load
        >>> compared_layers(load())
        [0, 3, 5, 6]
    """
    from .sentences import num_layers

    last = num_layers(bert)
    return sorted({0, last // 2, max(last - 1, 0), last})
