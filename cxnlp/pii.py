"""PII redaction before any text is stored: emails, phones, cards, IBANs, postcodes, ids, URLs.

Each detector is precise by construction where it can be (Luhn for cards, mod-97 for IBANs,
``phonenumbers`` validity for phones), so redaction is on by default without eating sizes,
prices or dates. Matches become typed placeholders such as ``[EMAIL]``, and counts per type
feed the report's data-quality section.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import phonenumbers

# The look-behind makes a match start only where a run of address characters starts, so a
# 1 MB run of letters costs one pass, not a quadratic scan.
EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]+?(?=[.,;:!?)\]'\"]*(?:\s|$))", re.IGNORECASE)
_URL_TOKEN = re.compile(r"[?#&=]|[A-Za-z0-9_-]{16,}")
CARD = re.compile(r"(?<![\w-])[2-6](?:[ -]?\d){12,18}(?![\w-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
# Upper or lower case, not mixed: "PS5 2nd" is a console and an ordinal, not a postcode.
_UK = r"(?:GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})"
UK_POSTCODE = re.compile(rf"\b(?:{_UK}|{_UK.lower()})\b")
_STATES = (
    r"A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI"
    r"|S[CD]|T[NX]|UT|V[AT]|W[AIVY]"
)
US_ZIP = re.compile(
    rf"\b\d{{5}}-\d{{4}}\b|(?:\b(?:{_STATES}),? |(?i:\bzip(?:[ -]?code)?:? ?))"
    r"(?P<zip>\d{5}(?:-\d{4})?)\b"
)
_DATE_LIKE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
#: Order/account/booking numbers: a keyword, then an id with a digit, or (after booking and
#: confirmation words) an all-capitals reference such as ``XUWZGC``. Compiled case-sensitively:
#: write ``(?i:...)`` for the parts of your own patterns that ignore case.
DEFAULT_ID_PATTERNS = [
    r"(?i:\b(?:order|account|acct|ref(?:erence)?|booking|customer|membership|policy|ticket|case|"
    r"invoice|tracking|confirmation|reservation|pnr)(?:\s+(?:no\.?|number|num|id|code|ref))?)"
    r"\s*(?:[:#]|is)?\s*#?(?P<id>(?=[A-Za-z0-9-]*\d)(?![\d-]*\d[-/.]\d{1,2}[-/.]\d)"
    r"[A-Za-z0-9][A-Za-z0-9-]{4,})\b",
    r"(?i:\b(?:booking|confirmation|reservation|pnr|ref(?:erence)?)(?:\s+(?:no\.?|number|code|ref))?)"
    r"\s*(?:[:#]|(?i:is))?\s*(?P<id>[A-Z][A-Z0-9]{4,7})\b",
]


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    s = candidate.replace(" ", "").upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


@dataclass
class PIIRedactor:
    """Replace personal data with ``[TYPE]`` placeholders; ``__call__`` returns (text, counts).

    Parameters
    ----------
    regions : list of str
        Phone-number regions tried for numbers written without ``+country`` (ISO codes).
    id_patterns : list of str
        Regexes for order/account numbers, case-sensitive (use ``(?i:...)``); the named
        group ``id`` (or the whole match) is replaced.
    kinds : set of str
        Which detectors run: email, url, iban, card, phone, postcode, id.
    """

    regions: list[str] = field(default_factory=lambda: ["GB", "US"])
    id_patterns: list[str] = field(default_factory=lambda: list(DEFAULT_ID_PATTERNS))
    kinds: set[str] = field(
        default_factory=lambda: {"email", "url", "iban", "card", "phone", "postcode", "id"}
    )

    def __post_init__(self) -> None:
        self._ids = [re.compile(p) for p in self.id_patterns]

    def _steps(self) -> Iterable[tuple[str, Callable[[str], list[tuple[int, int]]]]]:
        yield "url", lambda t: [m.span() for m in URL.finditer(t) if _URL_TOKEN.search(m.group())]
        yield "email", lambda t: [m.span() for m in EMAIL.finditer(t)]
        yield "iban", lambda t: [m.span() for m in IBAN.finditer(t) if iban_ok(m.group())]
        yield (
            "id",
            lambda t: [
                m.span("id") if "id" in m.groupdict() else m.span()
                for p in self._ids
                for m in p.finditer(t)
            ],
        )
        yield (
            "card",
            lambda t: [
                m.span()
                for m in CARD.finditer(t)
                if 13 <= len(d := re.sub(r"\D", "", m.group())) <= 19 and luhn_ok(d)
            ],
        )
        yield "phone", self._phones
        yield (
            "postcode",
            lambda t: (
                [m.span() for m in UK_POSTCODE.finditer(t)]
                + [m.span("zip") if m.group("zip") else m.span() for m in US_ZIP.finditer(t)]
            ),
        )

    def _phones(self, text: str) -> list[tuple[int, int]]:
        if not any(ch.isdigit() for ch in text):
            return []
        spans = set()
        for region in self.regions:
            # POSSIBLE, not VALID: reserved ranges (e.g. UK 07700 900xxx) are still someone's
            # number to a reader; the digit count and the date guard keep precision.
            for m in phonenumbers.PhoneNumberMatcher(
                text, region, leniency=phonenumbers.Leniency.POSSIBLE
            ):
                digits = sum(ch.isdigit() for ch in m.raw_string)
                inside_word = m.start > 0 and text[m.start - 1].isalnum()
                if digits >= 10 and not inside_word and not _DATE_LIKE.search(m.raw_string):
                    spans.add((m.start, m.end))
        return sorted(spans)

    def __call__(self, text: str) -> tuple[str, Counter[str]]:
        counts: Counter[str] = Counter()
        for kind, find in self._steps():
            if kind not in self.kinds:
                continue
            spans = sorted(set(find(text)))
            if not spans:
                continue
            pieces, pos = [], 0
            for a, b in spans:
                if a < pos:  # overlapping match: already covered
                    continue
                pieces += [text[pos:a], f"[{kind.upper()}]"]
                pos = b
                counts[kind] += 1
            text = "".join(pieces) + text[pos:]
        return text, counts


def redact_pii(text: str, redactor: PIIRedactor | None = None) -> tuple[str, Counter[str]]:
    """Redact ``text`` with the default (or given) :class:`PIIRedactor`.

    Examples
    --------
    >>> redact_pii("Call me on 07700 900123 or mail jo@example.com")[0]
    'Call me on [PHONE] or mail [EMAIL]'
    """
    return (redactor or _DEFAULT)(text)


_DEFAULT = PIIRedactor()
