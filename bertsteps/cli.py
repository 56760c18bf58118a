"""The ``bertsteps`` command: look at a checkpoint's tokens and embeddings from a shell.

    bertsteps info
    bertsteps tokens "let's tokenize something?"
    bertsteps similarity king queen man woman --plot matrix.svg
    bertsteps nearest king -k 5
    bertsteps analogy man king woman
    bertsteps neighbours king queen -k 5
    bertsteps neighbours --all -k 10 --out table.tsv
    bertsteps explorer data/   # the files of the site's embedding explorer
    bertsteps sentences "A man eats." "Someone has a meal." --pooling mean --plot m.svg
    bertsteps search "how are words split into pieces?" docs/*.md -k 5
    bertsteps fill "the capital of france is [MASK]." -k 5   # needs a masked-LM head

Heavy libraries are imported only once a command runs, so ``--help`` is instant.
Bad input prints one line, ``bertsteps: error: ...``, and exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BertStepsError
from .validation import is_int, positive_int

if TYPE_CHECKING:
    from .checkpoints import Bert


def _bert(args: argparse.Namespace) -> Bert:
    from .checkpoints import load

    return load(args.checkpoint, device=args.device)


def cmd_info(args: argparse.Namespace) -> None:
    info = _bert(args).info()
    width = max(len(k) for k in info)
    for key, value in info.items():
        shown = f"{value:,}" if is_int(value) else value
        print(f"{key.replace('_', ' '):<{width}}  {shown}")


def cmd_tokens(args: argparse.Namespace) -> None:
    from .tokens import tokenize

    t = tokenize(_bert(args), args.text)
    width = max(len(tok) for tok in t.tokens)
    print(f"{'#':>3}  {'token':<{width}}  {'id':>6}  text")
    for i, (tok, id_, piece) in enumerate(
        zip(t.tokens, t.ids, t.pieces(), strict=True)
    ):
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
        lines.append(
            f"{label:<{first}}"
            + "".join(f"  {float(v):>{width}.{digits}f}" for v in row)
        )
    return "\n".join(lines)


def cmd_similarity(args: argparse.Namespace) -> None:
    from .atomic import atomic_file, output_file
    from .similarity import cosine_matrix
    from .tokens import word_vectors

    if args.plot is not None:
        args.plot = output_file(args.plot, "--plot")
        if args.plot.suffix.lower() not in {".svg", ".png", ".pdf"}:
            raise BertStepsError(
                f"--plot {args.plot}: the file name must end in .svg, .png or .pdf"
            )
        if len(args.words) > MAX_PLOT_WORDS:
            raise BertStepsError(
                f"--plot with {len(args.words)} words: a heatmap of more than {MAX_PLOT_WORDS} has unreadable labels "
                f"and takes minutes to draw; plot at most {MAX_PLOT_WORDS} words (the table needs no --plot)"
            )
    bert = _bert(args)
    matrix = cosine_matrix(
        word_vectors(bert, args.words, strategy=args.strategy),
        device=bert.device,
    )
    print(format_matrix(matrix, args.words))
    if args.plot is not None:
        from .plotting import plot_matrix

        fig = plot_matrix(
            matrix,
            args.words,
            title=f"cosine similarity of input word embeddings ({bert.name})",
        )
        suffix = args.plot.suffix.lower()
        with atomic_file(args.plot, binary=True) as handle:
            fig.savefig(
                handle,
                format=suffix[1:],
                bbox_inches="tight",
                metadata={"Date": None} if suffix == ".svg" else None,
            )
        print(f"wrote {args.plot}")


# A similarity heatmap with more words than this is refused: unreadable, and slow to draw.
MAX_PLOT_WORDS = 60


def _print_neighbours(neighbours: Sequence[tuple[str, float]]) -> None:
    width = max(len(tok) for tok, _ in neighbours)
    for rank, (token, score) in enumerate(neighbours, start=1):
        print(f"{rank:>3}  {token:<{width}}  {score:.4f}")


def _nearest(bert: Bert, word: str, k: int) -> list[tuple[str, float]]:
    """``nearest(bert, word, k)``, with a note on stderr when ``word`` is split into pieces."""
    from .similarity import nearest
    from .tokens import word_pieces

    pieces = word_pieces(bert, word)
    if len(pieces) > 1:
        print(
            f"note: {word!r} is split into {pieces}; using the mean of its pieces",
            file=sys.stderr,
        )
    return list(nearest(bert, word, k=k))


def cmd_nearest(args: argparse.Namespace) -> None:
    _print_neighbours(_nearest(_bert(args), args.word, args.k))


def cmd_analogy(args: argparse.Namespace) -> None:
    from .similarity import analogy

    print(f"{args.a} : {args.b} :: {args.c} : ?")
    _print_neighbours(analogy(_bert(args), args.a, args.b, args.c, k=args.k))


NEIGHBOURS_FORMAT = """\
The table (--out FILE, or standard output with --all) is tab-separated, UTF-8, one
line per token in id order after a header line:

    token  neighbour_1  score_1  neighbour_2  score_2  ...  neighbour_K  score_K

Scores are cosines of input word embeddings with 4 decimals, best first. A row never
lists its own token; special tokens and [unusedN] placeholders are never neighbours
but have rows of their own. With WORDs instead of --all, the rows are the WORDs
(a word split into pieces uses the mean of its pieces). --out - writes the table to
standard output. A file is written whole or not at all: an interrupted run leaves an
existing FILE as it was. A table whose estimated memory is above 2 GiB is refused
before any work (set $BERTSTEPS_MEMORY_LIMIT_GB to allow more)."""


def _tsv_row(token: str, neighbours: Sequence[tuple[str, float]]) -> str:
    r"""One line of the neighbour table (see ``NEIGHBOURS_FORMAT``).

    Examples:
        >>> _tsv_row("king", [("queen", 0.6512), ("kings", 0.6)])
        'king\tqueen\t0.6512\tkings\t0.6000'
    """
    fields = [token, *(f"{tok}\t{score:.4f}" for tok, score in neighbours)]
    if any(
        c in field
        for field in (token, *(tok for tok, _ in neighbours))
        for c in "\t\n\r"
    ):
        raise BertStepsError(
            f"a token holds a tab or a line break ({fields[0]!r}...): it cannot go in a TSV file"
        )
    return "\t".join(fields)


def _write_lines(path: Path | None, lines: Iterable[str]) -> None:
    """Lines to standard output (``path`` None), or to ``path`` whole or not at all (see ``bertsteps.atomic``)."""
    from .atomic import atomic_file

    if path is None:
        for line in lines:
            sys.stdout.write(line + "\n")
        return
    with atomic_file(path) as out:
        for line in lines:
            out.write(line + "\n")


def cmd_neighbours(args: argparse.Namespace) -> None:
    from .atomic import output_file

    if args.all == bool(args.words):
        raise BertStepsError(
            "give either WORDs or --all (the whole vocabulary), not both and not neither"
        )
    table = (
        args.all or args.out is not None
    )  # a TSV table, to standard output for --out -
    out = None if args.out in (None, "-") else output_file(args.out)
    bert = _bert(args)
    header = "\t".join(
        [
            "token",
            *(
                f"{c}_{i}"
                for i in range(1, args.k + 1)
                for c in ("neighbour", "score")
            ),
        ]
    )
    if args.all:
        from .neighbours import check_table, neighbour_table

        check_table(
            bert, args.k, device=bert.device
        )  # refused before the note and the work
        if args.k > 100:
            print(
                f"note: {args.k} neighbours of every token may take several minutes",
                file=sys.stderr,
            )
        indices, scores = neighbour_table(bert, k=args.k, device=bert.device)
        names = bert.tokenizer.convert_ids_to_tokens(
            list(range(indices.shape[0]))
        )
        names = [
            name if name is not None else f"[id {i}]"
            for i, name in enumerate(names)
        ]
        rows = (  # one row at a time: no list of every score as Python objects
            _tsv_row(
                names[i],
                [
                    (names[j], s)
                    for j, s in zip(
                        indices[i].tolist(), scores[i].tolist(), strict=True
                    )
                ],
            )
            for i in range(indices.shape[0])
        )
        _write_lines(out, itertools.chain([header], rows))
        if out is not None:
            print(
                f"wrote {out}: {indices.shape[0]:,} tokens x {args.k} neighbours"
            )
        return
    found = {word: _nearest(bert, word, args.k) for word in args.words}
    if table:
        _write_lines(
            out, [header, *(_tsv_row(w, n) for w, n in found.items())]
        )
        if out is not None:
            print(
                f"wrote {out}: {len(found)} word{'' if len(found) == 1 else 's'} x {args.k} neighbours"
            )
        return
    for number, (word, neighbours) in enumerate(found.items()):
        print(("\n" if number else "") + f"{word}:")
        _print_neighbours(neighbours)


def cmd_explorer(args: argparse.Namespace) -> None:
    from .atomic import output_folder
    from .explorer import export

    output_folder(args.folder)  # before the checkpoint is loaded
    manifest = export(_bert(args), args.folder, k=args.k)
    print(
        f"wrote {manifest['data_bytes'] / 1e6:.1f} MB for {manifest['checkpoint']} into {args.folder}"
    )


def cmd_fill(args: argparse.Namespace) -> None:
    from .masked_lm import fill_mask

    bert = _bert(args)
    guesses = fill_mask(bert, args.text, k=args.k)
    for number, options in enumerate(guesses, start=1):
        print(
            ("\n" if number > 1 else "")
            + f"{bert.tokenizer.mask_token} {number} of {len(guesses)}:"
        )
        _print_neighbours([(g.token, g.probability) for g in options])


def _check_plot(path: Path | None) -> None:
    if path is not None and path.suffix.lower() not in {
        ".svg",
        ".png",
        ".pdf",
    }:
        raise BertStepsError(
            f"--plot {path}: the file name must end in .svg, .png or .pdf"
        )


def cmd_sentences(args: argparse.Namespace) -> None:
    from .sentences import check_sentences, sentence_vectors
    from .similarity import cosine_matrix

    _check_plot(args.plot)
    texts = check_sentences(args.sentences)
    bert = _bert(args)
    matrix = cosine_matrix(
        sentence_vectors(bert, texts, pooling=args.pooling, layer=args.layer)
    )
    labels = [str(i) for i in range(1, len(texts) + 1)]
    for label, text in zip(labels, texts, strict=True):
        print(f"{label:>3}  {text}")
    print()
    print(format_matrix(matrix, labels))
    if args.plot is not None:
        from .plotting import plot_matrix

        fig = plot_matrix(
            matrix,
            [f"{i}. {t[:30]}" for i, t in zip(labels, texts, strict=True)],
            title=f"cosine similarity of sentence vectors ({args.pooling}, layer {args.layer}; {bert.name})",
        )
        try:
            fig.savefig(
                args.plot,
                bbox_inches="tight",
                metadata={"Date": None}
                if args.plot.suffix == ".svg"
                else None,
            )
        except OSError as err:
            raise BertStepsError(
                f"cannot write {args.plot}: {err.strerror or err}"
            ) from err
        print(f"wrote {args.plot}")


def cmd_search(args: argparse.Namespace) -> None:
    from .paragraphs import read_paragraphs
    from .sentences import check_sentences, rank, sentence_vectors

    if args.query.strip() == "":
        raise BertStepsError(
            "the query is empty: give some text to search for"
        )
    paragraphs = [p for file in args.files for p in read_paragraphs(file)]
    if not paragraphs:
        raise BertStepsError(
            f"no paragraphs in {', '.join(map(str, args.files))}: the files are empty"
        )
    bert = _bert(args)
    with warnings.catch_warnings(record=True) as cut:
        warnings.simplefilter("always")
        vectors = sentence_vectors(
            bert,
            check_sentences([p.text for p in paragraphs]),
            pooling=args.pooling,
        )
    if cut:
        print(
            f"note: {len(cut)} paragraph(s) longer than {bert.name} reads were cut to fit",
            file=sys.stderr,
        )
    hits = rank(
        sentence_vectors(bert, args.query, pooling=args.pooling),
        vectors,
        args.k,
    )
    width = max(len(paragraphs[h.index].where) for h in hits)
    for hit in hits:
        p = paragraphs[hit.index]
        print(f"{hit.score:.4f}  {p.where:<{width}}  {p.first_line.strip()}")


def _positive(text: str) -> int:
    """A count given on the command line; a usage error unless a whole number >= 1."""
    value: object = text
    with contextlib.suppress(ValueError):
        value = int(text)
    return positive_int(
        value,
        "the value",
        error=argparse.ArgumentTypeError,
        noun="whole number",
    )


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
    common.add_argument(
        "--device",
        default="auto",
        help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps",
    )

    parser = argparse.ArgumentParser(
        prog="bertsteps",
        description="BERT Step by Step: look at how a BERT checkpoint turns text into vectors.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}"
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND"
    )

    p = sub.add_parser(
        "info",
        parents=[common],
        help="the checkpoint: name, layers, hidden size, vocabulary, device",
    )
    p.set_defaults(run=cmd_info)

    p = sub.add_parser(
        "tokens",
        parents=[common],
        help="split TEXT into WordPiece tokens and ids",
    )
    p.add_argument("text")
    p.set_defaults(run=cmd_tokens)

    p = sub.add_parser(
        "similarity",
        parents=[common],
        help="cosine similarity matrix of WORDs' input embeddings",
    )
    p.add_argument("words", nargs="+", metavar="WORD")
    p.add_argument(
        "--plot",
        default=None,
        metavar="FILE",
        help="also write a heatmap (.svg, .png or .pdf)",
    )
    p.add_argument(
        "--strategy",
        choices=["mean", "first", "error"],
        default="mean",
        help="for words split into pieces",
    )
    p.set_defaults(run=cmd_similarity)

    p = sub.add_parser(
        "nearest",
        parents=[common],
        help="the WORD's nearest tokens in the whole vocabulary",
    )
    p.add_argument("word")
    p.add_argument(
        "-k",
        type=_positive,
        default=10,
        help="how many neighbours (default 10)",
    )
    p.set_defaults(run=cmd_nearest)

    p = sub.add_parser(
        "analogy",
        parents=[common],
        help="A is to B as C is to ? (scored against B - A + C)",
    )
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c")
    p.add_argument(
        "-k", type=_positive, default=5, help="how many answers (default 5)"
    )
    p.set_defaults(run=cmd_analogy)

    p = sub.add_parser(
        "neighbours",
        parents=[common],
        help="nearest tokens of WORDs, or a table of them for every token (--all)",
        description="The k nearest tokens of each WORD, or of every token in the vocabulary (--all).",
        epilog=NEIGHBOURS_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("words", nargs="*", metavar="WORD")
    p.add_argument(
        "--all",
        action="store_true",
        help="every token of the vocabulary (a table; see below)",
    )
    p.add_argument(
        "-k",
        type=_positive,
        default=10,
        help="how many neighbours (default 10)",
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="write the table to FILE (tab-separated; - for standard output)",
    )
    p.set_defaults(run=cmd_neighbours)

    p = sub.add_parser(
        "explorer",
        parents=[common],
        help="write the data of the site's embedding explorer to FOLDER",
    )
    p.add_argument("folder", metavar="FOLDER")
    p.add_argument(
        "-k",
        type=_positive,
        default=12,
        help="neighbours stored per token (default 12)",
    )
    p.set_defaults(run=cmd_explorer)

    pooling_help = (
        "how token vectors become one: mean (default), cls, max or pooler"
    )
    p = sub.add_parser(
        "sentences",
        parents=[common],
        help="cosine similarity matrix of SENTENCEs' sentence vectors",
    )
    p.add_argument("sentences", nargs="+", metavar="SENTENCE")
    p.add_argument("--pooling", default="mean", help=pooling_help)
    p.add_argument(
        "--layer",
        type=int,
        default=-1,
        help="hidden state to pool: 0 = embedding output, -1 = last (default)",
    )
    p.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write a heatmap (.svg, .png or .pdf)",
    )
    p.set_defaults(run=cmd_sentences)

    p = sub.add_parser(
        "search",
        parents=[common],
        help="rank the paragraphs of text or Markdown FILEs by meaning against QUERY",
        description="Rank the paragraphs (blank-line separated) of FILEs by the cosine of their "
        "sentence vectors with QUERY's; prints score, file:line and the paragraph's first line.",
    )
    p.add_argument("query", metavar="QUERY")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument(
        "-k", type=_positive, default=5, help="how many paragraphs (default 5)"
    )
    p.add_argument("--pooling", default="mean", help=pooling_help)
    p.set_defaults(run=cmd_search)

    p = sub.add_parser(
        "fill",
        parents=[common],
        help="guess each [MASK] in TEXT with the checkpoint's masked-LM head",
        description="The k most probable tokens, with their probabilities, for each [MASK] in TEXT. "
        "Needs a checkpoint with a masked-language-model head, such as bert-base-uncased.",
    )
    p.add_argument("text")
    p.add_argument(
        "-k",
        type=_positive,
        default=5,
        help="how many guesses per mask (default 5)",
    )
    p.set_defaults(run=cmd_fill)
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
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not in a traceback at exit
    except BertStepsError as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        print("bertsteps: interrupted", file=sys.stderr)
        return 130
    except (
        BrokenPipeError
    ):  # the reader went away (| head): stop quietly, like other Unix tools
        _silence_stdout()
        return 0
    except UnicodeEncodeError as err:
        _silence_stdout()
        return _fail(
            f"standard output uses the {err.encoding} encoding, which cannot write {err.object[err.start : err.end]!r}: "
            "set PYTHONIOENCODING=utf-8, or write to a file with --out where there is one"
        )
    except OSError as err:
        _silence_stdout()
        return _fail(f"cannot write to standard output: {err.strerror or err}")
    return 0


def _fail(message: str) -> int:
    """Print the one error line; exit status 2."""
    print(f"bertsteps: error: {message}", file=sys.stderr)
    return 2


def _silence_stdout() -> None:
    """Point standard output at /dev/null so that the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
