"""Cosine-similarity matrices: bertsteps.cosine_matrix against the alternatives, in one run.

    python benchmarks/cosine.py [--sizes 8 1000 5000] [--repeat 5] [--json benchmarks/cosine.json]

Inputs are n rows of the bundled checkpoint's input word-embedding matrix (a ``torch``
float32 tensor; scikit-learn gets the same rows as a numpy array). Every method's result
is checked against ours before it is timed. Times are per call, the median of ``--repeat`` timed rounds;
the ratio is ours / theirs, so below 1.0 means bertsteps is faster. The figures are also
written as JSON (``--json``), which the Performance page and ``benchmarks/run.py`` read.

The seed notebook's double loop makes n^2 Python-level calls: beyond a few thousand calls
it is timed on a slice of rows and scaled up to n rows, and marked "(scaled)".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import bertsteps

LOOP_CALL_LIMIT = 20_000  # seed-loop calls timed for real before scaling
BROADCAST_BYTES = (
    256 * 2**20
)  # temporary allowed to the broadcasting method per chunk


def seed_loop(a: torch.Tensor, rows: int | None = None) -> torch.Tensor:
    """The seed notebook: one torch.nn.CosineSimilarity call per pair of rows."""
    cos = torch.nn.CosineSimilarity()
    n = a.shape[0] if rows is None else rows
    out = torch.zeros((n, a.shape[0]))
    for i in range(n):
        for j in range(a.shape[0]):
            out[i, j] = cos(a[i].unsqueeze(0), a[j].unsqueeze(0))
    return out


def broadcast(a: torch.Tensor) -> torch.Tensor:
    """torch.nn.functional.cosine_similarity on (n, 1, d) x (1, n, d), in row chunks that fit memory."""
    n, d = a.shape
    step = max(1, BROADCAST_BYTES // (4 * n * d))
    return torch.cat(
        [
            torch.nn.functional.cosine_similarity(
                a[i : i + step, None, :], a[None, :, :], dim=-1
            )
            for i in range(0, n, step)
        ]
    )


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Seconds per call: the median of ``repeat`` rounds, each looping long enough (>= 0.2 s) to time
    microsecond calls; a method slower than 1 s per call is timed once."""
    timer = timeit.Timer(fn)
    number, total = timer.autorange()
    if total / number > 1.0:
        return total / number
    return statistics.median(timer.repeat(repeat, number)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[8, 1000, 5000]
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--json",
        type=Path,
        default=Path(__file__).resolve().parent / "cosine.json",
    )
    args = parser.parse_args()

    from sentence_transformers.util import cos_sim
    from sklearn.metrics.pairwise import cosine_similarity

    bert = bertsteps.load(device="cpu")
    matrix = bert.embedding_matrix.cpu().contiguous()
    print(
        f"# {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, numpy {np.__version__}, checkpoint {bert.name}"
    )
    print(f"{'n':>6}  {'method':<42} {'time':>12}  {'ours / theirs':>13}")
    sizes = []
    for n in args.sizes:
        a = matrix[
            2000 : 2000 + n
        ].clone()  # ordinary words, past the special and [unused] rows
        a_np = a.numpy()
        ours = bertsteps.cosine_matrix(a, device="cpu")
        methods: dict[str, Callable[[], object]] = {
            "sentence_transformers.util.cos_sim": lambda a=a: cos_sim(a, a),
            "sklearn cosine_similarity": lambda a_np=a_np: cosine_similarity(
                a_np
            ),
            "torch cosine_similarity broadcasting": lambda a=a: broadcast(a),
        }
        for name, fn in methods.items():
            np.testing.assert_allclose(
                np.asarray(fn()), ours.numpy(), atol=1e-5, err_msg=name
            )
        t_ours = median_time(
            lambda a=a: bertsteps.cosine_matrix(a, device="cpu"), args.repeat
        )
        rows: list[tuple[str, float]] = [
            (name, median_time(fn, args.repeat))
            for name, fn in methods.items()
        ]
        loop_rows = max(1, min(n, LOOP_CALL_LIMIT // n))
        torch.testing.assert_close(seed_loop(a, loop_rows), ours[:loop_rows])
        t_loop = (
            median_time(
                lambda a=a, rows=loop_rows: seed_loop(a, rows), args.repeat
            )
            * n
            / loop_rows
        )
        rows.append(
            (
                "seed double loop" + (" (scaled)" if loop_rows < n else ""),
                t_loop,
            )
        )
        print(
            f"{n:>6}  {'bertsteps.cosine_matrix':<42} {t_ours * 1e3:>10.3f} ms  {'':>13}"
        )
        for name, t in sorted(rows, key=lambda r: r[1]):
            print(
                f"{n:>6}  {name:<42} {t * 1e3:>10.3f} ms  {t_ours / t:>13.3f}"
            )
        best = min(t for _, t in rows)
        print(
            f"{n:>6}  {'-> ratio to the fastest alternative':<42} {'':>12}  {t_ours / best:>13.3f}"
        )
        sizes.append(
            {
                "n": n,
                "ours_seconds": t_ours,
                "alternatives_seconds": dict(rows),
                "fastest_alternative": min(rows, key=lambda r: r[1])[0],
                "ratio_to_fastest": round(t_ours / best, 4),
            }
        )
    result = {
        "benchmark": "cosine_matrix",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "checkpoint": bert.name,
        "repeat": args.repeat,
        "sizes": sizes,
    }
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
