"""The model card: what a checkpoint is, read from its files, never guessed from its shape."""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file, save_file

import bertsteps
from bertsteps.masked_lm import has_complete_mlm_head
from bertsteps.provenance import BERT_BASE_UNCASED_CONFIG


def test_the_bundled_default_is_named_for_what_it_is() -> None:
    card = bertsteps.model_card()
    assert card.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert (
        card.layers,
        card.hidden_size,
        card.heads,
        card.head_size,
        card.intermediate_size,
    ) == (6, 384, 12, 32, 1536)
    assert "distilled" in card.short and "sentence similarity" in card.short
    assert "MiniLM" in card.training and "not" not in card.short
    assert card.masked_lm_head is False
    assert card.summary.startswith(
        "`sentence-transformers/all-MiniLM-L6-v2`, a distilled MiniLM"
    )
    assert "without a masked-word head" in card.summary


def test_a_loaded_bert_and_its_folder_give_the_same_card(
    bert: bertsteps.Bert,
) -> None:
    assert bertsteps.model_card(bert) == bertsteps.model_card(
        bertsteps.default_folder()
    )


def test_an_unknown_folder_says_its_training_is_not_known(
    tiny_folder: Path, tiny_mlm_folder: Path
) -> None:
    card = bertsteps.model_card(tiny_folder)
    assert (card.layers, card.hidden_size, card.heads) == (2, 48, 4)
    assert card.short == "a bert checkpoint of unknown training"
    assert (
        card.training
        == f"How the weights in {tiny_folder.resolve()} were trained is not known to bertsteps."
    )
    assert card.masked_lm_head is False
    assert bertsteps.model_card(tiny_mlm_folder).masked_lm_head is True


def test_one_stray_head_tensor_is_not_a_head(
    tiny_mlm_folder: Path, tmp_path: Path
) -> None:
    weights = load_file(tiny_mlm_folder / "model.safetensors")
    assert has_complete_mlm_head(list(weights))
    encoder_only = {
        k: v
        for k, v in weights.items()
        if not k.startswith("cls.") or k == "cls.predictions.bias"
    }
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((tiny_mlm_folder / name).read_bytes())
    save_file(encoder_only, tmp_path / "model.safetensors")
    assert not has_complete_mlm_head(list(encoder_only))
    assert bertsteps.model_card(tmp_path).masked_lm_head is False


def test_the_comparison_table_puts_both_configs_side_by_side() -> None:
    table = bertsteps.compare_with_bert_base(
        bertsteps.model_card()
    ).splitlines()
    assert (
        table[0]
        == "| what | `sentence-transformers/all-MiniLM-L6-v2` | `bert-base-uncased` |"
    )
    rows = {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:4]]
        for line in table[2:]
    }
    assert rows["layers"] == ["6", "12"]
    assert rows["hidden size"] == ["384", "768"]
    assert rows["numbers per head"] == ["32", "64"]
    assert rows["masked-word head"] == ["no", "yes"]
    assert len(rows) == 8


def test_bert_base_constant_matches_transformers_defaults() -> None:
    """BertConfig's defaults are bert-base's shape: the documented constant agrees with them."""
    from transformers import BertConfig

    defaults = BertConfig().to_dict()
    for key, value in BERT_BASE_UNCASED_CONFIG.items():
        assert defaults[key] == value, key
    assert json.dumps(BERT_BASE_UNCASED_CONFIG)  # plain data, usable in pages


def test_the_readme_table_agrees_with_both_configs() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    card = bertsteps.model_card()
    assert (
        f"| layers | {card.layers} | {BERT_BASE_UNCASED_CONFIG['num_hidden_layers']} |"
        in readme
    )
    assert (
        f"| hidden size | {card.hidden_size} | {BERT_BASE_UNCASED_CONFIG['hidden_size']} |"
        in readme
    )
    heads = f"| attention heads (numbers per head) | {card.heads} ({card.head_size}) | 12 (64) |"
    assert heads in readme
    assert "| masked-word head | no | yes |" in readme
