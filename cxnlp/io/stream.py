"""Reading a large export piece by piece (:func:`iter_feedback`), cut at record
boundaries so that the pieces, concatenated, equal :func:`~.read.read_feedback`.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from .decode import _decode
from .delimited import (
    _NO_DELIMITER,
    _blank_record,
    _detect_delimiter,
    _parse_delimited,
    _resolve_delimiter,
)
from .layouts import _dedupe, _detect_layout, _finish
from .parquet_json import _none_if_na, _read_json
from .read import _allow_long_fields, read_feedback
from .sniff import (
    _EXT_KIND,
    _TEXT_EXT,
    _check_extension,
    _json_line,
    _sniff_binary_kind,
    _sniff_text_kind,
    _wide_text,
)

#: Size of the pieces :func:`iter_feedback` cuts text exports into.
PIECE_BYTES = 32 * 2**20


def iter_feedback(
    path: str | os.PathLike[str],
    *,
    piece_bytes: int | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Read an export piece by piece, so memory holds one piece and not the whole file.

    Delimited text and JSON Lines are cut at record boundaries (CSV quoting respected) into
    pieces of about ``piece_bytes``; each piece is read exactly as :func:`read_feedback` reads
    a file (same decoding, survey layouts, checks, and errors that name the file's own line
    numbers). Parquet is read by row batches. XLSX, JSON arrays, UTF-16/32 text and files
    smaller than one piece are read whole. Concatenated, the pieces equal
    ``read_feedback(path)``: no row is lost or repeated.

    Parameters
    ----------
    path : str or path-like
        The export file.
    piece_bytes : int, optional
        About how many bytes of the file each piece holds; :data:`PIECE_BYTES` (read when
        called, so a change to it takes effect) by default.
    sheet, encoding, delimiter
        As for :func:`read_feedback`.

    Yields
    ------
    pandas.DataFrame
        Consecutive pieces of the table, each with the attrs :func:`read_feedback` sets.
    """
    _allow_long_fields()
    piece_bytes = PIECE_BYTES if piece_bytes is None else piece_bytes
    p = Path(path)
    whole = dict(sheet=sheet, encoding=encoding, delimiter=delimiter)
    if not p.is_file() or p.stat().st_size <= piece_bytes:
        yield read_feedback(p, **whole)
        return
    with open(p, "rb") as fh:
        head = fh.read(65536)
    name, ext = p.name, p.suffix.lower()
    found = _sniff_binary_kind(head, name, ext, encoding)
    if found == "parquet":
        yield from _iter_parquet(p, name, piece_bytes)
        return
    if found == "xlsx" or _wide_text(head, encoding):
        yield read_feedback(p, **whole)
        return
    cut = head[: head.rfind(b"\n") + 1] or head
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pieces give their own warnings
        text, _ = _decode(cut, name, encoding)
    kind = _sniff_text_kind(text, name)
    _check_extension(name, ext, _EXT_KIND.get(ext), kind)
    lines = text.lstrip().splitlines()
    if kind == "json" and not (lines and _json_line(lines[0]) is not None and len(lines) > 1):
        yield read_feedback(p, **whole)  # a JSON array (or one object): not line-based
        return
    delim = (
        None
        if kind == "json"
        else (_resolve_delimiter(delimiter, name) or _detect_delimiter(text, _TEXT_EXT.get(ext)))
    )
    columns: list[str] | None = None
    header = b""
    for raw, first_line, ends in _record_pieces(p, delim, piece_bytes):
        if columns is None:  # the first piece holds the header rows
            frame = _read_piece(raw, name, encoding, delim, 1, 0)
            skip = frame.attrs.get("header_rows", 1) - 1
            titles = frame.attrs.get("title_rows", 0)  # not repeated above later pieces
            # no ends: the csv reader failed at once, so this one piece is the whole file
            start = ends[titles - 1] if titles and ends else 0
            end = ends[min(titles + skip, len(ends) - 1)] if ends else 0
            header = b"" if delim is None or not ends else raw[start:end]
            columns = list(frame.columns)
        else:
            n_header = len(header.splitlines())  # lines as the parser counts them (also \r)
            frame = _read_piece(header + raw, name, encoding, delim, first_line, n_header)
            if frame is None:
                continue
            extra = [c for c in frame.columns if c not in columns]
            if extra and delim is not None:
                raise InputError(
                    f"{name}: rows from line {first_line} on fill column(s) {extra} that are "
                    "empty above. Read the file whole (set io.stream_above_mb higher) or "
                    "give those columns a header."
                )
            columns += extra
            frame = frame.reindex(columns=columns)
        yield frame


def _read_piece(
    raw: bytes, name: str, encoding: str | None, delim: str | None, first_line: int, n_header: int
) -> pd.DataFrame | None:
    """One piece as a table (None when a later piece holds no responses, e.g. blank lines)."""
    text, used = _decode(raw, name, encoding)
    if delim is None:
        if first_line > 1 and not text.strip():
            return None
        return _read_json(text, name, ".jsonl", first_line)
    head, body, titles = _parse_delimited(
        text, name, delim, shift=first_line - 1 - n_header, find_title=first_line == 1
    )
    if first_line > 1 and not any(c.strip() for row in body for c in row if c):
        return None
    attrs = {"format": "csv", "encoding": used, "title_rows": titles,
             "delimiter": None if delim == _NO_DELIMITER else delim}  # fmt: skip
    return _finish(head, body, attrs, name)


#: Records the first piece of :func:`iter_feedback` holds at least: up to 5 title lines, up to
#: 3 header rows and the 40 rows under them that :func:`_title_rows` looks at.
_FIRST_RECORDS = 48


def _record_pieces(
    path: Path, delim: str | None, piece_bytes: int
) -> Iterator[tuple[bytes, int, list[int]]]:
    """Cut a text file into pieces of whole records: (bytes, first line, record ends).

    Record boundaries come from the same ``csv`` reader the parser uses (over the bytes read
    as latin-1, in which quotes, delimiters and newlines keep their byte values, and split into
    lines at ``\n``, ``\r\n`` or a lone ``\r`` as the parser splits them), so a quoted field
    with line breaks is never cut. ``record ends`` (first piece only) are the byte offsets
    where its first records end, blank lines not counted, to find the title and header rows.
    The first piece holds at least :data:`_FIRST_RECORDS` records, so it decides about title
    and header rows on the records a whole read looks at.
    """
    with open(path, encoding="latin-1", newline="") as fh:
        piece: list[str] = []
        size = lines = piece_line = first = 0
        ends: list[int] = []

        def feed() -> Iterator[str]:
            nonlocal size, lines
            for line in fh:
                piece.append(line)
                size += len(line)  # latin-1: one character per byte
                lines += 1
                yield line

        records: Iterator[Any] = (
            iter(feed()) if delim is None
            else csv.reader(feed(), delimiter=delim, quotechar='"', doublequote=True, strict=False)
        )  # fmt: skip
        try:
            for row in records:
                if piece_line == 0 and not _blank_record(row):
                    first += 1
                    if len(ends) < 10:
                        ends.append(size)
                # the first piece keeps the title and header rows and responses under them
                if size >= piece_bytes and (piece_line or first >= _FIRST_RECORDS):
                    yield "".join(piece).encode("latin-1"), piece_line + 1, ends
                    piece.clear()
                    size, piece_line, ends = 0, lines, []
        except csv.Error:
            piece.extend(fh.readlines())  # let the parser report the problem with its line
        if piece:
            yield "".join(piece).encode("latin-1"), piece_line + 1, ends


def _iter_parquet(path: Path, name: str, piece_bytes: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        meta = pf.metadata
        size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        rows = int(piece_bytes / max(1.0, size / max(1, meta.num_rows)))
        batches = pf.iter_batches(batch_size=min(max(rows, 1000), 200_000))
        first = next(batches, None)
    except Exception:  # noqa: BLE001 - read_feedback gives the full, clear error
        yield read_feedback(path)
        return
    if first is None:
        yield read_feedback(path)
        return
    head = first.to_pandas()
    header = [str(c).strip() for c in head.columns]
    rows2 = [[_none_if_na(v) for v in r] for r in head.head(2).astype(object).values.tolist()]
    if _detect_layout(header, rows2)[0] != "plain" or not isinstance(head.index, pd.RangeIndex):
        yield read_feedback(path)
        return
    columns = _dedupe(header)
    for batch in [first, *batches]:
        df = batch.to_pandas() if batch is not first else head
        df.columns = columns
        df.attrs.update(source=name, layout="plain", questions={}, format="parquet")
        yield df.reset_index(drop=True)
