"""Scaling curve: time and peak memory of `cxnlp analyze` at growing row counts, and Dask.

Usage::

    python benchmarks/scale.py [--rows 1000 10000 100000] [--dask 10000] [--backend torch]

Each size is a CSV cut from the CC0 clothing reviews (all 23,486 rows, repeated with fresh
ids, dates and ratings when more rows are asked for: real exports repeat texts too, and the
encoder dedupes them). Every run is a separate ``cxnlp analyze`` process, so its peak RSS is
its own (``ru_maxrss`` of the child). The embedding cache is warmed once on the unique texts
first, so the curve shows how the pipeline itself scales (reading, cleaning, heads, themes,
topics on a bounded sample, metrics, report); cold encoding speed is ``benchmarks/speed.py``.

``--dask N`` also runs N rows on a local Dask cluster with 1 and 2 worker processes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, need_data

ROOT = Path(__file__).resolve().parent.parent


def reviews() -> pd.DataFrame:
    df = pd.read_csv(
        need_data("womens-ecommerce-clothing-reviews", "Womens Clothing E-Commerce Reviews.csv")
    )
    return df[["Review Text", "Rating", "Recommended IND", "Department Name"]]


def export(n: int, folder: Path) -> Path:
    """An n-row export: the reviews in order, repeated as needed, with ids and dates."""
    base = reviews()
    rows = base.iloc[np.arange(n) % len(base)].reset_index(drop=True)
    rng = np.random.default_rng(n)
    rows.insert(0, "response_id", [f"R{i:07d}" for i in range(n)])
    days = rng.integers(0, 180, n)
    rows["date"] = (pd.Timestamp("2026-01-01") + pd.to_timedelta(days, unit="D")).strftime(
        "%Y-%m-%d"
    )
    path = folder / f"reviews_{n}.csv"
    rows.to_csv(path, index=False)
    return path


def run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one `cxnlp analyze` process (its own, by wait4)."""
    with tempfile.TemporaryFile("w+") as log:
        t = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "cxnlp", "analyze", *args, "--no-progress"],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t
        if child.returncode != 0:
            log.seek(0)
            sys.exit(f"analyze failed:\n{log.read()[-4000:]}")
    return wall, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="*", default=[1000, 10_000, 100_000])
    ap.add_argument(
        "--dask", type=int, default=10_000, help="rows for the Dask 1 vs 2 workers run (0: skip)"
    )
    ap.add_argument("--backend", default="torch", choices=["torch", "onnx", "onnx-int8"])
    args = ap.parse_args(argv)
    print(f"machine: {machine()}")
    folder = Path(tempfile.mkdtemp(prefix="cxnlp-scale-"))
    common = ["--codeframe", "retail", "--text-column", "Review Text"]
    config = folder / "config.yaml"
    config.write_text(f"encoder:\n  backend: {args.backend}\n")
    common += ["--config", str(config)]
    # warm the embedding cache on every unique text once (not timed)
    warm = export(len(reviews()), folder)
    print(f"warming the embedding cache on {len(reviews()):,} unique reviews ...", flush=True)
    w, _ = run([str(warm), "--out", str(folder / "warm"), *common])
    print(f"  ({w:.0f} s)")
    print(f"\n{'rows':>9}{'seconds':>10}{'rows/s':>9}{'peak RSS MiB':>14}")
    for n in sorted(args.rows):
        path = export(n, folder)
        wall, rss = run([str(path), "--out", str(folder / f"out_{n}"), *common])
        print(f"{n:>9,}{wall:>10.1f}{n / wall:>9.0f}{rss:>14.0f}", flush=True)
    if args.dask:
        path = export(args.dask, folder)
        print(f"\nDask, {args.dask:,} rows (local cluster, 1 thread per worker)")
        print(f"{'workers':>9}{'seconds':>10}{'rows/s':>9}")
        for workers in (1, 2):
            wall, _ = run([str(path), "--out", str(folder / f"dask_{workers}"), *common,
                           "--dask-workers", str(workers)])  # fmt: skip
            print(f"{workers:>9}{wall:>10.1f}{args.dask / wall:>9.0f}", flush=True)
    print(f"\n(files in {folder}; {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
