"""Every benchmark in one run, then the project's performance goals against what was measured.

    python benchmarks/run.py          # what `make bench` runs

Runs ``cosine.py``, ``neighbours.py`` and ``site_build.py`` one after another (each in its
own process, so one's memory does not weigh on the next), then ``pages.py`` (Lighthouse
and axe on every page of a site built into a temporary folder), times ``bertsteps --help``, and
prints one table: each goal, the figure measured in this run, and whether it was met.
The exit status is 1 when a goal was missed. The scripts rewrite their results
files (``cosine.json``, ``results.json``, ``site_build.json``, ``pages.json`` under
"after"); the Performance page plots the first three.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: str) -> None:
    print(f"\n$ python benchmarks/{script}", flush=True)
    subprocess.run(
        [sys.executable, str(HERE / script)], check=True, cwd=HERE.parent
    )


def pages() -> None:
    """Build the site into a temporary folder, then Lighthouse and axe on every page."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MPLBACKEND": "Agg", "NO_MKDOCS_2_WARNING": "1"}
        print(
            "\n$ mkdocs build --strict (for benchmarks/pages.py)", flush=True
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mkdocs",
                "build",
                "--strict",
                "-q",
                "-d",
                tmp,
            ],
            check=True,
            cwd=HERE.parent,
            env=env,
        )
        print(
            f"\n$ python benchmarks/pages.py --site {tmp} --label after",
            flush=True,
        )
        subprocess.run(
            [
                sys.executable,
                str(HERE / "pages.py"),
                "--site",
                tmp,
                "--label",
                "after",
            ],
            check=True,
            cwd=HERE.parent,
        )


def page_goals() -> list[tuple[str, str, str, bool]]:
    """The pages' goals (issue 13), from pages.json's "after" table."""
    rows = json.loads((HERE / "pages.json").read_text())["after"]["rows"]
    perf = min(rows.items(), key=lambda kv: kv[1]["performance"])
    a11y = min(r["accessibility"] for r in rows.values())
    over = [f"/{p}" for p, r in rows.items() if r["bytes"] > r["bytes_goal"]]
    serious = sum(r["axe_serious"] for r in rows.values())
    cls = rows["explorer/"]["cls"]
    return [
        (
            "Lighthouse performance (mobile), every page",
            f"{perf[1]['performance']:.0f} (/{perf[0]})",
            ">= 90",
            perf[1]["performance"] >= 90,
        ),
        (
            "Lighthouse accessibility, every page",
            f"{a11y:.0f}",
            "100",
            a11y == 100,
        ),
        (
            "bytes at load: chapters / other pages",
            f"{len(over)} over: {' '.join(over)[:40]}"
            if over
            else "all within",
            "600/450 KiB",
            not over,
        ),
        (
            "axe serious or critical, every page, light and dark",
            str(serious),
            "0",
            serious == 0,
        ),
        ("explorer CLS", f"{cls:.3f}", "< 0.1", cls < 0.1),
    ]


def help_seconds(rounds: int = 5) -> float:
    """Median wall time of ``bertsteps --help`` in a new process."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bertsteps", "--help"],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def goals() -> list[tuple[str, str, str, bool]]:
    """(goal, measured, limit, met) for every figure the performance issue sets."""
    cosine = json.loads((HERE / "cosine.json").read_text())
    table = json.loads((HERE / "results.json").read_text())
    build = json.loads((HERE / "site_build.json").read_text())
    rows = []
    same = all(
        v["rows_differing_not_by_exact_ties"] == 0
        for v in table["identical"].values()
    )
    ratio = table["ratios"]["neighbour_table / fastest plain"]
    rows.append(
        (
            "neighbour_table / plain chunked (medians)",
            f"{ratio:.2f}x",
            "0.60x",
            ratio <= 0.6,
        )
    )
    rows.append(
        (
            "neighbour_table equals the plain table (but exact ties)",
            "yes" if same else "NO",
            "yes",
            same,
        )
    )
    for size in cosine["sizes"]:
        r = size["ratio_to_fastest"]
        rows.append(
            (
                f"cosine_matrix / fastest alternative, n = {size['n']}",
                f"{r:.2f}x",
                "1.00x",
                r <= 1.0,
            )
        )
    r = build["cold_over_scripts"]
    rows.append(
        (
            "cold site build / chapters as plain scripts",
            f"{r:.2f}x",
            "1.30x",
            r <= 1.3,
        )
    )
    rows.append(
        (
            "rebuild, nothing changed",
            f"{build['rebuild_unchanged_s']:.1f} s, {build['rebuild_unchanged_executed']} executed",
            "a few s, 0",
            build["rebuild_unchanged_executed"] == 0
            and build["rebuild_unchanged_s"] < 10,
        )
    )
    rows.append(
        (
            "rebuild, one chapter touched",
            f"{build['rebuild_one_touched_s']:.1f} s, {build['rebuild_one_touched_executed']} executed",
            "1 executed",
            build["rebuild_one_touched_executed"] == 1,
        )
    )
    return rows


def main() -> int:
    for script in ("cosine.py", "neighbours.py", "site_build.py"):
        run(script)
    pages()
    rows = goals() + page_goals()
    h = help_seconds()
    rows.append(("bertsteps --help", f"{h:.2f} s", "1 s", h < 1.0))
    print(f"\n# goals, measured in this run ({os.cpu_count()} cores)")
    width = max(len(r[0]) for r in rows)
    print(f"{'goal':<{width}}  {'measured':>22}  {'limit':>10}  met")
    for goal, measured, limit, met in rows:
        print(
            f"{goal:<{width}}  {measured:>22}  {limit:>10}  {'yes' if met else 'NO'}"
        )
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
