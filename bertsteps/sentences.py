"""One vector per sentence: pooling the token vectors of a layer, and ranking by cosine.

The encoder gives one vector per token. A sentence vector is made from them by a
*pooling*: the mean over the real tokens (padding never counted), the element-wise
maximum over them, the vector of the first token, ``[CLS]``, or the model's *pooler*
(a dense layer and a tanh applied to ``[CLS]``, trained by BERT's next-sentence task).

[`sentence_vectors`][bertsteps.sentence_vectors] pools any layer; [`rank`][bertsteps.rank] and [`search`][bertsteps.search] order passages
by the cosine similarity of their vectors to a query's.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import torch

from .errors import SentenceError
from .inference import max_tokens
from .validation import is_int, positive_int

if TYPE_CHECKING:
    from .checkpoints import Bert
    from .similarity import ArrayLike

Pooling = Literal["mean", "cls", "max", "pooler"]
POOLINGS: tuple[str, ...] = ("mean", "cls", "max", "pooler")


class Hit(NamedTuple):
    """One ranked passage: its index in the passages given, and its cosine with the query.

    Examples:
        >>> Hit(2, 0.75)
        Hit(index=2, score=0.75)
    """

    # The field shadows tuple.index(), a method nobody calls on a Hit; the name is API.
    index: int  # type: ignore[assignment]
    score: float


def check_sentences(sentences: str | Sequence[str]) -> list[str]:
    """The sentences as a list, refusing an empty list, non-strings and blank sentences.

    Examples:
        >>> check_sentences("one sentence")
        ['one sentence']
        >>> check_sentences(["fine", "  "])
        Traceback (most recent call last):
        ...
        bertsteps.errors.SentenceError: sentence 1 is empty or only spaces: every sentence needs some text
    """
    texts = [sentences] if isinstance(sentences, str) else list(sentences)
    if not texts:
        raise SentenceError(
            "no sentences given: pass one string or a non-empty list of strings"
        )
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise SentenceError(
                f"sentence {i} is a {type(text).__name__}, not a str: pass strings only"
            )
        if text.strip() == "":
            raise SentenceError(
                f"sentence {i} is empty or only spaces: every sentence needs some text"
            )
    return texts


def num_layers(bert: Bert) -> int:
    """How many encoder layers the model has (its hidden states number one more).

    Examples:
        >>> from bertsteps import load
        >>> num_layers(load())
        6
    """
    return int(bert.config.num_hidden_layers)


def check_layer(bert: Bert, layer: int) -> int:
    """``layer`` as an index into ``hidden_states`` from 0 (embedding output) to the last layer.

    Negative values count from the end: ``-1`` is the last layer.

    Examples:
        >>> from bertsteps import load
        >>> check_layer(load(), -1), check_layer(load(), 0)
        (6, 0)
    """
    count = num_layers(bert) + 1
    if not is_int(layer) or not -count <= layer < count:
        raise SentenceError(
            f"layer={layer!r} is out of range: {bert.name} has hidden states 0 (the embedding output) "
            f"to {count - 1} (the last layer); negative values count from the end, -1 is the last"
        )
    return layer % count


def has_pooler(bert: Bert) -> bool:
    """Whether the loaded encoder has a pooler (dense + tanh on ``[CLS]``) with weights of its own.

    Examples:
        >>> from bertsteps import load
        >>> has_pooler(load())
        True
    """
    return getattr(bert.model, "pooler", None) is not None


def _check_options(
    bert: Bert, pooling: str, layer: int, batch_size: int
) -> int:
    if pooling not in POOLINGS:
        raise SentenceError(
            f"unknown pooling {pooling!r}: use one of {', '.join(POOLINGS)}"
        )
    positive_int(batch_size, "batch_size", error=SentenceError)
    index = check_layer(bert, layer)
    if pooling == "pooler":
        if not has_pooler(bert):
            raise SentenceError(
                f"{bert.name} has no pooler weights, so pooling='pooler' is impossible: "
                "use 'mean', 'cls' or 'max'"
            )
        if index != num_layers(bert):
            raise SentenceError(
                f"pooling='pooler' reads the last layer only, but layer={layer} was asked: "
                "pass layer=-1, or another pooling"
            )
    return index


def _fit(
    bert: Bert, texts: list[str], truncate: bool
) -> tuple[int, list[int]]:
    """The model's limit and each text's length in tokens, after warning about (or refusing) longer texts."""
    limit = max_tokens(bert)
    lengths = [
        len(ids) for ids in bert.tokenizer(texts, verbose=False)["input_ids"]
    ]
    for i, length in enumerate(lengths):
        if length <= limit:
            continue
        if not truncate:
            raise SentenceError(
                f"sentence {i} has {length} tokens but {bert.name} reads at most {limit}: "
                "shorten it, or pass truncate=True to drop the tokens past the limit"
            )
        warnings.warn(
            f"sentence {i} has {length} tokens; {bert.name} reads at most {limit}, "
            f"so its last {length - limit} tokens were dropped",
            stacklevel=3,
        )
    return limit, lengths


def pool(
    states: torch.Tensor, attention_mask: torch.Tensor, pooling: str
) -> torch.Tensor:
    """Pool token vectors ``(batch, seq, hidden)`` into ``(batch, hidden)``; padding never counts.

    ``"mean"`` averages the tokens that ``attention_mask`` marks with 1, ``"max"`` takes
    each coordinate's largest value over them, ``"cls"`` takes position 0.

    Examples:
        >>> states = torch.tensor([[[1.0, 4.0], [3.0, 0.0], [9.0, 9.0]]])
        >>> mask = torch.tensor([[1, 1, 0]])  # the third token is padding
        >>> pool(states, mask, "mean"), pool(states, mask, "max"), pool(states, mask, "cls")
        (tensor([[2., 2.]]), tensor([[3., 4.]]), tensor([[1., 4.]]))
    """
    if pooling == "cls":
        return states[:, 0]
    real = attention_mask.unsqueeze(-1).to(states.dtype)  # (batch, seq, 1)
    if pooling == "mean":
        return (states * real).sum(dim=1) / real.sum(dim=1).clamp_min(1e-9)
    if pooling == "max":
        return states.masked_fill(real == 0, float("-inf")).amax(dim=1)
    raise SentenceError(
        f"pool() does not do {pooling!r}: use 'mean', 'max' or 'cls'"
    )


def sentence_vectors(
    bert: Bert,
    sentences: str | Sequence[str],
    *,
    pooling: Pooling = "mean",
    layer: int = -1,
    normalize: bool = False,
    batch_size: int = 32,
    truncate: bool = True,
) -> torch.Tensor:
    """One vector per sentence: a ``(n, hidden_size)`` float32 CPU tensor.

    ``pooling`` is ``"mean"`` (over the real tokens, padding never counted), ``"max"``
    (element-wise, over the real tokens), ``"cls"`` (the ``[CLS]`` token) or ``"pooler"``
    (the model's pooler: dense + tanh on ``[CLS]``; last layer only, and only for
    checkpoints with pooler weights). ``layer`` picks a hidden state: 0 is the embedding
    layer's output, ``-1`` the last layer. ``normalize`` scales every vector to length 1.
    Sentences run in padded batches of ``batch_size``; the vectors do not depend on it.

    A sentence longer than the model reads ([`max_tokens`][bertsteps.max_tokens]) is cut to that length
    with a warning saying how many tokens were dropped, or refused with
    ``truncate=False``. (sentence-transformers cuts all-MiniLM-L6-v2 at 256 tokens,
    this function at the model's own limit, 512: past 256 tokens the two differ.)

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> v = sentence_vectors(bert, ["A man is eating.", "Someone has a meal."], normalize=True)
        >>> v.shape, round(float(v[0] @ v[1]), 2) > 0.5
        (torch.Size([2, 384]), True)
    """
    vectors = pooled_layers(
        bert,
        sentences,
        poolings=[pooling],
        layers=[layer],
        batch_size=batch_size,
        truncate=truncate,
    )[pooling, check_layer(bert, layer)]
    if normalize:
        vectors = torch.nn.functional.normalize(vectors, p=2.0, dim=1)
    return vectors


def pooled_layers(
    bert: Bert,
    sentences: str | Sequence[str],
    *,
    poolings: Sequence[Pooling],
    layers: Sequence[int],
    batch_size: int = 32,
    truncate: bool = True,
) -> dict[tuple[str, int], torch.Tensor]:
    """Sentence vectors for several poolings and layers from one pass of the encoder.

    Keys are ``(pooling, layer)`` with ``layer`` counted from 0 (``-1`` becomes the last
    layer's number); each value is what [`sentence_vectors`][bertsteps.sentence_vectors] returns for them
    (not normalised). ``"pooler"`` is only computed with the last layer, which must be
    among ``layers``.

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> found = pooled_layers(bert, ["A dog barks."], poolings=["mean", "cls"], layers=[0, -1])
        >>> sorted(found)
        [('cls', 0), ('cls', 6), ('mean', 0), ('mean', 6)]
        >>> torch.equal(found["mean", 6], sentence_vectors(bert, "A dog barks."))
        True
    """
    texts = check_sentences(sentences)
    if not poolings or not layers:
        raise SentenceError(
            "pooled_layers() needs at least one pooling and one layer"
        )
    wanted = []
    for pooling in poolings:
        on = layers
        if pooling == "pooler":  # the pooler sits on the last layer only
            on = [
                layer
                for layer in layers
                if check_layer(bert, layer) == num_layers(bert)
            ] or layers[:1]
        for layer in on:
            key = (pooling, _check_options(bert, pooling, layer, batch_size))
            if key not in wanted:
                wanted.append(key)
    limit, lengths = _fit(bert, texts, truncate)
    from .inference import encode

    # batches of similar lengths need little padding; the rows go back to the input order below
    order = sorted(range(len(texts)), key=lambda i: -lengths[i])
    parts: dict[tuple[str, int], list[torch.Tensor]] = {
        key: [] for key in wanted
    }
    for start in range(0, len(texts), batch_size):
        batch = [texts[i] for i in order[start : start + batch_size]]
        inputs = encode(
            bert, batch, padding=True, truncation=True, max_length=limit
        )
        with torch.inference_mode():
            out = bert.model(**inputs, output_hidden_states=True)
        for pooling, index in wanted:
            if pooling == "pooler":
                parts[pooling, index].append(out.pooler_output)
            else:
                parts[pooling, index].append(
                    pool(
                        out.hidden_states[index],
                        inputs["attention_mask"],
                        pooling,
                    )
                )
    back = torch.argsort(torch.tensor(order))
    return {
        key: torch.cat(rows)[back.to(rows[0].device)].to("cpu", torch.float32)
        for key, rows in parts.items()
    }


def rank(query: ArrayLike, vectors: ArrayLike, k: int = 5) -> list[Hit]:
    """The (at most) ``k`` rows of ``vectors`` closest to ``query`` by cosine, best first.

    Examples:
        >>> rank([1.0, 0.0], [[0.0, 1.0], [1.0, 0.1], [-1.0, 0.0]], k=2)
        [Hit(index=1, score=0.99503...), Hit(index=0, score=0.0)]
    """
    from .similarity import as_matrix, cosine_matrix

    positive_int(k, "k", error=SentenceError)
    q = as_matrix(query, "query")
    if q.shape[0] != 1:
        raise SentenceError(
            f"query has shape {tuple(q.shape)}: pass one vector"
        )
    matrix = as_matrix(vectors, "vectors")
    scores = cosine_matrix(q, matrix, device="cpu")[0]
    top = torch.topk(scores, min(k, scores.shape[0]))
    return [
        Hit(int(i), float(s))
        for i, s in zip(top.indices.tolist(), top.values.tolist(), strict=True)
    ]


def search(
    bert: Bert,
    query: str,
    passages: Sequence[str],
    *,
    k: int = 5,
    pooling: Pooling = "mean",
    layer: int = -1,
) -> list[Hit]:
    """The (at most) ``k`` passages whose sentence vectors are closest to the query's, best first.

    Examples:
        >>> from bertsteps import load
        >>> passages = ["The cat sat on the mat.", "Stock prices fell today.", "A kitten naps on a rug."]
        >>> [h.index for h in search(load(), "a sleeping cat", passages, k=2)]
        [2, 0]
    """
    texts = check_sentences(passages)
    query_vector = sentence_vectors(bert, query, pooling=pooling, layer=layer)
    return rank(
        query_vector,
        sentence_vectors(bert, texts, pooling=pooling, layer=layer),
        k,
    )


def sentence_transformer(folder: str | os.PathLike[str] | None = None) -> Any:
    """sentence-transformers' own model for a checkpoint folder (default: the bundled one), on the CPU.

    Loaded without progress bars, to compare [`sentence_vectors`][bertsteps.sentence_vectors] with the library
    the bundled checkpoint was fine-tuned with. Needs ``pip install sentence-transformers``.

    Examples:
        >>> from bertsteps import load
        >>> st = sentence_transformer()
        >>> theirs = torch.from_numpy(st.encode(["A dog barks."]))
        >>> torch.testing.assert_close(sentence_vectors(load(), "A dog barks.", normalize=True), theirs)
    """
    from .checkpoints import _quiet_transformers, default_folder

    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise SentenceError(
            "sentence-transformers is not installed: pip install sentence-transformers"
        ) from err
    with _quiet_transformers(), _no_progress_bars():
        return SentenceTransformer(
            str(folder or default_folder()), device="cpu"
        )


class _no_progress_bars:
    """Turn transformers' and huggingface_hub's progress bars ("Loading weights: 0%| ...") off, then back."""

    def __enter__(self) -> None:
        from transformers.utils import logging as hf_logging

        self._transformers = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            from huggingface_hub.utils import (
                are_progress_bars_disabled,
                disable_progress_bars,
            )

            self._hub: bool | None = are_progress_bars_disabled()
            disable_progress_bars()
        except (
            ImportError
        ):  # pragma: no cover - huggingface_hub comes with transformers
            self._hub = None

    def __exit__(self, *exc: object) -> None:
        from transformers.utils import logging as hf_logging

        if self._transformers:
            hf_logging.enable_progress_bar()
        if self._hub is False:
            from huggingface_hub.utils import enable_progress_bars

            enable_progress_bars()


def pooler_looks_trained(bert: Bert) -> bool | None:
    """Whether the pooler's dense layer shows signs of training: any bias not exactly 0.

    BERT's initialisation sets every pooler bias to 0, and training moves them; ``None``
    when the checkpoint has no pooler. The feed-forward chapter's ``pooler-trained``
    claim uses the same measure, so the pages agree.

    Examples:
        >>> from bertsteps import load
        >>> pooler_looks_trained(load())  # the bundled checkpoint's pooler is a leftover
        False
    """
    pooler = getattr(bert.model, "pooler", None)
    if pooler is None:
        return None
    return bool((pooler.dense.bias != 0).any())
