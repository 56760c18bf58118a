# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Performance
#
# Two costs decide how this project feels: finding the nearest tokens of *every* token
# of the vocabulary (the embedding explorer and `bertsteps neighbours --all` need it),
# and building this site, which runs every chapter. Both are measured by scripts in
# `benchmarks/`, side by side with the obvious alternative, in one run on one machine.
# The figures on this page are read from the results those scripts committed
# (`benchmarks/*.json`); none is typed in.

# %%
import json
from pathlib import Path

import bertsteps


def results(name: str) -> dict | None:
    """A results file of benchmarks/, found from here or from the
    bertsteps sources.
    """
    here = Path.cwd()
    package_root = Path(bertsteps.__file__).resolve().parent.parent
    for base in [here, *here.parents, package_root]:
        path = base / "benchmarks" / name
        if path.is_file():
            return json.loads(path.read_text())
    return None


table = results("results.json")  # written by benchmarks/neighbours.py
build = results("site_build.json")  # written by benchmarks/site_build.py
cosine = results("cosine.json")  # written by benchmarks/cosine.py
if table is None:
    raise FileNotFoundError(
        "benchmarks/results.json not found: run `make bench` in the repository"
    )

# %% [markdown]
# ## The neighbour table
#
# `bertsteps.neighbour_table(bert, k)` returns, for each of the vocabulary's tokens, the
# `k` tokens whose input embeddings have the highest cosine with it. **The plain way**
# scales every row to length 1, multiplies chunks of rows by the whole matrix, and keeps
# each row's `topk`: one float32 dot product per pair of tokens, and a `topk` over all of
# them. **`neighbour_table`** gets the same table with much less work on the CPU:
#
# 1. *Half the products.* The cosine matrix is symmetric, so only square blocks on and
#    above the diagonal are multiplied; block $(I, J)$ offers candidates to the rows of
#    $I$ and, read by columns, to the rows of $J$.
# 2. *Skip what cannot win.* Every row keeps its best $k$ so far; its $k$-th score is a
#    threshold that only rises. Columns are read in groups of 32, and a row looks inside
#    a group only when the group's maximum beats its threshold.
# 3. *Meet the near ones first.* Tokens are ordered by a few rounds of spherical k-means,
#    so that similar tokens share blocks and thresholds rise early.
#
# Every score is still one dot product of two unit rows, so the table equals the plain
# one up to the order of exactly tied scores; the benchmark checks that before timing.

# %% tags=["hide-input"]
from IPython.display import Markdown

machine = table["machine"]
plain = [m for m in table["methods"] if m["name"] != "neighbour_table"]
fastest_plain = min(plain, key=lambda m: m["seconds"])
ours = next(m for m in table["methods"] if m["name"] == "neighbour_table")
same = all(
    v["rows_differing_not_by_exact_ties"] == 0
    for v in table["identical"].values()
)
Markdown(
    f"Measured on {table['date'][:10]} with `{table['checkpoint']}` ({table['vocab_size']:,} tokens, "
    f"k = {table['k']}) on {machine['cores']} CPU cores, torch {machine['torch']}: "
    f"`neighbour_table` took **{ours['seconds']:.2f} s**, the fastest plain variant "
    f"({fastest_plain['name']}) **{fastest_plain['seconds']:.2f} s** — "
    f"**{ours['seconds'] / fastest_plain['seconds']:.2f}×** its time, with a peak memory growth of "
    f"{ours['peak_rss_growth_mib']:.0f} MiB against {fastest_plain['peak_rss_growth_mib']:.0f} MiB. "
    + (
        "The tables were identical up to exact ties."
        if same
        else "**The tables differed.**"
    )
)

# %%
methods = table["methods"]
fig = bertsteps.figure(
    alt="Bar chart of the time to compute the whole neighbour table: "
    + ", ".join(f"{m['name']} {m['seconds']:.2f} s" for m in methods),
    figsize=(7.0, 0.7 * len(methods) + 1.2),
)
ax = fig.add_subplot()
names = [m["name"] for m in methods]
seconds = [m["seconds"] for m in methods]
colours = ["#c2410c" if n == "neighbour_table" else "#94a3b8" for n in names]
bars = ax.barh(names, seconds, color=colours)
labels = [
    f"{m['seconds']:.2f} s, peak +{m['peak_rss_growth_mib']:.0f} MiB"
    for m in methods
]
ax.bar_label(bars, labels=labels, padding=4)
ax.invert_yaxis()
ax.set_xlabel("seconds for the whole table (median of the rounds)")
ax.set_xlim(0, max(seconds) * 1.45)
ax.spines[["top", "right"]].set_visible(False)
fig

# %% [markdown]
# On a GPU the plain way is used: there the product is cheap and one large `topk` per
# chunk beats many small steps.
#
# ## Cosine matrices
#
# `bertsteps.cosine_matrix` uses the first idea too: with one input, only the upper half
# of the matrix is multiplied and mirrored, block by block, straight into the result.
# `benchmarks/cosine.py` times it against the usual ways to get the same matrix, on rows
# of the embedding matrix of the checkpoint named below (the one the committed
# measurements used, which need not be the one this page was built with); a ratio below
# 1 means `cosine_matrix` was faster.

# %% tags=["hide-input"]
if cosine is None:
    cosine_table = (
        "No cosine measurements are committed yet: run `benchmarks/cosine.py`."
    )
else:
    lines = [
        (
            f"Measured on {cosine['date'][:10]} with rows of the embedding matrix of `{cosine['checkpoint']}`, "
            f"{cosine['machine']['cores']} CPU cores, torch {cosine['machine']['torch']}."
        ),
        "",
        "| rows | ratio | `cosine_matrix` | fastest alternative |",
        "|---:|---:|---:|---|",
    ]
    for size in cosine["sizes"]:
        other = size["fastest_alternative"]
        lines.append(
            f"| {size['n']:,} | **{size['ratio_to_fastest']:.2f}×** | {size['ours_seconds'] * 1e3:.3g} ms "
            f"| {size['alternatives_seconds'][other] * 1e3:.3g} ms, `{other.split('.')[-1]}` |"
        )
    cosine_table = "\n".join(lines)
Markdown(cosine_table)

# %% [markdown]
# ## Building the site
#
# Every chapter is a notebook that runs when the site is built. A cold build should cost
# little more than running the chapters as plain scripts, and a rebuild should run only
# what changed: the notebook cache is keyed on each chapter's bytes and on a fingerprint
# of the `bertsteps` sources, the checkpoint and the installed packages.
#
# Run as a plain script, a chapter spends most of its time importing torch and
# transformers. The build pays for that once: `hooks/forkserver.py` starts one process
# that imports them, and every chapter's Jupyter kernel is a *fork* of it, a new process
# with its own clean namespace whose imports are already in memory. The explorer's data
# is exported in another fork while the chapters run, and a kernel whose last cell has
# answered is stopped at once rather than asked to shut down politely, which would mean
# waiting while the process tears torch down. What a chapter shows does not change: the
# same cells run in the same order in a new process.

# %% tags=["hide-input"]
if build is None:
    summary = "No build measurements are committed yet: run `benchmarks/site_build.py`."
else:
    summary = (
        f"Measured on {build['date']} ({build['machine']}): the {len(build['scripts_s'])} "
        f"chapters as plain scripts took **{build['scripts_total_s']:.1f} s**; a cold "
        f"`mkdocs build` that executed {build['cold_build_executed']} of them took "
        f"**{build['cold_build_s']:.1f} s** (**{build['cold_over_scripts']:.2f}×** the scripts). "
        f"A rebuild with nothing changed took **{build['rebuild_unchanged_s']:.1f} s** and "
        f"executed {build['rebuild_unchanged_executed']}; after touching one chapter, "
        f"**{build['rebuild_one_touched_s']:.1f} s**, executing {build['rebuild_one_touched_executed']}."
    )
Markdown(summary)

# %%
from IPython.display import display

if build is not None:
    steps = {
        "chapters as scripts": build["scripts_total_s"],
        "cold build": build["cold_build_s"],
        "rebuild, one chapter touched": build["rebuild_one_touched_s"],
        "rebuild, nothing changed": build["rebuild_unchanged_s"],
    }
    fig = bertsteps.figure(
        alt="Bar chart of site build times: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()),
        figsize=(7.0, 3.4),
    )
    ax = fig.add_subplot()
    bars = ax.barh(list(steps), list(steps.values()), color="#4f46e5")
    ax.bar_label(
        bars, labels=[f"{v:.1f} s" for v in steps.values()], padding=4
    )
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.set_xlim(0, max(steps.values()) * 1.25)
    ax.spines[["top", "right"]].set_visible(False)
    display(fig)

# %% [markdown]
# ## The pages in a reader's browser
#
# `benchmarks/pages.py` serves the built site as `python -m http.server` does
# (uncompressed) and opens every page in headless Chromium: Lighthouse's mobile preset
# (a simulated slow 4G connection and a four times slower CPU; each figure the median
# of several runs) and axe-core's accessibility rules, light and dark, at 1280 and
# 390 px wide. The goals: performance 90 or more and accessibility 100 on every page, at
# most 600 KiB at load for a chapter and 450 KiB for any other page, no serious or
# critical axe finding.

# %% tags=["hide-input"]
pages = results("pages.json")  # written by benchmarks/pages.py
if pages is None or "after" not in pages:
    report = "No page measurements are committed: run `benchmarks/pages.py`."
else:
    run = pages["after"]
    rows = run["rows"]
    lines = [
        "| page | performance | accessibility | KiB at load (goal) "
        "| LCP s | CLS | axe serious |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for page, row in rows.items():
        lines.append(
            f"| `/{page}` | {row['performance']} | {row['accessibility']} "
            f"| {row['bytes'] / 1024:.0f} ({row['bytes_goal'] / 1024:.0f}) "
            f"| {row['lcp_ms'] / 1000:.1f} | {row['cls']:.2f} "
            f"| {row['axe_serious']} |"
        )
    missed = [
        page
        for page, row in rows.items()
        if row["performance"] < 90
        or row["accessibility"] < 100
        or row["bytes"] > row["bytes_goal"]
        or row["axe_serious"] > 0
    ]
    verdict = (
        f"Every one of the {len(rows)} pages meets the goals."
        if not missed
        else f"{len(missed)} of {len(rows)} pages miss a goal: "
        + ", ".join(f"`/{p}`" for p in missed)
        + "."
    )
    report = (
        f"Measured on {run['date'][:10]} at commit `{run['commit']}` "
        f"({run['machine']}; Lighthouse {run['lighthouse']}, axe-core "
        f"{run['axe_core']}, {run['runs']} runs a page). {verdict}\n\n"
        + "\n".join(lines)
    )
Markdown(report)

# %% [markdown]
# ## Measure it yourself
#
# ```bash
# make bench
# ```
#
# runs every benchmark script in `benchmarks/`, one after another, and then prints a
# table that checks each of the project's speed targets against what was just measured
# (it exits with an error when one was missed). Each script prints a table and rewrites
# its results file; commit them and this page follows.
