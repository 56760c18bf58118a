"""Paragraphs of text to search: from plain text or Markdown files, and from the site's chapters.

A paragraph is a run of non-blank lines; blank lines separate paragraphs. Each keeps
the file and line it starts on. The chapters (``examples/*.py``, jupytext percent
format) give the paragraphs of their Markdown cells; headings are left out, and each
paragraph carries its chapter's title.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import BertStepsError

_HEADING = re.compile(r"^#{1,6}\s")


@dataclass(frozen=True)
class Paragraph:
    """A paragraph's text (its lines joined by spaces), where it starts, and its page title.

    Examples:
        >>> p = Paragraph("Text becomes ids.", "notes.md", 3)
        >>> p.where, p.first_line
        ('notes.md:3', 'Text becomes ids.')
    """

    text: str
    file: str
    line: int
    title: str = ""
    lines: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        """``file:line``, as editors and compilers write it."""
        return f"{self.file}:{self.line}"

    @property
    def first_line(self) -> str:
        """The paragraph's first line as written."""
        return self.lines[0] if self.lines else self.text


def split_paragraphs(text: str, file: str = "<text>") -> list[Paragraph]:
    """The blank-line-separated paragraphs of ``text``, with the line each starts on (from 1).

    Examples:
        >>> [(p.line, p.text) for p in split_paragraphs("One\\nline.\\n\\n\\nTwo.\\n")]
        [(1, 'One line.'), (5, 'Two.')]
    """
    paragraphs: list[Paragraph] = []
    block: list[str] = []
    start = 0
    for number, line in enumerate([*text.splitlines(), ""], start=1):
        if line.strip():
            if not block:
                start = number
            block.append(line.rstrip())
        elif block:
            joined = " ".join(part.strip() for part in block)
            paragraphs.append(
                Paragraph(joined, file, start, lines=tuple(block))
            )
            block = []
    return paragraphs


def read_paragraphs(path: str | os.PathLike[str]) -> list[Paragraph]:
    """The paragraphs of a text or Markdown file (UTF-8).

    Examples:
        >>> import tempfile, pathlib
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "notes.md"
        >>> _ = file.write_text("# Notes\\n\\nBERT reads text as tokens.\\n")
        >>> [p.where.endswith("notes.md:3") for p in read_paragraphs(file)]
        [False, True]
    """
    file = Path(path)
    if file.is_dir():
        raise BertStepsError(
            f"{file} is a folder: give text or Markdown files"
        )
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BertStepsError(f"{file}: no such file") from None
    except UnicodeDecodeError as err:
        raise BertStepsError(
            f"{file} is not UTF-8 text ({err.reason}): give text or Markdown files"
        ) from err
    except OSError as err:
        raise BertStepsError(
            f"cannot read {file}: {err.strerror or err}"
        ) from err
    return split_paragraphs(text, str(path))


def site_root() -> Path:
    """The bertsteps repository (the folder with ``mkdocs.yml`` and ``examples/``).

    Looked for from the working directory upwards, then next to the installed package.

    Examples:
        >>> (site_root() / "examples").is_dir()
        True
    """
    here = Path.cwd().resolve()
    package_root = Path(__file__).resolve().parent.parent
    for base in [here, *here.parents, package_root]:
        if (base / "mkdocs.yml").is_file() and (base / "examples").is_dir():
            return base
    raise BertStepsError(
        f"no bertsteps repository (a folder with mkdocs.yml and examples/) above {here} "
        "or next to the installed package: run this from a clone of the repository"
    )


def chapter_paragraphs(path: str | os.PathLike[str]) -> list[Paragraph]:
    """The paragraphs of a chapter's Markdown cells, headings left out, each with the chapter's title.

    ``line`` is the line of the chapter's ``.py`` file where the paragraph starts.

    Examples:
        >>> paragraphs = chapter_paragraphs(site_root() / "examples" / "tokenization.py")
        >>> paragraphs[0].title, paragraphs[0].where.startswith(str(site_root()))
        ('Tokenization', True)
    """
    try:
        import jupytext
    except ImportError as err:
        raise BertStepsError(
            "reading chapters needs jupytext: pip install jupytext"
        ) from err

    file = Path(path)
    if not file.is_file():
        raise BertStepsError(f"{file}: no such chapter file")
    notebook = jupytext.read(file)
    source_lines = file.read_text(encoding="utf-8").splitlines()
    title = ""
    found: list[Paragraph] = []
    cursor = 0
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for p in split_paragraphs(cell.source, str(path)):
            if _HEADING.match(p.text):
                if not title and p.text.startswith("# "):
                    title = p.text[2:].strip()
                continue
            line = _find_line(source_lines, p.first_line, cursor)
            cursor = max(cursor, line)
            found.append(Paragraph(p.text, str(path), line, title, p.lines))
    return [Paragraph(p.text, p.file, p.line, title, p.lines) for p in found]


def _find_line(lines: list[str], first: str, start: int) -> int:
    """The line (from 1) at or after ``start`` whose comment text is ``first``; 0 if not found."""
    wanted = first.strip()
    for number in range(start, len(lines)):
        if lines[number].lstrip("#").strip() == wanted:
            return number + 1
    return 0
