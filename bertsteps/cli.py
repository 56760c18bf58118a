"""The ``bertsteps`` command: look at a checkpoint's tokens and embeddings from a shell.

    bertsteps info
    bertsteps tokens "let's tokenize something?"
    bertsteps similarity king queen man woman --plot matrix.svg
    bertsteps nearest king -k 5
    bertsteps analogy man king woman

Heavy libraries are imported only once a command runs, so ``--help`` is instant.
Bad input prints one line, ``bertsteps: error: ...``, and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BertStepsError

if TYPE_CHECKING:
    from .checkpoints import Bert


def _bert(args: argparse.Namespace) -> Bert:
    from .checkpoints import load

    return load(args.checkpoint, device=args.device)


def cmd_info(args: argparse.Namespace) -> None:
    info = _bert(args).info()
    width = max(len(k) for k in info)
    for key, value in info.items():
        shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
        print(f"{key.replace('_', ' '):<{width}}  {shown}")


def cmd_tokens(args: argparse.Namespace) -> None:
    from .tokens import tokenize

    t = tokenize(_bert(args), args.text)
    width = max(len(tok) for tok in t.tokens)
    print(f"{'#':>3}  {'token':<{width}}  {'id':>6}  text")
    for i, (tok, id_, piece) in enumerate(zip(t.tokens, t.ids, t.pieces(), strict=True)):
        print(f"{i:>3}  {tok:<{width}}  {id_:>6}  {piece}")


def format_matrix(matrix: Any, labels: Sequence[str], digits: int = 2) -> str:
    """A matrix as an aligned text table with ``labels`` on rows and columns.

    Examples:
        >>> print(format_matrix([[1.0, 0.5], [0.5, 1.0]], ["a", "b"]))
              a     b
        a  1.00  0.50
        b  0.50  1.00
    """
    width = max(digits + 3, *(len(label) for label in labels))
    first = max(len(label) for label in labels)
    lines = [" " * first + "".join(f"  {label:>{width}}" for label in labels)]
    for label, row in zip(labels, matrix, strict=True):
        lines.append(f"{label:<{first}}" + "".join(f"  {float(v):>{width}.{digits}f}" for v in row))
    return "\n".join(lines)


def cmd_similarity(args: argparse.Namespace) -> None:
    from .similarity import cosine_matrix
    from .tokens import word_vectors

    if args.plot is not None and args.plot.suffix.lower() not in {".svg", ".png", ".pdf"}:
        raise BertStepsError(f"--plot {args.plot}: the file name must end in .svg, .png or .pdf")
    bert = _bert(args)
    matrix = cosine_matrix(word_vectors(bert, args.words, strategy=args.strategy), device=bert.device)
    print(format_matrix(matrix, args.words))
    if args.plot is not None:
        from .plotting import plot_matrix

        fig = plot_matrix(matrix, args.words, title=f"cosine similarity of input word embeddings ({bert.name})")
        try:
            fig.savefig(args.plot, bbox_inches="tight", metadata={"Date": None} if args.plot.suffix == ".svg" else None)
        except OSError as err:
            raise BertStepsError(f"cannot write {args.plot}: {err.strerror or err}") from err
        print(f"wrote {args.plot}")


def _print_neighbours(neighbours: Sequence[tuple[str, float]]) -> None:
    width = max(len(tok) for tok, _ in neighbours)
    for rank, (token, score) in enumerate(neighbours, start=1):
        print(f"{rank:>3}  {token:<{width}}  {score:.4f}")


def cmd_nearest(args: argparse.Namespace) -> None:
    from .similarity import nearest
    from .tokens import word_pieces

    bert = _bert(args)
    pieces = word_pieces(bert, args.word)
    if len(pieces) > 1:
        print(f"note: {args.word!r} is split into {pieces}; using the mean of its pieces", file=sys.stderr)
    _print_neighbours(nearest(bert, args.word, k=args.k))


def cmd_analogy(args: argparse.Namespace) -> None:
    from .similarity import analogy

    print(f"{args.a} : {args.b} :: {args.c} : ?")
    _print_neighbours(analogy(_bert(args), args.a, args.b, args.c, k=args.k))


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bertsteps`` command.

    Examples:
        >>> build_parser().parse_args(["nearest", "king", "-k", "3"]).k
        3
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--checkpoint",
        default=None,
        help="a checkpoint folder or hub name (default: $BERTSTEPS_CHECKPOINT, else the bundled all-MiniLM-L6-v2)",
    )
    common.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")

    parser = argparse.ArgumentParser(
        prog="bertsteps",
        description="BERT Step by Step: look at how a BERT checkpoint turns text into vectors.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("info", parents=[common], help="the checkpoint: name, layers, hidden size, vocabulary, device")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("tokens", parents=[common], help="split TEXT into WordPiece tokens and ids")
    p.add_argument("text")
    p.set_defaults(run=cmd_tokens)

    p = sub.add_parser("similarity", parents=[common], help="cosine similarity matrix of WORDs' input embeddings")
    p.add_argument("words", nargs="+", metavar="WORD")
    p.add_argument("--plot", type=Path, default=None, metavar="FILE", help="also write a heatmap (.svg, .png or .pdf)")
    p.add_argument("--strategy", choices=["mean", "first", "error"], default="mean", help="for words split into pieces")
    p.set_defaults(run=cmd_similarity)

    p = sub.add_parser("nearest", parents=[common], help="the WORD's nearest tokens in the whole vocabulary")
    p.add_argument("word")
    p.add_argument("-k", type=_positive, default=10, help="how many neighbours (default 10)")
    p.set_defaults(run=cmd_nearest)

    p = sub.add_parser("analogy", parents=[common], help="A is to B as C is to ? (scored against B - A + C)")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c")
    p.add_argument("-k", type=_positive, default=5, help="how many answers (default 5)")
    p.set_defaults(run=cmd_analogy)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 on success, 2 on bad input).

    Examples:
        >>> main(["tokens", "hi"])  # doctest: +NORMALIZE_WHITESPACE
          #  token     id  text
          0  [CLS]    101
          1  hi      7632  hi
          2  [SEP]    102
        0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    try:
        args.run(args)
    except BertStepsError as err:
        print(f"bertsteps: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bertsteps: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 0
