"""Shared fixtures: the bundled default checkpoint, and small random BERTs made on the spot."""

from __future__ import annotations

from pathlib import Path

import pytest

import bertsteps


def make_random_checkpoint(
    folder: Path,
    *,
    hidden_size: int = 48,
    layers: int = 2,
    heads: int = 4,
    mlm_head: bool = False,
    seed: int = 0,
) -> Path:
    """Save a randomly initialised BERT with the default checkpoint's tokenizer into ``folder``."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertModel

    default = bertsteps.load()
    config = BertConfig(
        vocab_size=default.tokenizer.vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden_size * 2,
        max_position_embeddings=128,
    )
    torch.manual_seed(seed)
    model = (BertForMaskedLM if mlm_head else BertModel)(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    default.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def bert() -> bertsteps.Bert:
    return bertsteps.load()


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_checkpoint(tmp_path_factory.mktemp("tiny-bert"), hidden_size=48, layers=2, heads=4)


@pytest.fixture(scope="session")
def tiny_mlm_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_checkpoint(tmp_path_factory.mktemp("tiny-mlm"), hidden_size=32, layers=3, heads=2, mlm_head=True)


@pytest.fixture(scope="session")
def tiny(tiny_folder: Path) -> bertsteps.Bert:
    return bertsteps.load(tiny_folder, device="cpu")
