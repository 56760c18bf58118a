"""Checking a checkpoint folder before it is trusted: one place, one kind of error.

``check_files`` reads only ``config.json`` and the headers of the ``*.safetensors``
files (names and shapes, no weights) and compares them: readable weight files, sizes
in the config that are positive whole numbers, heads that divide the hidden size, a
word-embedding matrix of ``(vocab_size, hidden_size)``, as many encoder layers in the
weights as the config says, and tokenizer files. ``check_loaded`` then compares the
loaded tokenizer with the embedding rows and refuses NaN or infinite weights.

Every failure is a [`CheckpointError`][bertsteps.CheckpointError] naming the file, what is
wrong and what to do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .errors import CheckpointError
from .validation import is_int

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

# The files a tokenizer of the loaded families can be read from: the fast tokenizer's
# tokenizer.json, BERT's and DistilBERT's WordPiece vocab.txt, RoBERTa's BPE vocab.json.
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json")
# The model families bertsteps loads: BERT, and the two that keep its embeddings-then-
# encoder-layers layout closely enough for every function that does not recompute a
# layer by hand (tests/test_families.py runs each of them end to end).
FAMILIES = ("bert", "distilbert", "roberta")
_FIX = "re-save the checkpoint with `save_pretrained` (model and tokenizer), or use another checkpoint"
_LAYER = re.compile(r"(?:^|\.)(?:layer|layers)\.(\d+)\.")


@dataclass(frozen=True)
class Layout:
    """What a checkpoint folder's files say, checked against each other.

    Examples:
        >>> from bertsteps.checkpoints import default_folder
        >>> layout = check_files(default_folder())
        >>> layout.hidden_size, layout.heads, layout.layers, layout.vocab_size
        (384, 12, 6, 30522)
    """

    weight_names: list[str]
    hidden_size: int
    heads: int
    layers: int
    vocab_size: int


def _config_int(
    config: dict[str, Any], keys: Iterable[str], path: Path
) -> int:
    for key in keys:
        if key in config:
            value = config[key]
            if not is_int(value) or value < 1:
                raise CheckpointError(
                    f"{path}: {key} is {value!r}, not a positive whole number. Fix config.json or {_FIX}"
                )
            return value
    raise CheckpointError(
        f"{path} has none of {list(keys)}: it does not describe a BERT-like encoder. {_FIX}"
    )


def read_headers(files: Iterable[Path]) -> dict[str, tuple[int, ...]]:
    """Every tensor's name and shape from the headers of safetensors files (no weights read).

    A file that is not valid safetensors (truncated, garbage) is a [`CheckpointError`][bertsteps.CheckpointError].

    Examples:
        >>> from bertsteps.checkpoints import default_folder
        >>> read_headers([default_folder() / "model.safetensors"])["embeddings.word_embeddings.weight"]
        (30522, 384)
    """
    from safetensors import safe_open

    shapes: dict[str, tuple[int, ...]] = {}
    for file in files:
        try:
            with safe_open(file, framework="pt") as handle:
                for name in handle.keys():
                    shapes[name] = tuple(handle.get_slice(name).get_shape())
        except Exception as err:  # SafetensorError, OSError: the safetensors package has no public error base
            size = file.stat().st_size if file.exists() else 0
            raise CheckpointError(
                f"{file} is not a readable safetensors file ({size:,} bytes; {type(err).__name__}: {err}). "
                f"It may be truncated or corrupt: download or save it again"
            ) from err
    return shapes


def check_family(config: dict[str, Any], name: str) -> None:
    """Refuse a config whose ``model_type`` is not one of the ``FAMILIES`` bertsteps loads.

    A config without ``model_type`` passes: the other checks and the loader judge it.

    Examples:
        >>> check_family({"model_type": "bert"}, "bert-base-uncased")
        >>> check_family({"model_type": "albert"}, "albert-base-v2")
        Traceback (most recent call last):
        ...
        bertsteps.errors.CheckpointError: bertsteps teaches BERT's layer layout; albert-base-v2 is an albert model (bertsteps reads bert, distilbert and roberta models): use a BERT checkpoint such as bert-base-uncased
    """
    model_type = config.get("model_type")
    if model_type is not None and model_type not in FAMILIES:
        article = (
            "an"
            if str(model_type)[:1].lower() in {"a", "e", "i", "o", "u"}
            else "a"
        )
        raise CheckpointError(
            f"bertsteps teaches BERT's layer layout; {name} is {article} {model_type} model "
            f"(bertsteps reads {', '.join(FAMILIES[:-1])} and {FAMILIES[-1]} models): "
            "use a BERT checkpoint such as bert-base-uncased"
        )


def check_files(folder: Path, name: str | None = None) -> Layout:
    """Check ``folder``'s config, weight headers and tokenizer files against each other; return its layout.

    ``name`` is how messages name the checkpoint (its folder if not given).

    Examples:
        >>> from bertsteps.checkpoints import default_folder
        >>> len(check_files(default_folder()).weight_names)
        104
    """
    config_path = folder / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(
            f"{config_path} cannot be read as JSON ({err}). {_FIX}"
        ) from err
    if not isinstance(config, dict):
        raise CheckpointError(
            f"{config_path} holds {type(config).__name__}, not a JSON object. {_FIX}"
        )
    check_family(config, name or str(folder))
    hidden = _config_int(config, ("hidden_size", "dim"), config_path)
    heads = _config_int(
        config, ("num_attention_heads", "n_heads"), config_path
    )
    layers = _config_int(
        config, ("num_hidden_layers", "n_layers"), config_path
    )
    vocab = _config_int(config, ("vocab_size",), config_path)
    if hidden % heads:
        raise CheckpointError(
            f"{config_path}: {heads} attention heads do not divide the hidden size {hidden} "
            f"(each head needs hidden_size / heads dimensions). {_FIX}"
        )
    weight_files = sorted(folder.glob("*.safetensors"))
    shapes = read_headers(weight_files)
    names = sorted(shapes)
    embedding = [n for n in names if n.endswith("word_embeddings.weight")]
    if not embedding:
        raise CheckpointError(
            f"{folder}: the safetensors files hold no word-embedding matrix (*word_embeddings.weight). {_FIX}"
        )
    rows_cols = shapes[embedding[0]]
    if rows_cols != (vocab, hidden):
        raise CheckpointError(
            f"{config_path} says vocab_size={vocab} and hidden_size={hidden}, but {embedding[0]} in "
            f"{', '.join(f.name for f in weight_files)} is {rows_cols[0]} x {rows_cols[-1]}: the config does not "
            f"belong to these weights. Use the config.json saved with them, or {_FIX}"
        )
    found = {int(m.group(1)) for n in names if (m := _LAYER.search(n))}
    if found and len(found) != layers:
        raise CheckpointError(
            f"{config_path} says {layers} layers, but the weights hold {len(found)} "
            f"(numbered {min(found)} to {max(found)}): layers would be dropped or invented. "
            f"Use the config.json saved with these weights, or {_FIX}"
        )
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise CheckpointError(
            f"{folder} has no tokenizer files (none of {', '.join(TOKENIZER_FILES)}): without them every word "
            "would be unknown. Save the tokenizer too (`tokenizer.save_pretrained(folder)`), or use another checkpoint"
        )
    return Layout(
        weight_names=names,
        hidden_size=hidden,
        heads=heads,
        layers=layers,
        vocab_size=vocab,
    )


def check_loaded(
    folder: Path, tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel
) -> None:
    """Refuse a tokenizer that does not match the embedding rows, and NaN or infinite weights.

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> check_loaded(bert.source.folder, bert.tokenizer, bert.model)
    """
    import torch

    weight = cast("torch.Tensor", model.get_input_embeddings().weight)
    rows = int(weight.shape[0])
    tokens = len(tokenizer)
    if tokens != rows:
        raise CheckpointError(
            f"{folder}: the tokenizer has {tokens:,} tokens but the embedding matrix has {rows:,} rows, so "
            + (
                f"ids {rows:,} and up would have no row"
                if tokens > rows
                else f"rows {tokens:,} to {rows - 1:,} would belong to no token"
            )
            + f". Use the tokenizer saved with these weights, or {_FIX}"
        )
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(
            torch.isfinite(tensor).all()
        ):
            bad = int((~torch.isfinite(tensor)).sum())
            where = ""
            if tensor.ndim == 2:
                rows_bad = (
                    (~torch.isfinite(tensor).all(dim=1))
                    .nonzero()
                    .flatten()
                    .tolist()
                )
                where = f" in {len(rows_bad)} rows {rows_bad[:5]}{' ...' if len(rows_bad) > 5 else ''}"
            raise CheckpointError(
                f"{folder}: the weight {name} holds {bad} NaN or infinite values{where}: every result computed "
                f"from it would be NaN. Use an intact copy of the checkpoint, or {_FIX}"
            )
