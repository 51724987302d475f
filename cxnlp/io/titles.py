"""Title rows above the header ("Customer survey, March 2018"), found and skipped in
delimited text and XLSX sheets alike.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

from ..errors import ReadWarning


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
            and all(
                _filled_width(r) < width or 2 * len(_filled(r)) <= len(cells) for r in records[:k]
            )
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
        typed |= (
            bool(values)
            and not _NUMBER_CELL.fullmatch(word)
            and sum(bool(_NUMBER_CELL.fullmatch(v) or _DATE_CELL.match(v)) for v in values)
            >= 0.8 * len(values)
        )
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
