"""What a column looks like (:class:`_Profile`): how full it is, its distinct values,
numbers, dates and words, measured on (a sample of) its values.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from .scores import _BOOL_FALSE, _BOOL_TRUE, _INTEGER_KINDS, SCORE_RANGES, _answer_numbers, _numbers


def _norm_label(s: str) -> str:
    s = re.sub(r"([a-z])([A-Z])", r"\1 \2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", s)
    s = re.sub(r"[_\-./:()\[\]?!,]+", " ", s.lower())
    return " ".join(s.split())


_DATE_VALUE = re.compile(
    r"^\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|"
    r"\d{1,2}[- ]?[A-Za-z]{3,9}\.?[- ,]+\d{2,4}|[A-Za-z]{3,9}\.? \d{1,2},? \d{4})"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?)?"
    r"\s*$"
)


class _Profile:
    """What a column looks like, measured on (a sample of) its values."""

    def __init__(self, name: str, series: pd.Series, question: str | None, position: int):
        self.name = name
        self.position = position
        self.label = _norm_label(name + (" " + question if question else ""))
        self.header = _norm_label(name)
        self.unnamed = (
            name == ""
            or bool(re.fullmatch(r"Unnamed: \d+(\.\d+)?", name))
            or (name.lower() in ("index", "level_0"))
        )
        n = len(series)
        self.n = n
        # by position: an index with repeated labels (pd.concat, dask partitions) must not
        # multiply rows when the blank ones are dropped below
        nonnull = series.reset_index(drop=True).dropna()
        if series.dtype == object or _is_string_dtype(series):
            as_str = nonnull.astype(str)
            as_str = as_str[as_str.str.strip() != ""]
            nonnull = nonnull.loc[as_str.index]
        self.nonnull = len(nonnull)
        self.filled = self.nonnull / n if n else 0.0
        try:
            self.nunique = int(nonnull.nunique())
        except TypeError:
            self.nunique = int(nonnull.astype(str).nunique())
        sample = nonnull if len(nonnull) <= 2000 else nonnull.sample(2000, random_state=0)
        self.is_datetime = pd.api.types.is_datetime64_any_dtype(series.dtype)
        self.is_bool_dtype = pd.api.types.is_bool_dtype(series.dtype)
        self.is_numeric_dtype = (
            pd.api.types.is_numeric_dtype(series.dtype) and not self.is_bool_dtype
        )
        strs = sample.astype(str).str.strip()
        low = strs.str.lower()
        self.bool_frac = float(low.isin(_BOOL_TRUE | _BOOL_FALSE).mean()) if len(low) else 0.0
        if self.is_bool_dtype:
            self.bool_frac = 1.0
        self._strs = strs
        nums = _numbers(sample)
        valid = nums[~np.isnan(nums)]
        self.numeric_frac = len(valid) / len(sample) if len(sample) else 0.0
        self.nums = valid
        self.integral = bool(len(valid)) and bool(np.all(np.mod(valid, 1) == 0))
        self.levels = len(np.unique(valid)) if len(valid) else 0
        if len(strs) and not self.is_numeric_dtype and not self.is_datetime:
            words = strs.str.split().str.len()
            self.mean_words = float(words.mean())
            self.mean_chars = float(strs.str.len().mean())
        else:
            self.mean_words = self.mean_chars = 1.0 if len(strs) else 0.0
        if self.is_datetime:
            self.date_frac = 1.0
        elif len(strs) and not self.is_numeric_dtype:
            small = strs.iloc[:300]
            looks = small.str.match(_DATE_VALUE)
            if looks.mean() >= 0.8:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    parsed = pd.to_datetime(small[looks], errors="coerce", format="mixed")
                self.date_frac = float(parsed.notna().sum() / len(small))
            else:
                self.date_frac = 0.0
        else:
            self.date_frac = 0.0
        self.low_values = set(low.unique()[:60]) if self.nunique <= 50 else set()
        self.unique_ratio = self.nunique / self.nonnull if self.nonnull else 0.0

    def answers_fit(self, kind: str) -> float:
        """Fraction of the values that are ``kind``'s answers written out ("Very satisfied")."""
        if not len(self._strs):
            return 0.0
        return float(np.mean(~np.isnan(_answer_numbers(self._strs, kind))))

    def fits(self, kind: str) -> float:
        """Fraction of numeric values valid for ``kind``."""
        if not len(self.nums):
            return 0.0
        lo, hi = SCORE_RANGES[kind]
        ok = (self.nums >= lo) & (self.nums <= hi)
        if kind in _INTEGER_KINDS:
            ok &= np.mod(self.nums, 1) == 0
        return float(ok.mean()) * self.numeric_frac

    @property
    def textish(self) -> bool:
        return (
            self.nonnull > 0
            and self.numeric_frac < 0.5
            and self.date_frac < 0.5
            and not self.is_numeric_dtype
            and not self.is_datetime
        )


def _is_string_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s.dtype)
