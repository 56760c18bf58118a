"""fill_mask and `bertsteps fill`: guesses from a masked-LM head, a clear error without one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch

import bertsteps
from bertsteps.cli import main


def test_guesses_are_the_heads_most_probable_tokens(
    tiny_mlm_folder: Path,
) -> None:
    bert = bertsteps.load(tiny_mlm_folder, device="cpu")
    text = "the capital of france is [MASK] and [MASK]."
    guesses = bertsteps.fill_mask(bert, text, k=4)
    assert [len(g) for g in guesses] == [4, 4]
    inputs = bertsteps.encode(bert, text)
    with torch.inference_mode():
        logits = bert.masked_lm()(**inputs).logits[0]
    at = (
        (inputs["input_ids"][0] == bert.tokenizer.mask_token_id)
        .nonzero()
        .flatten()
        .tolist()
    )
    for options, position in zip(guesses, at, strict=True):
        probs = torch.softmax(logits[position], dim=-1)
        best = probs.topk(4)
        assert [
            g.token for g in options
        ] == bert.tokenizer.convert_ids_to_tokens(best.indices.tolist())
        torch.testing.assert_close(
            torch.tensor([g.probability for g in options]), best.values
        )
        assert options[0].probability >= options[-1].probability


@pytest.mark.parametrize(
    ("text", "k", "message"),
    [
        ("no mask here", 3, r"has no \[MASK\]"),
        ("a [MASK]", 0, "positive whole number"),
    ],
)
def test_bad_input_is_refused(
    tiny_mlm_folder: Path, text: str, k: int, message: str
) -> None:
    bert = bertsteps.load(tiny_mlm_folder, device="cpu")
    with pytest.raises(bertsteps.TokenError, match=message):
        bertsteps.fill_mask(bert, text, k=k)


def run(
    capsys: pytest.CaptureFixture[str], *args: str
) -> subprocess.CompletedProcess[str]:
    """The command line in this process (the checkpoints are loaded once per session)."""
    capsys.readouterr()
    status = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["bertsteps", *args], status, out, err)


def test_fill_command_prints_guesses_per_mask(
    tiny_mlm_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(
        capsys,
        "fill",
        "paris is the [MASK] of [MASK].",
        "-k",
        "3",
        "--checkpoint",
        str(tiny_mlm_folder),
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "[MASK] 1 of 2:" and lines[5] == "[MASK] 2 of 2:"
    ranks = [line.split()[0] for line in lines if line.startswith("  ")]
    assert ranks == ["1", "2", "3", "1", "2", "3"]


def test_fill_without_a_head_fails_clearly_naming_one_that_has_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run(capsys, "fill", "the capital of france is [MASK].")
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bertsteps: error: ")
    assert (
        "has no masked-language-model head" in lines[0]
        and "bert-base-uncased" in lines[0]
    )
    assert "Traceback" not in out.stderr
