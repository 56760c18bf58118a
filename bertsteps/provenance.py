"""What a checkpoint is: its shape, read from its config, and how its weights were trained.

The site is called "BERT Step by Step", but a build renders whatever checkpoint it is
given; the bundled default is not ``bert-base-uncased`` but all-MiniLM-L6-v2, a distilled
model fine-tuned to compare sentences. [`model_card`][bertsteps.model_card] says so from the files: the
shape comes from ``config.json`` and the weights' names, the training history from a small
table of checkpoints whose provenance is documented (``"not known"`` for any other).
[`compare_with_bert_base`][bertsteps.compare_with_bert_base] sets a checkpoint beside ``bert-base-uncased``, whose
configuration is kept here as a documented constant because it cannot be loaded offline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .checkpoints import Bert

#: ``config.json`` of ``bert-base-uncased`` (Devlin et al., 2019), as published on the hub.
BERT_BASE_UNCASED_CONFIG: dict[str, int | str] = {
    "model_type": "bert",
    "num_hidden_layers": 12,
    "hidden_size": 768,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "vocab_size": 30522,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "hidden_act": "gelu",
}

_BERT_BASE_TRAINING = (
    "pretrained by Google on BooksCorpus and English Wikipedia with two tasks: "
    "masked-word prediction (guess hidden words) and next-sentence prediction"
)

# Documented provenance of known checkpoints: (short description, how the weights were trained).
_KNOWN: dict[str, tuple[str, str]] = {
    "sentence-transformers/all-MiniLM-L6-v2": (
        "a distilled MiniLM fine-tuned for sentence similarity",
        (
            "It starts from MiniLM-L6-H384-uncased: every second layer of the 12-layer "
            "MiniLM-L12-H384-uncased, which was distilled from a larger pretrained Transformer, "
            "keeping bert-base-uncased's vocabulary. "
            "sentence-transformers then fine-tuned it with a contrastive objective on over "
            "a billion sentence pairs, so that the mean of its last layer's token vectors "
            "places sentences of similar meaning close together. None of this is BERT's "
            "masked-word pretraining, and it has no masked-word head. Its pooler (a dense layer "
            "and tanh on the [CLS] vector) is in the weights, but the fine-tuning never used it."
        ),
    ),
    "bert-base-uncased": (
        "the original pretrained BERT",
        f"It was {_BERT_BASE_TRAINING}.",
    ),
    "google-bert/bert-base-uncased": (
        "the original pretrained BERT",
        f"It was {_BERT_BASE_TRAINING}.",
    ),
}


@dataclass(frozen=True)
class ModelCard:
    """A checkpoint's shape and history, in the words the pages use.

    Examples:
        >>> card = model_card()
        >>> card.layers, card.hidden_size, card.heads, card.head_size
        (6, 384, 12, 32)
        >>> card.short
        'a distilled MiniLM fine-tuned for sentence similarity'
    """

    name: str
    model_type: str
    layers: int
    hidden_size: int
    heads: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    masked_lm_head: bool
    pooler: bool
    short: str
    training: str

    @property
    def head_size(self) -> int:
        """Numbers per attention head: hidden size / heads."""
        return self.hidden_size // self.heads if self.heads else 0

    @property
    def summary(self) -> str:
        """One sentence (Markdown) saying what the checkpoint is."""
        head = (
            "with a masked-word head"
            if self.masked_lm_head
            else "without a masked-word head"
        )
        pooler = "a pooler" if self.pooler else "no pooler"
        return (
            f"`{self.name}`, {self.short}: a {self.model_type} encoder with {self.layers} layers, "
            f"hidden size {self.hidden_size}, {self.heads} attention heads of size {self.head_size} "
            f"and a {self.vocab_size:,}-token vocabulary, {head} and with {pooler}."
        )


def model_card(
    checkpoint: Bert | str | os.PathLike[str] | None = None,
) -> ModelCard:
    """Describe a loaded [`Bert`][bertsteps.Bert], or a checkpoint without loading its weights.

    Examples:
        >>> card = model_card()
        >>> card.name, card.masked_lm_head, card.pooler
        ('sentence-transformers/all-MiniLM-L6-v2', False, True)
        >>> "distilled" in card.training and "masked-word" in card.training
        True
    """
    from .checkpoint_check import check_family
    from .checkpoints import Bert, _weight_names, read_config, resolve
    from .masked_lm import has_complete_mlm_head

    if isinstance(checkpoint, Bert):
        source, config = checkpoint.source, checkpoint.config.to_dict()
    else:
        source = resolve(checkpoint)
        config = read_config(source.checkpoint)
        check_family(config, source.name)
    names = _weight_names(source.folder)
    short, training = _KNOWN.get(
        source.name,
        (
            f"a {config.get('model_type', 'transformer')} checkpoint of unknown training",
            f"How the weights in {source.checkpoint} were trained is not known to bertsteps.",
        ),
    )
    return ModelCard(
        name=source.name,
        model_type=str(config.get("model_type", "?")),
        layers=int(config.get("num_hidden_layers", config.get("n_layers", 0))),
        hidden_size=int(config.get("hidden_size", config.get("dim", 0))),
        heads=int(config.get("num_attention_heads", config.get("n_heads", 0))),
        intermediate_size=int(
            config.get("intermediate_size", config.get("hidden_dim", 0))
        ),
        vocab_size=int(config.get("vocab_size", 0)),
        max_positions=int(config.get("max_position_embeddings", 0)),
        masked_lm_head=has_complete_mlm_head(names),
        pooler=any(".pooler." in f".{n}" for n in names),
        short=short,
        training=training,
    )


def compare_with_bert_base(card: ModelCard) -> str:
    """A Markdown table: this checkpoint's shape beside ``bert-base-uncased``'s.

    Examples:
        >>> print(compare_with_bert_base(model_card()).splitlines()[2])
        | layers | 6 | 12 |
    """
    base = BERT_BASE_UNCASED_CONFIG
    base_heads, base_hidden = (
        int(base["num_attention_heads"]),
        int(base["hidden_size"]),
    )
    rows = [
        ("layers", card.layers, base["num_hidden_layers"]),
        ("hidden size", card.hidden_size, base_hidden),
        ("attention heads", card.heads, base_heads),
        ("numbers per head", card.head_size, base_hidden // base_heads),
        (
            "feed-forward size",
            card.intermediate_size,
            base["intermediate_size"],
        ),
        ("vocabulary", f"{card.vocab_size:,}", f"{base['vocab_size']:,}"),
        ("positions", card.max_positions, base["max_position_embeddings"]),
        ("masked-word head", "yes" if card.masked_lm_head else "no", "yes"),
    ]
    head = f"| what | `{card.name}` | `bert-base-uncased` |\n| --- | ---: | ---: |\n"
    return head + "\n".join(
        f"| {what} | {ours} | {theirs} |" for what, ours, theirs in rows
    )
