"""Every page of a built site as a reader's browser gets it: Lighthouse and axe-core.

    python benchmarks/pages.py --site /tmp/site --label after     # `make bench` builds one first

Serves the built site the way ``python -m http.server`` does (uncompressed), then for every
page (every ``index.html`` but ``404.html`` and ``assets/``):

- **Lighthouse 12** (npm ``lighthouse``), mobile preset (its default), ``--runs`` times;
  each figure is the median of the runs: the performance, accessibility, best-practices
  and SEO scores, the bytes transferred at load (``total-byte-weight``), LCP and CLS.
- **axe-core** (npm ``axe-core``) injected with Playwright into headless Chromium, light
  and dark (``prefers-color-scheme``, which Material's palette follows), at 1280 and
  390 px wide: WCAG 2.0/2.1 A and AA rules and axe's best practices. The table counts
  violations of impact serious or critical; the JSON also names every violation.

The Node packages are installed once with ``npm install --prefix .cache/node`` (pinned
versions below); Chromium is Debian's (``$BERTSTEPS_CHROMIUM``, default /usr/bin/chromium).
The table goes to ``benchmarks/pages.json`` under ``--label`` (``before`` and ``after``
are kept side by side; running again with one label replaces only that one).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import http.server
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NODE_PREFIX = Path(
    os.environ.get("BERTSTEPS_NODE_CACHE", ROOT / ".cache" / "node")
)
NODE_PACKAGES = {"lighthouse": "12.8.2", "axe-core": "4.14.1"}
CHROMIUM = os.environ.get("BERTSTEPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RENDER_EVERYTHING = """addEventListener("DOMContentLoaded", () => {
  const style = document.createElement("style");
  style.textContent = ".jupyter-wrapper .jp-Cell { content-visibility: visible !important }";
  document.head.append(style);
});"""
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SERIOUS = ("serious", "critical")
SCHEMES = ("light", "dark")
WIDTHS = (1280, 390)
# Goals (issue 13): bytes at load, uncompressed
CHAPTER_BYTES = 600 * 1024
OTHER_BYTES = 450 * 1024
# Waits until the page has settled: MathJax done (where loaded) and the explorer ready (where present).
SETTLED = """() => {
  const explorer = document.getElementById('bertsteps-explorer');
  return !explorer || explorer.dataset.ready === 'true' || explorer.dataset.failed === 'true';
}"""


def install_hint(package: str) -> str:
    return f"npm install --prefix {NODE_PREFIX} {package}@{NODE_PACKAGES[package]}"


def node_package(package: str) -> Path:
    """The folder of an npm package in the cache, installed there first if missing.

    Raises RuntimeError naming the install step when npm is not there or the install fails.
    """
    folder = NODE_PREFIX / "node_modules" / package
    manifest = folder / "package.json"
    if (
        manifest.is_file()
        and json.loads(manifest.read_text())["version"]
        == NODE_PACKAGES[package]
    ):
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            f"npm not found, so {package} cannot be installed: install Node.js and npm "
            f"(Debian: `apt-get install nodejs npm`; .ci/run does), then `{install_hint(package)}`"
        )
    NODE_PREFIX.mkdir(parents=True, exist_ok=True)
    spec = f"{package}@{NODE_PACKAGES[package]}"
    out = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(NODE_PREFIX),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            spec,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0 or not (folder / "package.json").is_file():
        raise RuntimeError(
            f"`{install_hint(package)}` failed:\n{out.stdout}{out.stderr}"
        )
    return folder


def axe_source() -> str:
    """axe-core's browser build, from the npm cache."""
    return (node_package("axe-core") / "axe.min.js").read_text()


def pages_of(site: Path) -> list[str]:
    """Every page of a built site, as a path relative to its root ('' for the home page)."""
    paths = []
    for html in sorted(site.rglob("index.html")):
        rel = html.parent.relative_to(site).as_posix()
        if rel.startswith(("assets", "search")):
            continue
        paths.append("" if rel == "." else rel + "/")
    return paths


def is_chapter(path: str) -> bool:
    return path.startswith("examples/")


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """``python -m http.server`` on a free port, in a thread: yields the root URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()


# ---------------------------------------------------------------------------------------
# axe-core


def axe_page(page: Any, url: str, source: str) -> list[dict[str, Any]]:
    """Open ``url`` in a Playwright page, wait until it settles, run axe: its violations."""
    page.goto(url, wait_until="load")
    page.mouse.move(
        5, 5
    )  # the explorer loads its data on the reader's first move
    page.wait_for_load_state("networkidle")
    page.wait_for_function(SETTLED, timeout=30_000)
    page.add_script_tag(content=source)
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": len(v["nodes"]),
            "targets": [
                " ".join(map(str, n["target"])) for n in v["nodes"][:5]
            ],
        }
        for v in result["violations"]
    ]


def axe_all(
    browser: Any, base: str, paths: list[str]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """{page: {"light-1280": violations, ...}} for every page, scheme and width."""
    source = axe_source()
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for scheme in SCHEMES:
        for width in WIDTHS:
            context = browser.new_context(
                viewport={"width": width, "height": 900}, color_scheme=scheme
            )
            # axe checks every cell: none skipped by content-visibility (extra.css)
            context.add_init_script(RENDER_EVERYTHING)
            page = context.new_page()
            for path in paths:
                found.setdefault(path, {})[f"{scheme}-{width}"] = axe_page(
                    page, base + path, source
                )
            context.close()
    return found


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in SERIOUS]


# ---------------------------------------------------------------------------------------
# Lighthouse


def lighthouse_once(url: str, out: Path) -> dict[str, float]:
    """One Lighthouse run (mobile preset, all four categories): the figures of the table."""
    binary = node_package("lighthouse") / "cli" / "index.js"
    flags = " ".join(["--headless=new", *CHROMIUM_ARGS])
    subprocess.run(
        [
            "node",
            str(binary),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={out}",
            f"--chrome-flags={flags}",
            "--only-categories=performance,accessibility,best-practices,seo",
            "--max-wait-for-load=60000",
        ],
        check=True,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        capture_output=True,
    )
    report = json.loads(out.read_text())
    audits, categories = report["audits"], report["categories"]
    return {
        "performance": round(100 * categories["performance"]["score"]),
        "accessibility": round(100 * categories["accessibility"]["score"]),
        "best_practices": round(100 * categories["best-practices"]["score"]),
        "seo": round(100 * categories["seo"]["score"]),
        "bytes": audits["total-byte-weight"]["numericValue"],
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "render_blocking": len(
            audits["render-blocking-resources"]
            .get("details", {})
            .get("items", [])
        ),
    }


def lighthouse(url: str, runs: int) -> dict[str, float]:
    """The median of each figure over ``runs`` runs."""
    with tempfile.TemporaryDirectory() as tmp:
        results = [
            lighthouse_once(url, Path(tmp) / f"{i}.json") for i in range(runs)
        ]
    return {
        key: statistics.median(r[key] for r in results) for key in results[0]
    }


# ---------------------------------------------------------------------------------------


def measure(
    site: Path, runs: int, only: list[str] | None = None
) -> dict[str, Any]:
    """Lighthouse and axe on every page of ``site``: the table and the violations."""
    from playwright.sync_api import sync_playwright

    paths = [p for p in pages_of(site) if only is None or p in only]
    if not paths:
        raise SystemExit(f"no page to measure in {site}")
    rows: dict[str, dict[str, Any]] = {}
    with serve(site) as base:
        for path in paths:
            print(f"lighthouse x{runs}: /{path}", flush=True)
            rows[path] = lighthouse(base + path, runs)
        print("axe: every page, light and dark, 1280 and 390 px", flush=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            violations = axe_all(browser, base, paths)
            browser.close()
    for path, by_view in violations.items():
        rows[path]["axe_serious"] = sum(
            len(serious(v)) for v in by_view.values()
        )
        rows[path]["axe_all"] = sum(len(v) for v in by_view.values())
        rows[path]["bytes_goal"] = (
            CHAPTER_BYTES if is_chapter(path) else OTHER_BYTES
        )
    return {"rows": rows, "violations": violations}


def table(rows: dict[str, dict[str, Any]]) -> str:
    """The table as text, one line a page."""
    head = f"{'page':<34} {'perf':>4} {'a11y':>4} {'bp':>4} {'seo':>4} {'KiB':>6} {'goal':>5} {'LCP s':>6} {'CLS':>5} {'block':>5} {'axe!':>4}"
    lines = [head]
    for path, r in rows.items():
        lines.append(
            f"{'/' + path:<34} {r['performance']:>4.0f} {r['accessibility']:>4.0f} {r['best_practices']:>4.0f} {r['seo']:>4.0f} "
            f"{r['bytes'] / 1024:>6.0f} {r['bytes_goal'] / 1024:>5.0f} {r['lcp_ms'] / 1000:>6.1f} {r['cls']:>5.2f} "
            f"{r['render_blocking']:>5.0f} {r['axe_serious']:>4}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--site",
        type=Path,
        default=ROOT / "site",
        help="a built site (default: site/)",
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="Lighthouse runs per page (median)"
    )
    parser.add_argument(
        "--label",
        default="after",
        help="the key of this table in the JSON file",
    )
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "pages.json"
    )
    parser.add_argument(
        "--page",
        action="append",
        help="only this page (e.g. explorer/); repeatable",
    )
    args = parser.parse_args()
    if not (args.site / "index.html").is_file():
        raise SystemExit(
            f"{args.site} holds no built site: build one first (mkdocs build -d {args.site})"
        )
    result = measure(args.site, args.runs, args.page)
    print(table(result["rows"]))
    previous = json.loads(args.json.read_text()) if args.json.is_file() else {}
    version = subprocess.run(
        ["git", "-C", str(args.site.parent), "rev-parse", "--short", "HEAD"],
        check=False,
        capture_output=True,
        text=True,
    )
    previous[args.label] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(
            timespec="seconds"
        ),
        "commit": version.stdout.strip() or None,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "lighthouse": NODE_PACKAGES["lighthouse"],
        "axe_core": NODE_PACKAGES["axe-core"],
        "runs": args.runs,
        "preset": "mobile (Lighthouse default: simulated slow 4G, 4x CPU slowdown)",
        "axe": {
            "tags": AXE_TAGS,
            "schemes": list(SCHEMES),
            "widths": list(WIDTHS),
        },
        **result,
    }
    args.json.write_text(json.dumps(previous, indent=1) + "\n")
    print(f"wrote {args.json} [{args.label}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
