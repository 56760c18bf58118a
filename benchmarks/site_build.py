"""How long the site takes to build, against running its chapters as plain scripts.

    python benchmarks/site_build.py [--json benchmarks/site_build.json]

In one run, on this machine:
1. every ``examples/*.py`` as a plain script (``python examples/x.py``), one after another;
2. a cold ``mkdocs build`` (empty notebook cache: every chapter executed in a kernel);
3. a rebuild with nothing changed (the cache serves every chapter);
4. a rebuild after touching one chapter (only that one runs again).

It prints the times and the ratio cold build / sum of scripts, and writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(
            f"{' '.join(args)} failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}"
        )
    return seconds, out.stdout + out.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "site_build.json"
    )
    args = parser.parse_args()

    chapters = sorted((ROOT / "examples").glob("*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "BERTSTEPS_BUILD_CACHE": tmp,
            "NO_MKDOCS_2_WARNING": "1",
        }
        env.pop("BERTSTEPS_CHECKPOINT", None)
        scripts = {
            c.stem: timed([sys.executable, str(c)], env)[0] for c in chapters
        }
        build = [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-d",
            str(Path(tmp) / "site"),
        ]
        cold, log = timed(build, env)
        executed_cold = len(
            re.findall(r"Converting notebook \(execute=True\)", log)
        )
        warm, log = timed(build, env)
        executed_warm = len(
            re.findall(r"Converting notebook \(execute=True\)", log)
        )
        touched = chapters[0]
        original = touched.read_bytes()
        try:
            touched.write_bytes(
                original + b"\n# touched by benchmarks/site_build.py\n"
            )
            one, log = timed(build, env)
            executed_one = len(
                re.findall(r"Converting notebook \(execute=True\)", log)
            )
        finally:
            touched.write_bytes(original)
    total = sum(scripts.values())
    result = {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "scripts_s": {k: round(v, 2) for k, v in scripts.items()},
        "scripts_total_s": round(total, 2),
        "cold_build_s": round(cold, 2),
        "cold_build_executed": executed_cold,
        "cold_over_scripts": round(cold / total, 3),
        "rebuild_unchanged_s": round(warm, 2),
        "rebuild_unchanged_executed": executed_warm,
        "rebuild_one_touched_s": round(one, 2),
        "rebuild_one_touched_executed": executed_one,
    }
    for name, seconds in scripts.items():
        print(f"script  {name:<28} {seconds:7.2f} s")
    print(f"scripts, all {len(scripts):<20} {total:7.2f} s")
    print(
        f"cold mkdocs build ({executed_cold} executed)      {cold:7.2f} s   = {cold / total:.2f} x the scripts"
    )
    print(f"rebuild, nothing changed ({executed_warm} executed) {warm:7.2f} s")
    print(
        f"rebuild, one chapter touched ({executed_one} executed) {one:7.2f} s"
    )
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
