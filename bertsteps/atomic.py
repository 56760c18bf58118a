"""Writing files and folders whole or not at all.

A file is written to a temporary file in the same folder and moved over the target
with ``os.replace``, which is atomic on one file system; a folder is written as a
temporary sibling and swapped in. An error or an interrupt (Ctrl-C) on the way leaves
the old file or folder as it was and removes the temporary one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal, overload

from .errors import BertStepsError


def output_file(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """``path`` checked as a file to write: not empty, not a folder, in a folder that exists.

    Examples:
        >>> output_file("table.tsv").name
        'table.tsv'
        >>> output_file("newdir/")
        Traceback (most recent call last):
        ...
        bertsteps.errors.BertStepsError: --out 'newdir/' ends with a slash: give a file name such as newdir/table.tsv
    """
    text = os.fspath(path)
    if text.strip() == "":
        raise BertStepsError(
            f"{option} is empty: give a file name such as table.tsv"
        )
    if text.endswith(("/", os.sep)):
        raise BertStepsError(
            f"{option} {text!r} ends with a slash: give a file name such as {text}table.tsv"
        )
    target = Path(text).expanduser()
    if target.is_dir():
        raise BertStepsError(
            f"{option} {text} is a folder: give a file name such as {text}/table.tsv"
        )
    parent = target.absolute().parent
    if not parent.is_dir():
        raise BertStepsError(
            f"{option} {text}: the folder {parent} does not exist; create it first"
        )
    return target


def output_folder(path: str | os.PathLike[str], what: str = "FOLDER") -> Path:
    """``path`` checked as a folder to (re)write: not empty, not a file.

    Examples:
        >>> output_folder("")
        Traceback (most recent call last):
        ...
        bertsteps.errors.BertStepsError: FOLDER is empty: give a folder name such as explorer-data
    """
    text = os.fspath(path)
    if text.strip() == "":
        raise BertStepsError(
            f"{what} is empty: give a folder name such as explorer-data"
        )
    target = Path(text).expanduser()
    if target.exists() and not target.is_dir():
        raise BertStepsError(f"{text} is a file: give a folder for the files")
    if target.absolute() == Path.cwd() or target.absolute() == Path(
        target.absolute().anchor
    ):
        raise BertStepsError(
            f"{text} is the current or root folder: give a folder of its own, such as explorer-data"
        )
    return target


def _write_error(path: Path, err: OSError) -> BertStepsError:
    return BertStepsError(
        f"cannot write {path}: {err.strerror or err}; nothing was changed there"
    )


@overload
def atomic_file(
    path: str | os.PathLike[str], *, binary: Literal[False] = False
) -> contextlib.AbstractContextManager[IO[str]]: ...


@overload
def atomic_file(
    path: str | os.PathLike[str], *, binary: Literal[True]
) -> contextlib.AbstractContextManager[IO[bytes]]: ...


@contextlib.contextmanager  # type: ignore[misc]  # the overloads above say which IO
def atomic_file(
    path: str | os.PathLike[str], *, binary: bool = False
) -> Iterator[IO[str] | IO[bytes]]:
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path``.

    Text is UTF-8 with ``\\n`` line ends. On any error or interrupt the temporary file is
    removed and ``path`` is untouched; an ``OSError`` becomes a
    [`BertStepsError`][bertsteps.BertStepsError].

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     with atomic_file(Path(tmp) / "a.txt") as f:
        ...         _ = f.write("hello")
        ...     print((Path(tmp) / "a.txt").read_text(), sorted(p.name for p in Path(tmp).iterdir()))
        hello ['a.txt']
    """
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(
            dir=target.absolute().parent,
            prefix=f".{target.name}.",
            suffix=".tmp",
        )
    except OSError as err:
        raise _write_error(target, err) from err
    try:
        with (
            os.fdopen(fd, "wb")
            if binary
            else os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        ) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _write_error(target, err) from err
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary sibling folder to fill; on success it takes the place of ``path``.

    The old folder, if any, is moved aside, the new one renamed into place, and the old
    one deleted. On any error or interrupt while filling, the temporary folder is deleted
    and ``path`` is untouched.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     with atomic_folder(Path(tmp) / "data") as new:
        ...         _ = (new / "x.txt").write_text("1")
        ...     print(sorted(p.name for p in Path(tmp).rglob("*")))
        ['data', 'x.txt']
    """
    target = Path(path).absolute()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            tempfile.mkdtemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
            )
        )
    except OSError as err:
        raise _write_error(target, err) from err
    old: Path | None = None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if target.exists():
            old = Path(
                tempfile.mkdtemp(
                    dir=target.parent, prefix=f".{target.name}.", suffix=".old"
                )
            )
            os.replace(target, old / target.name)
        os.replace(tmp, target)
    except OSError as err:
        if old is not None and not target.exists():
            os.replace(old / target.name, target)  # put the old folder back
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_error(target, err) from err
    except BaseException:
        if old is not None and not target.exists():
            os.replace(old / target.name, target)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
