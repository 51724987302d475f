"""Guessing the role of a column from its header and profile: the words headers are read
for, and the guesses of score kind, id, date, free text and segments.
"""

from __future__ import annotations

import re

import numpy as np

from .profile import _Profile


def _rx(words: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{words})\b")


_TEXT_STRONG = _rx(
    r"comments?|verbatims?|feedback|reviews?|why|reasons?|explain\w*|describe|tell us|"
    r"suggest\w*|improve\w*|open ended|remarks?|complaints?|opinions?|thoughts|what did you|"
    r"what could|anything else"
)
_TEXT_WEAK = _rx(r"text|body|message|content|answer|notes?|description|free text")
_TITLE = _rx(r"title|summary|subject|headline")
_NOT_TEXT = _rx(
    r"e ?mail|name|address|phone|url|link|ip|id|uuid|location|city|zip|post ?code|"
    r"user ?agent|time ?zone|language|tags?|country|state"
)
_NPS = _rx(r"nps|net promoter|likel\w* to recommend|likelihood|ltr|how likely")
_CSAT = _rx(r"csat|satisf\w*")
_CES = _rx(r"ces|effort|easy|ease|difficult\w*")
_RATING = _rx(r"ratings?|stars?|rated|scores?|grade")
_STARS = _rx(r"ratings?|stars?|rated")  # a rating of something, never a 0-10 recommendation
_RECOMMEND = _rx(r"recommend\w*")
_ID_NAME = _rx(r"id|ids|uuid|guid|key|index|identifier|response id|respondent id|record id")
_SEGMENT = _rx(
    r"department|dept|region|channel|plan|segment|country|store|branch|product|category|"
    r"division|class|tier|type|group|team|market|source|brand|airline|journey|stage|"
    r"touchpoint|sub type|variation|gender|age group|location|site|platform|device|version|"
    r"language|business unit|unit|line|service|level|cohort|membership|subscription"
)
_PII = _rx(
    r"e ?mail|first name|last name|full name|user ?name|screen name|ip|ip address|phone|"
    r"address|url|user ?agent|latitude|longitude|lat|lon|lng"
)


_SENTIMENT_LABELS = {"positive", "negative", "neutral", "mixed", "pos", "neg", "neu"}
_NPS_GROUPS = {"promoter", "promoters", "passive", "passives", "detractor", "detractors", "neutral"}
_OTHER_SPECIFY = _rx(r"please specify|other text|other \w+ text")
_COUNT_LIKE = _rx(
    r"count|counts|number|num|no|qty|quantity|total|votes?|likes?|retweets?|re tweet|age|year|"
    r"month|week|hours?|minutes?|days?|duration|progress|position|rank|size|price|amount|cost|"
    r"length|visits?|times|items?|orders?"
)


_DATE_PRIORITY = [
    _rx(r"recorded|submitted"),
    _rx(r"response date|completed|end date|enddate|end"),
    _rx(r"created|date|datetime|timestamp"),
    _rx(r"time|day|when|updated|at"),
]


def _guess_kind(p: _Profile) -> tuple[str | None, str]:
    """Score kind of a column from its header/question and values, with the reason."""
    label = p.label
    if p.nonnull == 0:
        return None, ""
    is_bool = p.bool_frac >= 0.9 and p.nunique <= 2
    if is_bool:
        if _RECOMMEND.search(label) and not _NPS.search(label):
            return "recommend", "yes/no values, header mentions recommending"
        # One or two numbers under a score's header are a filtered export (only the 1-star
        # reviews, only detractors), not yes/no; 0/1 is yes/no unless NPS (0 is on its scale).
        nps = bool(_NPS.search(label))
        if not (p.numeric_frac >= 0.9 and (nps or (len(p.nums) and p.nums.min() >= 1))):
            return None, ""
    if p.numeric_frac < 0.8:
        # answers written out count under a header that names their scale, and only there:
        # "Satisfied" / "Agree" elsewhere is a segment
        for k, rx in (("csat", _CSAT), ("ces", _CES), ("nps", _NPS)):
            if rx.search(label) and p.answers_fit(k) >= 0.8:
                return k, f"header suggests {k.upper()}, answers written out"
        return None, ""
    named = [
        k
        for k, rx in (("nps", _NPS), ("csat", _CSAT), ("ces", _CES), ("rating", _RATING))
        if rx.search(label)
    ]
    if "nps" not in named and _RECOMMEND.search(label):
        named.insert(0, "nps")
    lo = float(np.quantile(p.nums, 0.02, method="lower")) if len(p.nums) else 0.0
    hi = float(np.quantile(p.nums, 0.98, method="higher")) if len(p.nums) else 0.0
    for k in named:
        if k == "rating":
            # a generic "score"/"rating": the range decides
            if p.fits("rating") >= 0.8 and lo >= 1 and hi <= 5:
                kind = "csat" if _CSAT.search(label) else "rating"
                return kind, f"header says rating/score, values {lo:g}-{hi:g}"
            if _STARS.search(label):
                # a star rating stays one: 0 ("not rated") is an invalid star, noted row by
                # row, not the bottom of a 0-10 scale; a 1-7 or 1-10 rating is no NPS or CES
                if lo >= 0 and hi <= 5 and p.fits("rating") >= 0.5:
                    return "rating", f"header says rating, values {lo:g}-{hi:g} (stars: 1-5)"
                break
            if p.fits("ces") >= 0.8 and lo >= 1 and hi <= 7 and p.integral:
                return "ces", f"header says score, values {lo:g}-{hi:g} (1-7 scale)"
            if p.fits("nps") >= 0.8 and (lo == 0 or hi > 7):
                return "nps", f"header says score, values {lo:g}-{hi:g} (0-10 scale)"
            continue
        if p.fits(k) >= 0.8:
            return k, f"header suggests {k.upper()}, values {lo:g}-{hi:g}"
    top_share = float(np.unique(p.nums, return_counts=True)[1].max() / len(p.nums))
    if (
        not named
        and not _COUNT_LIKE.search(p.label)
        and p.integral
        and p.fits("nps") >= 0.95
        and p.levels >= 9
        and top_share < 0.5
    ):
        return "nps", f"values are whole numbers 0-10 with {p.levels} levels"
    return None, ""


def _kind_by_range(p: _Profile) -> str | None:
    if p.bool_frac >= 0.9 and p.nunique <= 2:
        return "recommend"
    if not len(p.nums):  # the user named it a score: any numbers decide the range
        return None
    lo = float(np.quantile(p.nums, 0.02, method="lower"))
    hi = float(np.quantile(p.nums, 0.98, method="higher"))
    if lo >= 0 and hi <= 10 and (lo == 0 or hi > 7):
        return "nps"
    if lo >= 1 and hi <= 5:
        return "rating"
    if lo >= 1 and hi <= 7:
        return "ces"
    return None


def _guess_id(profiles: dict[str, _Profile], claimed: set[str], notes: list[str]) -> str | None:
    best: tuple[int, int, str] | None = None
    rejected: list[str] = []
    for col, p in profiles.items():
        if col in claimed or p.nonnull == 0:
            continue
        named = bool(_ID_NAME.search(p.header)) and not _PII.search(p.header)
        index_like = p.unnamed and p.integral and p.numeric_frac == 1.0
        if not (named or index_like):
            continue
        if p.is_datetime or (p.numeric_frac and not p.integral and not named):
            continue
        unique = p.nunique == p.nonnull and p.filled >= 0.99
        if not unique:
            if named and p.unique_ratio > 0.9:
                rejected.append(
                    f"{col!r} not used as id: {p.nonnull - p.nunique:,} repeated or "
                    f"{p.n - p.nonnull:,} empty value(s)"
                )
            continue
        if re.search(r"\b(response|respondent|record|review|feedback|comment|survey)\b", p.header):
            rank = 0
        elif p.header in ("id", "uuid", "guid"):
            rank = 1
        elif named:
            rank = 2
        else:
            rank = 3
        cand = (rank, p.position, col)
        if best is None or cand < best:
            best = cand
    if best is None:
        notes.extend(rejected)
        return None
    return best[2]


def _guess_date(profiles: dict[str, _Profile], claimed: set[str]) -> str | None:
    cands = [p for c, p in profiles.items() if c not in claimed and p.date_frac >= 0.8]
    if not cands:
        return None

    def rank(p: _Profile) -> tuple[int, int]:
        if re.search(r"\bstart", p.header):
            return (len(_DATE_PRIORITY) + 1, p.position)
        for i, rx in enumerate(_DATE_PRIORITY):
            if rx.search(p.header):
                return (i, p.position)
        return (len(_DATE_PRIORITY), p.position)

    return min(cands, key=rank).name


def _guess_text(profiles: dict[str, _Profile], excluded: set[str], notes: list[str]) -> list[str]:
    scored: list[tuple[float, str, str]] = []
    for col, p in profiles.items():
        if col in excluded or not p.textish:
            continue
        strong = bool(_TEXT_STRONG.search(p.label))
        weak = bool(_TEXT_WEAK.search(p.label))
        title = bool(_TITLE.search(p.header))
        varied = p.unique_ratio >= 0.3 or p.nonnull < 10
        if _OTHER_SPECIFY.search(p.label) and not strong:
            continue  # the "Other (please specify)" box of a choice question
        personal = bool(_NOT_TEXT.search(p.header)) and not strong
        # a strong header ("comment", "review text") is trusted even when answers repeat
        # (exports where thousands answer "good"); weaker hints also need varied values
        named_ok = strong or ((weak or title) and varied)
        if named_ok and not personal and p.mean_words >= 1.5:
            kind = "named"
        elif not personal and varied and p.mean_words >= 5 and p.unique_ratio >= 0.5:
            kind = "content"
        else:
            continue
        score = (
            3.0 * strong
            + 1.5 * weak
            - 2.5 * title
            + min(p.mean_words, 40) / 10
            + p.filled
            - 2.0 * (kind == "content")
        )
        scored.append((score, col, kind))
    if not scored:
        return []
    scored.sort(key=lambda t: -t[0])
    primary_score, primary, primary_kind = scored[0]
    p = profiles[primary]
    how = "header" if primary_kind == "named" else "content"
    notes.insert(
        0,
        f"text {primary!r}: chosen by {how} ({p.mean_words:.0f} words on average, "
        f"{p.filled:.0%} filled)",
    )
    others = [c for _, c, k in scored[1:] if k == "named" and profiles[c].filled >= 0.3]
    if others:
        notes.insert(1, f"also text: {', '.join(repr(c) for c in others)} (joined after it)")
    return [primary, *others]


def _guess_segments(
    profiles: dict[str, _Profile], excluded: set[str], notes: list[str]
) -> list[str]:
    out: list[str] = []
    for col, p in profiles.items():
        if col in excluded or p.nonnull == 0 or not p.textish or p.unnamed:
            continue
        if _PII.search(p.header) or p.header in ("name", "user", "username"):
            continue
        named = bool(_SEGMENT.search(p.label))
        limit = 200 if named else 50
        repeats = p.nunique <= (0.7 if named else 0.5) * p.nonnull
        if not (2 <= p.nunique <= limit) or not repeats:
            continue
        if p.filled < (0.2 if named else 0.5) or p.mean_words > 6:
            continue
        if p.low_values and p.low_values <= _SENTIMENT_LABELS | {"nan"}:
            notes.append(f"{col!r} looks like an existing sentiment label; not used as segment")
            continue
        if p.low_values and p.low_values <= _NPS_GROUPS:
            notes.append(f"{col!r} holds NPS groups (derived from the score); not a segment")
            continue
        out.append(col)
    return out
