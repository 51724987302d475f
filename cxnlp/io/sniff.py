"""Format sniffing: what a file holds (delimited text, XLSX, Parquet, JSON, or something
that is no export), whether its text is UTF-16/32, and whether its extension agrees.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import Any

from ..errors import InputError
from .delimited import _DELIMITERS

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
