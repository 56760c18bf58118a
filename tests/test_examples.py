"""Every chapter in examples/ runs as a plain script (``python chapter.py``, as a reader runs
the downloaded file, outside the build's kernels), with a small random BERT of another size,
so no chapter may depend on one checkpoint's numbers or on the build.

With the default checkpoint every chapter already runs in the strict site build
(tests/test_site.py), so it is not run again here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_chapter

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "examples").glob("*.py"))


def test_there_are_chapters() -> None:
    assert "word_embeddings.py" in [c.name for c in CHAPTERS], (
        "the seed chapter is missing"
    )


@pytest.mark.slow  # one Python process per chapter
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_runs_with_a_random_checkpoint_of_another_size(
    chapter: Path, tmp_path: Path, tiny_folder: Path
) -> None:
    out = run_chapter(chapter, tmp_path, checkpoint=tiny_folder)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
