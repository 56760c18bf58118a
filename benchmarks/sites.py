"""What the bert-base-uncased rendering costs: build time, peak memory, explorer data size.

    python benchmarks/sites.py [--json benchmarks/sites.json]

The hosted site renders ``bert-base-uncased`` (12 layers, hidden 768) beside the bundled
model. It cannot be downloaded here, so a randomly initialised model with exactly its
configuration and heads stands in (same shapes, so the same work), from a temporary
Hugging Face cache with ``HF_HUB_OFFLINE=1``. In one run, on this machine:

1. a cold build of that rendering alone (``hooks/sites.py``, empty build cache), timed, with
   the peak resident memory of the largest process it started (build, kernels, export);
2. the same for the bundled default, for comparison;
3. the size of the explorer data each rendering serves (budget for hidden 768: 8 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import (  # noqa: E402  (the repository root, just put on sys.path)
    make_bert_base_shaped_hub_cache,
)

BUDGET_BYTES = 8_000_000


def build(
    checkpoint: str, tmp: Path, env: dict[str, str]
) -> dict[str, object]:
    """Build one rendering cold in a fresh process; its time, peak memory and explorer size."""
    out, cache = tmp / f"site-{checkpoint}", tmp / f"cache-{checkpoint}"
    code = (
        "import resource, subprocess, sys;"
        "done = subprocess.run(sys.argv[1:]);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr);"
        "sys.exit(done.returncode)"
    )
    args = [
        sys.executable,
        "-c",
        code,
        sys.executable,
        str(ROOT / "hooks" / "sites.py"),
        "--out",
        str(out),
        "--cache",
        str(cache),
        checkpoint,
    ]
    start = time.perf_counter()
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(
            f"the {checkpoint} build failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    (slug,) = [p.name for p in out.iterdir() if p.is_dir()]
    manifest = json.loads(
        (out / slug / "assets" / "explorer" / "manifest.json").read_text()
    )
    return {
        "checkpoint": checkpoint,
        "rendering": slug,
        "hidden_size": manifest["hidden_size"],
        "cold_build_s": round(seconds, 1),
        "peak_rss_mib": round(peak_kib / 1024),
        "explorer_bytes": manifest["data_bytes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "sites.json"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        make_bert_base_shaped_hub_cache(tmp / "hf")
        env = {
            k: v for k, v in os.environ.items() if k != "BERTSTEPS_CHECKPOINT"
        }
        env.update(
            {
                "HF_HOME": str(tmp / "hf"),
                "HF_HUB_OFFLINE": "1",
                "MPLBACKEND": "Agg",
                "NO_MKDOCS_2_WARNING": "1",
            }
        )
        rows = [build(c, tmp, env) for c in ("bert-base-uncased", "bundled")]
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, cold builds, one rendering each"
    )
    print(
        f"{'rendering':<20} {'hidden':>6} {'cold build':>11} {'peak RSS':>9} {'explorer data':>14}"
    )
    for r in rows:
        print(
            f"{r['rendering']:<20} {r['hidden_size']:>6} {r['cold_build_s']:>9.1f} s {r['peak_rss_mib']:>5} MiB"
            f" {int(r['explorer_bytes']) / 1e6:>11.1f} MB"
        )
    base = rows[0]
    met = int(base["explorer_bytes"]) <= BUDGET_BYTES
    print(
        f"explorer data for hidden 768: {int(base['explorer_bytes']) / 1e6:.1f} MB, budget 8.0 MB: {'met' if met else 'MISSED'}"
    )
    tmp_json = args.json.with_suffix(".json.tmp")
    tmp_json.write_text(
        json.dumps(
            {"renderings": rows, "explorer_budget_bytes": BUDGET_BYTES},
            indent=2,
        )
        + "\n"
    )
    os.replace(tmp_json, args.json)
    print(
        f"wrote {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}"
    )


if __name__ == "__main__":
    main()
