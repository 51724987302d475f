"""Fixed cost of one `cxnlp analyze` run: UMAP's numba code compiled in every process vs cached.

Usage::

    python benchmarks/startup.py [--repeats 3]

The analyst's usual job is a few thousand rows, where a run's fixed costs weigh most. UMAP
(topic discovery) compiles four numba functions on its first fit in each process;
:func:`cxnlp.topics.cache_umap_jit` lets numba keep them on disk. This script runs the
README's demo (``cxnlp analyze examples/clothing_reviews.csv --codeframe retail``) as fresh
processes, alternating: with the cache as shipped, and with ``cache_umap_jit`` replaced by a
no-op (the code before it). The embedding cache is warmed first, so both sides read the
same cached vectors. Prints the median wall time of each and their ratio, and checks both
wrote the same tables.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine

ROOT = Path(__file__).resolve().parent.parent
DEMO = ["analyze", str(ROOT / "examples" / "clothing_reviews.csv"), "--codeframe", "retail"]
#: Runs the CLI, with UMAP's functions compiled in the process when the first argument is 0.
RUNNER = (
    "import sys, cxnlp.topics as t\n"
    "if sys.argv.pop(1) == '0': t.cache_umap_jit = lambda: 0\n"
    "from cxnlp.cli import main\n"
    "sys.argv[0] = 'cxnlp'\n"
    "main()\n"
)


def run(cached: bool, out: Path) -> float:
    t = time.perf_counter()
    cmd = [sys.executable, "-c", RUNNER, str(int(cached)), *DEMO, "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, env=os.environ | {"HF_HUB_OFFLINE": "1"})
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        out = {True: Path(tmp, "cached"), False: Path(tmp, "compiled")}
        run(True, out[True])  # warms the embedding cache and writes the numba cache
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.repeats):
            for cached in (False, True):
                times[cached].append(run(cached, out[cached]))
        for name in ("responses.csv", "mentions.csv", "topics.csv"):
            assert filecmp.cmp(out[True] / name, out[False] / name, shallow=False), name
    compiled, cached = statistics.median(times[False]), statistics.median(times[True])
    print(f"`cxnlp {DEMO[0]}` on the bundled 2,000 reviews, fresh processes, "
          f"median of {args.repeats}, alternating (same tables both ways):")  # fmt: skip
    for name, cached_ in (("UMAP compiled in the process", False), ("UMAP's numba cache", True)):
        runs = [round(t, 1) for t in times[cached_]]
        print(f"  {name + ':':30} {statistics.median(times[cached_]):.1f} s  {runs}")
    print(f"  saved {compiled - cached:.1f} s per run ({compiled / cached:.2f}x)")


if __name__ == "__main__":
    main()
