"""Where shipped artifacts and shared data live, in a checkout and in an installed wheel."""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.exists():
            return c
    return candidates[-1]


def models_dir() -> Path:
    """Shipped models: ``$CXNLP_MODELS``, the wheel's copy, or the checkout's ``models/``."""
    if env := os.environ.get("CXNLP_MODELS"):
        return Path(env)
    return _first_existing(_PKG / "_models", _PKG.parent / "models")


def configs_dir() -> Path:
    """Shipped configs and codeframes: the wheel's copy or the checkout's ``configs/``."""
    return _first_existing(_PKG / "_configs", _PKG.parent / "configs")


def data_dir() -> Path:
    """Public labelled data for training and benchmarks: ``$CXNLP_DATA`` or ``../shared/data``."""
    if env := os.environ.get("CXNLP_DATA"):
        return Path(env)
    return _PKG.parent.parent / "shared" / "data"


def cache_dir() -> Path:
    """On-disk embedding cache: ``$CXNLP_CACHE`` or ``~/.cache/cxnlp``."""
    if env := os.environ.get("CXNLP_CACHE"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cxnlp"
