"""Delimited text (CSV, TSV, ``;`` or ``|``): the delimiter, detected or given, and the
parse into a header and rows, with the checks that name the lines at fault.
"""

from __future__ import annotations

import csv
import io
import warnings
from typing import Any

from ..errors import InputError, ReadWarning
from .titles import _skip_title

#: A CSV record spanning more lines than this gets a warning (probably an unmatched quote).
_MAX_RECORD_LINES = 100


_DELIMITERS = (",", ";", "\t", "|")
_NO_DELIMITER = "\x1f"  # for one-column files: a character that never occurs in text


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


def _blank_record(row: list[str] | str) -> bool:
    """A blank line, which the parser skips: no fields, or one of only spaces."""
    if isinstance(row, str):  # JSON Lines: a line
        return not row.strip()
    return not row or (len(row) == 1 and not row[0].strip())


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
