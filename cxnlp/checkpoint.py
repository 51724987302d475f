"""Chunk checkpoints: each finished chunk is written as Parquet parts, so a killed run resumes.

A store belongs to one (input, config, chunk size, models) key; resuming with another key is
refused with a clear error instead of mixing results. Parts are written to a temporary name
and renamed, so a chunk is either complete on disk or absent.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Collection, Iterable, Mapping, Sequence
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
            try:
                old = json.loads(state.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise CxnlpError(
                    f"Cannot resume from {self.folder}: its state.json is damaged ({exc}). Run "
                    "without --resume to start again."
                ) from None
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
            tmp = state.with_suffix(".tmp")  # moved into place: whole or absent, never half
            tmp.write_text(
                json.dumps({"digest": digest, "key": key}, indent=1, default=str), encoding="utf-8"
            )
            tmp.replace(state)

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

    def _parts(self, table: str) -> list[Path]:
        return [self._path(i, table) for i in sorted(self.done())]

    def tables(
        self, names: Sequence[str] = TABLES, drop: Mapping[str, Collection[str]] | None = None
    ) -> dict[str, pd.DataFrame]:
        """Every finished chunk's tables (of ``names``), concatenated in chunk order.

        The parts are joined as Arrow tables (strings packed, no Python object per cell) and
        converted one table at a time, so a million rows take little more than the pandas
        tables themselves (issue 7: bounded memory). ``drop`` names columns per table that
        stay on disk (:meth:`columns` reads them back).
        """
        drop = drop or {}
        return {t: self.columns(t, exclude=drop.get(t, ())) for t in names}

    def columns(
        self, table: str, names: Sequence[str] | None = None, exclude: Collection[str] = ()
    ) -> pd.DataFrame:
        """Columns ``names`` (default: all but ``exclude``) of ``table``, in chunk order."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = []
        for p in self._parts(table):
            have = pq.read_schema(p).names
            want = [c for c in (have if names is None else names) if c not in exclude]
            parts.append(pq.read_table(p, columns=want))
        if not parts:
            return pd.DataFrame()
        # a part whose column is all empty has type null: unify it with the others
        joined = pa.concat_tables(parts, promote_options="permissive")
        del parts
        frame = joined.to_pandas(split_blocks=True, self_destruct=True)
        del joined
        pa.default_memory_pool().release_unused()  # hand the Arrow copy back to the OS
        return frame

    def column_names(self, table: str) -> list[str]:
        """The columns of ``table`` as the parts hold them, in order."""
        import pyarrow.parquet as pq

        paths = self._parts(table)
        return pq.read_schema(paths[0]).names if paths else []

    def rows(self, table: str, row_ids: Iterable[int]) -> pd.DataFrame:
        """The rows of ``table`` whose ``row_id`` is in ``row_ids``, read part by part."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        ids = pa.array(sorted({int(i) for i in row_ids}), pa.int64())
        parts = [pq.read_table(p, filters=[("row_id", "in", ids)]) for p in self._parts(table)]
        if not parts:
            return pd.DataFrame()
        return pa.concat_tables(parts, promote_options="permissive").to_pandas()

    def export(self, table: str, out_dir: str | Path) -> dict[str, Path]:
        """Write ``table`` to ``OUT/<table>.parquet`` and ``.csv`` a part at a time.

        The same files :meth:`cxnlp.results.Results.save` writes for an in-memory table,
        without ever holding the whole table.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        from .io import write_table_pieces

        paths = self._parts(table)
        if not paths:
            raise CxnlpError(f"No finished chunks in {self.folder} to export {table} from.")
        schema = pa.unify_schemas([pq.read_schema(p) for p in paths], promote_options="permissive")

        def pieces():
            for p in paths:
                yield pq.read_table(p).cast(schema)

        return write_table_pieces(pieces(), schema, Path(out_dir), table)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
