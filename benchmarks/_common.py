"""Helpers shared by the benchmark scripts: data location, timing, peak memory."""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cxnlp.paths import data_dir  # noqa: E402

DATA = data_dir()


def need_data(*parts: str) -> Path:
    """Path under the shared data folder, or exit with a clear message when it is absent."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        sys.exit(f"{path} not found: set CXNLP_DATA to the folder of the public data sets.")
    return path


def median_time(fn: Callable[[], object], repeats: int = 3) -> tuple[float, list[float]]:
    """Median wall time of ``fn`` over ``repeats`` runs (and the runs)."""
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), runs


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    import platform

    import torch

    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU only"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {dev}"
    )
