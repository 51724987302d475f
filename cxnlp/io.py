"""Reading feedback exports, deciding which column means what, and writing tables back.

Three public entry points:

- :func:`read_feedback` turns a file (CSV/TSV/TXT, XLSX, Parquet, JSON Lines or a JSON array,
  including Qualtrics and SurveyMonkey header layouts) into one tidy table: one header row, one
  DataFrame row per response.
- :func:`detect_columns` guesses (or takes from the user) the free-text, score, date, segment and
  id columns and returns a :class:`ColumnMap`; :func:`parse_scores` turns a score column into
  numbers with a per-row "invalid" flag.
- :func:`write_table` writes a table as CSV (formula injection neutralised), Parquet, JSON Lines
  or XLSX.

Every problem with a user's file raises :class:`~cxnlp.errors.InputError` with a message that
says what was found, what was expected and how to fix it; problems that were recovered from are
reported with a :class:`ReadWarning`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import uuid
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from .config import ScoreKind
from .errors import ConfigError, InputError, NoResponses

__all__ = [
    "SCORE_KINDS",
    "SCORE_RANGES",
    "ColumnMap",
    "ReadWarning",
    "ScoreKind",
    "detect_columns",
    "parse_scores",
    "read_feedback",
    "write_table",
]

SCORE_KINDS: tuple[str, ...] = get_args(ScoreKind)
#: Valid range of each score kind (inclusive). NPS, CSAT and CES must also be whole numbers.
SCORE_RANGES: dict[str, tuple[float, float]] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
    "rating": (1, 5),
    "recommend": (0, 1),
}
_INTEGER_KINDS = {"nps", "csat", "ces", "recommend"}

#: An XLSX whose parts would unpack to more than this is refused before it is opened.
XLSX_MAX_UNCOMPRESSED_BYTES = 1 << 30
#: ... and so is one with a part over ``XLSX_MAX_RATIO`` times smaller packed than unpacked
#: once that part unpacks to more than ``XLSX_RATIO_MIN_BYTES`` (real sheets pack ~5-30x).
XLSX_MAX_RATIO = 200
XLSX_RATIO_MIN_BYTES = 32 << 20
_XLSX_MAX_PARTS = 10_000
#: A CSV record spanning more lines than this gets a warning (probably an unmatched quote).
_MAX_RECORD_LINES = 100
#: csv's field size limit while cxnlp reads (the largest a C long holds on every platform).
_CSV_FIELD_LIMIT = 2**31 - 1

_STR_DTYPE: Any = "str" if int(pd.__version__.split(".")[0]) >= 3 else object
_DELIMITERS = (",", ";", "\t", "|")
_NO_DELIMITER = "\x1f"  # for one-column files: a character that never occurs in text
_TEXT_EXT = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None, ".dat": None, "": None}
_EXT_KIND = {
    **dict.fromkeys(_TEXT_EXT, "delimited"),
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_KIND_WHAT = {
    "delimited": "CSV/delimited text",
    "xlsx": "an Excel workbook (XLSX)",
    "parquet": "a Parquet file",
    "json": "JSON",
    "html": "an HTML page",
    "xml": "an XML document",
}
_KIND_EXT = {"delimited": ".csv", "xlsx": ".xlsx", "parquet": ".parquet", "json": ".jsonl"}

# Where each field of the column mapping can be set, for error messages.
#: How to name a column, for the command line, Python and a config alike.
_HOW_TO_SET = {
    "text": "Name it: --text-column COL, text_column='COL' in Python, or io.text_column.",
    "scores": "Name it: --score-column COL=KIND, score_columns={'COL': 'KIND'} in Python, or "
              "io.score_columns.",
    "date": "Name it: --date-column COL, date_column='COL' in Python, or io.date_column.",
    "segments": "Name them: --segment-column COL, segment_columns=['COL'] in Python, or "
                "io.segment_columns.",
    "id": "Name it: --id-column COL, id_column='COL' in Python, or io.id_column.",
}


class ReadWarning(UserWarning):
    """A problem in the input that was recovered from (the message says how)."""


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


def require_file(path: str | os.PathLike[str], glob_hint: str) -> None:
    """Refuse a path that is not there, saying what to do; a glob that matches files is not a
    typo, so it gets ``glob_hint`` (where globs do run) instead of "not found"."""
    import glob

    if Path(path).exists():
        return
    if glob.has_magic(str(path)) and (matched := glob.glob(str(path))):
        raise InputError(f"{path} is a pattern matching {len(matched)} file(s): {glob_hint}")
    raise file_not_found(Path(path))


def file_not_found(path: Path) -> InputError:
    """The one error for a missing input file; a relative path also names the working folder."""
    where = "" if path.is_absolute() else f" (it is relative to {Path.cwd()})"
    return InputError(f"File not found: {path}. Check the path{where}.")


def read_feedback(
    path: str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> pd.DataFrame:
    """Read a feedback export into one tidy table: one row per response, one header row.

    The format is decided by the file's content and checked against its extension: CSV/TSV/TXT
    (any of ``,`` ``;`` tab ``|``), XLSX, Parquet, JSON Lines, or a JSON array of objects.
    Qualtrics (three header rows) and SurveyMonkey (two header rows) layouts are recognised and
    reduced to one header row.

    Parameters
    ----------
    path : str or path-like
        The export file.
    sheet : str or int, optional
        XLSX only: sheet name or 0-based position. Default: the first sheet that has data (a
        :class:`ReadWarning` names the others if several have data).
    encoding : str, optional
        Text only: the encoding to use (strictly). Default: detected, trying UTF-8 (with or
        without BOM) first, then cp1252, then latin-1; UTF-16 and UTF-32 with a BOM, and
        mostly-ASCII UTF-16 without one, are read too. A file whose lines mix UTF-8 and cp1252
        is decoded line by line with a :class:`ReadWarning`.
    delimiter : str, optional
        Text only: the field delimiter (``"\\t"`` or ``"tab"`` for tab). Default: detected
        among ``,`` ``;`` tab ``|``.

    Returns
    -------
    pandas.DataFrame
        One row per response with a ``RangeIndex``. CSV, TSV, JSON and XLSX columns are all
        strings (so an id like ``00123`` survives; scores are parsed later by
        :func:`parse_scores`) with missing values as NA; Parquet keeps its own types.
        ``df.attrs`` holds ``source`` (file name), ``format`` (``csv``, ``xlsx``, ``parquet``,
        ``json``, ``jsonl``), ``layout`` (``"plain"``, ``"qualtrics"`` or ``"surveymonkey"``),
        ``questions`` (column -> question text, survey layouts only, else empty) and, where they
        apply, ``encoding``, ``delimiter`` and ``sheet``.

    Raises
    ------
    InputError
        For every problem with the file: missing, empty, header only, not what its extension
        says (an XLSX named ``.csv``, an HTML error page, binary data), ragged rows (the lines are
        named), an explicit encoding that does not fit, an oversized or corrupt XLSX, invalid JSON.

    Notes
    -----
    No response is dropped silently. Blank lines in text files and rows whose every cell is
    empty are not responses and are skipped (a :class:`ReadWarning` is given when empty rows sit
    between responses; trailing ones, typical of spreadsheets, are skipped quietly). Rows with
    fewer fields than the header are padded with NA (with a warning); rows with more non-empty
    fields than the header raise an :class:`InputError` naming the lines. Trailing columns
    without a header and without any value are dropped; other columns without a header are
    named ``Unnamed: <position>`` and repeated names get ``.1``, ``.2`` suffixes, as in pandas.
    """
    _allow_long_fields()
    p = Path(path)
    name = p.name
    if not p.exists():
        raise file_not_found(p)
    if p.is_dir():
        raise InputError(f"{p} is a folder, not an export file. Pass the file inside it.")
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(65536)
    except OSError as e:
        raise InputError(
            f"Cannot open {name}: {e.strerror or e}. Check the file's permissions."
        ) from e
    if size == 0:
        raise InputError(
            f"{name} is empty (0 bytes); expected an export with a header row and responses. "
            "Export the data again."
        )

    ext = p.suffix.lower()
    if ext == ".xls":
        expected: str | None = "xls"
    else:
        expected = _EXT_KIND.get(ext)
    found = _sniff_binary_kind(head, name, ext, encoding)

    if found in ("xlsx", "parquet"):
        _check_extension(name, ext, expected, found)
        if sheet is not None and found != "xlsx":
            warnings.warn(f"sheet={sheet!r} ignored: {name} is not a workbook.", ReadWarning, 2)
        if found == "xlsx":
            header, body, attrs = _read_xlsx(p, name, sheet)
            return _finish(header, body, attrs, name)
        return _read_parquet(p, name)

    # Text of some kind.
    if sheet is not None:
        warnings.warn(f"sheet={sheet!r} ignored: {name} is not a workbook.", ReadWarning, 2)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(f"Cannot read {name}: {e.strerror or e}.") from e
    text, used_encoding = _decode(raw, name, encoding)
    if not text.strip():
        raise InputError(
            f"{name} holds no data (only whitespace); expected an export with a header row and "
            "responses. Export the data again."
        )
    found = _sniff_text_kind(text, name)
    _check_extension(name, ext, expected, found)
    if found == "json":
        return _read_json(text, name, ext)
    delim = _resolve_delimiter(delimiter, name) or _detect_delimiter(text, _TEXT_EXT.get(ext))
    header, body, titles = _parse_delimited(text, name, delim)
    attrs = {
        "format": "csv",
        "encoding": used_encoding,
        "delimiter": None if delim == _NO_DELIMITER else delim,
        "title_rows": titles,
    }
    return _finish(header, body, attrs, name)


#: Size of the pieces :func:`iter_feedback` cuts text exports into.
PIECE_BYTES = 32 * 2**20


def iter_feedback(
    path: str | os.PathLike[str],
    *,
    piece_bytes: int = PIECE_BYTES,
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
    piece_bytes : int
        About how many bytes of the file each piece holds.
    sheet, encoding, delimiter
        As for :func:`read_feedback`.

    Yields
    ------
    pandas.DataFrame
        Consecutive pieces of the table, each with the attrs :func:`read_feedback` sets.
    """
    _allow_long_fields()
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


def _allow_long_fields() -> None:
    """Let ``csv`` read fields of any length, so one long comment does not refuse the file.

    csv's default limit (131,072 characters) fails the whole parse; a long comment should read,
    and the pipeline gives it its status (``clean.max_chars``) as it does for Parquet and JSON.
    The limit is process-wide: it is raised once and never lowered, as restoring it after each
    read would race with reads running at the same time in other threads.
    """
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)


def _read_piece(
    raw: bytes, name: str, encoding: str | None, delim: str | None, first_line: int, n_header: int
) -> pd.DataFrame | None:
    """One piece as a table (None when a later piece holds no responses, e.g. blank lines)."""
    text, used = _decode(raw, name, encoding)
    if delim is None:
        if first_line > 1 and not text.strip():
            return None
        return _read_json(text, name, ".jsonl", first_line)
    head, body, titles = _parse_delimited(text, name, delim, shift=first_line - 1 - n_header,
                                          find_title=first_line == 1)
    if first_line > 1 and not any(c.strip() for row in body for c in row if c):
        return None
    attrs = {"format": "csv", "encoding": used, "title_rows": titles,
             "delimiter": None if delim == _NO_DELIMITER else delim}  # fmt: skip
    return _finish(head, body, attrs, name)


#: Records the first piece of :func:`iter_feedback` holds at least: up to 5 title lines, up to
#: 3 header rows and the 40 rows under them that :func:`_title_rows` looks at.
_FIRST_RECORDS = 48


def _blank_record(row: list[str] | str) -> bool:
    """A blank line, which the parser skips: no fields, or one of only spaces."""
    if isinstance(row, str):  # JSON Lines: a line
        return not row.strip()
    return not row or (len(row) == 1 and not row[0].strip())


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


# --- format sniffing --------------------------------------------------------------------------

_MAGIC = [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!", "rar"),
    (b"%PDF", "pdf"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"SQLite format 3", "sqlite"),
]
_ARCHIVE_WHAT = {
    "gzip": "a gzip-compressed file",
    "bzip2": "a bzip2-compressed file",
    "7z": "a 7-Zip archive",
    "rar": "a RAR archive",
    "pdf": "a PDF document",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gif": "a GIF image",
    "sqlite": "an SQLite database",
}


def _tagged_header(text: str) -> bool:
    """Whether the first line is a table header that holds HTML ("<b>Comment</b>,Rating"):
    a delimiter outside every tag, at nesting depth 0. A comma inside an element's text
    (``<r><c>Late, and rude</c></r>``) is XML's."""
    depth = 0
    first = text.splitlines()[0] if text else ""
    for tag, between in re.findall(r"(<[^>]*>)|([^<]+)", first):
        if tag:
            closing, single = tag.startswith("</"), tag.endswith("/>") or tag[1:2] in "?!"
            depth += -1 if closing else (0 if single else 1)
        elif depth <= 0 and any(d in between for d in _DELIMITERS):
            return True
    return False


def _sniff_binary_kind(head: bytes, name: str, ext: str, encoding: str | None = None) -> str:
    """Return 'xlsx', 'parquet' or 'text'; raise for anything else that is not text.

    UTF-16 and UTF-32 text (with a byte-order mark, told by its pattern, or named by
    ``encoding``) is mostly NUL bytes to a byte-wise look, so it is not judged by them; NUL
    bytes in any other encoding mean the file is not text, whatever encoding is named.
    """
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "xlsx"  # checked to be a workbook when opened
    if head.startswith(b"PAR1"):
        return "parquet"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "ole2":
                raise InputError(
                    f"{name} is a legacy Excel 97-2003 (.xls) workbook or a password-protected "
                    "Office file; expected XLSX, CSV, Parquet or JSON Lines. Open it in Excel and "
                    "save it as .xlsx (without a password) or as CSV UTF-8."
                )
            what = _ARCHIVE_WHAT[kind]
            fix = (
                "Decompress or extract it first and pass the export inside."
                if kind in ("gzip", "bzip2", "7z", "rar")
                else "Pass the export file itself (CSV, XLSX, Parquet or JSON Lines)."
            )
            raise InputError(f"{name} is {what}, not a feedback export. {fix}")
    if _wide_encoding(encoding) or head.startswith(_WIDE_BOMS) or _bomless_utf16(head):
        return "text"
    if _looks_binary(head, strict=not encoding):
        want = _KIND_WHAT.get(_EXT_KIND.get(ext, ""), "CSV, XLSX, Parquet or JSON Lines")
        raise InputError(
            f"{name} contains binary data (control bytes such as 0x00), not {want}. Check that "
            "this is the export file; if it came from a download, download it again. If it is "
            "text in an encoding such as UTF-16, pass it (--encoding / io.encoding)."
        )
    return "text"


#: Byte-order marks of UTF-32 and UTF-16, UTF-32 first: its LE mark starts with UTF-16's.
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _bomless_utf16(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' for UTF-16 text without a byte-order mark, else None.

    Told by its pattern, as mostly-ASCII text in UTF-16 has every other byte NUL (the odd ones
    in little-endian, the even ones in big-endian) and the ASCII between them is plain text.
    """
    sample = head[:4096]
    even, odd = sample[0::2], sample[1::2]
    for codec, high, low in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if len(high) < 4 or high.count(0) < 0.7 * len(high):
            continue
        ascii_ = bytes(lo for hi, lo in zip(high, low, strict=False) if hi == 0)
        if not _looks_binary(ascii_):
            return codec
    # Mostly non-ASCII text (Japanese, Chinese...): it decodes to printable characters with
    # line breaks, which binary data read two bytes at a time almost never does.
    even_len = sample[: len(sample) // 2 * 2]
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = even_len.decode(codec)
        except UnicodeDecodeError as e:
            if e.start < len(even_len) - 4:
                continue
            text = even_len[: e.start].decode(codec)  # a pair cut by the end of the sample
        lines = text.splitlines()
        printable = sum(ch.isprintable() or ch in "\t\r\n" for ch in text)
        if "\n" in text and len(lines) > 1 and printable >= 0.98 * len(text):
            return codec
    return None


def _wide_encoding(encoding: str | None) -> bool:
    """Whether ``encoding`` names UTF-16 or UTF-32 (False for none, or an unknown name)."""
    try:
        return bool(encoding) and codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    except LookupError:
        return False  # read_feedback names the unknown encoding


def _wide_text(head: bytes, encoding: str | None) -> bool:
    """Whether the text is UTF-16 or UTF-32, whose line breaks are not single bytes."""
    if encoding:
        return _wide_encoding(encoding)
    return head.startswith(_WIDE_BOMS) or _bomless_utf16(head) is not None


def _looks_binary(head: bytes, strict: bool = True) -> bool:
    """Control bytes over 1 % of ``head``, or (``strict``) any NUL byte; not strict, as when
    the user names the encoding, a stray NUL in text does not make it binary."""
    if not head:
        return False
    if strict and b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return control / len(head) > 0.01


def _sniff_text_kind(text: str, name: str) -> str:
    start = text.lstrip()[:2000]
    low = start[:300].lower()
    if low.startswith(("<!doctype html", "<html", "<head", "<body")) or (
        low.startswith("<") and "<html" in start.lower()
    ):
        m = re.search(r"<title[^>]*>(.*?)</title>", text[:20000], re.IGNORECASE | re.DOTALL)
        title = f" titled {' '.join(m.group(1).split())[:80]!r}" if m and m.group(1).strip() else ""
        raise InputError(
            f"{name} is an HTML page{title}, not a data export. This usually means a login or "
            "error page was saved instead of the file: download the export again (and check "
            "that you are signed in)."
        )
    if low.startswith("<?xml") or (low.startswith("<") and not _tagged_header(start)):
        excel = "urn:schemas-microsoft-com:office:spreadsheet" in text[:5000]
        fix = (
            "This is an Excel 2003 XML spreadsheet: open it in Excel and save it as .xlsx or CSV."
            if excel
            else "Export the data as CSV, XLSX, Parquet or JSON Lines."
        )
        raise InputError(f"{name} is an XML document, not a supported export. {fix}")
    if start.startswith(("{", "[")):
        first = start.splitlines()[0] if start.splitlines() else start
        # A CSV whose first header cell starts with '{' or '[' is possible but rare; JSON is
        # only assumed when the first line is, or starts, a JSON value.
        if first.startswith("[") or _json_line(first) is not None or first.strip() == "{":
            return "json"
    return "delimited"


def _json_line(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def _check_extension(name: str, ext: str, expected: str | None, found: str) -> None:
    if expected == "xls":
        raise InputError(
            f"{name} has the extension .xls but is {_KIND_WHAT.get(found, found)}, not an Excel "
            f"97-2003 workbook. Rename it to '{Path(name).stem}{_KIND_EXT[found]}' and run again."
        )
    if expected is None or expected == found:
        return
    if expected == "delimited" and found == "json" and ext in (".txt", ".dat", ""):
        return
    raise InputError(
        f"{name} is {_KIND_WHAT.get(found, found)}, not {_KIND_WHAT[expected]} as its extension "
        f"'{ext}' says. Rename it to '{Path(name).stem}{_KIND_EXT[found]}' and run again, or "
        "export the data again in the format you meant."
    )


# --- decoding -------------------------------------------------------------------------------


def _decode(raw: bytes, name: str, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(
                f"Unknown encoding {encoding!r} for {name}. Use a Python codec name such as "
                "'utf-8', 'utf-8-sig', 'cp1252', 'latin-1' or 'utf-16'."
            ) from None
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as e:
            line = raw.count(b"\n", 0, e.start) + 1
            raise InputError(
                f"{name} is not valid {encoding}: byte 0x{raw[e.start]:02x} on line {line} "
                f"cannot be decoded ({e.reason}). Leave the encoding out to have it detected, "
                "or pass the file's real encoding (e.g. 'cp1252'), or re-save it as UTF-8."
            ) from None
        return text.lstrip("\ufeff"), encoding
    if raw.startswith(_WIDE_BOMS):
        wide = "utf-32" if raw.startswith(_WIDE_BOMS[:2]) else "utf-16"
        try:
            return raw.decode(wide), wide
        except UnicodeDecodeError as e:
            raise InputError(
                f"{name} starts with a {wide.upper()} byte-order mark but is not valid "
                f"{wide.upper()} ({e.reason} at byte {e.start}). Re-save it as CSV UTF-8."
            ) from None
    wide = _bomless_utf16(raw)
    if wide:
        try:
            return raw.decode(wide), wide
        except UnicodeDecodeError as e:
            raise InputError(
                f"{name} looks like {wide.upper()} text without a byte-order mark but is not "
                f"valid {wide.upper()} ({e.reason} at byte {e.start}). Pass its encoding "
                "(--encoding / io.encoding), or re-save it as CSV UTF-8."
            ) from None
    try:
        text = raw.decode("utf-8-sig")
        return text, "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError:
        pass

    lines = raw.split(b"\n")
    utf8_lines = 0
    other: list[int] = []
    for i, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_lines += 1
        except UnicodeDecodeError:
            other.append(i)
    if utf8_lines:
        # Lines that are valid UTF-8 with non-ASCII characters almost surely are UTF-8; the
        # others are most likely cp1252 (a file pasted together from two sources).
        bad = set(other)
        parts = [
            _decode_legacy(line) if i in bad else line.decode("utf-8", "strict")
            for i, line in enumerate(lines)
        ]
        text = "\n".join(parts).lstrip("\ufeff")
        shown = ", ".join(str(i + 1) for i in other[:8]) + (", ..." if len(other) > 8 else "")
        warnings.warn(
            f"{name} mixes encodings: {len(other)} line(s) ({shown}) are not valid UTF-8 and "
            f"were read as cp1252, the other {utf8_lines} non-ASCII line(s) as UTF-8. Check "
            "those rows, or re-save the file as UTF-8.",
            ReadWarning,
            3,
        )
        return text, "utf-8+cp1252"
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        pass
    guess = _charset_guess(raw)
    if guess is not None:
        warnings.warn(
            f"{name} is neither UTF-8 nor cp1252; read it as {guess[1]} (a guess). If the "
            "text looks wrong, pass the real encoding (--encoding / io.encoding).",
            ReadWarning,
            3,
        )
        return guess
    warnings.warn(
        f"{name} is neither UTF-8 nor cp1252; read it as latin-1, which never fails but may "
        "show wrong characters. Pass the real encoding (--encoding / io.encoding) if so.",
        ReadWarning,
        3,
    )
    return raw.decode("latin-1"), "latin-1"


def _decode_legacy(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _charset_guess(raw: bytes) -> tuple[str, str] | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    best = from_bytes(raw[: 1 << 20]).best()
    if best is None or best.encoding in ("ascii", "utf_8", "cp1252", "latin_1"):
        return None
    try:
        return raw.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError):
        return None


# --- delimited text ---------------------------------------------------------------------------


def _resolve_delimiter(delimiter: str | None, name: str) -> str | None:
    if delimiter is None:
        return None
    d = {"\\t": "\t", "tab": "\t", "TAB": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(
        delimiter, delimiter
    )
    if len(d) != 1:
        raise InputError(
            f"Delimiter {delimiter!r} for {name} must be one character (e.g. ',', ';', '|' or "
            "'\\t' for tab). Leave it out to have it detected."
        )
    return d


def _sample_widths(sample: str, delim: str, limit: int = 60) -> list[int]:
    widths: list[int] = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delim, strict=False)
    try:
        for row in reader:
            if row and any(c.strip() for c in row):
                widths.append(len(row))
            if len(widths) >= limit:
                break
    except csv.Error:
        pass
    return widths


def _header_width(widths: list[int]) -> tuple[float, int] | None:
    """(share of the records as wide as the header, its width), None below two fields.

    A title line above the header (narrower than it, see :func:`_title_rows`) is looked past
    when the records from the next line on are consistent and the first line's are not.
    """
    if not widths:
        return None
    share = [sum(x == w for x in widths[k:]) / len(widths[k:]) for k, w in enumerate(widths)]
    if widths[0] >= 2 and share[0] >= 0.9:
        return share[0], widths[0]
    for k in range(1, min(5, len(widths) - 2) + 1):
        if widths[k] >= 2 and share[k] >= 0.9 and all(x < widths[k] for x in widths[:k]):
            return share[k], widths[k]
    if widths[0] >= 2:
        return share[0], widths[0]
    # one-field lines (a title) over a table some rows of which leave out trailing fields;
    # one column of answers, a few with commas, stays one column (no share near this)
    k = next((k for k in range(1, min(6, len(widths))) if widths[k] >= 2), None)
    if k is not None and len(widths) - k >= 5 and share[k] >= 0.5 and max(widths[k:]) == widths[k]:
        return share[k], widths[k]
    return None


def _detect_delimiter(text: str, preferred: str | None) -> str:
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rfind("\n") + 1]
    stats: dict[str, tuple[float, int]] = {}
    for d in _DELIMITERS:
        widths = _sample_widths(sample, d)
        if len(text) > len(sample) and len(widths) > 1:
            widths = widths[:-1]  # the last record may be cut
        found = _header_width(widths)
        if found:
            stats[d] = found
    if not stats:
        return _NO_DELIMITER  # the header has one field whatever the delimiter: one column
    try:
        sniffed = csv.Sniffer().sniff(sample[:16384], delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    if preferred in stats and stats[preferred][0] >= 0.9:
        return preferred
    if sniffed in stats and stats[sniffed][0] >= 0.9:
        return sniffed
    return max(stats, key=lambda d: (round(stats[d][0], 1), stats[d][1]))


def _title_rows(records: Sequence[Sequence[Any]], limit: int = 5) -> int:
    """How many leading records are a title above the header, not the header (0 to ``limit``).

    Reports exported from survey tools and spreadsheets often start with lines such as
    "Customer survey, March 2018", "Customer survey,,,," or "Exported,2018-03-01". A title
    record is narrower than the header under it (fields up to its last filled one) or fills
    at most half as many cells; the header fills two or more cells, mostly distinct and not
    numbers (a year such as "2024" may be one), hardly a row under it is wider, and it reads
    as the header of those rows (:func:`_heads_columns`). Anything less certain is left as
    it is: a missed title still reads, a header taken for a title would lose it.
    """

    for k in range(1, min(limit, len(records) - 2) + 1):
        header, below = records[k], records[k + 1 : k + 41]
        cells, width = _filled(header), _filled_width(header)
        if (
            len(cells) >= 2
            and len(cells) >= 0.8 * width
            and 2 * len(set(cells)) > len(cells)  # repeated names happen ("comment,comment")
            and 2 * sum(bool(_NUMBER_CELL.fullmatch(c)) for c in cells) < len(cells)
            and all(_filled_width(r) < width or 2 * len(_filled(r)) <= len(cells)
                    for r in records[:k])
            and sum(_filled_width(r) > width for r in below) <= 0.1 * len(below)
            and sum(_filled_width(r) == width for r in below) >= 0.5 * len(below)
            and _heads_columns(header, below)
        ):
            return k
    return 0


def _filled(row: Sequence[Any]) -> list[str]:
    """The cells of ``row`` that hold something, stripped."""
    return [str(c).strip() for c in row if c is not None and str(c).strip()]


def _filled_width(row: Sequence[Any]) -> int:
    """Fields up to the last filled one: a trailing delimiter or empty cells add none."""
    return max((i + 1 for i, c in enumerate(row) if c is not None and str(c).strip()), default=0)


def _heads_columns(header: Sequence[Any], below: Sequence[Sequence[Any]]) -> bool:
    """Whether ``header`` reads as the header of ``below``, not as a row of it: a column below
    holds numbers or dates (scores, dates, ids) under a cell that is not a number, and no
    header cell is also a value of its own column below."""
    typed = False
    for j, name in enumerate(header):
        values = [str(r[j]).strip() for r in below
                  if j < len(r) and r[j] is not None and str(r[j]).strip()]  # fmt: skip
        word = str(name).strip() if name is not None else ""
        if word and word in values:
            return False
        typed |= bool(values) and not _NUMBER_CELL.fullmatch(word) and sum(
            bool(_NUMBER_CELL.fullmatch(v) or _DATE_CELL.match(v)) for v in values
        ) >= 0.8 * len(values)
    return typed


_DATE_CELL = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
_NUMBER_CELL = re.compile(r"[-+]?\d+([.,]\d+)?%?")


def _skip_title(records: list[Any], name: str, what: str) -> int:
    """Drop the title rows above the header from ``records`` (in place), saying so."""
    titles = _title_rows(records)
    if titles:
        title = " ".join(str(c) for r in records[:titles] for c in r if c is not None)
        header = _filled(records[titles])
        warnings.warn(
            f"{name}: skipped {titles} {what}(s) above the header that look like a title "
            f"({' '.join(title.split())[:80]!r}); the header reads "
            f"{', '.join(repr(c) for c in header[:4])}{', ...' if len(header) > 4 else ''}.",
            ReadWarning,
            4,
        )
        del records[:titles]
    return titles


def _parse_delimited(
    text: str, name: str, delim: str, shift: int = 0, find_title: bool = True
) -> tuple[list[str], list[list[Any]], int]:
    """Header, rows and title lines skipped (:func:`_title_rows`) of delimited text; ``shift``
    is added to line numbers in messages."""
    f = io.StringIO(text, newline="")
    reader = csv.reader(f, delimiter=delim, quotechar='"', doublequote=True, strict=False)
    records: list[list[str]] = []
    starts: list[int] = []
    last_line = 0
    long_records: list[int] = []
    last_pos = 0
    pos = 0
    try:
        for row in reader:
            start = last_line + 1
            last_line = reader.line_num
            last_pos, pos = pos, f.tell()
            if _blank_record(row):
                continue  # blank line: not a row
            if last_line - start > _MAX_RECORD_LINES:
                long_records.append(start)
            records.append(row)
            starts.append(start)
    except csv.Error as e:
        raise InputError(
            f"{name} cannot be parsed as delimited text near line {reader.line_num + shift}: "
            f"{e}. Check the quoting on that line, or pass the delimiter explicitly."
        ) from None
    if records and last_line > starts[-1]:
        # The last record spans lines: was its quote ever closed?
        tail = csv.reader(io.StringIO(text[last_pos:], newline=""), delimiter=delim, strict=True)
        try:
            for _ in tail:
                pass
        except csv.Error as e:
            if "unexpected end of data" in str(e):
                raise InputError(
                    f"{name}: the quoted field that starts on line {starts[-1] + shift} is never "
                    f"closed (it runs to the end of the file, line {last_line + shift}). Add the "
                    "missing '\"' or re-export the file with proper quoting."
                ) from None
    if long_records:
        warnings.warn(
            f"{name}: the record(s) starting on line(s) "
            f"{', '.join(str(s + shift) for s in long_records[:5])} span more than "
            f"{_MAX_RECORD_LINES} lines; check for an unmatched quote.",
            ReadWarning,
            3,
        )
    if not records:
        raise InputError(
            f"{name} holds no data (only blank lines); expected a header row and responses. "
            "Export the data again."
        )
    titles = _skip_title(records, name, "line") if find_title else 0
    del starts[:titles]
    header = [c.strip() for c in records[0]]
    width = len(header)
    # A header that ends with the delimiter makes an empty last column. When the rows as wide
    # as the header leave it empty too (every line ends with the delimiter), a row with a field
    # more that puts a value there is shifted as surely as one with a value past the header.
    trailing = False
    if width > 1 and header[-1] == "":  # (the usual header skips this pass over the rows)
        fit = [r[-1] for r in records[1:] if len(r) == width]
        trailing = bool(fit) and not any(v.strip() for v in fit)
    body: list[list[Any]] = []
    too_long: list[tuple[int, int]] = []
    too_short: list[int] = []
    for row, line in zip(records[1:], starts[1:], strict=True):
        n = len(row)
        if n > width:
            if any(c.strip() for c in row[width:]) or (trailing and row[width - 1].strip()):
                too_long.append((line + shift, n))
                continue
            row = row[:width]
        elif n < width:
            too_short.append(line + shift)
            row = row + [""] * (width - n)
        body.append(row)
    if too_long:
        lines = ", ".join(str(ln) for ln, _ in too_long[:5])
        lines += ", ..." if len(too_long) > 5 else ""
        ln, n = too_long[0]
        shown = "'\\t'" if delim == "\t" else repr(delim)
        last = ", the last one empty as the header ends with the delimiter" if trailing else ""
        title = (
            f" If line {starts[0] + shift} is a title or a note rather than the header, delete "
            "it (and any other lines above the header)."
            if 2 * len(too_long) > len(records) - 1
            else ""
        )
        raise InputError(
            f"{name}: {len(too_long)} row(s) have more fields than the header's {width}{last} "
            f"(line(s) {lines}; line {ln} has {n}). A value that contains the delimiter {shown} is "
            'probably not quoted: quote such values ("like, this") or re-export the file; if '
            "the delimiter was guessed wrong, pass it explicitly (--delimiter / io.delimiter)."
            + title
        )
    if too_short:
        shown_lines = ", ".join(map(str, too_short[:5])) + (", ..." if len(too_short) > 5 else "")
        warnings.warn(
            f"{name}: {len(too_short)} row(s) have fewer fields than the header's {width} "
            f"(line(s) {shown_lines}); the missing fields were left empty.",
            ReadWarning,
            3,
        )
    return header, body, titles


# --- XLSX -----------------------------------------------------------------------------------


def _check_zip(path: Path, name: str) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise InputError(
            f"{name} looks like an XLSX (zip) file but is damaged ({e}). Open it in Excel and "
            "save it again, or export the data again."
        ) from None
    if "xl/workbook.xml" not in names:
        what = "a Word document" if "word/document.xml" in names else "a zip archive"
        raise InputError(
            f"{name} is {what}, not an Excel workbook. Extract or export the data as XLSX, "
            "CSV, Parquet or JSON Lines."
        )
    if len(infos) > _XLSX_MAX_PARTS:
        raise InputError(
            f"{name} has {len(infos):,} parts inside (at most {_XLSX_MAX_PARTS:,} expected for a "
            "workbook); refusing to open it. Export the data as CSV or Parquet instead."
        )
    total = sum(i.file_size for i in infos)
    if total > XLSX_MAX_UNCOMPRESSED_BYTES:
        raise InputError(
            f"{name} would unpack to {total / 2**20:,.0f} MiB (limit "
            f"{XLSX_MAX_UNCOMPRESSED_BYTES / 2**20:,.0f} MiB); refusing to open it (possible "
            "zip bomb). Export the data as CSV or Parquet instead, or split the workbook."
        )
    for i in infos:
        if i.file_size > XLSX_RATIO_MIN_BYTES and i.file_size > XLSX_MAX_RATIO * max(
            i.compress_size, 1
        ):
            raise InputError(
                f"{name}: part {i.filename!r} unpacks from {i.compress_size:,} to "
                f"{i.file_size:,} bytes ({i.file_size // max(i.compress_size, 1):,}x; real "
                f"sheets pack under {XLSX_MAX_RATIO}x); refusing to open it (possible zip bomb). "
                "Export the data as CSV or Parquet instead."
            )


def _cell_str(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v if v != "" else None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time(0) else v.isoformat(sep=" ")
    if isinstance(v, (date, time)):
        return v.isoformat()
    return str(v)


def _read_xlsx(
    path: Path, name: str, sheet: str | int | None
) -> tuple[list[str], list[list[Any]], dict[str, Any]]:
    _check_zip(path, name)
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's style/extension chatter
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for damaged files
        raise InputError(
            f"{name} cannot be opened as an Excel workbook ({type(e).__name__}: {e}). Open it in "
            "Excel and save it again, or export the data as CSV."
        ) from None
    try:
        names = list(wb.sheetnames)
        if sheet is not None:
            if isinstance(sheet, int) and not isinstance(sheet, bool):
                if not 0 <= sheet < len(names):
                    raise InputError(
                        f"{name} has {len(names)} sheet(s) ({', '.join(names)}); sheet {sheet} "
                        "does not exist. Sheets are counted from 0, or give the sheet's name."
                    )
                chosen = names[sheet]
            elif str(sheet) in names:
                chosen = str(sheet)
            else:
                raise InputError(
                    f"Sheet {sheet!r} not found in {name} (sheets: {', '.join(names)}). Pass one "
                    "of these (--sheet / io.sheet)."
                )
            rows = _sheet_rows(wb[chosen])
        else:
            # the first sheet with a header and at least one row under it: a cover sheet
            # ("About this export", one line) is not the data
            chosen, rows = names[0], []
            with_data: list[str] = []
            for n in names:
                r = _sheet_rows(wb[n])
                if r and not rows:  # a sheet with only a header, until one has rows
                    chosen, rows = n, r
                if len(r) > 1:
                    if not with_data:
                        chosen, rows = n, r
                    with_data.append(n)
                    if len(with_data) > 1:
                        break
            if len(with_data) > 1:
                warnings.warn(
                    f"{name} has several sheets with data; read {chosen!r}. Pass sheet=... "
                    f"(--sheet / io.sheet) to read another (sheets: {', '.join(names)}).",
                    ReadWarning,
                    4,
                )
    finally:
        wb.close()
    if not rows:
        raise InputError(
            f"Sheet {chosen!r} of {name} is empty; expected a header row and responses. "
            + (
                "Pass the sheet that holds the data (--sheet / io.sheet)."
                if len(names) > 1
                else "Export the data again."
            )
        )
    width = max(len(r) for r in rows)
    rows = [r + [None] * (width - len(r)) for r in rows]
    titles = _skip_title(rows, name, "row")
    header = [(c or "").strip() for c in rows[0]]
    return header, rows[1:], {"format": "xlsx", "sheet": chosen, "title_rows": titles}


def _sheet_rows(ws: Any) -> list[list[str | None]]:
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # trust the cells, not the (often wrong) stored dimension
    out: list[list[str | None]] = []
    for values in ws.iter_rows(values_only=True):
        row = [_cell_str(v) for v in values]
        while row and row[-1] is None:
            row.pop()
        if row:
            out.append(row)  # all-empty rows are dropped (and reported) in _finish
    return out


# --- Parquet and JSON -------------------------------------------------------------------------


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


# --- survey layouts and the final table ---------------------------------------------------

_IMPORT_ID = re.compile(r'^\s*\{\s*"ImportId"\s*:')
_QUALTRICS_META = {
    "startdate", "enddate", "status", "ipaddress", "progress", "duration (in seconds)",
    "finished", "recordeddate", "responseid", "recipientlastname", "recipientfirstname",
    "recipientemail", "externalreference", "externaldatareference", "locationlatitude",
    "locationlongitude", "distributionchannel", "userlanguage", "responseset", "responsetype",
    "q_recaptchascore", "q_relevantidduplicate", "q_relevantidduplicatescore",
    "q_relevantidfraudscore", "q_relevantidlaststartdate",
}  # fmt: skip
_SM_META = {
    "respondent id", "collector id", "start date", "end date", "ip address", "email address",
    "first name", "last name", "custom data 1", "custom data",
}  # fmt: skip
_SM_SUBS = {"response", "open-ended response"}


def _detect_layout(header: list[str], head: list[list[Any]]) -> tuple[str, int]:
    """Return (layout, number of extra header rows at the top of the body)."""
    r1 = [
        (v or "").strip() if isinstance(v, str) or v is None else str(v)
        for v in (head[0] if head else [])
    ]
    r2 = [
        (v or "").strip() if isinstance(v, str) or v is None else str(v)
        for v in (head[1] if len(head) > 1 else [])
    ]
    filled = [v for v in r2 if v]
    if filled and sum(bool(_IMPORT_ID.match(v)) for v in filled) >= 0.5 * len(filled):
        return "qualtrics", 2
    low = [h.lower() for h in header]
    if "responseid" in low:
        i = low.index("responseid")
        if i < len(r1) and r1[i].lower() in ("response id", "responseid"):
            return "qualtrics", 1  # legacy two-row export
    subs = sum(v.lower() in _SM_SUBS for v in r1)
    if subs:
        meta = sum(h in _SM_META for h in low)
        filled1 = [v for v in r1 if v]
        if meta >= 2 or (subs >= 2 and subs >= 0.3 * len(filled1) and "" in header):
            return "surveymonkey", 1
    return "plain", 0


def _layout_columns(
    layout: str, header: list[str], head: list[list[Any]]
) -> tuple[list[str], dict[str, str]]:
    if layout == "qualtrics":
        names = _dedupe(header)
        texts = head[0] if head else []
        questions = {
            n: " ".join(str(t).split())
            for n, t in zip(names, texts, strict=False)
            if t and str(t).strip() and str(t).strip() != n
        }
        return names, questions
    # SurveyMonkey: a question spans its column and the empty header cells after it.
    subs = [((v or "").strip() if isinstance(v, str) or v is None else str(v)) for v in head[0]]
    subs = (subs + [""] * len(header))[: len(header)]
    spans: list[int] = []
    current = ""
    question: list[str] = []
    for i, h in enumerate(header):
        if h or i == 0:
            current = h
            spans.append(i)
        question.append(current)
    first_of_span = set(spans)
    raw_names: list[str] = []
    for i, (q, sub) in enumerate(zip(question, subs, strict=True)):
        spans_many = (i + 1 < len(header) and not header[i + 1] and i in first_of_span) or (
            i not in first_of_span
        )
        if not sub or (sub.lower() in _SM_SUBS and (i in first_of_span or not q)):
            raw_names.append(q or sub)
        elif not q:
            raw_names.append(sub)
        elif spans_many or sub.lower() not in _SM_SUBS:
            raw_names.append(f"{q} - {sub}" if q != sub else q)
        else:
            raw_names.append(q)
    names = _dedupe([" ".join(n.split()) for n in raw_names])
    questions = {n: " ".join(q.split()) for n, q in zip(names, question, strict=True) if q}
    return names, questions


def _dedupe(names: Sequence[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    taken = set()
    for i, n in enumerate(names):
        n = n if n else f"Unnamed: {i}"
        base = n
        k = seen.get(base, 0)
        while n in taken:
            k += 1
            n = f"{base}.{k}"
        seen[base] = k
        taken.add(n)
        out.append(n)
    return out


def _as_str_series(values: Iterable[Any]) -> pd.Series:
    s = pd.Series(list(values), dtype=object)
    if len(s):
        s = s.where(s.notna() & (s != ""), None)
    return s.astype(_STR_DTYPE) if _STR_DTYPE is not object else s


def _finish(
    header: list[str], body: list[list[Any]], attrs: dict[str, Any], name: str
) -> pd.DataFrame:
    """Apply a survey layout, drop empty rows and columns, and build the string table."""
    layout, skip = _detect_layout(header, body[:2])
    if layout == "plain":
        columns, questions = _dedupe(header), {}
    else:
        columns, questions = _layout_columns(layout, header, body[:skip])
        body = body[skip:]
    width = len(columns)
    # All-empty rows are not responses; warn when they sit between responses.
    keep: list[list[Any]] = []
    inner_empty = 0
    pending = 0
    for row in body:
        if any(v is not None and str(v).strip() != "" for v in row):
            inner_empty += pending
            pending = 0
            keep.append(row)
        else:
            pending += 1
    if inner_empty:
        warnings.warn(
            f"{name}: skipped {inner_empty} empty row(s) between responses (every cell empty).",
            ReadWarning,
            4,
        )
    # Trailing columns with neither a header nor a value are artefacts (a trailing delimiter).
    while (
        layout == "plain"
        and width > 1
        and header[width - 1] == ""
        and all(r[width - 1] in (None, "") for r in keep if len(r) >= width)
    ):
        width -= 1
    columns = columns[:width]
    data = {c: _as_str_series(r[j] for r in keep) for j, c in enumerate(columns)}
    df = pd.DataFrame(data, columns=columns)
    df.index = pd.RangeIndex(len(df))
    _check_rows(df, name, layout, skip)
    df.attrs.update(source=name, layout=layout, questions=questions, header_rows=skip + 1, **attrs)
    return df


def _check_rows(df: pd.DataFrame, name: str, layout: str, skip: int) -> None:
    if len(df):
        return
    cols = _list_columns(df.columns)
    what = {
        "qualtrics": f"the {skip + 1} Qualtrics header rows",
        "surveymonkey": "the 2 SurveyMonkey header rows",
    }.get(layout, "a header row")
    raise NoResponses(
        f"{name} has {what} ({cols}) but no responses. Check that the export includes the "
        "responses (filters, date range) and export it again.",
        [str(c) for c in df.columns],
    )


def _list_columns(columns: Iterable[Any], limit: int = 12) -> str:
    cols = [str(c) for c in columns]
    shown = ", ".join(cols[:limit])
    return shown + (f", ... ({len(cols)} in all)" if len(cols) > limit else "")


# --------------------------------------------------------------------------------------------
# column detection
# --------------------------------------------------------------------------------------------


class ColumnMap(BaseModel):
    """Which column means what in a feedback table.

    Attributes
    ----------
    text : list of str
        Free-text columns, the primary one first. The pipeline analyses them joined by a
        line break.
    scores : dict of str to str
        Score column -> kind, one of ``nps``, ``csat``, ``ces``, ``rating``, ``recommend``.
    date : str or None
        Response date column.
    segments : list of str
        Columns to break results down by (department, region, channel, plan...).
    id : str or None
        Column with a unique id per response.
    notes : list of str
        Why each guess was made (or a likely candidate rejected); shown by :meth:`describe`.
    """

    model_config = ConfigDict(extra="forbid")

    text: list[str]
    scores: dict[str, ScoreKind] = Field(default_factory=dict)
    date: str | None = None
    segments: list[str] = Field(default_factory=list)
    id: str | None = None
    notes: list[str] = Field(default_factory=list)

    def describe(self) -> str:
        """Render the mapping for printing, one field per line, with the reasons for guesses.

        Returns
        -------
        str
            E.g. ``"text      Review Text (+ Title)\\nscores    Rating (rating)..."``.
        """
        dash = "-"
        text = self.text[0] + (f" (+ {', '.join(self.text[1:])})" if self.text[1:] else "")
        lines = [
            f"text      {text}",
            "scores    " + (", ".join(f"{c} ({k})" for c, k in self.scores.items()) or dash),
            f"date      {self.date or dash}",
            f"segments  {', '.join(self.segments) or dash}",
            f"id        {self.id or dash}",
        ]
        if self.notes:
            lines.append("notes")
            lines += [f"  - {n}" for n in self.notes]
        return "\n".join(lines)


def _norm_label(s: str) -> str:
    s = re.sub(r"([a-z])([A-Z])", r"\1 \2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", s)
    s = re.sub(r"[_\-./:()\[\]?!,]+", " ", s.lower())
    return " ".join(s.split())


def _rx(words: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{words})\b")


_TEXT_STRONG = _rx(
    r"comments?|verbatims?|feedback|reviews?|why|reasons?|explain\w*|describe|tell us|"
    r"suggest\w*|improve\w*|open ended|remarks?|complaints?|opinions?|thoughts|what did you|"
    r"what could|anything else"
)
_TEXT_WEAK = _rx(r"text|body|message|content|answer|notes?|description|free text")
_TITLE = _rx(r"title|summary|subject|headline")
_NOT_TEXT = _rx(
    r"e ?mail|name|address|phone|url|link|ip|id|uuid|location|city|zip|post ?code|"
    r"user ?agent|time ?zone|language|tags?|country|state"
)
_NPS = _rx(r"nps|net promoter|likel\w* to recommend|likelihood|ltr|how likely")
_CSAT = _rx(r"csat|satisf\w*")
_CES = _rx(r"ces|effort|easy|ease|difficult\w*")
_RATING = _rx(r"ratings?|stars?|rated|scores?|grade")
_STARS = _rx(r"ratings?|stars?|rated")  # a rating of something, never a 0-10 recommendation
_RECOMMEND = _rx(r"recommend\w*")
_ID_NAME = _rx(r"id|ids|uuid|guid|key|index|identifier|response id|respondent id|record id")
_SEGMENT = _rx(
    r"department|dept|region|channel|plan|segment|country|store|branch|product|category|"
    r"division|class|tier|type|group|team|market|source|brand|airline|journey|stage|"
    r"touchpoint|sub type|variation|gender|age group|location|site|platform|device|version|"
    r"language|business unit|unit|line|service|level|cohort|membership|subscription"
)
_PII = _rx(
    r"e ?mail|first name|last name|full name|user ?name|screen name|ip|ip address|phone|"
    r"address|url|user ?agent|latitude|longitude|lat|lon|lng"
)
_DATE_VALUE = re.compile(
    r"^\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|"
    r"\d{1,2}[- ]?[A-Za-z]{3,9}\.?[- ,]+\d{2,4}|[A-Za-z]{3,9}\.? \d{1,2},? \d{4})"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?)?"
    r"\s*$"
)
_BOOL_TRUE = {"yes", "y", "true", "t", "1", "1.0"}
_BOOL_FALSE = {"no", "n", "false", "f", "0", "0.0"}
_SENTIMENT_LABELS = {"positive", "negative", "neutral", "mixed", "pos", "neg", "neu"}
_NPS_GROUPS = {"promoter", "promoters", "passive", "passives", "detractor", "detractors", "neutral"}
_OTHER_SPECIFY = _rx(r"please specify|other text|other \w+ text")
_COUNT_LIKE = _rx(
    r"count|counts|number|num|no|qty|quantity|total|votes?|likes?|retweets?|re tweet|age|year|"
    r"month|week|hours?|minutes?|days?|duration|progress|position|rank|size|price|amount|cost|"
    r"length|visits?|times|items?|orders?"
)
_NUMBER = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)(?:(?:\s*[-–—:=(]\s*|\s+)[^\d\s].*)?$", re.S)
_DATE_PRIORITY = [
    _rx(r"recorded|submitted"),
    _rx(r"response date|completed|end date|enddate|end"),
    _rx(r"created|date|datetime|timestamp"),
    _rx(r"time|day|when|updated|at"),
]


class _Profile:
    """What a column looks like, measured on (a sample of) its values."""

    def __init__(self, name: str, series: pd.Series, question: str | None, position: int):
        self.name = name
        self.position = position
        self.label = _norm_label(name + (" " + question if question else ""))
        self.header = _norm_label(name)
        self.unnamed = (
            name == ""
            or bool(re.fullmatch(r"Unnamed: \d+(\.\d+)?", name))
            or (name.lower() in ("index", "level_0"))
        )
        n = len(series)
        self.n = n
        # by position: an index with repeated labels (pd.concat, dask partitions) must not
        # multiply rows when the blank ones are dropped below
        nonnull = series.reset_index(drop=True).dropna()
        if series.dtype == object or _is_string_dtype(series):
            as_str = nonnull.astype(str)
            as_str = as_str[as_str.str.strip() != ""]
            nonnull = nonnull.loc[as_str.index]
        self.nonnull = len(nonnull)
        self.filled = self.nonnull / n if n else 0.0
        try:
            self.nunique = int(nonnull.nunique())
        except TypeError:
            self.nunique = int(nonnull.astype(str).nunique())
        sample = nonnull if len(nonnull) <= 2000 else nonnull.sample(2000, random_state=0)
        self.is_datetime = pd.api.types.is_datetime64_any_dtype(series.dtype)
        self.is_bool_dtype = pd.api.types.is_bool_dtype(series.dtype)
        self.is_numeric_dtype = (
            pd.api.types.is_numeric_dtype(series.dtype) and not self.is_bool_dtype
        )
        strs = sample.astype(str).str.strip()
        low = strs.str.lower()
        self.bool_frac = float(low.isin(_BOOL_TRUE | _BOOL_FALSE).mean()) if len(low) else 0.0
        if self.is_bool_dtype:
            self.bool_frac = 1.0
        self._strs = strs
        nums = _numbers(sample)
        valid = nums[~np.isnan(nums)]
        self.numeric_frac = len(valid) / len(sample) if len(sample) else 0.0
        self.nums = valid
        self.integral = bool(len(valid)) and bool(np.all(np.mod(valid, 1) == 0))
        self.levels = len(np.unique(valid)) if len(valid) else 0
        if len(strs) and not self.is_numeric_dtype and not self.is_datetime:
            words = strs.str.split().str.len()
            self.mean_words = float(words.mean())
            self.mean_chars = float(strs.str.len().mean())
        else:
            self.mean_words = self.mean_chars = 1.0 if len(strs) else 0.0
        if self.is_datetime:
            self.date_frac = 1.0
        elif len(strs) and not self.is_numeric_dtype:
            small = strs.iloc[:300]
            looks = small.str.match(_DATE_VALUE)
            if looks.mean() >= 0.8:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    parsed = pd.to_datetime(small[looks], errors="coerce", format="mixed")
                self.date_frac = float(parsed.notna().sum() / len(small))
            else:
                self.date_frac = 0.0
        else:
            self.date_frac = 0.0
        self.low_values = set(low.unique()[:60]) if self.nunique <= 50 else set()
        self.unique_ratio = self.nunique / self.nonnull if self.nonnull else 0.0

    def answers_fit(self, kind: str) -> float:
        """Fraction of the values that are ``kind``'s answers written out ("Very satisfied")."""
        if not len(self._strs):
            return 0.0
        return float(np.mean(~np.isnan(_answer_numbers(self._strs, kind))))

    def fits(self, kind: str) -> float:
        """Fraction of numeric values valid for ``kind``."""
        if not len(self.nums):
            return 0.0
        lo, hi = SCORE_RANGES[kind]
        ok = (self.nums >= lo) & (self.nums <= hi)
        if kind in _INTEGER_KINDS:
            ok &= np.mod(self.nums, 1) == 0
        return float(ok.mean()) * self.numeric_frac

    @property
    def textish(self) -> bool:
        return (
            self.nonnull > 0
            and self.numeric_frac < 0.5
            and self.date_frac < 0.5
            and not self.is_numeric_dtype
            and not self.is_datetime
        )


def _is_string_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s.dtype)


#: Answer labels of the usual survey scales (lower case), as their scale points: the 5-point
#: satisfaction scale (CSAT), the 7-point agreement scale of CES 2.0 ("The company made it
#: easy for me..."), and the named ends of the 0-10 likelihood-to-recommend question.
_SATISFACTION = {
    "very dissatisfied": 1, "extremely dissatisfied": 1, "completely dissatisfied": 1,
    "very unsatisfied": 1, "dissatisfied": 2, "somewhat dissatisfied": 2, "unsatisfied": 2,
    "neither satisfied nor dissatisfied": 3, "neither satisfied or dissatisfied": 3,
    "neither": 3, "neutral": 3, "satisfied": 4, "somewhat satisfied": 4, "very satisfied": 5,
    "extremely satisfied": 5, "completely satisfied": 5,
}  # fmt: skip
_AGREEMENT = {
    "strongly disagree": 1, "disagree": 2, "somewhat disagree": 3,
    "neither agree nor disagree": 4, "neither agree or disagree": 4, "neither": 4, "neutral": 4,
    "somewhat agree": 5, "agree": 6, "strongly agree": 7,
}  # fmt: skip
_LIKELIHOOD = {"not at all likely": 0, "extremely likely": 10}
_ANSWER_LABELS: dict[str, dict[str, int]] = {
    "csat": _SATISFACTION, "ces": _AGREEMENT, "nps": _LIKELIHOOD,
}  # fmt: skip
_FRACTION = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:/|out of|of)\s*(\d+)\s*$", re.I)
_STAR_MARKS = re.compile(r"^\s*([★⭐]+)\s*[☆✩]*\s*$")


def _answer_key(answer: str) -> str:
    """An answer as the label tables spell it: lower case, single spaces, no final '.'/'!'."""
    return " ".join(answer.lower().replace("_", " ").split()).rstrip(".!")


def _answer_numbers(strs: pd.Series, kind: str) -> np.ndarray:
    """Scale points of ``kind``'s answers written out: labels ("Very satisfied"; none for a
    7-point satisfaction scale), fractions ("4/5", "4 out of 5", kept when out of the kind's
    top), stars for ratings ("★★★★☆"); NaN for anything else."""
    labels = _ANSWER_LABELS.get(kind, {})
    keys = [_answer_key(v) if isinstance(v, str) else "" for v in strs]
    if kind == "csat" and {"somewhat satisfied", "somewhat dissatisfied"} & set(keys) and {
        "satisfied", "dissatisfied"
    } & set(keys):  # a 7-point satisfaction scale: its points are not CSAT's five
        labels = {}
    top = SCORE_RANGES[kind][1]
    out = np.full(len(strs), np.nan)
    for i, (v, key) in enumerate(zip(strs, keys, strict=True)):
        if not key:
            continue
        if key in labels:
            out[i] = labels[key]
        elif m := _FRACTION.match(v):
            n, of = float(m.group(1).replace(",", ".")), float(m.group(2))
            if of == top:
                out[i] = n
        elif kind == "rating" and (m := _STAR_MARKS.match(v)):
            out[i] = len(m.group(1))
    return out


def _numbers(values: pd.Series) -> np.ndarray:
    """Numbers in a column: numeric dtypes as is; strings by their leading number."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(float).to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype):
        return pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    s = values.astype(object).where(values.notna(), None)
    strs = pd.Series(
        [v if isinstance(v, str) else (None if v is None else str(v)) for v in s],
        index=values.index,
        dtype=object,
    )
    extracted = strs.str.extract(_NUMBER, expand=False)
    extracted = extracted.str.replace(",", ".", regex=False)
    return pd.to_numeric(extracted, errors="coerce").astype(float).to_numpy()


def _with_answers(nums: np.ndarray, strs: pd.Series, kind: str) -> np.ndarray:
    """``nums`` with its gaps filled by answers written out, looked at only where needed."""
    gaps = np.isnan(nums) & strs.notna().to_numpy()
    if gaps.any():  # once per distinct answer: a million "Very satisfied" are one lookup
        nums = nums.copy()
        distinct = pd.unique(strs[gaps])
        points = dict(zip(distinct, _answer_numbers(pd.Series(distinct), kind), strict=True))
        nums[gaps] = strs[gaps].map(points).to_numpy(dtype=float)
    return nums


def _guess_kind(p: _Profile) -> tuple[str | None, str]:
    """Score kind of a column from its header/question and values, with the reason."""
    label = p.label
    if p.nonnull == 0:
        return None, ""
    is_bool = p.bool_frac >= 0.9 and p.nunique <= 2
    if is_bool:
        if _RECOMMEND.search(label) and not _NPS.search(label):
            return "recommend", "yes/no values, header mentions recommending"
        # One or two numbers under a score's header are a filtered export (only the 1-star
        # reviews, only detractors), not yes/no; 0/1 is yes/no unless NPS (0 is on its scale).
        nps = bool(_NPS.search(label))
        if not (p.numeric_frac >= 0.9 and (nps or (len(p.nums) and p.nums.min() >= 1))):
            return None, ""
    if p.numeric_frac < 0.8:
        # answers written out count under a header that names their scale, and only there:
        # "Satisfied" / "Agree" elsewhere is a segment
        for k, rx in (("csat", _CSAT), ("ces", _CES), ("nps", _NPS)):
            if rx.search(label) and p.answers_fit(k) >= 0.8:
                return k, f"header suggests {k.upper()}, answers written out"
        return None, ""
    named = [
        k
        for k, rx in (("nps", _NPS), ("csat", _CSAT), ("ces", _CES), ("rating", _RATING))
        if rx.search(label)
    ]
    if "nps" not in named and _RECOMMEND.search(label):
        named.insert(0, "nps")
    lo = float(np.quantile(p.nums, 0.02, method="lower")) if len(p.nums) else 0.0
    hi = float(np.quantile(p.nums, 0.98, method="higher")) if len(p.nums) else 0.0
    for k in named:
        if k == "rating":
            # a generic "score"/"rating": the range decides
            if p.fits("rating") >= 0.8 and lo >= 1 and hi <= 5:
                kind = "csat" if _CSAT.search(label) else "rating"
                return kind, f"header says rating/score, values {lo:g}-{hi:g}"
            if _STARS.search(label):
                # a star rating stays one: 0 ("not rated") is an invalid star, noted row by
                # row, not the bottom of a 0-10 scale; a 1-7 or 1-10 rating is no NPS or CES
                if lo >= 0 and hi <= 5 and p.fits("rating") >= 0.5:
                    return "rating", f"header says rating, values {lo:g}-{hi:g} (stars: 1-5)"
                break
            if p.fits("ces") >= 0.8 and lo >= 1 and hi <= 7 and p.integral:
                return "ces", f"header says score, values {lo:g}-{hi:g} (1-7 scale)"
            if p.fits("nps") >= 0.8 and (lo == 0 or hi > 7):
                return "nps", f"header says score, values {lo:g}-{hi:g} (0-10 scale)"
            continue
        if p.fits(k) >= 0.8:
            return k, f"header suggests {k.upper()}, values {lo:g}-{hi:g}"
    top_share = float(np.unique(p.nums, return_counts=True)[1].max() / len(p.nums))
    if (
        not named
        and not _COUNT_LIKE.search(p.label)
        and p.integral
        and p.fits("nps") >= 0.95
        and p.levels >= 9
        and top_share < 0.5
    ):
        return "nps", f"values are whole numbers 0-10 with {p.levels} levels"
    return None, ""


def detect_columns(
    df: pd.DataFrame,
    *,
    text: str | Sequence[str] | None = None,
    scores: Mapping[str, str | None] | Sequence[str] | str | None = None,
    date: str | Literal[False] | None = None,
    segments: str | Sequence[str] | None = None,
    id: str | Literal[False] | None = None,  # noqa: A002 - the field's name
) -> ColumnMap:
    """Decide which columns hold the free text, scores, date, segments and response id.

    Anything passed explicitly wins; the rest is guessed from the headers (and, for survey
    layouts, the question texts in ``df.attrs["questions"]``) and from the values.

    Parameters
    ----------
    df : pandas.DataFrame
        A table from :func:`read_feedback` (or any DataFrame).
    text : str or list of str, optional
        Free-text column(s), primary first.
    scores : dict, list of str or str, optional
        Score columns as ``{column: kind}`` (a kind of ``None`` is guessed), or a list of
        columns whose kinds are guessed. ``{}`` means: no scores.
    date : str or False, optional
        Date column; ``False`` means: none.
    segments : str or list of str, optional
        Segment columns; ``[]`` means: none.
    id : str or False, optional
        Response id column; ``False`` means: none.

    Returns
    -------
    ColumnMap

    Raises
    ------
    InputError
        If a named column does not exist (the message lists the columns and how to set it), if
        no free-text column can be found, or if the kind of a named score column cannot be told.
    ConfigError
        If a score kind is not one of ``nps``, ``csat``, ``ces``, ``rating``, ``recommend``.

    Notes
    -----
    Guessing rules, in brief:

    - **text**: not numbers or dates; header/question mentions comment, feedback, review,
      verbatim, why, reason... (or text, message, title) with at least ~2 words per value, or
      long (5+ words), varied values under any non-personal header. The best named, longest
      column is primary; other named text columns follow (a title/summary comes last).
    - **scores**: mostly numbers (or yes/no). Header mentions NPS / likely to recommend (0-10),
      CSAT / satisfaction (1-5), effort / CES / easy (1-7), rating / stars (1-5), a bare "score"
      (the range decides: 0-10 nps, 1-5 rating, 1-7 ces), recommend with yes/no/1/0 values
      (recommend). Without a header hint, only whole numbers in 0-10 with 9+ levels count (nps).
      Out-of-range values do not prevent a guess; see :func:`parse_scores`.
    - **date**: 80%+ of values parse as dates (or a datetime dtype); recorded/submitted/end
      dates are preferred over created/date, then time-like headers, then start dates.
    - **id**: unique, filled values under an id-like header (response/respondent id first),
      or an unnamed first column of unique whole numbers (a saved pandas index).
    - **segments**: string columns with 2-50 distinct, repeating, short values (up to 200 when
      the header says department/region/channel/plan/...), mostly filled; not personal data,
      survey metadata, or existing sentiment/NPS-group labels.
    """
    source = df.attrs.get("source") or "the table"
    questions: dict[str, str] = dict(df.attrs.get("questions") or {})
    columns = [str(c) for c in df.columns]
    notes: list[str] = []

    def need(col: Any, field: str) -> str:
        col = str(col)
        if col in columns:
            return col
        close = [c for c in columns if c.lower().strip() == col.lower().strip()]
        if not close:
            import difflib

            close = difflib.get_close_matches(col, columns, n=1, cutoff=0.75)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InputError(
            f"Column {col!r} not found in {source} (columns: {_list_columns(columns)}).{hint} "
            + _HOW_TO_SET[field]
        )

    def as_list(v: str | Sequence[str]) -> list[str]:
        return [v] if isinstance(v, str) else list(v)

    explicit_text = [need(c, "text") for c in as_list(text)] if text is not None else None
    explicit_scores: dict[str, str | None] | None = None
    if scores is not None:
        items: Iterable[tuple[str, str | None]] = (
            scores.items() if isinstance(scores, Mapping) else ((c, None) for c in as_list(scores))
        )
        explicit_scores = {}
        for c, k in items:
            col = need(c, "scores")
            if k is not None and str(k).lower() not in SCORE_KINDS:
                raise ConfigError(
                    f"Unknown score kind {k!r} for column {col!r}; expected one of "
                    f"{', '.join(SCORE_KINDS)} (e.g. --score-column '{col}=nps')."
                )
            explicit_scores[col] = str(k).lower() if k is not None else None
    explicit_date = need(date, "date") if date else None
    explicit_segments = (
        [need(c, "segments") for c in as_list(segments)] if segments is not None else None
    )
    explicit_id = need(id, "id") if id else None

    claimed: set[str] = set(explicit_text or []) | set(explicit_scores or {})
    claimed |= {c for c in (explicit_date, explicit_id) if c} | set(explicit_segments or [])

    profiles = {c: _Profile(c, df.iloc[:, i], questions.get(c), i) for i, c in enumerate(columns)}
    meta = {
        c
        for c in columns
        if df.attrs.get("layout") in ("qualtrics", "surveymonkey")
        and (c.lower() in _QUALTRICS_META or c.lower() in _SM_META)
    }

    # --- id
    if explicit_id is not None:
        id_col: str | None = explicit_id
    elif id is False:
        id_col = None
    else:
        id_col = _guess_id(profiles, claimed, notes)
    if id_col:
        claimed.add(id_col)

    # --- scores
    score_map: dict[str, str] = {}
    if explicit_scores is not None:
        for col, kind in explicit_scores.items():
            if kind is None:
                guessed, _ = _guess_kind(profiles[col])
                if guessed is None:
                    guessed = _kind_by_range(profiles[col])
                if guessed is None:
                    raise InputError(
                        f"Cannot tell what kind of score {col!r} in {source} is (values: "
                        f"{_value_examples(df[col])}). Give the kind, e.g. --score-column "
                        f"'{col}=nps', score_columns={{{col!r}: 'nps'}} in Python, or "
                        f"io.score_columns (kinds: {', '.join(SCORE_KINDS)})."
                    )
                kind = guessed
            score_map[col] = kind
    else:
        for col, p in profiles.items():
            if col in claimed or col in meta:
                continue
            kind, why = _guess_kind(p)
            if kind:
                score_map[col] = kind
                notes.append(f"score {col!r} -> {kind}: {why}")
            elif p.nonnull and p.numeric_frac >= 0.2 and any(
                rx.search(p.label) for rx in (_NPS, _CSAT, _CES, _RATING)
            ):  # named like a score, but its values are not one: say so rather than drop it
                found = (
                    f"only {p.numeric_frac:.0%} of its values are numbers"
                    if p.numeric_frac < 0.8
                    else "it holds two values, read as yes/no"
                    if p.bool_frac >= 0.9 and p.nunique <= 2
                    else f"its values ({np.nanmin(p.nums):g} to {np.nanmax(p.nums):g}) fit no "
                    "score scale"
                    + (" (a rating is 1-5 stars; a 0-10 likelihood to recommend is 'nps')"
                       if _STARS.search(p.label) and not _NPS.search(p.label) else "")
                )
                notes.append(
                    f"{col!r} is named like a score but {found} "
                    f"({_value_examples(df.iloc[:, p.position], 3)}): not used. To use it, give "
                    f"its kind: --score-column '{col}=KIND' or score_columns={{{col!r}: KIND}} "
                    f"in Python ({', '.join(SCORE_KINDS)}); values that do not fit are then "
                    "explained row by row."
                )
    claimed |= set(score_map)

    # --- date
    if explicit_date is not None:
        date_col: str | None = explicit_date
    elif date is False:
        date_col = None
    else:
        date_col = _guess_date(profiles, claimed)
        if date_col:
            notes.append(f"date {date_col!r}: values parse as dates")
    if date_col:
        claimed.add(date_col)

    # --- text
    if explicit_text is not None:
        text_cols = explicit_text
        if not text_cols:
            raise InputError(f"No text column given for {source}. {_HOW_TO_SET['text']}")
    else:
        text_cols = _guess_text(profiles, claimed | meta, notes)
        if not text_cols:
            roles = {**{c: "segment" for c in explicit_segments or []}, explicit_date: "date",
                     explicit_id: "id", **{c: "score" for c in explicit_scores or {}}}  # fmt: skip
            taken = [c for c in _guess_text(profiles, meta, []) if c in roles]
            if taken:  # the user named the comments as something else
                role = roles[taken[0]]
                raise InputError(
                    f"No free-text column left in {source}: {taken[0]!r} holds the comments but "
                    f"was named as the {role} column. Name the right {role} column, or leave it "
                    "out to have it detected."
                )
            raise InputError(
                f"No free-text column found in {source} (columns: {_list_columns(columns)})"
                + _why_no_text(df, profiles, claimed | meta)
            )
    claimed |= set(text_cols)

    # --- segments
    if explicit_segments is not None:
        segment_cols = explicit_segments
    else:
        segment_cols = _guess_segments(profiles, claimed | meta, notes)

    return ColumnMap(
        text=text_cols,
        scores=score_map,  # type: ignore[arg-type]
        date=date_col,
        segments=segment_cols,
        id=id_col,
        notes=notes,
    )


_TOUCHPOINT = _rx(
    r"touch ?points?|journey|journey stage|stage|channel|sub type|survey sub type|survey type|"
    r"interaction|contact reason|step"
)
_CHURN = _rx(
    r"churn\w*|cancel\w*|attrition|closed|leaver|leavers|left|lapsed|defect\w*|terminated|"
    r"retained|retention|still customer|active"
)
_RETAINED = _rx(r"retained|retention|still customer|active")


def detect_link_columns(
    df: pd.DataFrame,
    exclude: Iterable[str] = (),
    *,
    touchpoint: str | None = None,
    churn: str | None = None,
) -> dict[str, Any]:
    """Find the journey touchpoint / channel column and the churned (cancelled) flag column.

    Kept apart from :func:`detect_columns` so the :class:`ColumnMap` contract stays as it is;
    a touchpoint column found here usually remains a segment too.

    Parameters
    ----------
    df : DataFrame
        The export.
    exclude : iterable of str
        Columns already claimed (text, scores, date, id).
    touchpoint, churn : str, optional
        Explicit columns (``""`` means: none); they must exist.

    Returns
    -------
    dict
        ``{"touchpoint": col or None, "churn": col or None, "churn_inverted": bool,
        "notes": [...]}``. ``churn_inverted`` is true when the column says the customer was
        *retained* (``active``, ``retained``), so a false value means churned.

    Notes
    -----
    - **touchpoint**: a string column of 2-50 repeating short values whose header mentions
      touchpoint, journey, stage, channel, (survey) sub type, interaction or step.
    - **churn**: a column whose header mentions churn, cancel, attrition, closed, left, lapsed
      (or retained / active, read inverted) and whose values are yes/no, true/false or 1/0.
    """
    columns = [str(c) for c in df.columns]
    source = df.attrs.get("source") or "the table"
    notes: list[str] = []
    out: dict[str, Any] = {"touchpoint": None, "churn": None, "churn_inverted": False}
    for key, given in (("touchpoint", touchpoint), ("churn", churn)):
        if given is not None and given != "" and given not in columns:
            raise InputError(
                f"Column {given!r} not found in {source} (columns: {_list_columns(columns)}). "
                f'Set link.{key}_column in your config to an existing column (or "" for none).'
            )
    excluded = set(map(str, exclude))
    profiles = {
        c: _Profile(c, df.iloc[:, i], None, i) for i, c in enumerate(columns) if c not in excluded
    }
    if touchpoint is not None:
        out["touchpoint"] = touchpoint or None
    else:
        for col, p in profiles.items():
            if not _TOUCHPOINT.search(p.header) or not p.textish or p.mean_words > 6:
                continue
            if 2 <= p.nunique <= 50 and p.nunique <= 0.7 * p.nonnull:
                out["touchpoint"] = col
                notes.append(f"touchpoint {col!r}: journey/channel header, {p.nunique} values")
                break
    if churn is not None:
        out["churn"] = churn or None
    else:
        for col, p in profiles.items():
            if col == out["touchpoint"] or not _CHURN.search(p.header):
                continue
            if p.nonnull and p.bool_frac >= 0.9 and p.nunique <= 2:
                out["churn"] = col
                notes.append(f"churn {col!r}: churn/cancel header with yes/no values")
                break
    if out["churn"]:
        out["churn_inverted"] = bool(_RETAINED.search(_norm_label(out["churn"])))
    out["notes"] = notes
    return out


def _kind_by_range(p: _Profile) -> str | None:
    if p.bool_frac >= 0.9 and p.nunique <= 2:
        return "recommend"
    if not len(p.nums):  # the user named it a score: any numbers decide the range
        return None
    lo = float(np.quantile(p.nums, 0.02, method="lower"))
    hi = float(np.quantile(p.nums, 0.98, method="higher"))
    if lo >= 0 and hi <= 10 and (lo == 0 or hi > 7):
        return "nps"
    if lo >= 1 and hi <= 5:
        return "rating"
    if lo >= 1 and hi <= 7:
        return "ces"
    return None


def _why_no_text(df: pd.DataFrame, profiles: dict[str, _Profile], excluded: set[str]) -> str:
    """The end of the "no free-text column" message: what is wrong, and how to fix it.

    A table without rows, or a column named like text (``comment``) that is empty or holds
    numbers, is a different problem from a table where nothing looks like text at all.
    """
    how = _HOW_TO_SET["text"].removeprefix("Name it: ")
    if not len(df):
        return (
            ": the table has no rows. Check that the export includes the responses, or name "
            "the column: " + how
        )
    named = [
        c
        for c, p in profiles.items()
        if c not in excluded and (_TEXT_STRONG.search(p.label) or _TEXT_WEAK.search(p.label))
    ]
    named.sort(key=lambda c: not _TEXT_STRONG.search(profiles[c].label))
    p = profiles[named[0]] if named else None
    if p is not None and p.nonnull == 0:
        return (
            f": column {p.name!r} is empty in every row. Check that the export includes the "
            "answers to the open question, or name the column that holds them: " + how
        )
    if p is not None and (p.is_numeric_dtype or p.numeric_frac >= 0.5):
        only = "only" if p.is_numeric_dtype or p.numeric_frac == 1 else "mostly"
        return (
            f": column {p.name!r} holds {only} numbers "
            f"({_value_examples(df.iloc[:, p.position], 3)}), "
            "not text. Name the column that holds the comments: " + how
        )
    return (
        ". Looked for headers like comment, feedback, review, verbatim, why or text, and for "
        "columns of long, varied text. Name the column: " + how
    )


def _value_examples(s: pd.Series, n: int = 5) -> str:
    vals = [str(v) for v in s.dropna().unique()[:n]]
    return ", ".join(repr(v) for v in vals) + (", ..." if s.dropna().nunique() > n else "")


def _guess_id(profiles: dict[str, _Profile], claimed: set[str], notes: list[str]) -> str | None:
    best: tuple[int, int, str] | None = None
    rejected: list[str] = []
    for col, p in profiles.items():
        if col in claimed or p.nonnull == 0:
            continue
        named = bool(_ID_NAME.search(p.header)) and not _PII.search(p.header)
        index_like = p.unnamed and p.integral and p.numeric_frac == 1.0
        if not (named or index_like):
            continue
        if p.is_datetime or (p.numeric_frac and not p.integral and not named):
            continue
        unique = p.nunique == p.nonnull and p.filled >= 0.99
        if not unique:
            if named and p.unique_ratio > 0.9:
                rejected.append(
                    f"{col!r} not used as id: {p.nonnull - p.nunique:,} repeated or "
                    f"{p.n - p.nonnull:,} empty value(s)"
                )
            continue
        if re.search(r"\b(response|respondent|record|review|feedback|comment|survey)\b", p.header):
            rank = 0
        elif p.header in ("id", "uuid", "guid"):
            rank = 1
        elif named:
            rank = 2
        else:
            rank = 3
        cand = (rank, p.position, col)
        if best is None or cand < best:
            best = cand
    if best is None:
        notes.extend(rejected)
        return None
    return best[2]


def _guess_date(profiles: dict[str, _Profile], claimed: set[str]) -> str | None:
    cands = [p for c, p in profiles.items() if c not in claimed and p.date_frac >= 0.8]
    if not cands:
        return None

    def rank(p: _Profile) -> tuple[int, int]:
        if re.search(r"\bstart", p.header):
            return (len(_DATE_PRIORITY) + 1, p.position)
        for i, rx in enumerate(_DATE_PRIORITY):
            if rx.search(p.header):
                return (i, p.position)
        return (len(_DATE_PRIORITY), p.position)

    return min(cands, key=rank).name


def _guess_text(profiles: dict[str, _Profile], excluded: set[str], notes: list[str]) -> list[str]:
    scored: list[tuple[float, str, str]] = []
    for col, p in profiles.items():
        if col in excluded or not p.textish:
            continue
        strong = bool(_TEXT_STRONG.search(p.label))
        weak = bool(_TEXT_WEAK.search(p.label))
        title = bool(_TITLE.search(p.header))
        varied = p.unique_ratio >= 0.3 or p.nonnull < 10
        if _OTHER_SPECIFY.search(p.label) and not strong:
            continue  # the "Other (please specify)" box of a choice question
        personal = bool(_NOT_TEXT.search(p.header)) and not strong
        # a strong header ("comment", "review text") is trusted even when answers repeat
        # (exports where thousands answer "good"); weaker hints also need varied values
        named_ok = strong or ((weak or title) and varied)
        if named_ok and not personal and p.mean_words >= 1.5:
            kind = "named"
        elif not personal and varied and p.mean_words >= 5 and p.unique_ratio >= 0.5:
            kind = "content"
        else:
            continue
        score = (
            3.0 * strong
            + 1.5 * weak
            - 2.5 * title
            + min(p.mean_words, 40) / 10
            + p.filled
            - 2.0 * (kind == "content")
        )
        scored.append((score, col, kind))
    if not scored:
        return []
    scored.sort(key=lambda t: -t[0])
    primary_score, primary, primary_kind = scored[0]
    p = profiles[primary]
    how = "header" if primary_kind == "named" else "content"
    notes.insert(
        0,
        f"text {primary!r}: chosen by {how} ({p.mean_words:.0f} words on average, "
        f"{p.filled:.0%} filled)",
    )
    others = [c for _, c, k in scored[1:] if k == "named" and profiles[c].filled >= 0.3]
    if others:
        notes.insert(1, f"also text: {', '.join(repr(c) for c in others)} (joined after it)")
    return [primary, *others]


def _guess_segments(
    profiles: dict[str, _Profile], excluded: set[str], notes: list[str]
) -> list[str]:
    out: list[str] = []
    for col, p in profiles.items():
        if col in excluded or p.nonnull == 0 or not p.textish or p.unnamed:
            continue
        if _PII.search(p.header) or p.header in ("name", "user", "username"):
            continue
        named = bool(_SEGMENT.search(p.label))
        limit = 200 if named else 50
        repeats = p.nunique <= (0.7 if named else 0.5) * p.nonnull
        if not (2 <= p.nunique <= limit) or not repeats:
            continue
        if p.filled < (0.2 if named else 0.5) or p.mean_words > 6:
            continue
        if p.low_values and p.low_values <= _SENTIMENT_LABELS | {"nan"}:
            notes.append(f"{col!r} looks like an existing sentiment label; not used as segment")
            continue
        if p.low_values and p.low_values <= _NPS_GROUPS:
            notes.append(f"{col!r} holds NPS groups (derived from the score); not a segment")
            continue
        out.append(col)
    return out


# --------------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------------


def parse_scores(series: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """Turn a score column into numbers, flagging values that are present but invalid.

    Parameters
    ----------
    series : pandas.Series
        Strings (as read by :func:`read_feedback`) or numbers. A leading number followed by a
        label counts ("10 - Extremely likely", "4 stars"); ``7.0`` counts as 7. Answers
        written out count as their scale point: CSAT labels ("Very satisfied" 5 ...
        "Very dissatisfied" 1), CES 2.0 agreement ("Strongly agree" 7 ... "Strongly disagree"
        1), "Extremely likely" / "Not at all likely" (NPS 10 / 0), fractions out of the
        scale's top ("4/5", "4 out of 5") and stars ("★★★★☆").
    kind : {"nps", "csat", "ces", "rating", "recommend"}
        Valid values: NPS whole numbers 0-10, CSAT whole numbers 1-5, CES whole numbers 1-7,
        rating any number 1-5 (half stars such as 3.5 allowed), recommend
        yes/no/true/false/y/n/1/0 (case ignored) mapped to 1/0.

    Returns
    -------
    values : pandas.Series of float
        Same index and name as ``series``; NaN where the value is missing or invalid.
    invalid_mask : pandas.Series of bool
        True where a value is present (not NA, not blank) but invalid; missing values are not
        invalid.

    Raises
    ------
    ConfigError
        If ``kind`` is not a known score kind.

    Examples
    --------
    >>> v, bad = parse_scores(pd.Series(["9", "11", "", "n/a"]), "nps")
    >>> v.tolist()[:2], bad.tolist()
    ([9.0, nan], [False, True, False, True])
    """
    kind = str(kind).lower()
    if kind not in SCORE_RANGES:
        raise ConfigError(f"Unknown score kind {kind!r}; expected one of {', '.join(SCORE_KINDS)}.")
    s = series
    if pd.api.types.is_bool_dtype(s.dtype) or (
        pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype)
    ):
        missing = s.isna().to_numpy()
        nums = s.astype(float).to_numpy()
    else:
        obj = s.astype(object)
        strs = pd.Series(
            [
                None
                if v is None or (isinstance(v, float) and v != v) or v is pd.NA
                else (v if isinstance(v, str) else str(v)).strip()
                for v in obj
            ],
            index=s.index,
            dtype=object,
        )
        missing = (strs.isna() | (strs == "")).to_numpy()
        if kind == "recommend":
            low = strs.str.lower()
            nums = np.where(
                low.isin(_BOOL_TRUE).to_numpy(),
                1.0,
                np.where(low.isin(_BOOL_FALSE).to_numpy(), 0.0, np.nan),
            )
        else:
            fraction = strs.str.match(_FRACTION).fillna(False).to_numpy(dtype=bool)
            # a fraction is read by its own rule (out of the kind's top), not as a number
            nums = np.where(fraction, np.nan, _numbers(strs))
            nums = _with_answers(nums, strs, kind)
    lo, hi = SCORE_RANGES[kind]
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(nums) & (nums >= lo) & (nums <= hi)
        if kind in _INTEGER_KINDS:
            ok &= np.mod(nums, 1) == 0
    values = pd.Series(np.where(ok, nums, np.nan), index=s.index, name=s.name, dtype=float)
    invalid = pd.Series(~ok & ~missing, index=s.index, name=s.name, dtype=bool)
    return values, invalid


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------

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
        with pq.ParquetWriter(tmp["parquet"], schema) as writer, open(
            tmp["csv"], "w", encoding="utf-8", newline=""
        ) as csv_file:
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
