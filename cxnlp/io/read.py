"""Reading one export whole: :func:`read_feedback` and the missing-file errors.

The format is sniffed (:mod:`.sniff`), then the file is handed to the reader of its
kind (:mod:`.delimited`, :mod:`.xlsx`, :mod:`.parquet_json`) and its table finished
(:mod:`.layouts`).
"""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path

import pandas as pd

from ..errors import InputError, ReadWarning
from .decode import _decode
from .delimited import _NO_DELIMITER, _detect_delimiter, _parse_delimited, _resolve_delimiter
from .layouts import _finish
from .parquet_json import _read_json, _read_parquet
from .sniff import _EXT_KIND, _TEXT_EXT, _check_extension, _sniff_binary_kind, _sniff_text_kind
from .xlsx import _read_xlsx

#: csv's field size limit while cxnlp reads (the largest a C long holds on every platform).
_CSV_FIELD_LIMIT = 2**31 - 1


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


def _allow_long_fields() -> None:
    """Let ``csv`` read fields of any length, so one long comment does not refuse the file.

    csv's default limit (131,072 characters) fails the whole parse; a long comment should read,
    and the pipeline gives it its status (``clean.max_chars``) as it does for Parquet and JSON.
    The limit is process-wide: it is raised once and never lowered, as restoring it after each
    read would race with reads running at the same time in other threads.
    """
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
