"""Model families besides BERT: DistilBERT and RoBERTa work end to end, the rest are refused.

bertsteps loads the families in ``bertsteps.checkpoint_check.FAMILIES``. Small random
DistilBERT and RoBERTa models (with and without a masked-LM head, with the bundled
tokenizer) are made here and run through every function that has a special case for
them; any other ``model_type`` (ALBERT here) is refused by ``load`` and ``model_card``
with one clear error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import bertsteps
from bertsteps.by_hand import encoder_by_hand
from bertsteps.checkpoint_check import FAMILIES
from bertsteps.masked_lm import masked_lm_head

HIDDEN, LAYERS, HEADS, POSITIONS = 16, 2, 2, 64


def _save(folder: Path, family: str, mlm_head: bool) -> Path:
    from transformers import (
        AlbertConfig,
        AlbertModel,
        DistilBertConfig,
        DistilBertForMaskedLM,
        DistilBertModel,
        RobertaConfig,
        RobertaForMaskedLM,
        RobertaModel,
    )

    tokenizer = bertsteps.load().tokenizer
    vocab = tokenizer.vocab_size
    config: object
    if family == "distilbert":
        config = DistilBertConfig(
            vocab_size=vocab,
            dim=HIDDEN,
            n_layers=LAYERS,
            n_heads=HEADS,
            hidden_dim=2 * HIDDEN,
            max_position_embeddings=POSITIONS,
        )
        cls = DistilBertForMaskedLM if mlm_head else DistilBertModel
    elif family == "roberta":
        # RoBERTa's positions start after the padding id: 2 more rows for as many tokens
        config = RobertaConfig(
            vocab_size=vocab,
            hidden_size=HIDDEN,
            num_hidden_layers=LAYERS,
            num_attention_heads=HEADS,
            intermediate_size=2 * HIDDEN,
            max_position_embeddings=POSITIONS + 2,
            pad_token_id=tokenizer.pad_token_id,
        )
        cls = RobertaForMaskedLM if mlm_head else RobertaModel
    else:
        config = AlbertConfig(
            vocab_size=vocab,
            embedding_size=HIDDEN,
            hidden_size=HIDDEN,
            num_hidden_layers=LAYERS,
            num_attention_heads=HEADS,
            intermediate_size=2 * HIDDEN,
            max_position_embeddings=POSITIONS,
        )
        cls = AlbertModel
    torch.manual_seed(0)
    cls(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(
    scope="module",
    params=[
        ("distilbert", False),
        ("distilbert", True),
        ("roberta", False),
        ("roberta", True),
    ],
    ids=["distilbert", "distilbert-mlm", "roberta", "roberta-mlm"],
)
def made(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, bool, Path]:
    family, mlm_head = request.param
    folder = _save(tmp_path_factory.mktemp(family), family, mlm_head)
    return family, mlm_head, folder


def test_families_are_named_once() -> None:
    assert FAMILIES == ("bert", "distilbert", "roberta")


def test_load_and_info(made: tuple[str, bool, Path]) -> None:
    family, mlm_head, folder = made
    bert = bertsteps.load(folder, device="cpu")
    info = bert.info()
    assert info["model_type"] == family
    assert (info["layers"], info["hidden_size"], info["heads"]) == (
        LAYERS,
        HIDDEN,
        HEADS,
    )
    assert info["vocab_size"] == 30522
    assert info["masked_lm_head"] is mlm_head
    assert bert.embedding_matrix.shape == (30522, HIDDEN)


def test_the_longest_text_fits_and_one_more_token_is_refused(
    made: tuple[str, bool, Path],
) -> None:
    _, _, folder = made
    bert = bertsteps.load(folder, device="cpu")
    assert bertsteps.max_tokens(bert) == POSITIONS
    longest = " ".join(["word"] * (POSITIONS - 2))  # with [CLS] and [SEP]
    out = bertsteps.forward(bert, longest)
    assert len(out.hidden_states) == LAYERS + 1
    assert tuple(out.last_hidden_state.shape) == (1, POSITIONS, HIDDEN)
    assert torch.isfinite(out.last_hidden_state).all()
    with pytest.raises(
        bertsteps.TokenError,
        match=f"the text is {POSITIONS + 1} tokens long .* reads at most {POSITIONS}",
    ):
        bertsteps.forward(bert, longest + " word")


def test_word_vectors_are_embedding_rows(made: tuple[str, bool, Path]) -> None:
    _, _, folder = made
    bert = bertsteps.load(folder, device="cpu")
    ids = bert.tokenizer.convert_tokens_to_ids(["king", "queen"])
    vectors = bertsteps.word_vectors(bert, ["king", "queen"])
    torch.testing.assert_close(vectors, bert.embedding_matrix[ids])


def test_mean_pooled_sentence_vectors(made: tuple[str, bool, Path]) -> None:
    _, _, folder = made
    bert = bertsteps.load(folder, device="cpu")
    pooled = bertsteps.sentence_vectors(
        bert, ["the river bank", "a bat flew out at dusk"], pooling="mean"
    )
    assert tuple(pooled.shape) == (2, HIDDEN)
    alone = bertsteps.forward(bert, "a bat flew out at dusk")
    torch.testing.assert_close(
        pooled[1], alone.last_hidden_state[0].mean(dim=0), atol=1e-5, rtol=1e-4
    )


def test_pooler_only_where_its_weights_are(
    made: tuple[str, bool, Path],
) -> None:
    family, mlm_head, folder = made
    bert = bertsteps.load(folder, device="cpu")
    # RobertaModel saves a pooler; RobertaForMaskedLM and DistilBERT have none
    expected = family == "roberta" and not mlm_head
    assert bertsteps.has_pooler(bert) is expected
    card = bertsteps.model_card(folder)
    assert card.pooler is expected
    if expected:
        vectors = bertsteps.sentence_vectors(
            bert, "the river bank", pooling="pooler"
        )
        pooler_output = bertsteps.forward(bert, "the river bank").pooler_output
        torch.testing.assert_close(vectors, pooler_output)
    else:
        with pytest.raises(bertsteps.SentenceError, match="no pooler weights"):
            bertsteps.sentence_vectors(
                bert, "the river bank", pooling="pooler"
            )


def test_model_card(made: tuple[str, bool, Path]) -> None:
    family, mlm_head, folder = made
    card = bertsteps.model_card(folder)
    assert card.model_type == family
    assert (card.layers, card.hidden_size, card.heads, card.head_size) == (
        LAYERS,
        HIDDEN,
        HEADS,
        HIDDEN // HEADS,
    )
    assert card.intermediate_size == 2 * HIDDEN
    assert card.masked_lm_head is mlm_head


def test_fill_mask_with_the_families_head(
    made: tuple[str, bool, Path],
) -> None:
    from transformers import AutoModelForMaskedLM

    _, mlm_head, folder = made
    bert = bertsteps.load(folder, device="cpu")
    text = "the capital of france is [MASK]."
    if not mlm_head:
        with pytest.raises(
            bertsteps.CheckpointError,
            match="has no masked-language-model head",
        ):
            bertsteps.fill_mask(bert, text)
        return
    guesses = bertsteps.fill_mask(bert, text, k=3)
    assert len(guesses) == 1 and len(guesses[0]) == 3
    # the same head, loaded on its own, gives the same top guess and probability
    mlm = AutoModelForMaskedLM.from_pretrained(folder).eval()
    inputs = bert.tokenizer(text, return_tensors="pt")
    at = int(
        (inputs["input_ids"][0] == bert.tokenizer.mask_token_id).nonzero()
    )
    with torch.inference_mode():
        probs = torch.softmax(mlm(**inputs).logits[0, at], dim=-1)
    best = int(probs.argmax())
    assert guesses[0][0].token == bert.tokenizer.convert_ids_to_tokens(best)
    assert guesses[0][0].probability == pytest.approx(float(probs[best]))
    assert masked_lm_head(bert) is bert.masked_lm()


def test_by_hand_follows_roberta_and_refuses_distilbert(
    made: tuple[str, bool, Path],
) -> None:
    family, _, folder = made
    bert = bertsteps.load(folder, device="cpu")
    inputs = bertsteps.encode(bert, ["a short text", "and a longer text here"])
    if family == "distilbert":
        with pytest.raises(
            bertsteps.BertStepsError,
            match="is a distilbert model, not laid out like BERT",
        ):
            encoder_by_hand(bert, inputs)
        return
    # RoBERTa's layers are BERT's: recomputed by hand they equal the model's output
    steps = encoder_by_hand(bert, inputs)
    with torch.inference_mode():
        out = bert.model(**inputs)
    real = inputs["attention_mask"].bool()
    torch.testing.assert_close(
        steps[-1].output[real], out.last_hidden_state[real]
    )


def test_other_families_are_refused(tmp_path: Path) -> None:
    folder = _save(tmp_path / "albert", "albert", False)
    message = (
        f"bertsteps teaches BERT's layer layout; {folder} is an albert model "
        "(bertsteps reads bert, distilbert and roberta models): "
        "use a BERT checkpoint such as bert-base-uncased"
    )
    with pytest.raises(bertsteps.CheckpointError) as loading:
        bertsteps.load(folder, device="cpu")
    assert str(loading.value) == message
    with pytest.raises(bertsteps.CheckpointError) as carding:
        bertsteps.model_card(folder)
    assert str(carding.value) == message
