"""Score kinds and their ranges, and score values as numbers (:func:`parse_scores`),
including answers written out ("Very satisfied", "4/5", "★★★★☆").
"""

from __future__ import annotations

import re
from typing import get_args

import numpy as np
import pandas as pd

from ..config import ScoreKind
from ..errors import ConfigError

SCORE_KINDS: tuple[str, ...] = get_args(ScoreKind)
#: Valid range of each score kind (inclusive). NPS, CSAT and CES must also be whole numbers.
SCORE_RANGES: dict[str, tuple[float, float]] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
    "rating": (1, 5),
    "recommend": (0, 1),
}
_INTEGER_KINDS = {"nps", "csat", "ces", "recommend"}


_BOOL_TRUE = {"yes", "y", "true", "t", "1", "1.0"}
_BOOL_FALSE = {"no", "n", "false", "f", "0", "0.0"}


_NUMBER = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)(?:(?:\s*[-–—:=(]\s*|\s+)[^\d\s].*)?$", re.S)


#: Answer labels of the usual survey scales (lower case), as their scale points: the 5-point
#: satisfaction scale (CSAT), the 7-point agreement scale of CES 2.0 ("The company made it
#: easy for me..."), and the named ends of the 0-10 likelihood-to-recommend question.
_SATISFACTION = {
    "very dissatisfied": 1, "extremely dissatisfied": 1, "completely dissatisfied": 1,
    "very unsatisfied": 1, "dissatisfied": 2, "somewhat dissatisfied": 2, "unsatisfied": 2,
    "neither satisfied nor dissatisfied": 3, "neither satisfied or dissatisfied": 3,
    "neither": 3, "neutral": 3, "satisfied": 4, "somewhat satisfied": 4, "very satisfied": 5,
    "extremely satisfied": 5, "completely satisfied": 5,
}  # fmt: skip
_AGREEMENT = {
    "strongly disagree": 1, "disagree": 2, "somewhat disagree": 3,
    "neither agree nor disagree": 4, "neither agree or disagree": 4, "neither": 4, "neutral": 4,
    "somewhat agree": 5, "agree": 6, "strongly agree": 7,
}  # fmt: skip
_LIKELIHOOD = {"not at all likely": 0, "extremely likely": 10}
_ANSWER_LABELS: dict[str, dict[str, int]] = {
    "csat": _SATISFACTION, "ces": _AGREEMENT, "nps": _LIKELIHOOD,
}  # fmt: skip
_FRACTION = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:/|out of|of)\s*(\d+)\s*$", re.I)
_STAR_MARKS = re.compile(r"^\s*([★⭐]+)\s*[☆✩]*\s*$")


def _answer_key(answer: str) -> str:
    """An answer as the label tables spell it: lower case, single spaces, no final '.'/'!'."""
    return " ".join(answer.lower().replace("_", " ").split()).rstrip(".!")


def _answer_numbers(strs: pd.Series, kind: str) -> np.ndarray:
    """Scale points of ``kind``'s answers written out: labels ("Very satisfied"; none for a
    7-point satisfaction scale), fractions ("4/5", "4 out of 5", kept when out of the kind's
    top), stars for ratings ("★★★★☆"); NaN for anything else."""
    labels = _ANSWER_LABELS.get(kind, {})
    keys = [_answer_key(v) if isinstance(v, str) else "" for v in strs]
    if (
        kind == "csat"
        and {"somewhat satisfied", "somewhat dissatisfied"} & set(keys)
        and {"satisfied", "dissatisfied"} & set(keys)
    ):  # a 7-point satisfaction scale: its points are not CSAT's five
        labels = {}
    top = SCORE_RANGES[kind][1]
    out = np.full(len(strs), np.nan)
    for i, (v, key) in enumerate(zip(strs, keys, strict=True)):
        if not key:
            continue
        if key in labels:
            out[i] = labels[key]
        elif m := _FRACTION.match(v):
            n, of = float(m.group(1).replace(",", ".")), float(m.group(2))
            if of == top:
                out[i] = n
        elif kind == "rating" and (m := _STAR_MARKS.match(v)):
            out[i] = len(m.group(1))
    return out


def _numbers(values: pd.Series) -> np.ndarray:
    """Numbers in a column: numeric dtypes as is; strings by their leading number."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(float).to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype):
        return pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    s = values.astype(object).where(values.notna(), None)
    strs = pd.Series(
        [v if isinstance(v, str) else (None if v is None else str(v)) for v in s],
        index=values.index,
        dtype=object,
    )
    extracted = strs.str.extract(_NUMBER, expand=False)
    extracted = extracted.str.replace(",", ".", regex=False)
    return pd.to_numeric(extracted, errors="coerce").astype(float).to_numpy()


def _with_answers(nums: np.ndarray, strs: pd.Series, kind: str) -> np.ndarray:
    """``nums`` with its gaps filled by answers written out, looked at only where needed."""
    gaps = np.isnan(nums) & strs.notna().to_numpy()
    if gaps.any():  # once per distinct answer: a million "Very satisfied" are one lookup
        nums = nums.copy()
        distinct = pd.unique(strs[gaps])
        points = dict(zip(distinct, _answer_numbers(pd.Series(distinct), kind), strict=True))
        nums[gaps] = strs[gaps].map(points).to_numpy(dtype=float)
    return nums


def parse_scores(series: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """Turn a score column into numbers, flagging values that are present but invalid.

    Parameters
    ----------
    series : pandas.Series
        Strings (as read by :func:`read_feedback`) or numbers. A leading number followed by a
        label counts ("10 - Extremely likely", "4 stars"); ``7.0`` counts as 7. Answers
        written out count as their scale point: CSAT labels ("Very satisfied" 5 ...
        "Very dissatisfied" 1), CES 2.0 agreement ("Strongly agree" 7 ... "Strongly disagree"
        1), "Extremely likely" / "Not at all likely" (NPS 10 / 0), fractions out of the
        scale's top ("4/5", "4 out of 5") and stars ("★★★★☆").
    kind : {"nps", "csat", "ces", "rating", "recommend"}
        Valid values: NPS whole numbers 0-10, CSAT whole numbers 1-5, CES whole numbers 1-7,
        rating any number 1-5 (half stars such as 3.5 allowed), recommend
        yes/no/true/false/y/n/1/0 (case ignored) mapped to 1/0.

    Returns
    -------
    values : pandas.Series of float
        Same index and name as ``series``; NaN where the value is missing or invalid.
    invalid_mask : pandas.Series of bool
        True where a value is present (not NA, not blank) but invalid; missing values are not
        invalid.

    Raises
    ------
    ConfigError
        If ``kind`` is not a known score kind.

    Examples
    --------
    >>> v, bad = parse_scores(pd.Series(["9", "11", "", "n/a"]), "nps")
    >>> v.tolist()[:2], bad.tolist()
    ([9.0, nan], [False, True, False, True])
    """
    kind = str(kind).lower()
    if kind not in SCORE_RANGES:
        raise ConfigError(f"Unknown score kind {kind!r}; expected one of {', '.join(SCORE_KINDS)}.")
    s = series
    if pd.api.types.is_bool_dtype(s.dtype) and kind != "recommend":
        # True/False is no answer on a 0-10 or 1-5 scale (read as 1, True would be a detractor)
        missing = s.isna().to_numpy()
        nums = np.full(len(s), np.nan)
    elif pd.api.types.is_bool_dtype(s.dtype) or (
        pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype)
    ):
        missing = s.isna().to_numpy()
        nums = s.astype(float).to_numpy()
    else:
        obj = s.astype(object)
        strs = pd.Series(
            [
                None
                if v is None or (isinstance(v, float) and v != v) or v is pd.NA
                else (v if isinstance(v, str) else str(v)).strip()
                for v in obj
            ],
            index=s.index,
            dtype=object,
        )
        missing = (strs.isna() | (strs == "")).to_numpy()
        if kind == "recommend":
            low = strs.str.lower()
            nums = np.where(
                low.isin(_BOOL_TRUE).to_numpy(),
                1.0,
                np.where(low.isin(_BOOL_FALSE).to_numpy(), 0.0, np.nan),
            )
        else:
            fraction = strs.str.match(_FRACTION).fillna(False).to_numpy(dtype=bool)
            # a fraction is read by its own rule (out of the kind's top), not as a number
            nums = np.where(fraction, np.nan, _numbers(strs))
            nums = _with_answers(nums, strs, kind)
    lo, hi = SCORE_RANGES[kind]
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(nums) & (nums >= lo) & (nums <= hi)
        if kind in _INTEGER_KINDS:
            ok &= np.mod(nums, 1) == 0
    values = pd.Series(np.where(ok, nums, np.nan), index=s.index, name=s.name, dtype=float)
    invalid = pd.Series(~ok & ~missing, index=s.index, name=s.name, dtype=bool)
    return values, invalid
