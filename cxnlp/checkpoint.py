"""Chunk checkpoints: each finished chunk is written as Parquet parts, so a killed run resumes.

A store belongs to one (input, config, chunk size, models) key; resuming with another key is
refused with a clear error instead of mixing results. Parts are written to a temporary name
and renamed, so a chunk is either complete on disk or absent.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from .errors import CxnlpError

TABLES = ("responses", "sentences", "mentions")


class ChunkStore:
    """Parquet parts of finished chunks under ``folder``, tied to a run ``key``.

    Parameters
    ----------
    folder : path
        Where parts live (the CLI uses ``OUT/.cxnlp-parts``).
    key : dict
        What must match for parts to be reused (input hash, config, chunk size, models).
    resume : bool
        Keep matching parts from an earlier run; otherwise start clean.
    """

    def __init__(self, folder: str | Path, key: dict[str, Any], resume: bool = False) -> None:
        self.folder = Path(folder)
        self.key = key
        digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
        state = self.folder / "state.json"
        if resume and state.exists():
            old = json.loads(state.read_text(encoding="utf-8"))
            if old.get("digest") != digest:
                changed = sorted(k for k in key if old.get("key", {}).get(k) != key[k])
                raise CxnlpError(
                    f"Cannot resume from {self.folder}: the run changed since it was written "
                    f"({', '.join(changed) or 'settings'}). Run without --resume to start again."
                )
        else:
            if self.folder.exists():
                shutil.rmtree(self.folder)
            self.folder.mkdir(parents=True)
            state.write_text(
                json.dumps({"digest": digest, "key": key}, indent=1, default=str), encoding="utf-8"
            )

    def _path(self, index: int, table: str) -> Path:
        return self.folder / f"{index:06d}.{table}.parquet"

    def done(self) -> set[int]:
        """Indices of chunks whose every table is on disk."""
        found = [int(p.name.split(".")[0]) for p in self.folder.glob("*.responses.parquet")]
        return {i for i in found if all(self._path(i, t).exists() for t in TABLES)}

    def save(self, index: int, chunk: NamedTuple) -> None:
        # responses last: done() keys on it, so a chunk counts only once all tables exist
        for table in reversed(TABLES):
            tmp = self._path(index, table).with_suffix(".tmp")
            getattr(chunk, table).to_parquet(tmp, index=False)
            tmp.replace(self._path(index, table))

    def load(self, index: int) -> dict[str, pd.DataFrame]:
        return {t: pd.read_parquet(self._path(index, t)) for t in TABLES}

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
