"""The CUDA path: every step the chapters take gives on a GPU what it gives on the CPU.

Skipped on machines without CUDA (CI has none); run where a GPU is lent. The checkpoint is
random, so nothing depends on downloading weights: it takes the tokenizer of the bundled
default, or of the folder named by ``BERTSTEPS_TEST_TOKENIZER``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import bertsteps

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU"
)

SENTENCES = [
    "the bank of the river",
    "she sat on the river bank and watched the water",
    "tokenize this",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertForPreTraining

    source = os.environ.get("BERTSTEPS_TEST_TOKENIZER") or str(
        bertsteps.default_folder()
    )
    tokenizer = AutoTokenizer.from_pretrained(source)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=128,
    )
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("cuda-bert")
    BertForPreTraining(config).save_pretrained(
        out
    )  # encoder, pooler and masked-LM head
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def pair(folder: Path) -> tuple[bertsteps.Bert, bertsteps.Bert]:
    gpu, cpu = (
        bertsteps.load(folder, device="cuda"),
        bertsteps.load(folder, device="cpu"),
    )
    assert gpu.device.type == "cuda" and next(gpu.model.parameters()).is_cuda
    assert cpu.device.type == "cpu"
    return gpu, cpu


def close(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(
        a.detach().cpu().float(),
        b.detach().cpu().float(),
        rtol=1e-4,
        atol=1e-4,
    )


def test_auto_picks_the_gpu(folder: Path) -> None:
    assert bertsteps.load(folder).device.type == "cuda"


def test_forward_and_every_layer_by_hand(
    pair: tuple[bertsteps.Bert, bertsteps.Bert],
) -> None:
    gpu, cpu = pair
    out_gpu, out_cpu = (
        bertsteps.forward(gpu, SENTENCES),
        bertsteps.forward(cpu, SENTENCES),
    )
    assert out_gpu.last_hidden_state.is_cuda
    for a, b in zip(out_gpu.hidden_states, out_cpu.hidden_states, strict=True):
        close(a, b)
    for a, b in zip(out_gpu.attentions, out_cpu.attentions, strict=True):
        close(a, b)
    steps = bertsteps.encoder_by_hand(gpu, bertsteps.encode(gpu, SENTENCES))
    for step, hidden in zip(steps, out_gpu.hidden_states[1:], strict=True):
        assert step.output.is_cuda
        torch.testing.assert_close(step.output, hidden, rtol=1e-4, atol=1e-4)
    pooled = bertsteps.pooler_by_hand(
        gpu.model.pooler, out_gpu.last_hidden_state
    )
    torch.testing.assert_close(
        pooled.output, out_gpu.pooler_output, rtol=1e-4, atol=1e-4
    )


def test_similarity_and_neighbours(
    pair: tuple[bertsteps.Bert, bertsteps.Bert],
) -> None:
    gpu, cpu = pair
    words = ["king", "queen", "apple", "river"]
    close(
        bertsteps.cosine_matrix(
            bertsteps.word_vectors(gpu, words), device="cuda"
        ),
        bertsteps.cosine_matrix(
            bertsteps.word_vectors(cpu, words), device="cpu"
        ),
    )
    assert [n.token for n in bertsteps.nearest(gpu, "king", k=5)] == [
        n.token for n in bertsteps.nearest(cpu, "king", k=5)
    ]
    ids_gpu, scores_gpu = bertsteps.neighbour_table(gpu, k=5, device="cuda")
    ids_cpu, scores_cpu = bertsteps.neighbour_table(cpu, k=5, device="cpu")
    close(scores_gpu, scores_cpu)
    same = (ids_gpu.cpu() == ids_cpu).float().mean()
    assert float(same) > 0.999, (
        f"only {float(same):.4%} of neighbour ids agree"
    )


def test_sentences_heads_and_masks(
    pair: tuple[bertsteps.Bert, bertsteps.Bert],
) -> None:
    gpu, cpu = pair
    for pooling in ("mean", "cls", "max", "pooler"):
        close(
            bertsteps.sentence_vectors(gpu, SENTENCES, pooling=pooling),
            bertsteps.sentence_vectors(cpu, SENTENCES, pooling=pooling),
        )
    close(
        bertsteps.attention_patterns(gpu, SENTENCES).share,
        bertsteps.attention_patterns(cpu, SENTENCES).share,
    )
    guesses_gpu = bertsteps.fill_mask(gpu, "the [MASK] of the river", k=3)
    guesses_cpu = bertsteps.fill_mask(cpu, "the [MASK] of the river", k=3)
    assert [g.token for g in guesses_gpu[0]] == [
        g.token for g in guesses_cpu[0]
    ]
