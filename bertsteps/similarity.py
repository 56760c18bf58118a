"""Cosine similarity: matrices of it, and the nearest tokens of a word or a vector.

The cosine similarity of two vectors is their dot product divided by both norms:

    cos(a, b) = a . b / (|a| |b|)

so a matrix of cosines is a matrix product of row-normalised inputs. This module
does that product in row chunks, on the device you ask for, straight into one
float32 CPU result: memory stays bounded by the result plus one chunk.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Union

import torch

from .devices import DeviceLike, resolve_device
from .errors import BertStepsError, TokenError
from .validation import bad_rows, check_memory, positive_int

if TYPE_CHECKING:
    import numpy as np

    from .checkpoints import Bert

ArrayLike = Union[
    torch.Tensor,
    "np.ndarray[Any, Any]",
    Sequence[float],
    Sequence[Sequence[float]],
]

# A chunk of the result computed on an accelerator is at most this big before it is copied back.
_DEVICE_CHUNK_BYTES = 256 * 2**20
# Rows per block of a symmetric product on the CPU (benchmarks/cosine.py chose it).
_CPU_BLOCK_ROWS = 512
# Below this many rows one plain product beats the blocked symmetric one.
_SMALL = 256


class Neighbour(NamedTuple):
    """One token and its cosine similarity to a query.

    Examples:
        >>> Neighbour("queen", 0.65)
        Neighbour(token='queen', score=0.65)
    """

    token: str
    score: float


def as_matrix(x: ArrayLike, name: str = "input") -> torch.Tensor:
    """A 2-D floating tensor from a torch tensor, a numpy array or nested lists (1-D becomes one row).

    Examples:
        >>> import numpy as np
        >>> as_matrix(np.ones(3)).shape
        torch.Size([1, 3])
    """
    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        try:
            import numpy as np

            t = (
                torch.from_numpy(np.ascontiguousarray(x))
                if isinstance(x, np.ndarray)
                else torch.as_tensor(x)
            )
        except (TypeError, ValueError, RuntimeError) as err:
            raise BertStepsError(
                f"{name} must be a torch tensor, a numpy array or a list of numbers; "
                f"got {type(x).__name__} ({err})"
            ) from err
    if t.is_complex() or t.dtype == torch.bool:
        raise BertStepsError(
            f"{name} has dtype {t.dtype}: pass real-valued (float) vectors"
        )
    if not t.is_floating_point():
        t = t.to(torch.float32)
    if t.ndim == 1:
        t = t.unsqueeze(0)
    if t.ndim != 2:
        raise BertStepsError(
            f"{name} has shape {tuple(t.shape)}: pass one vector (1-D) or a matrix of row vectors (2-D)"
        )
    if t.shape[1] == 0:
        raise BertStepsError(
            f"{name} has shape {tuple(t.shape)}: vectors of dimension 0 have no direction"
        )
    return t


def unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows scaled to length 1, in float32; a zero row stays zero (so its cosines are 0, not NaN).

    Examples:
        >>> unit_rows(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
        tensor([[0.6000, 0.8000],
                [0.0000, 0.0000]])
    """
    x = x.to(torch.float32)
    norms = torch.linalg.vector_norm(x, dim=1, keepdim=True)
    return x / norms.clamp_min(torch.finfo(torch.float32).tiny)


def _checked_unit_rows(
    x: torch.Tensor, device: torch.device, name: str
) -> torch.Tensor:
    """Unit rows on ``device`` in float32, right for any finite input; NaN and infinity refused.

    Each row is first divided by its largest absolute value, in float32 or float64 (so float64
    rows of 1e300 or 1e-300 neither overflow nor underflow), and only then made float32
    and divided by its norm, which then lies in ``[1, sqrt(d)]``. A zero row stays zero.
    """
    if x.shape[0] == 0:
        return torch.empty((0, x.shape[1]), dtype=torch.float32, device=device)
    wide = torch.promote_types(
        x.dtype, torch.float32
    )  # float64 stays float64, half precisions widen
    if (
        wide == torch.float64 and device.type == "mps"
    ):  # MPS has no float64: rescale on the CPU
        x = x.to("cpu", wide)
    else:
        x = x.to(device, wide)
    bad = bad_rows(x)
    if bad:
        raise BertStepsError(
            f"{name} holds NaN or infinite values (rows {bad}): clean the input first"
        )
    scale = x.abs().amax(dim=1, keepdim=True)
    scaled = (x / torch.where(scale > 0, scale, torch.ones_like(scale))).to(
        device, torch.float32
    )
    norms = torch.linalg.vector_norm(scaled, dim=1, keepdim=True)
    return scaled / norms.clamp_min(
        1.0
    )  # a nonzero row's norm is >= 1 here; a zero row stays 0


def _zero_rows(x: torch.Tensor) -> list[int]:
    return (~(x != 0).any(dim=1)).nonzero().flatten()[:5].tolist()


def _chunk_rows(
    n: int, m: int, device: torch.device, chunk_size: int | None
) -> int:
    if chunk_size is not None:
        step = min(positive_int(chunk_size, "chunk_size"), max(n, 1))
        check_memory(
            4.0 * step * m,
            f"chunk_size={chunk_size} ({step} rows of {m} cosines)",
            "pass a smaller chunk_size",
        )
        return step
    if device.type == "cpu":
        return _CPU_BLOCK_ROWS
    return max(1, min(n, _DEVICE_CHUNK_BYTES // (4 * max(m, 1))))


def _self_cosines_cpu(unit: torch.Tensor, step: int) -> torch.Tensor:
    """All cosines of ``unit`` with itself: only blocks on and above the diagonal are multiplied.

    Block row ``i`` gives ``C = unit[i:j] @ unit[i:].T``; ``C`` fills ``out[i:j, i:]`` and its
    transpose fills ``out[j:, i:j]``. Half the multiplications, exactly symmetric, and one
    ``step x n`` temporary.
    """
    n = unit.shape[0]
    out = torch.empty((n, n), dtype=torch.float32)
    for i in range(0, n, step):
        j = min(i + step, n)
        block = torch.mm(unit[i:j], unit[i:].T).clamp_(-1.0, 1.0)
        out[i:j, i:] = block
        out[j:, i:j] = block[:, j - i :].T
    return out


def cosine_matrix(
    a: ArrayLike,
    b: ArrayLike | None = None,
    *,
    device: DeviceLike = "auto",
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Cosine similarity of every row of ``a`` with every row of ``b`` (or of ``a``): ``(n, m)`` float32 on the CPU.

    Accepts torch tensors, numpy arrays and lists, 1-D or 2-D, of any float dtype.
    Any finite input gives the right cosine (rows are rescaled before they are
    normalised, so float64 rows of 1e300 or 1e-300 are fine); an input with no rows gives
    an empty matrix. A zero vector has cosine 0 with everything; NaN or infinite input is
    an error, and so is a result whose estimated memory is above the bound of
    ``check_memory``.
    The work runs on ``device`` (``"auto"``: CUDA, then MPS, then CPU). Memory stays
    bounded by the result plus one chunk of ``chunk_size`` rows: on the CPU the product
    is written straight into the result, on an accelerator each chunk is copied back.
    With ``b=None`` the matrix is symmetric and on the CPU only its upper half is multiplied.

    Examples:
        >>> cosine_matrix([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
        tensor([[1.0000, 0.7071, 0.0000],
                [0.7071, 1.0000, 0.0000],
                [0.0000, 0.0000, 0.0000]])
    """
    dev = resolve_device(device)
    A = as_matrix(a, "a")
    B = None if b is None else as_matrix(b, "b")
    if B is not None and A.shape[1] != B.shape[1]:
        raise BertStepsError(
            f"dimensions differ: a has vectors of size {A.shape[1]} (shape {tuple(A.shape)}), "
            f"b has vectors of size {B.shape[1]} (shape {tuple(B.shape)})"
        )
    n, m = A.shape[0], (A if B is None else B).shape[0]
    check_memory(
        4.0 * (n * m + (n + m) * A.shape[1]),
        f"a {n:,} x {m:,} cosine matrix",
        "compare fewer vectors at a time (rows of a against all of b, in slices)",
    )
    An = _checked_unit_rows(A, dev, "a")
    Bn = An if B is None else _checked_unit_rows(B, dev, "b")
    step = _chunk_rows(n, m, dev, chunk_size)
    if dev.type == "cpu" and B is None and n > _SMALL:
        return _self_cosines_cpu(An, step)
    out = torch.empty((n, m), dtype=torch.float32)
    if dev.type == "cpu" and chunk_size is None:
        return torch.mm(An, Bn.T, out=out).clamp_(
            -1.0, 1.0
        )  # no temporary at all
    for i in range(0, n, step):
        rows = slice(i, min(i + step, n))
        if dev.type == "cpu":
            torch.mm(An[rows], Bn.T, out=out[rows]).clamp_(-1.0, 1.0)
        else:
            out[rows].copy_(torch.mm(An[rows], Bn.T).clamp_(-1.0, 1.0))
    return out


# ---------------------------------------------------------------------------------------
# Nearest tokens in the vocabulary


_BRACKETED = re.compile(r"^\[[^\]]+\]$")  # [CLS], [unused12], ...: not words


@functools.cache
def excluded_ids(bert: Bert) -> torch.Tensor:
    """Ids never offered as neighbours: special tokens and placeholders such as ``[unused0]``.

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> bert.tokenizer.cls_token_id in excluded_ids(bert).tolist()
        True
    """
    vocab = bert.tokenizer.get_vocab()
    ids = set(bert.tokenizer.all_special_ids)
    ids.update(i for tok, i in vocab.items() if _BRACKETED.match(tok))
    size = bert.embedding_matrix.shape[0]
    return torch.tensor(
        sorted(i for i in ids if 0 <= i < size), dtype=torch.long
    )


def candidate_mask(bert: Bert) -> torch.Tensor:
    """A ``(vocab_size,)`` bool mask of the tokens that can be neighbours: all but [`excluded_ids`][bertsteps.similarity.excluded_ids].

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> mask = candidate_mask(bert)
        >>> bool(mask[bert.tokenizer.cls_token_id]), int((~mask).sum()) == len(excluded_ids(bert))
        (False, True)
    """
    mask = torch.ones(bert.embedding_matrix.shape[0], dtype=torch.bool)
    mask[excluded_ids(bert)] = False
    return mask


@functools.cache
def unit_embeddings(bert: Bert) -> torch.Tensor:
    """The input word-embedding matrix with every row scaled to length 1 (on ``bert.device``), computed once.

    Examples:
        >>> from bertsteps import load
        >>> float(unit_embeddings(load()).norm(dim=1).mean())  # doctest: +ELLIPSIS
        1.0...
    """
    with torch.inference_mode():
        return unit_rows(bert.embedding_matrix)


def _query_vector(
    bert: Bert, query: str | ArrayLike
) -> tuple[torch.Tensor, list[int]]:
    """The query as one vector, and the ids it is made of (a word's pieces are never its own neighbours)."""
    from .tokens import word_ids, word_vectors

    if isinstance(query, str):
        ids = word_ids(bert, query, strategy="mean")[0]
        return word_vectors(bert, query, strategy="mean")[0], ids
    vec = as_matrix(query, "query")
    hidden = bert.embedding_matrix.shape[1]
    if vec.shape != (1, hidden):
        raise BertStepsError(
            f"query vector has shape {tuple(vec.shape)}; {bert.name} needs one vector of size {hidden}"
        )
    return vec[0], []


def _top_k(
    bert: Bert, vector: torch.Tensor, k: int, exclude: list[int]
) -> list[Neighbour]:
    unit = unit_embeddings(bert)
    available = unit.shape[0] - len(excluded_ids(bert)) - len(exclude)
    positive_int(k, "k")
    if k > available:
        raise BertStepsError(
            f"k={k} is more than the {available} tokens that can be neighbours"
        )
    query = vector.unsqueeze(0)
    if _zero_rows(query):
        raise BertStepsError(
            "the query vector is all zeros: it has no direction, so no token is nearer than another"
        )
    with torch.inference_mode():
        q = _checked_unit_rows(query, unit.device, "the query vector")[0]
        scores = (unit @ q).clamp_(-1.0, 1.0)
        scores[excluded_ids(bert).to(unit.device)] = -math.inf
        if exclude:
            scores[torch.tensor(exclude, device=unit.device)] = -math.inf
        top = torch.topk(scores, k)
    tokens = bert.tokenizer.convert_ids_to_tokens(top.indices.tolist())
    return [
        Neighbour(t, float(s))
        for t, s in zip(tokens, top.values.tolist(), strict=True)
    ]


def nearest(
    bert: Bert, query: str | ArrayLike, k: int = 10
) -> list[Neighbour]:
    """The ``k`` tokens of the vocabulary whose input embeddings are closest to ``query`` by cosine.

    ``query`` is a word (split words are averaged over their pieces) or a vector of
    the hidden size, of any finite magnitude (scaled as in [`cosine_matrix`][bertsteps.cosine_matrix]). The
    query's own token or pieces and special tokens are never returned; a zero vector has
    no direction and is refused, as is NaN or infinity.

    Examples:
        >>> from bertsteps import load
        >>> "queen" in [n.token for n in nearest(load(), "king", k=3)]
        True
    """
    vector, own = _query_vector(bert, query)
    return _top_k(bert, vector, k, own)


def analogy(bert: Bert, a: str, b: str, c: str, k: int = 5) -> list[Neighbour]:
    """ "``a`` is to ``b`` as ``c`` is to ?": the tokens closest to ``b - a + c``, the three inputs excluded.

    Examples:
        >>> from bertsteps import load
        >>> analogy(load(), "man", "king", "woman", k=1)[0].token
        'queen'
    """
    from .tokens import word_ids, word_vectors

    for word in (a, b, c):
        if not isinstance(word, str):
            raise TokenError(f"analogy() takes three words, got {word!r}")
    va, vb, vc = word_vectors(bert, [a, b, c], strategy="mean")
    own = sorted(
        {i for ids in word_ids(bert, [a, b, c], strategy="mean") for i in ids}
    )
    return _top_k(bert, vb - va + vc, k, own)
