"""The data of the in-browser embedding explorer: a checkpoint's vocabulary, neighbours and map.

``export`` writes, for one checkpoint, small little-endian binary files and a
``manifest.json`` that the site's "Explore the embedding space" page reads:

* ``vocab.json``: the tokens, ordered by id;
* ``neighbours.bin`` and ``scores.bin``: [`neighbour_table`][bertsteps.neighbour_table],
  ids as uint16 (uint32 for vocabularies over 65,535 tokens) and cosines as float16;
* ``coords.bin``: every token's place on a 2-D map, float16: the first two principal
  components ([`pca`][bertsteps.pca]) of the unit rows, fitted on the tokens
  that can be neighbours;
* ``codes.bin``: every unit row compressed to 2 bits a coordinate, for the cosine of
  two tokens that are not each other's neighbours.

The compression: the unit rows (zero-padded to a multiple of 4) are multiplied by a
seeded random orthogonal matrix, which changes no cosine but spreads every row's length
evenly over its coordinates, so that each coordinate is close to Gaussian. Each
coordinate is then quantised with the 4-level Lloyd-Max quantiser of a Gaussian, scaled
by the row's standard deviation: thresholds ``0`` and ``±0.9816σ``, levels ``±0.4528σ``
and ``±1.510σ``. Four codes fit in a byte. The page decodes two rows to the levels and
takes their cosine; that cosine is shrunk towards 0 by the quantisation noise by the
quantiser's gain ``g = <x, q> / <x, x>`` (about 0.88), so the estimate is
``cos(q_a, q_b) / g``, clipped to [-1, 1]. The rotation need not be shipped: it never
changes a cosine. ``export`` measures the estimate's error against the exact cosine
on random pairs and on close pairs, and the manifest carries those figures.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .atomic import atomic_folder
from .errors import BertStepsError

if TYPE_CHECKING:
    import os

    from .checkpoints import Bert

# 2-bit Lloyd-Max quantiser of a unit Gaussian: 3 thresholds, 4 levels.
THRESHOLDS = (-0.9816, 0.0, 0.9816)
LEVELS = (-1.510, -0.4528, 0.4528, 1.510)
# Pairs of random tokens on which the error of the compressed cosines is measured.
_ERROR_PAIRS = 200_000


def export(
    bert: Bert,
    folder: str | os.PathLike[str],
    *,
    k: int = 12,
    seed: int = 0,
) -> dict[str, Any]:
    """Write the explorer's data for ``bert`` into ``folder`` and return its manifest.

    ``k`` neighbours per token are stored. The manifest (also ``manifest.json``) names the
    checkpoint, its size and tokenizer settings, every file with its dtype, shape and
    byte size, the map's explained variance and the measured error of the compressed
    cosines. ``seed`` fixes the random rotation and the sampled pairs.

    Examples:
        >>> import tempfile
        >>> from bertsteps import load
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     manifest = export(load(), tmp, k=10)
        >>> manifest["vocab_size"], manifest["hidden_size"], manifest["k"]
        (30522, 384, 10)
        >>> manifest["files"]["neighbours"]["dtype"], manifest["files"]["codes"]["shape"]
        ('uint16', [30522, 96])
        >>> manifest["approximate"]["random_pairs"]["mean_abs_error"] < 0.05
        True
    """
    from .atomic import output_folder
    from .neighbours import neighbour_table
    from .projection import vocabulary_map
    from .similarity import candidate_mask, excluded_ids, unit_embeddings
    from .validation import positive_int

    target = output_folder(folder)
    positive_int(k, "k")
    unit = unit_embeddings(bert).to("cpu", torch.float32)
    n, hidden = unit.shape
    banned = excluded_ids(bert)
    tokens = bert.tokenizer.convert_ids_to_tokens(list(range(n)))
    if any(t is None for t in tokens):
        raise BertStepsError(
            f"the tokenizer of {bert.name} has no token for some of the {n} embedding rows"
        )

    indices, scores = neighbour_table(bert, k)
    index_dtype = np.uint16 if n <= 65535 else np.uint32

    allowed = candidate_mask(bert)
    projection = vocabulary_map(bert)
    coords = projection.transform(unit)

    codes, gain, decoded = _compress(unit, seed)
    measured = _errors(unit, decoded, gain, indices, scores, allowed, seed)

    arrays = {
        "neighbours": indices.numpy().astype(index_dtype),
        "scores": scores.numpy().astype(np.float16),
        "coords": coords.numpy().astype(np.float16),
        "codes": codes,
    }
    # Written into a temporary sibling folder that is swapped in whole: an error or an
    # interrupt leaves the old folder (and its manifest) as it was.
    with atomic_folder(target) as out:
        files: dict[str, dict[str, Any]] = {}
        for name, array in arrays.items():
            path = out / f"{name}.bin"
            path.write_bytes(
                array.astype(
                    array.dtype.newbyteorder("<"), copy=False
                ).tobytes()
            )
            files[name] = {
                "file": path.name,
                "dtype": str(array.dtype),
                "shape": list(array.shape),
                "bytes": path.stat().st_size,
            }
        vocab = out / "vocab.json"
        vocab.write_text(
            json.dumps(tokens, ensure_ascii=False, separators=(",", ":")),
            encoding="utf-8",
        )
        files["vocab"] = {
            "file": vocab.name,
            "dtype": "json",
            "shape": [n],
            "bytes": vocab.stat().st_size,
        }
        info = bert.info()
        manifest: dict[str, Any] = {
            "checkpoint": info["name"],
            "model_type": info["model_type"],
            "layers": info["layers"],
            "hidden_size": hidden,
            "vocab_size": n,
            "k": k,
            "tokenizer": _tokenizer_settings(bert),
            "excluded_ids": banned.tolist(),
            "map": {
                "explained_variance_ratio": [
                    round(float(r), 6)
                    for r in projection.explained_variance_ratio
                ],
                "fitted_on": "unit rows of the tokens that can be neighbours",
                "fitted_rows": int(allowed.sum()),
            },
            "approximate": {
                "method": "random rotation, 2-bit Lloyd-Max quantisation per coordinate",
                "bits_per_coordinate": 2,
                "padded_size": int(decoded.shape[1]),
                "levels": list(LEVELS),
                "gain": round(gain, 6),
                "seed": seed,
                **measured,
            },
            "files": files,
        }
        manifest["data_bytes"] = sum(
            f["bytes"] for f in files.values()
        )  # all but manifest.json
        (out / "manifest.json").write_text(
            json.dumps(manifest, indent=1), encoding="utf-8"
        )
    return manifest


def approximate_cosines(
    decoded: torch.Tensor, a: torch.Tensor, b: torch.Tensor, gain: float
) -> torch.Tensor:
    """The estimated cosines of rows ``a[i]`` and ``b[i]`` from decoded 2-bit rows, as the page computes them.

    Examples:
        >>> rows = torch.tensor([[1.510, -0.4528], [1.510, 0.4528]])
        >>> approximate_cosines(rows, torch.tensor([0]), torch.tensor([0]), gain=0.88).tolist()
        [1.0]
    """
    x, y = decoded[a].double(), decoded[b].double()
    cos = (x * y).sum(dim=1) / (x.norm(dim=1) * y.norm(dim=1)).clamp_min(
        1e-300
    )
    return (cos / gain).clamp(-1.0, 1.0).float()


def decode(codes: np.ndarray[Any, Any]) -> torch.Tensor:
    """2-bit codes, four to a byte (the first coordinate in the lowest bits), back to Lloyd-Max levels.

    Examples:
        >>> decode(np.array([[0b11100100]], dtype=np.uint8)).tolist()
        [[-1.5099999904632568, -0.4528000056743622, 0.4528000056743622, 1.5099999904632568]]
    """
    shifts = np.arange(4, dtype=np.uint8) * 2
    unpacked = (codes[:, :, None] >> shifts) & 3
    return torch.tensor(LEVELS, dtype=torch.float32)[
        torch.from_numpy(unpacked.reshape(len(codes), -1).astype(np.int64))
    ]


def _compress(
    unit: torch.Tensor, seed: int
) -> tuple[np.ndarray[Any, Any], float, torch.Tensor]:
    """Rotate, quantise and pack the unit rows: ``(codes, gain, decoded levels)``."""
    n, hidden = unit.shape
    size = -(-hidden // 4) * 4
    generator = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(
        torch.randn(size, size, generator=generator, dtype=torch.float64)
    )
    rotation = q * torch.sign(
        torch.diagonal(r)
    )  # a uniformly random orthogonal matrix
    x = torch.nn.functional.pad(unit.double(), (0, size - hidden)) @ rotation
    sigma = x.std(dim=1, keepdim=True).clamp_min(1e-30)
    code = torch.bucketize(
        x / sigma, torch.tensor(THRESHOLDS, dtype=torch.float64)
    )  # 0..3
    decoded = torch.tensor(LEVELS, dtype=torch.float64)[code]
    # the quantiser's gain: how much of each row the levels keep (x = g q + noise)
    gains = (x * decoded * sigma).sum(dim=1) / (x * x).sum(dim=1).clamp_min(
        1e-300
    )
    gain = float(gains[torch.isfinite(gains) & (gains > 0)].mean())
    packed = code.to(torch.uint8).view(n, size // 4, 4).numpy()
    codes = (
        packed[:, :, 0]
        | packed[:, :, 1] << 2
        | packed[:, :, 2] << 4
        | packed[:, :, 3] << 6
    )
    return np.ascontiguousarray(codes, dtype=np.uint8), gain, decoded.float()


def _errors(
    unit: torch.Tensor,
    decoded: torch.Tensor,
    gain: float,
    indices: torch.Tensor,
    scores: torch.Tensor,
    allowed: torch.Tensor,
    seed: int,
) -> dict[str, Any]:
    """The error of the estimated cosines on random pairs of tokens and on each token's neighbours."""
    generator = torch.Generator().manual_seed(seed + 1)
    ids = allowed.nonzero().flatten()
    a = ids[torch.randint(len(ids), (_ERROR_PAIRS,), generator=generator)]
    b = ids[torch.randint(len(ids), (_ERROR_PAIRS,), generator=generator)]
    a, b = a[a != b], b[a != b]
    exact = (unit[a].double() * unit[b].double()).sum(dim=1).float()
    rows = ids.repeat_interleave(indices.shape[1])
    close = indices[ids].flatten()
    return {
        "random_pairs": _summary(
            approximate_cosines(decoded, a, b, gain), exact
        ),
        "close_pairs": _summary(
            approximate_cosines(decoded, rows, close, gain),
            scores[ids].flatten(),
        ),
    }


def _summary(estimate: torch.Tensor, exact: torch.Tensor) -> dict[str, Any]:
    error = (estimate - exact).abs().double()
    if not math.isfinite(float(error.sum())):
        raise BertStepsError("the compressed cosines hold NaN values")
    return {
        "pairs": len(error),
        "mean_abs_error": round(float(error.mean()), 4),
        "p99_abs_error": round(float(error.quantile(0.99)), 4),
        "max_abs_error": round(float(error.max()), 4),
    }


def _tokenizer_settings(bert: Bert) -> dict[str, Any]:
    """What the page needs to split a word like the tokenizer: lower-casing, accents, WordPiece."""
    tok = bert.tokenizer
    settings: dict[str, Any] = {
        "lowercase": bool(getattr(tok, "do_lower_case", False)),
        "strip_accents": None,
        "wordpiece": True,
        "prefix": "##",
        "unk_token": tok.unk_token,
        "max_input_chars_per_word": 100,
        "special_tokens": list(tok.all_special_tokens),
    }
    backend = getattr(tok, "backend_tokenizer", None)
    if backend is not None:
        spec = json.loads(backend.to_str())
        normalizer, model = (
            spec.get("normalizer") or {},
            spec.get("model") or {},
        )
        if normalizer.get("type") == "BertNormalizer":
            settings["lowercase"] = bool(normalizer.get("lowercase"))
            settings["strip_accents"] = normalizer.get("strip_accents")
        settings["wordpiece"] = model.get("type") == "WordPiece"
        settings["prefix"] = model.get("continuing_subword_prefix", "##")
        settings["unk_token"] = model.get("unk_token", tok.unk_token)
        settings["max_input_chars_per_word"] = model.get(
            "max_input_chars_per_word", 100
        )
    if (
        settings["strip_accents"] is None
    ):  # BERT's rule: accents go with lower-casing
        settings["strip_accents"] = settings["lowercase"]
    return settings
