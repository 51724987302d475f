"""Per-row text cleaning: normalisation and sentence splitting that keeps character offsets.

Offsets always index the cleaned text that the run outputs (``text`` in ``responses``),
so ``text[start:end]`` gives back the evidence exactly.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import ftfy

# A sentence ends at . ! ? … (possibly repeated, possibly followed by quotes/brackets)
# when whitespace follows, or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\s*[\r\n]+\s*")
_ABBREV = re.compile(r"\b(?:mr|mrs|ms|dr|st|vs|etc|e\.g|i\.e|approx|no)\.$", re.IGNORECASE)
_WORDISH = re.compile(r"\w", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Span(NamedTuple):
    start: int
    end: int
    text: str


def normalize(text: str) -> str:
    """Fix mojibake and HTML entities (``&amp;``), drop control characters, trim whitespace."""
    text = ftfy.fix_text(text, unescape_html=True, normalization="NFC")
    text = _CONTROL.sub(" ", text)
    return text.strip()


def split_sentences(text: str, min_chars: int = 3) -> list[Span]:
    """Split ``text`` into sentences with character offsets into ``text``.

    Fragments shorter than ``min_chars`` word characters ("!!", "ok.") are merged into their
    neighbour, so every span carries something to classify. Texts with no sentence boundary
    come back as one span.

    Examples
    --------
    >>> [s.text for s in split_sentences("Love it. Delivery was late!")]
    ['Love it.', 'Delivery was late!']
    """
    spans: list[list[int]] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        end = m.start()
        if end <= pos:
            pos = m.end()
            continue
        if _ABBREV.search(text[max(pos, end - 6) : end]) and "\n" not in m.group():
            continue
        spans.append([pos, end])
        pos = m.end()
    if pos < len(text) and text[pos:].strip():
        spans.append([pos, len(text.rstrip())])
    merged: list[list[int]] = []
    for s in spans:
        short = len(_WORDISH.findall(text[s[0] : s[1]])) < min_chars
        if merged and (
            short or len(_WORDISH.findall(text[merged[-1][0] : merged[-1][1]])) < min_chars
        ):
            merged[-1][1] = s[1]
        else:
            merged.append(s)
    return [Span(a, b, text[a:b]) for a, b in merged]
