"""examples/masked_words.py runs both ways: with a checkpoint that has a masked-LM head (the
head is used and recomputed by hand, its guesses scored against chance) and with one that has
none (the page says so and shows the masking rule and the head's steps on shapes only)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import probe_chapter

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # every test runs the chapter in a new process
CHAPTER = ROOT / "examples" / "masked_words.py"

# Run the chapter as a script, then report what it left in its namespace.
PROBE = """
import json, runpy, sys
import bertsteps
ns = runpy.run_path(sys.argv[1])
result = ns["result"]
print(json.dumps({
    "has_head": ns["bert"].has_mlm_head,
    "note": ns["note"],
    "rows": ns["rows"],
    "table": ns["table"],
    "head_device": ns["hidden"].device.type,
    "logits_by_hand_shape": list(ns["logits_by_hand"].shape),
    "logits_shape": list(ns["logits"].shape) if "logits" in ns else None,
    "counts": vars(ns["counts"]),
    "rule": [ns["rule_claim"].id, ns["rule_claim"].holds],
    "shapes": ns["shapes"],
    "count_rows": ns["count_rows"],
    "quality": [result.id, result.holds] if isinstance(result, bertsteps.Claim) else None,
}))
"""


def run(checkpoint: Path | None, tmp_path: Path) -> dict[str, object]:
    result: dict[str, object] = probe_chapter(
        CHAPTER, PROBE, tmp_path, checkpoint
    )
    return result


def check_masking(result: dict[str, object]) -> None:
    counts = result["counts"]
    assert isinstance(counts, dict)
    assert counts["tokens"] > 2500  # four copies of the sample batch
    assert (
        counts["chosen"]
        == counts["mask"] + counts["random"] + counts["unchanged"]
    )
    assert counts["random"] > 0 and counts["unchanged"] > 0
    assert result["rule"] == ["masking-follows-rule", True]
    rows = result["count_rows"]
    assert isinstance(rows, list) and "expected ± 3 sd" in rows[0]
    assert all(
        len(row.split("|")) <= 7 for row in rows
    )  # five columns: fits a 1280 px page
    check_head_count(str(result["shapes"]))


def check_head_count(shapes: str) -> None:
    """The printed total of the head's own numbers is the sum of its printed parts."""
    found = re.search(
        r"= ([\d,]+) for the dense layer, ([\d,]+) for the LayerNorm\) and one bias per word "
        r"\(([\d,]+)\), ([\d,]+) numbers in all",
        shapes,
    )
    assert found is not None, shapes
    dense, norm, bias, total = (
        int(g.replace(",", "")) for g in found.groups()
    )
    assert total == dense + norm + bias, shapes
    hidden = int(re.search(r"\((\d+)×\1 \+ \1 =", shapes).group(1))  # type: ignore[union-attr]
    assert (
        dense == hidden * hidden + hidden
        and norm == 2 * hidden
        and bias == 30522
    )


def test_with_a_masked_lm_head(tmp_path: Path, tiny_mlm_folder: Path) -> None:
    result = run(tiny_mlm_folder, tmp_path)
    assert result["has_head"] is True
    assert result["head_device"] == "cpu"  # real weights, not shapes
    assert (
        result["logits_shape"] == result["logits_by_hand_shape"]
    )  # asserted equal in the page
    assert (
        result["logits_shape"] is not None
        and result["logits_shape"][-1] == 30522
    )
    rows = result["rows"]
    assert (
        isinstance(rows, list) and len(rows) == 2 + 4
    )  # header, rule, a row per sentence
    assert all(
        row.count("%") == 5 for row in rows[2:]
    )  # k guesses with probabilities
    assert "admonition" not in str(result["note"])
    check_masking(result)
    assert result["quality"] == [
        "guesses-beat-chance",
        False,
    ]  # a random head guesses at chance


def test_without_a_masked_lm_head(tmp_path: Path, tiny_folder: Path) -> None:
    result = run(tiny_folder, tmp_path)
    assert result["has_head"] is False
    assert result["head_device"] == "meta"  # shapes only: no invented weights
    assert result["logits_shape"] is None
    assert result["logits_by_hand_shape"][-1] == 30522
    assert result["rows"] == [
        "| sentence | top guesses |",
        "| --- | --- |",
    ]  # no guesses
    assert "no head to score them" in str(result["table"])
    note = str(result["note"])
    assert 'class="admonition warning"' in note
    assert str(tiny_folder.resolve()) in note  # names the checkpoint
    assert "BERTSTEPS_CHECKPOINT=bert-base-uncased make site" in note
    check_masking(result)
    assert result["quality"] is None


def test_with_the_bundled_default(tmp_path: Path) -> None:
    result = run(None, tmp_path)
    assert result["has_head"] is False and result["head_device"] == "meta"
    assert "contrastive objective" in str(
        result["note"]
    ) and "masked-word head" in str(result["note"])
    assert result["logits_by_hand_shape"] == [4, 14, 30522]
    check_masking(result)
