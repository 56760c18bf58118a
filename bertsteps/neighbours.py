"""The nearest tokens of every token in the vocabulary: a ``(vocab_size, k)`` neighbour table.

Row ``i`` of the table holds the ``k`` tokens whose input embeddings have the highest
cosine with token ``i``'s, best first. The rules are those of [`nearest`][bertsteps.nearest]:
a row never lists its own token, and special tokens and placeholders (``[CLS]``,
``[unused0]``, ...: [`excluded_ids`][bertsteps.similarity.excluded_ids]) are never offered as
neighbours, though their own rows are filled like any other.

The plain way ([`neighbour_table_plain`][bertsteps.neighbour_table_plain]) multiplies the unit rows by all of them in
row chunks and keeps each row's ``topk``. [`neighbour_table`][bertsteps.neighbour_table] gets the same table with
about half the work on the CPU:

* the cosine matrix is symmetric, so the vocabulary is cut into square blocks and only the
  blocks on and above the diagonal are multiplied; block ``(I, J)`` offers candidates to
  the rows of ``I`` and, read by columns, to the rows of ``J``;
* every row keeps its best ``k`` so far, and its ``k``-th score is a threshold: a block
  is read in groups of 32 columns, and only groups whose maximum beats the threshold are
  looked at (the row's new top ``k`` lies in its ``k`` best groups), so ``topk`` runs on
  a few hundred values instead of tens of thousands;
* thresholds rise fastest when similar tokens meet early, so the tokens are first
  ordered by a few rounds of spherical k-means and the most similar pairs of blocks
  are multiplied first.

Every score is still one float32 dot product of two unit rows, computed once: the
table equals the plain one, up to the order of exactly tied scores.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from .devices import DeviceLike, resolve_device
from .errors import BertStepsError
from .similarity import (
    _chunk_rows,
    candidate_mask,
    excluded_ids,
    unit_embeddings,
    unit_rows,
)
from .validation import check_memory, positive_int

if TYPE_CHECKING:
    from .checkpoints import Bert

# Columns per group: a group is looked at only if its maximum beats the row's k-th score.
_GROUP = 32
# Rows (and columns) per square block on the CPU (benchmarks/neighbours.py chose it).
_CPU_BLOCK = 2048
# Rounds of spherical k-means that order the tokens so that similar ones share blocks.
_ROUNDS = 5


def neighbour_table(
    bert: Bert,
    k: int = 10,
    *,
    device: DeviceLike = "auto",
    chunk_size: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest tokens of every token by cosine of input embeddings: ``(indices, scores)``.

    Both are ``(vocab_size, k)`` CPU tensors, int64 token ids and float32 cosines, best
    first. A row never holds its own token; special tokens and ``[unusedN]`` placeholders
    are never neighbours (as in [`nearest`][bertsteps.nearest]), but get rows of
    their own. On the CPU only the upper half of the cosine matrix is multiplied, in
    square blocks of ``chunk_size`` rows (rounded up to a multiple of 32; default 2048);
    on an accelerator this is [`neighbour_table_plain`][bertsteps.neighbour_table_plain], in chunks of ``chunk_size`` rows.
    The result equals the plain computation up to the order of exactly tied scores.

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> indices, scores = neighbour_table(bert, k=3)
        >>> indices.shape, indices.dtype, scores.dtype
        (torch.Size([30522, 3]), torch.int64, torch.float32)
        >>> king = bert.tokenizer.convert_tokens_to_ids("king")
        >>> bert.tokenizer.convert_ids_to_tokens(indices[king].tolist())
        ['kings', 'queen', 'monarch']
    """
    dev, unit, banned, step = _prepare(bert, k, device, chunk_size)
    if dev.type != "cpu":
        return _plain_rows(
            unit, torch.arange(unit.shape[0], device=dev), k, banned, step
        )
    n = unit.shape[0]
    block = _cpu_block(n, chunk_size)
    indices = torch.empty((n, k), dtype=torch.long)
    scores = torch.empty((n, k), dtype=torch.float32)
    with torch.inference_mode():
        allowed = candidate_mask(bert)
        order = _locality_order(unit, clusters=-(-n // block))
        ids = order[
            allowed[order]
        ]  # the tokens that can be neighbours, similar ones together
        top, positions = _symmetric_topk(unit, ids, k, block)
        scores[ids], indices[ids] = top, ids[positions]
        # Rows of excluded tokens: the plain way, in chunks no bigger than one block of scores.
        indices[banned], scores[banned] = _plain_rows(
            unit, banned, k, banned, max(1, block * block // n)
        )
    return indices, scores


def neighbour_table_plain(
    bert: Bert,
    k: int = 10,
    *,
    device: DeviceLike = "auto",
    chunk_size: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """[`neighbour_table`][bertsteps.neighbour_table] the plain way: unit rows times all unit rows in row chunks, then ``topk``.

    Each chunk of ``chunk_size`` rows (default: 512 on the CPU, 256 MiB of scores on an
    accelerator) gets its full row of cosines, excluded columns and its own tokens set
    to ``-inf``, and ``torch.topk``. The reference that [`neighbour_table`][bertsteps.neighbour_table] is tested against.

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> indices, scores = neighbour_table_plain(bert, k=1)
        >>> dog = bert.tokenizer.convert_tokens_to_ids("dog")
        >>> bert.tokenizer.convert_ids_to_tokens(indices[dog].tolist()), round(float(scores[dog, 0]), 2)
        (['dogs'], 0.87)
    """
    dev, unit, banned, step = _prepare(bert, k, device, chunk_size)
    return _plain_rows(
        unit, torch.arange(unit.shape[0], device=dev), k, banned, step
    )


def check_table(
    bert: Bert,
    k: int,
    *,
    device: DeviceLike = "auto",
    chunk_size: int | None = None,
) -> None:
    """Refuse, before any work, a neighbour table that [`neighbour_table`][bertsteps.neighbour_table] could not make.

    A bad ``k`` or ``chunk_size``, more neighbours than tokens, or a table whose estimated
    memory is above the bound of ``check_memory``.

    Examples:
        >>> from bertsteps import load
        >>> check_table(load(), 10)
        >>> check_table(load(), 8000)
        Traceback (most recent call last):
        ...
        bertsteps.errors.BertStepsError: a neighbour table of 30,522 tokens x k=8000 would need about 6.0 GB of memory, above the bound of 2.1 GB: ask for fewer neighbours (k) (or raise $BERTSTEPS_MEMORY_LIMIT_GB)
    """
    _prepare(bert, k, device, chunk_size)


def _cpu_block(n: int, chunk_size: int | None) -> int:
    """Rows per square block on the CPU: ``chunk_size`` rounded up to the group size, at most the padded vocabulary."""
    wanted = (
        _CPU_BLOCK if chunk_size is None else -(-chunk_size // _GROUP) * _GROUP
    )
    return min(
        wanted, -(-n // _GROUP) * _GROUP
    )  # a block larger than the vocabulary buys nothing


def _prepare(
    bert: Bert, k: int, device: DeviceLike, chunk_size: int | None
) -> tuple[torch.device, torch.Tensor, torch.Tensor, int]:
    """Check ``k``, ``chunk_size`` and the memory needed; unit rows and excluded ids on the device, and a chunk size."""
    dev = resolve_device(device)
    n = bert.embedding_matrix.shape[0]
    positive_int(k, "k")
    step = _chunk_rows(n, n, dev, chunk_size)  # also refuses a bad chunk_size
    banned = excluded_ids(bert)
    available = n - len(banned) - 1
    if k > available:
        raise BertStepsError(
            f"k={k} is more than the {available} tokens that can be neighbours of a token"
        )
    check_memory(
        12.0 * n * k * 2 + 8.0 * min(step, n) * n,
        f"a neighbour table of {n:,} tokens x k={k}",
        "ask for fewer neighbours (k)",
    )
    if dev.type == "cpu":
        block = _cpu_block(n, chunk_size)
        check_memory(
            4.0 * block * block + 12.0 * k * (2 * n + block * (_GROUP + 1)),
            f"the neighbour table with k={k} in blocks of {block} rows",
            "ask for fewer neighbours (k) or a smaller chunk_size",
        )
    unit = unit_embeddings(bert)
    if not math.isfinite(
        float(unit.sum())
    ):  # a NaN or inf entry makes its unit row NaN; |sum| <= numel
        raise BertStepsError(
            f"the embedding matrix of {bert.name} holds NaN or infinite values"
        )
    return dev, unit.to(dev), banned.to(dev), step


def _plain_rows(
    unit: torch.Tensor,
    rows: torch.Tensor,
    k: int,
    banned: torch.Tensor,
    step: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(indices, scores)``: top ``k`` of ``unit[rows] @ unit.T`` in chunks of ``step`` rows, on the CPU.

    ``banned`` columns and each row's own id score ``-inf``.
    """
    indices = torch.empty((len(rows), k), dtype=torch.long)
    scores = torch.empty((len(rows), k), dtype=torch.float32)
    with torch.inference_mode():
        for start in range(0, len(rows), step):
            ids = rows[start : start + step]
            chunk = unit[ids] @ unit.T
            chunk[:, banned] = -math.inf
            chunk[torch.arange(len(ids), device=chunk.device), ids] = -math.inf
            top = torch.topk(chunk, k, dim=1)
            scores[start : start + len(ids)] = top.values.cpu()
            indices[start : start + len(ids)] = top.indices.cpu()
    return indices, scores


def _locality_order(
    x: torch.Tensor, clusters: int, rounds: int = _ROUNDS
) -> torch.Tensor:
    """A permutation of the rows of ``x`` that puts rows of the same spherical k-means cluster together.

    Deterministic: the first centres are evenly spaced rows. Any order gives the same
    table; this one only makes good thresholds appear early.
    """
    centres = x[torch.linspace(0, x.shape[0] - 1, max(clusters, 1)).long()]
    for _ in range(rounds):
        label = (x @ centres.T).argmax(dim=1)
        centres = unit_rows(torch.zeros_like(centres).index_add_(0, label, x))
    label = (x @ centres.T).argmax(dim=1)
    return torch.sort(label, stable=True).indices


def _block_pairs(x: torch.Tensor, block: int) -> list[tuple[int, int]]:
    """Start rows ``(i, j)``, ``i <= j``, of the blocks to multiply: the diagonal first, then the most similar pairs."""
    starts = range(0, x.shape[0], block)
    means = unit_rows(
        torch.stack([x[s : s + block].sum(dim=0) for s in starts])
    )
    near = (means @ means.T).tolist()
    upper = [(i, j) for i in starts for j in starts if j > i]
    upper.sort(key=lambda p: -near[p[0] // block][p[1] // block])
    return [(i, i) for i in starts] + upper


def _symmetric_topk(
    unit: torch.Tensor, rows: torch.Tensor, k: int, block: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(scores, positions)`` of the top ``k`` of every row of ``x @ x.T`` for ``x = unit[rows]``, the diagonal excluded.

    ``positions`` index ``rows``. ``x`` is copied once, padded with zero rows to a multiple
    of the group size; padded columns score ``-inf``. Memory: that copy and one block of scores.
    """
    n, g = len(rows), _GROUP
    size = -(-n // g) * g
    padded = unit.new_zeros((size, unit.shape[1]))
    torch.index_select(unit, 0, rows, out=padded[:n])
    scores = torch.full((size, k), -math.inf)
    positions = torch.zeros((size, k), dtype=torch.long)
    buffer = torch.empty(block * block)
    for i, j in _block_pairs(padded, block):
        h, w = min(block, size - i), min(block, size - j)
        cos = torch.mm(
            padded[i : i + h],
            padded[j : j + w].T,
            out=buffer[: h * w].view(h, w),
        )
        if j + w > n:
            cos[:, n - j :] = -math.inf
        if i == j:
            cos.fill_diagonal_(-math.inf)
        by_rows = cos.view(
            h, w // g, g
        )  # [row, group of columns, column in group]
        _offer(scores, positions, i, by_rows.amax(dim=2), by_rows, j)
        if (
            i != j
        ):  # the transposed block: columns of (i, j) are rows of (j, i)
            by_cols = cos.view(h // g, g, w)
            _offer(
                scores,
                positions,
                j,
                by_cols.amax(dim=1).T,
                by_cols.permute(2, 0, 1),
                i,
            )
    return scores[:n], positions[:n]


def _offer(
    scores: torch.Tensor,
    positions: torch.Tensor,
    row0: int,
    group_max: torch.Tensor,
    values: torch.Tensor,
    col0: int,
) -> None:
    """Merge one block into the running top ``k`` of rows ``row0 ...``, in place.

    ``values[r, q, c]`` is the score of row ``row0 + r`` with column ``col0 + q * g + c``,
    and ``group_max[r, q]`` its maximum over ``c``. Only rows whose best group beats their
    ``k``-th score take part, and of those only their best groups are read.
    """
    k = scores.shape[1]
    h, n_groups, g = values.shape
    kth = scores[row0 : row0 + h, k - 1]
    live = (group_max.amax(dim=1) > kth).nonzero().flatten()
    if live.numel() == 0:
        return
    best, groups = group_max[live].topk(min(k, n_groups), dim=1)
    needed = int((best > kth[live, None]).sum(dim=1).max())
    groups = groups[:, :needed]
    candidates = values[live[:, None], groups].reshape(len(live), needed * g)
    columns = ((col0 + groups * g)[:, :, None] + torch.arange(g)).reshape(
        len(live), needed * g
    )
    rows = live + row0
    top, where = torch.cat([scores[rows], candidates], dim=1).topk(k, dim=1)
    scores[rows] = top
    positions[rows] = torch.cat([positions[rows], columns], dim=1).gather(
        1, where
    )
