"""cxnlp: offline customer-feedback analytics.

>>> import cxnlp
>>> results = cxnlp.analyze("examples/clothing_reviews.csv")  # doctest: +SKIP
>>> results.responses.head()  # doctest: +SKIP
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# Vectors must not depend on the number of threads (a Dask worker runs torch on one, a local
# run on all cores). MKL splits float sums by thread count on some CPUs (AVX-512 Xeons here:
# 1.5e-7 apart with 1 and 2 threads) unless its strict reproducible mode is on; MKL reads this
# at its first call, so setting it here is early enough. No measured cost (1,500 tweets:
# 4.3 s either way). A value the user set wins.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

# Public names and the module each lives in; imported on first use so `import cxnlp`
# stays fast and the CLI's --help does not load torch.
_PUBLIC = {
    "analyze": "pipeline",
    "Analyzer": "pipeline",
    "read_feedback": "io",
    "detect_columns": "io",
    "load_config": "config",
    "Config": "config",
    "Encoder": "encode",
    "Results": "results",
    "nps": "metrics",
    "csat": "metrics",
    "ces": "metrics",
    "Codeframe": "themes",
    "CodeframeClassifier": "themes",
    "SentimentClassifier": "sentiment",
    "redact_pii": "pii",
    "CxnlpError": "errors",
}
__all__ = sorted(_PUBLIC)
#: Modules a notebook reaches as ``cxnlp.plotting.<chart>(results)``, imported on first use.
_MODULES = ("plotting", "views", "metrics", "drivers", "topics", "themes", "io")


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
    if name in _MODULES:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'cxnlp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, *_MODULES])
