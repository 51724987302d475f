"""Writing tables: CSV (formula injection neutralised), Parquet, JSON Lines and XLSX, whole
(:func:`write_table`) or piece by piece (:func:`write_table_pieces`).
"""

from __future__ import annotations

import json
import os
import re
import uuid
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, ReadWarning

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_EXCEL_MAX_CHARS = 32767
_EXCEL_MAX_ROWS = 1_048_576
#: Rows per slice when writing Parquet (bounds the Arrow copy of a large table).
WRITE_ROWS = 100_000


def _neutralise(v: Any) -> Any:
    if isinstance(v, str) and v.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(v):
        return "'" + v
    return v


def write_table(df: pd.DataFrame, path: str | os.PathLike[str], *, bom: bool = False) -> Path:
    """Write a table as ``.csv``, ``.tsv``, ``.parquet``, ``.jsonl`` or ``.xlsx``.

    The file is written next to its destination and moved into place when complete, so a failed
    write never leaves half a file. Missing parent folders are created.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; its index is not written.
    path : str or path-like
        Destination; the extension picks the format.
    bom : bool, default False
        CSV/TSV only: start the file with a UTF-8 byte-order mark (lets old Excel versions
        detect UTF-8).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        For an unsupported extension, or a table that does not fit an XLSX sheet.

    Notes
    -----
    CSV/TSV are UTF-8. Text cells (and headers) that a spreadsheet would run as a formula
    (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) get a leading ``'``;
    plain numbers such as ``-3.5`` are left alone, as are numeric columns. XLSX cells are
    written as strings, never formulas or links, so they need no prefix; text over Excel's
    32,767-character cell limit is cut (with a :class:`ReadWarning`). JSON Lines writes one
    object per row with ``null`` for missing values and ISO dates.
    """
    p = Path(path)
    ext = p.suffix.lower()
    writers = {
        ".csv": _write_csv,
        ".tsv": _write_csv,
        ".parquet": _write_parquet,
        ".jsonl": _write_jsonl,
        ".xlsx": _write_xlsx,
    }
    if ext not in writers:
        raise InputError(
            f"Cannot write {p.name}: unsupported extension {ext or '(none)'!r}; expected one of "
            f"{', '.join(writers)}. Change the file name's extension."
        )
    if ext == ".xlsx" and len(df) + 1 > _EXCEL_MAX_ROWS:
        raise InputError(
            f"Cannot write {p.name}: {len(df):,} rows do not fit an Excel sheet "
            f"({_EXCEL_MAX_ROWS - 1:,} at most). Write .parquet or .csv instead."
        )
    p.parent.mkdir(parents=True, exist_ok=True)
    # a fresh name, created by the writer: mkstemp's file would keep its 0600 mode, and the
    # tables would be unreadable to the colleagues the folder is shared with
    tmp = p.with_name(f".{p.name}.{uuid.uuid4().hex}.tmp")
    try:
        if ext in (".csv", ".tsv"):
            _write_csv(df, tmp, sep="\t" if ext == ".tsv" else ",", bom=bom)
        else:
            writers[ext](df, tmp)  # type: ignore[operator]
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()
    return p


def flatten_lists(df: pd.DataFrame) -> pd.DataFrame:
    """Lists become ``a; b`` strings so CSV cells stay readable."""
    out = df.copy()
    seq = (list, tuple, np.ndarray)
    for col in out.columns:
        if out[col].dtype == object and out[col].map(lambda v: isinstance(v, seq)).any():
            out[col] = out[col].map(lambda v: "; ".join(map(str, v)) if isinstance(v, seq) else v)
    return out


#: Rows per Parquet row group of a table written in pieces (:func:`write_table_pieces`).
ROW_GROUP_ROWS = 65_536


def write_table_pieces(
    pieces: Iterable[Any], schema: Any, out_dir: Path, name: str
) -> dict[str, Path]:
    """Write Arrow tables of one ``schema`` in order as ``name.parquet`` and ``name.csv``.

    What :func:`write_table` gives for the whole table (CSV cells protected, lists joined),
    holding one piece at a time; both files are moved into place when complete. Parquet row
    groups hold :data:`ROW_GROUP_ROWS` rows whatever the pieces, so the file's bytes do not
    depend on how the run was chunked.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out_dir.mkdir(parents=True, exist_ok=True)
    final = {ext: out_dir / f"{name}.{ext}" for ext in ("parquet", "csv")}
    tmp = {ext: p.with_name(f".{p.name}.tmp") for ext, p in final.items()}
    try:
        with (
            pq.ParquetWriter(tmp["parquet"], schema) as writer,
            open(tmp["csv"], "w", encoding="utf-8", newline="") as csv_file,
        ):
            held = pa.Table.from_batches([], schema)

            def write(rows: pa.Table) -> None:  # one contiguous row group
                writer.write_table(rows.combine_chunks(), row_group_size=ROW_GROUP_ROWS)

            for k, piece in enumerate(pieces):
                held = pa.concat_tables([held, piece])
                while held.num_rows >= ROW_GROUP_ROWS:
                    write(held.slice(0, ROW_GROUP_ROWS))
                    held = held.slice(ROW_GROUP_ROWS)
                _write_csv(flatten_lists(piece.to_pandas()), csv_file, header=k == 0)
            if held.num_rows:
                write(held)
        for ext, p in final.items():
            os.replace(tmp[ext], p)
    finally:
        for p in tmp.values():
            p.unlink(missing_ok=True)
    return {p.name: p for p in final.values()}


def _text_columns(df: pd.DataFrame) -> list[Any]:
    return [
        c
        for c in df.columns
        if pd.api.types.is_object_dtype(df[c].dtype) or pd.api.types.is_string_dtype(df[c].dtype)
    ]


def _write_csv(
    df: pd.DataFrame, path: Any, sep: str = ",", bom: bool = False, header: bool = True
) -> None:
    """CSV of ``df`` to a path or an open text file, ``WRITE_ROWS`` rows at a time.

    Slices keep the protected copy small (text cells become Python strings here); the
    column dtypes are the whole table's, so the text is the same as one ``to_csv``.
    """
    if isinstance(path, (str, os.PathLike)):
        with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
            _write_csv(df, f, sep=sep, header=header)
        return
    names = [_neutralise(str(c)) for c in df.columns]
    text = _text_columns(df)
    for s in range(0, max(len(df), 1), WRITE_ROWS):
        out = df.iloc[s : s + WRITE_ROWS].copy()
        out.attrs = {}
        for c in text:
            out[c] = out[c].astype(object).map(_neutralise)
        out.columns = names
        out.to_csv(path, index=False, sep=sep, lineterminator="\n", header=header and s == 0)


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = df.copy()
    out.attrs = _json_safe(df.attrs)
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        if pd.api.types.is_object_dtype(out[c].dtype):
            types = {type(v) for v in out[c].dropna()}
            mixed = len(types) > 1 or (types and not types <= {str, bytes})
            if mixed and not all(issubclass(t, (list, tuple, dict, np.ndarray)) for t in types):
                out[c] = out[c].map(lambda v: v if v is None or pd.isna(v) is True else str(v))
    out = out.reset_index(drop=True)
    # one schema for the whole table, written in slices: a million rows never exist twice
    # (as pandas and as Arrow) at once; attrs go where pandas.read_parquet looks for them
    schema = pa.Schema.from_pandas(out, preserve_index=False)
    if out.attrs:
        schema = schema.with_metadata(
            {**(schema.metadata or {}), b"PANDAS_ATTRS": json.dumps(out.attrs).encode()}
        )
    with pq.ParquetWriter(path, schema) as writer:
        for s in range(0, len(out), WRITE_ROWS):
            part = out.iloc[s : s + WRITE_ROWS]
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))
        if not len(out):
            writer.write_table(schema.empty_table())


def _json_safe(attrs: dict[str, Any]) -> dict[str, Any]:
    try:
        json.dumps(attrs)
        return dict(attrs)
    except (TypeError, ValueError):
        return {}


def _write_jsonl(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    out.attrs = {}
    out.reset_index(drop=True).to_json(
        path, orient="records", lines=True, force_ascii=False, date_format="iso"
    )


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    out.attrs = {}
    cut = 0
    for c in out.columns:
        col = out[c]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            out[c] = col.dt.tz_localize(None)
        elif c in _text_columns(out):
            lengths = col.astype(object).map(lambda v: len(v) if isinstance(v, str) else 0)
            if (lengths > _EXCEL_MAX_CHARS).any():
                cut += int((lengths > _EXCEL_MAX_CHARS).sum())
                out[c] = col.astype(object).map(
                    lambda v: v[:_EXCEL_MAX_CHARS] if isinstance(v, str) else v
                )
    if cut:
        warnings.warn(
            f"{cut} cell(s) longer than Excel's {_EXCEL_MAX_CHARS:,} characters were cut in "
            f"{path.name}; write .parquet or .csv to keep them whole.",
            ReadWarning,
            3,
        )
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": options}) as xw:
        out.to_excel(xw, index=False, sheet_name="data")
