"""Parquet files and JSON (an array of objects, or JSON Lines) as tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .layouts import _check_rows, _dedupe, _detect_layout, _finish
from .xlsx import _cell_str


def _read_parquet(path: Path, name: str) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises ArrowInvalid, OSError, ...
        raise InputError(
            f"{name} cannot be read as Parquet ({type(e).__name__}: {e}). The file may be "
            "truncated: write or download it again."
        ) from None
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    header = [str(c).strip() for c in df.columns]
    head = [[_none_if_na(v) for v in r] for r in df.head(2).astype(object).values.tolist()]
    if _detect_layout(header, head)[0] != "plain":
        # A survey export saved to Parquet with its extra header rows: treat it as a grid.
        body = [[_none_if_na(v) for v in r] for r in df.astype(object).values.tolist()]
        return _finish(header, body, {"format": "parquet"}, name)
    df = df.reset_index(drop=True)
    df.columns = _dedupe(header)
    _check_rows(df, name, "plain", 0)
    df.attrs.update(source=name, layout="plain", questions={}, format="parquet")
    return df


def _none_if_na(v: Any) -> Any:
    if v is None or (np.ndim(v) == 0 and not isinstance(v, str) and pd.isna(v)):
        return None
    return _cell_str(v)


def _read_json(text: str, name: str, ext: str, first_line: int = 1) -> pd.DataFrame:
    records: list[Any]
    fmt = "json"
    stripped = text.strip()
    whole: Any = None
    whole_error: ValueError | None = None
    if ext != ".jsonl" and ext != ".ndjson":
        try:
            whole = json.loads(stripped)
        except ValueError as e:
            whole_error = e
    if whole is not None:
        if isinstance(whole, list):
            records = whole
        elif isinstance(whole, dict):
            lists = [k for k, v in whole.items() if isinstance(v, list)]
            if len(lists) == 1 and all(isinstance(r, dict) for r in whole[lists[0]]):
                records = whole[lists[0]]
            else:
                records = [whole]
        else:
            raise InputError(
                f"{name} holds a single JSON {type(whole).__name__}; expected a JSON array of "
                "objects (one per response) or JSON Lines (one object per line)."
            )
    else:
        fmt = "jsonl"
        records = []
        for i, line in enumerate(text.splitlines(), start=first_line):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as e:
                if whole_error is not None and not records:
                    raise InputError(
                        f"{name} is not valid JSON ({whole_error}); expected a JSON array of "
                        "objects or JSON Lines (one object per line). Fix the file or export it "
                        "again."
                    ) from None
                raise InputError(
                    f"{name}: line {i} is not valid JSON ({e}); expected one JSON object per "
                    "line. Fix or remove that line, or export the file again."
                ) from None
    if not records:
        raise InputError(
            f"{name} holds no records (an empty JSON array); expected one object per response."
        )
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            where = f"line {i + first_line}" if fmt == "jsonl" else f"item {i}"
            raise InputError(
                f"{name}: {where} is a JSON {type(r).__name__}, not an object; expected one "
                'object per response, like {"id": 1, "comment": "..."}.'
            )
    columns: dict[str, None] = {}
    for r in records:
        for k in r:
            columns.setdefault(str(k), None)
    header = list(columns)
    body = [[_json_str(r.get(c)) for c in header] for r in records]
    # keys are always strings in JSON, so only non-string keys would need str(); records use
    # the original keys, which are the same strings.
    return _finish(header, body, {"format": fmt}, name)


def _json_str(v: Any) -> str | None:
    """A JSON value as a cell: nested objects and arrays stay JSON text."""
    return json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else _cell_str(v)
