"""The vocabulary-wide neighbour table: bertsteps.neighbour_table against the plain chunked computation, in one run.

    python benchmarks/neighbours.py [--k 10] [--repeat 5] [--chunks 1024 2048] [--json benchmarks/results.json]

Both methods compute the ``k`` nearest tokens of every token of the bundled checkpoint's
vocabulary by cosine of input word embeddings, on the CPU. "plain chunked" is
``bertsteps.neighbour_table_plain``: unit rows, ``chunk @ unit.T`` for each chunk of rows,
excluded columns and the row's own token set to ``-inf``, ``torch.topk``. The tables are
checked to be identical (up to the order of exactly tied scores) before anything is timed.

Times are the median (and the best) of ``--repeat`` rounds; in each round every method runs
once, in turn, so a slow spell of the machine hits all of them. The ratio is
neighbour_table / plain, so below 1.0 means neighbour_table is faster. Peak memory growth is measured for each method
in a fresh Python process: the peak resident set size while it runs (Linux's VmHWM, reset
just before) minus the resident size before it, with the model loaded and its unit
embeddings computed. The figures are also written to ``--json`` for the site to plot.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

import bertsteps
from bertsteps.similarity import unit_embeddings

HERE = Path(__file__).resolve().parent
FAST = "neighbour_table"


def methods(
    k: int, chunks: list[int]
) -> dict[str, Callable[[bertsteps.Bert], tuple[torch.Tensor, torch.Tensor]]]:
    """Name -> function of a loaded checkpoint returning ``(indices, scores)``."""
    table: dict[
        str, Callable[[bertsteps.Bert], tuple[torch.Tensor, torch.Tensor]]
    ] = {FAST: lambda bert: bertsteps.neighbour_table(bert, k, device="cpu")}
    for chunk in chunks:
        table[f"plain chunked, {chunk} rows"] = lambda bert, c=chunk: (
            bertsteps.neighbour_table_plain(
                bert, k, device="cpu", chunk_size=c
            )
        )
    return table


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_growth_child(name: str, k: int, chunks: list[int]) -> None:
    """In a fresh process: run one method once and print its peak RSS growth in MiB (JSON)."""
    bert = bertsteps.load(device="cpu")
    unit = unit_embeddings(bert)
    torch.mm(
        unit[:2], unit[:2].T
    )  # start the BLAS threads before the baseline
    fn = methods(k, chunks)[name]
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text(
        "5"
    )  # reset VmHWM to the current RSS
    fn(bert)
    print(
        json.dumps(
            {"peak_rss_growth_mib": (_status_kib("VmHWM") - before) / 1024}
        )
    )


def peak_growth(name: str, k: int, chunks: list[int]) -> float | None:
    """Peak RSS growth of one method in MiB, from a fresh process; None where Linux's /proc is missing."""
    if not Path("/proc/self/clear_refs").exists():
        return None
    argv = [
        sys.executable,
        __file__,
        "--k",
        str(k),
        "--chunks",
        *map(str, chunks),
        "--memory-of",
        name,
    ]
    out = subprocess.run(
        argv, capture_output=True, text=True, check=True, timeout=600
    )
    return float(
        json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_growth_mib"]
    )


def compare(
    got: tuple[torch.Tensor, torch.Tensor],
    want: tuple[torch.Tensor, torch.Tensor],
) -> dict[str, object]:
    """How two tables differ: rows whose ids differ, of those how many not explained by exact ties, score gap."""
    (gi, gs), (wi, ws) = got, want
    differ = (gi != wi).any(dim=1)
    untied = ((gi != wi) & (gs != ws)).any(dim=1)
    return {
        "rows": int(gi.shape[0]),
        "rows_with_other_ids": int(differ.sum()),
        "top1_differences": int((gi[:, 0] != wi[:, 0]).sum()),
        "rows_differing_not_by_exact_ties": int(untied.sum()),
        "max_abs_score_difference": float((gs - ws).abs().max()),
    }


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--chunks",
        type=int,
        nargs="+",
        default=[1024, 2048],
        help="row chunks of the plain method",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=HERE / "results.json",
        help="where to write the figures",
    )
    parser.add_argument("--memory-of", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_of is not None:
        peak_growth_child(args.memory_of, args.k, args.chunks)
        return

    bert = bertsteps.load(device="cpu")
    unit_embeddings(
        bert
    )  # computed once and cached: shared by every method, not timed
    fns = methods(args.k, args.chunks)
    n, d = bert.embedding_matrix.shape
    info = machine()
    load_before = os.getloadavg()[0]
    print(
        f"# {info['cpu']}, {info['cores']} cores, {info['torch_threads']} torch threads, torch {info['torch']}, "
        f"checkpoint {bert.name} ({n:,} tokens x {d}), k={args.k}, median of {args.repeat} rounds"
    )

    tables = {
        name: fn(bert) for name, fn in fns.items()
    }  # also the warm-up round
    checks = {
        name: compare(tables[FAST], table)
        for name, table in tables.items()
        if name != FAST
    }
    for name, check in checks.items():
        if (
            check["rows_differing_not_by_exact_ties"]
            or check["max_abs_score_difference"] > 1e-6
        ):
            raise SystemExit(f"{FAST} differs from {name}: {check}")

    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(args.repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn(bert)
            times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(t) for name, t in times.items()}
    best = {name: min(t) for name, t in times.items()}
    load_after = os.getloadavg()[0]
    memory = {name: peak_growth(name, args.k, args.chunks) for name in fns}

    plain = [name for name in fns if name != FAST]
    fastest_plain = min(plain, key=median.__getitem__)
    print(
        f"{'method':<26} {'median':>8} {'best':>8}  {'ratio (best)':>12}  {'peak RSS +':>10}  same table as {FAST}"
    )
    for name in fns:
        mem = "n/a" if memory[name] is None else f"{memory[name]:,.0f} MiB"
        check = checks.get(name)
        same = (
            "-"
            if check is None
            else (
                f"yes: ids differ in {check['rows_with_other_ids']} of {n:,} rows (top-1: {check['top1_differences']}), "
                f"all by exact ties; max score gap {check['max_abs_score_difference']:.1e}"
            )
        )
        ratios = f"{median[FAST] / median[name]:.2f} ({best[FAST] / best[name]:.2f})"
        print(
            f"{name:<26} {median[name]:>6.2f} s {best[name]:>6.2f} s  {ratios:>12}  {mem:>10}  {same}"
        )
    ratio = median[FAST] / median[fastest_plain]
    print(
        f"-> {FAST} takes {ratio:.2f}x the time of the fastest plain chunked computation ({fastest_plain}; "
        f"{best[FAST] / best[fastest_plain]:.2f}x comparing best rounds)"
    )
    print(
        f"# ratio: {FAST}'s time / this method's, medians (best rounds); peak RSS +: growth while it runs, "
        "in a fresh process"
    )
    print(
        f"# 1-minute load average {load_before:.2f} before the timed rounds, {load_after:.2f} after"
    )

    results = {
        "benchmark": "neighbour_table vs the plain chunked computation",
        "command": " ".join(
            ["python", "benchmarks/neighbours.py", *sys.argv[1:]]
        ),
        "date": datetime.datetime.now(datetime.UTC).isoformat(
            timespec="seconds"
        ),
        "machine": info,
        "load_average_1min": {
            "before": round(load_before, 2),
            "after": round(load_after, 2),
        },
        "checkpoint": bert.name,
        "vocab_size": n,
        "hidden_size": d,
        "k": args.k,
        "repeat": args.repeat,
        "methods": [
            {
                "name": name,
                "seconds": round(median[name], 4),
                "best_seconds": round(best[name], 4),
                "rounds_seconds": [round(t, 4) for t in times[name]],
                "peak_rss_growth_mib": None
                if memory[name] is None
                else round(memory[name], 1),
            }
            for name in fns
        ],
        "ratios": {
            **{
                f"{FAST} / {name}": round(median[FAST] / median[name], 3)
                for name in plain
            },
            f"{FAST} / fastest plain": round(ratio, 3),
            f"{FAST} / fastest plain, best rounds": round(
                best[FAST] / best[fastest_plain], 3
            ),
        },
        "identical": checks,
    }
    args.json.write_text(
        json.dumps(results, indent=2) + "\n", encoding="utf-8"
    )
    print(f"wrote {os.path.relpath(args.json)}")


if __name__ == "__main__":
    main()
