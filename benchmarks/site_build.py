"""How long the site takes to build, against running its chapters as plain scripts, and
the fork server (hooks/forkserver.py) against the simpler designs it competes with.

    python benchmarks/site_build.py [--repeat N] [--json benchmarks/site_build.json]

In one run, on this machine (each cold build with an empty cache of its own):
1. every ``examples/*.py`` as a plain script (``python examples/x.py``), one after another;
2. cold ``mkdocs build`` with each design, the designs taking turns ``--repeat`` times
   (medians reported):
   - ``fork_server``: every kernel a fork of one process that imported numpy, torch and
     transformers (what the build does);
   - ``plain_kernels``: ``$BERTSTEPS_NO_FORKSERVER`` set, every kernel a new process that
     imports everything itself (what mkdocs-jupyter does on its own);
   - ``nbclient_parallel``: the chapters executed before MkDocs, with nbclient, two at a
     time in new kernels (each in its own process), plus the time of a build that then
     only renders cached pages. That design is not built: its figure is a lower bound (it
     leaves out converting the executed notebooks to HTML);
3. a rebuild with nothing changed (the cache serves every chapter);
4. a rebuild after touching one chapter (only that one runs again).

Which chapters a build executed is read from the record hooks/examples.py writes when
``$BERTSTEPS_BUILD_RECORD`` is set. It prints the times and writes them as JSON; the keys
the Performance page reads (``cold_build_s`` and the others) are the fork server's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESIGNS = ("fork_server", "plain_kernels", "nbclient_parallel")
DEADLINE_S = (
    1800  # one build or script; a run past it is a failure, not a figure
)

# executes one chapter with nbclient in a new kernel of this environment
EXECUTE_ONE = """\
import sys, jupytext, nbclient
from pathlib import Path
path = Path(sys.argv[1])
notebook = jupytext.read(path)
nbclient.NotebookClient(
    notebook, kernel_name="python3", timeout=300,
    resources={"metadata": {"path": str(path.parent)}},
).execute()
"""


def timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(
        args,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(
            f"{' '.join(args)} failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}"
        )
    return seconds


def build(
    env: dict[str, str], cache: Path, site: Path, **extra: str
) -> tuple[float, int]:
    """A strict build with ``cache`` as its build cache: seconds, chapters executed."""
    record = cache.with_suffix(".record.json")
    seconds = timed(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        {
            **env,
            **extra,
            "BERTSTEPS_BUILD_CACHE": str(cache),
            "BERTSTEPS_BUILD_RECORD": str(record),
        },
    )
    return seconds, len(json.loads(record.read_text())["executed"])


def execute_in_parallel(
    chapters: list[Path], env: dict[str, str], workers: int = 2
) -> float:
    """Seconds to execute every chapter with nbclient, ``workers`` at a time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(
            pool.map(
                lambda c: timed(
                    [sys.executable, "-c", EXECUTE_ONE, str(c)], env
                ),
                chapters,
            )
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "site_build.json"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="cold builds per design"
    )
    args = parser.parse_args()

    chapters = sorted((ROOT / "examples").glob("*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        env = {
            **os.environ,
            "NO_MKDOCS_2_WARNING": "1",
            "MPLBACKEND": "Agg",
            "JUPYTER_PREFER_ENV_PATH": "1",
            "PYTHONPATH": str(ROOT),
        }
        env.pop("BERTSTEPS_CHECKPOINT", None)
        env.pop("BERTSTEPS_NO_FORKSERVER", None)
        load_before = os.getloadavg()[0]
        scripts = {
            c.stem: timed([sys.executable, str(c)], env) for c in chapters
        }

        cold: dict[str, list[float]] = {d: [] for d in DESIGNS}
        executed: dict[str, int] = {}
        warm_cache = base / "warm"
        for run in range(args.repeat):
            for design in DESIGNS:
                cache = base / f"{design}-{run}"
                site = base / "site"
                if design == "fork_server":
                    seconds, count = build(env, cache, site)
                    if run == 0:  # kept: the rebuilds below start from it
                        shutil.copytree(
                            cache, warm_cache, copy_function=os.link
                        )
                elif design == "plain_kernels":
                    seconds, count = build(
                        env, cache, site, BERTSTEPS_NO_FORKSERVER="1"
                    )
                else:
                    seconds = execute_in_parallel(chapters, env)
                    # what the pages cost once executed: a build with every chapter cached
                    seconds += build(env, warm_cache, site)[0]
                    count = len(chapters)
                cold[design].append(seconds)
                executed[design] = count
                shutil.rmtree(cache, ignore_errors=True)
                shutil.rmtree(site, ignore_errors=True)
                print(f"cold  {design:<18} run {run + 1}: {seconds:7.2f} s")

        site = base / "site"
        warm, executed_warm = build(env, warm_cache, site)
        touched = chapters[0]
        original = touched.read_bytes()
        try:
            touched.write_bytes(
                original + b"\n# touched by benchmarks/site_build.py\n"
            )
            one, executed_one = build(env, warm_cache, site)
        finally:
            touched.write_bytes(original)

    load_after = os.getloadavg()[0]
    total = sum(scripts.values())
    medians = {d: statistics.median(v) for d, v in cold.items()}
    result = {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "scripts_s": {k: round(v, 2) for k, v in scripts.items()},
        "scripts_total_s": round(total, 2),
        "cold_build_s": round(medians["fork_server"], 2),
        "cold_build_executed": executed["fork_server"],
        "cold_over_scripts": round(medians["fork_server"] / total, 3),
        "rebuild_unchanged_s": round(warm, 2),
        "rebuild_unchanged_executed": executed_warm,
        "rebuild_one_touched_s": round(one, 2),
        "rebuild_one_touched_executed": executed_one,
        "designs": {
            d: {
                "cold_build_median_s": round(medians[d], 2),
                "cold_builds_s": [round(s, 2) for s in cold[d]],
                "executed": executed[d],
                "over_fork_server": round(
                    medians[d] / medians["fork_server"], 3
                ),
            }
            for d in DESIGNS
        },
        # other work on the machine meanwhile slows every figure: compare within one run
        "load_average_1min": [round(load_before, 2), round(load_after, 2)],
        "designs_note": "nbclient_parallel is not built: parallel execution with nbclient "
        "(2 at a time, new kernels) plus a build that renders the cached pages; a lower bound",
    }
    for name, seconds in scripts.items():
        print(f"script  {name:<28} {seconds:7.2f} s")
    print(f"scripts, all {len(scripts):<20} {total:7.2f} s")
    for design in DESIGNS:
        print(
            f"cold build, {design:<18} median {medians[design]:7.2f} s "
            f"= {medians[design] / medians['fork_server']:.2f} x the fork server"
        )
    print(f"rebuild, nothing changed ({executed_warm} executed) {warm:7.2f} s")
    print(
        f"rebuild, one chapter touched ({executed_one} executed) {one:7.2f} s"
    )
    temporary = args.json.with_name(f".{args.json.name}.tmp")
    temporary.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(temporary, args.json)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
