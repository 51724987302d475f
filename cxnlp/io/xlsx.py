"""Excel workbooks (XLSX): checked as a zip before openpyxl opens them (size, parts,
packing ratio), a sheet chosen, and cells turned into strings.
"""

from __future__ import annotations

import warnings
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ..errors import InputError, ReadWarning
from .titles import _skip_title

#: An XLSX whose parts would unpack to more than this is refused before it is opened.
XLSX_MAX_UNCOMPRESSED_BYTES = 1 << 30
#: ... and so is one with a part over ``XLSX_MAX_RATIO`` times smaller packed than unpacked
#: once that part unpacks to more than ``XLSX_RATIO_MIN_BYTES`` (real sheets pack ~5-30x).
XLSX_MAX_RATIO = 200
XLSX_RATIO_MIN_BYTES = 32 << 20
_XLSX_MAX_PARTS = 10_000


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
