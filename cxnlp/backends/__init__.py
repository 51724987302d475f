"""Execution backends: the same :class:`~cxnlp.pipeline.Analyzer` on other schedulers.

Each backend lives in its own module and imports its (optional) scheduler only when used,
so ``import cxnlp`` never needs them. ``cxnlp.backends.dask`` runs the per-row stages on a
Dask cluster and the corpus stages once on the client (see ``docs/dask.md``).
"""

from __future__ import annotations

__all__: list[str] = []
