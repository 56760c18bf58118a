"""examples/masked_words.py runs both ways: with a checkpoint that has a masked-LM head (the
head is used and recomputed by hand) and with one that has none (the page says so)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "examples" / "masked_words.py"

# Run the chapter as a script, then report what it left in its namespace.
PROBE = """
import json, runpy, sys
ns = runpy.run_path(sys.argv[1])
print(json.dumps({
    "has_head": ns["bert"].has_mlm_head,
    "note": ns["note"],
    "rows": ns["rows"],
    "by_hand": "logits_by_hand" in ns,
    "logits_shape": list(ns["logits"].shape) if "logits" in ns else None,
}))
"""


def run(checkpoint: Path, tmp_path: Path) -> dict[str, object]:
    env = {**os.environ, "BERTSTEPS_CHECKPOINT": str(checkpoint), "MPLBACKEND": "Agg"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(CHAPTER)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_with_a_masked_lm_head(tmp_path: Path, tiny_mlm_folder: Path) -> None:
    result = run(tiny_mlm_folder, tmp_path)
    assert result["has_head"] is True
    assert result["by_hand"] is True  # the head was recomputed (and asserted) by hand
    assert result["logits_shape"] is not None and result["logits_shape"][-1] == 30522
    rows = result["rows"]
    assert isinstance(rows, list) and len(rows) == 2 + 4  # header, rule, a row per sentence
    assert all(row.count("%") == 5 for row in rows[2:])  # k guesses with probabilities
    assert "admonition" not in str(result["note"])


def test_without_a_masked_lm_head(tmp_path: Path, tiny_folder: Path) -> None:
    result = run(tiny_folder, tmp_path)
    assert result["has_head"] is False
    assert result["by_hand"] is False and result["logits_shape"] is None
    assert result["rows"] == ["| sentence | top guesses |", "| --- | --- |"]  # no guesses
    note = str(result["note"])
    assert 'class="admonition warning"' in note
    assert str(tiny_folder.resolve()) in note  # names the checkpoint
    assert "BERTSTEPS_CHECKPOINT=bert-base-uncased make site" in note
