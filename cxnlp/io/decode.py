"""Decoding text exports: a given encoding strictly, else UTF-8, UTF-16/32, cp1252 (line
by line where a file mixes it with UTF-8), a charset guess, and latin-1 last.
"""

from __future__ import annotations

import codecs
import warnings

from ..errors import InputError, ReadWarning
from .sniff import _WIDE_BOMS, _bomless_utf16


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
