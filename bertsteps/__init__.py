"""bertsteps: BERT Step by Step — how BERT turns text into vectors, one verified step at a time.

The public API, in the order the chapters use it:

>>> import bertsteps
>>> bert = bertsteps.load()                       # the bundled default, offline
>>> bertsteps.tokenize(bert, "let's tokenize something?").ids
[101, 2292, 1005, 1055, 19204, 4697, 2242, 1029, 102]
>>> vectors = bertsteps.word_vectors(bert, ["king", "queen"])
>>> round(float(bertsteps.cosine_matrix(vectors)[0, 1]), 2) > 0.5
True

Heavy modules (torch, transformers, matplotlib) are imported on first use of a name,
so ``import bertsteps`` and ``bertsteps --help`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The public API: name -> the module that defines it. This table drives the lazy
# imports below; `__all__` and the TYPE_CHECKING imports (for type checkers and ruff,
# which cannot read a computed `__all__`) name exactly the same set, and
# tests/test_api.py fails on any drift between the three.
_EXPORTS = {
    "Bert": "checkpoints",
    "Source": "checkpoints",
    "load": "checkpoints",
    "resolve": "checkpoints",
    "read_config": "checkpoints",
    "default_folder": "checkpoints",
    "resolve_device": "devices",
    "BertStepsError": "errors",
    "CheckpointError": "errors",
    "DeviceError": "errors",
    "TokenError": "errors",
    "Tokenized": "tokens",
    "tokenize": "tokens",
    "word_pieces": "tokens",
    "word_ids": "tokens",
    "word_vectors": "tokens",
    "Neighbour": "similarity",
    "cosine_matrix": "similarity",
    "nearest": "similarity",
    "analogy": "similarity",
    "neighbour_table": "neighbours",
    "neighbour_table_plain": "neighbours",
    "encode": "inference",
    "forward": "inference",
    "Figure": "plotting",
    "figure": "plotting",
    "plot_matrix": "plotting",
    "plot_lines": "plotting",
    "plot_scatter": "plotting",
    "plot_matrices": "plotting",
    "HeadPatterns": "heads",
    "attention_patterns": "heads",
    "head_patterns": "heads",
    "pattern_claim": "heads",
    "focus_claim": "heads",
    "overview_claim": "heads",
    "Projection": "projection",
    "pca": "projection",
    "vocabulary_map": "projection",
    "WordInContext": "context",
    "word_in_context": "context",
    "word_positions": "context",
    "SensesByLayer": "context",
    "senses_by_layer": "context",
    "SenseSorting": "context",
    "sense_sorting": "context",
    "AttentionSteps": "by_hand",
    "FeedForwardSteps": "by_hand",
    "LayerSteps": "by_hand",
    "attention_by_hand": "by_hand",
    "feed_forward_by_hand": "by_hand",
    "layer_by_hand": "by_hand",
    "encoder_by_hand": "by_hand",
    "PoolerSteps": "by_hand",
    "pooler_by_hand": "by_hand",
    "LayerChanges": "by_hand",
    "layer_changes": "by_hand",
    "MaskingRule": "masking",
    "MaskingCounts": "masking",
    "masking_counts": "masking",
    "GuessQuality": "masking",
    "guess_quality": "masking",
    "Claim": "claims",
    "claim": "claims",
    "Guess": "masked_lm",
    "fill_mask": "masked_lm",
    "OffsetShape": "positions",
    "offset_cosines": "positions",
    "offset_shape": "positions",
    "GroupAgreement": "clusters",
    "group_agreement": "clusters",
    "k_occurrence": "clusters",
    "ModelCard": "provenance",
    "model_card": "provenance",
    "compare_with_bert_base": "provenance",
    "SentenceError": "errors",
    "Hit": "sentences",
    "sentence_vectors": "sentences",
    "pooled_layers": "sentences",
    "max_tokens": "inference",
    "has_pooler": "sentences",
    "rank": "sentences",
    "search": "sentences",
    "sentence_transformer": "sentences",
    "SentencePair": "pairs",
    "Separation": "pairs",
    "read_pairs": "pairs",
    "roc_auc": "pairs",
    "word_overlap": "pairs",
    "pair_cosines": "pairs",
    "separation": "pairs",
    "separations": "pairs",
    "SENSE_SENTENCES": "senses",
    "SenseGap": "senses",
    "sense_gaps": "senses",
    "Paragraph": "paragraphs",
    "split_paragraphs": "paragraphs",
    "read_paragraphs": "paragraphs",
    "chapter_paragraphs": "paragraphs",
    "site_root": "paragraphs",
}

__all__ = [
    "SENSE_SENTENCES",
    "AttentionSteps",
    "Bert",
    "BertStepsError",
    "CheckpointError",
    "Claim",
    "DeviceError",
    "FeedForwardSteps",
    "Figure",
    "GroupAgreement",
    "Guess",
    "GuessQuality",
    "HeadPatterns",
    "Hit",
    "LayerChanges",
    "LayerSteps",
    "MaskingCounts",
    "MaskingRule",
    "ModelCard",
    "Neighbour",
    "OffsetShape",
    "Paragraph",
    "PoolerSteps",
    "Projection",
    "SenseGap",
    "SenseSorting",
    "SensesByLayer",
    "SentenceError",
    "SentencePair",
    "Separation",
    "Source",
    "TokenError",
    "Tokenized",
    "WordInContext",
    "analogy",
    "attention_by_hand",
    "attention_patterns",
    "chapter_paragraphs",
    "claim",
    "compare_with_bert_base",
    "cosine_matrix",
    "default_folder",
    "encode",
    "encoder_by_hand",
    "feed_forward_by_hand",
    "figure",
    "fill_mask",
    "focus_claim",
    "forward",
    "group_agreement",
    "guess_quality",
    "has_pooler",
    "head_patterns",
    "k_occurrence",
    "layer_by_hand",
    "layer_changes",
    "load",
    "masking_counts",
    "max_tokens",
    "model_card",
    "nearest",
    "neighbour_table",
    "neighbour_table_plain",
    "offset_cosines",
    "offset_shape",
    "overview_claim",
    "pair_cosines",
    "pattern_claim",
    "pca",
    "plot_lines",
    "plot_matrices",
    "plot_matrix",
    "plot_scatter",
    "pooled_layers",
    "pooler_by_hand",
    "rank",
    "read_config",
    "read_pairs",
    "read_paragraphs",
    "resolve",
    "resolve_device",
    "roc_auc",
    "search",
    "sense_gaps",
    "sense_sorting",
    "senses_by_layer",
    "sentence_transformer",
    "sentence_vectors",
    "separation",
    "separations",
    "site_root",
    "split_paragraphs",
    "tokenize",
    "vocabulary_map",
    "word_ids",
    "word_in_context",
    "word_overlap",
    "word_pieces",
    "word_positions",
    "word_vectors",
]

if TYPE_CHECKING:
    from .by_hand import (
        AttentionSteps,
        FeedForwardSteps,
        LayerChanges,
        LayerSteps,
        PoolerSteps,
        attention_by_hand,
        encoder_by_hand,
        feed_forward_by_hand,
        layer_by_hand,
        layer_changes,
        pooler_by_hand,
    )
    from .checkpoints import (
        Bert,
        Source,
        default_folder,
        load,
        read_config,
        resolve,
    )
    from .claims import Claim, claim
    from .clusters import GroupAgreement, group_agreement, k_occurrence
    from .context import (
        SensesByLayer,
        SenseSorting,
        WordInContext,
        sense_sorting,
        senses_by_layer,
        word_in_context,
        word_positions,
    )
    from .devices import resolve_device
    from .errors import (
        BertStepsError,
        CheckpointError,
        DeviceError,
        SentenceError,
        TokenError,
    )
    from .heads import (
        HeadPatterns,
        attention_patterns,
        focus_claim,
        head_patterns,
        overview_claim,
        pattern_claim,
    )
    from .inference import encode, forward, max_tokens
    from .masked_lm import Guess, fill_mask
    from .masking import (
        GuessQuality,
        MaskingCounts,
        MaskingRule,
        guess_quality,
        masking_counts,
    )
    from .neighbours import neighbour_table, neighbour_table_plain
    from .pairs import (
        SentencePair,
        Separation,
        pair_cosines,
        read_pairs,
        roc_auc,
        separation,
        separations,
        word_overlap,
    )
    from .paragraphs import (
        Paragraph,
        chapter_paragraphs,
        read_paragraphs,
        site_root,
        split_paragraphs,
    )
    from .plotting import (
        Figure,
        figure,
        plot_lines,
        plot_matrices,
        plot_matrix,
        plot_scatter,
    )
    from .positions import OffsetShape, offset_cosines, offset_shape
    from .projection import Projection, pca, vocabulary_map
    from .provenance import ModelCard, compare_with_bert_base, model_card
    from .senses import SENSE_SENTENCES, SenseGap, sense_gaps
    from .sentences import (
        Hit,
        has_pooler,
        pooled_layers,
        rank,
        search,
        sentence_transformer,
        sentence_vectors,
    )
    from .similarity import Neighbour, analogy, cosine_matrix, nearest
    from .tokens import (
        Tokenized,
        tokenize,
        word_ids,
        word_pieces,
        word_vectors,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bertsteps' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
