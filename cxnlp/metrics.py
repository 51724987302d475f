"""Survey score metrics with confidence intervals, and the ``metrics.json`` summary of a run.

Every metric is a plain function: scores in (a Series, list or array; strings such as ``"9"``
are parsed), an :class:`Estimate` out. Invalid entries (missing, non-numeric, off the scale or,
for integer scales, not whole numbers) are counted in ``n_invalid`` and left out of ``n``.

Units: ``value``, ``low`` and ``high`` are in the metric's own unit (``Estimate.unit``: NPS
points in [-100, 100], percentages in [0, 100], or the scale's mean); ``shares`` are always
fractions in [0, 1] of the ``n`` valid answers.

Examples
--------
>>> est = nps([10, 9, 9, 10, 9, 8, 7, 7, 3, 6])
>>> est.value, est.n, est.shares["promoters"]
(30.0, 10, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from .results import analysed

if TYPE_CHECKING:
    from .results import Results

__all__ = [
    "SCORE_KINDS",
    "SENTIMENT_LABELS",
    "Estimate",
    "ces",
    "csat",
    "mean_interval",
    "nps",
    "rating",
    "recommend",
    "score_metric",
    "score_values",
    "segment_levels",
    "segment_summary",
    "sentiment_summary",
    "summarize",
    "wilson_interval",
]

#: The sentiment labels, in the order tables and charts show them.
SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive", "mixed")
#: The range of a sentiment score (``p_positive − p_negative``), which its intervals keep to.
SCORE_BOUNDS: tuple[float, float] = (-1.0, 1.0)
#: Score kinds a column can be mapped to (``columns["scores"]`` values).
SCORE_KINDS: tuple[str, ...] = ("nps", "csat", "ces", "rating", "recommend")
#: Version of the ``metrics.json`` layout built by :func:`summarize`.
SCHEMA_VERSION = 2

_YES = {"yes", "y", "true", "t", "1", "1.0", "si", "sí", "oui", "ja"}
_NO = {"no", "n", "false", "f", "0", "0.0", "non", "nein"}


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval and the counts behind it.

    Attributes
    ----------
    value, low, high : float
        The estimate and its interval, in ``unit``; NaN when there are no valid answers
        (``low``/``high`` are also NaN when an interval cannot be formed, e.g. a mean of one).
    n : int
        Valid answers used.
    n_invalid : int
        Entries left out: missing, non-numeric, off the scale or not a whole number.
    metric : str
        What ``value`` is, e.g. ``"nps"``, ``"csat_top2"``, ``"ces_mean"``.
    unit : str
        ``"points"`` (NPS), ``"percent"`` or ``"mean"``.
    method : str
        How the interval was formed: ``"adjusted_wald"`` (NPS), ``"wilson"`` or ``"t"``.
    confidence : float
        Confidence level of the interval.
    shares : dict of str to float
        Named groups as fractions of ``n`` (promoters/passives/detractors, ...).
    distribution : dict of str to int
        Count of valid answers per scale point, every point of the scale listed.
    components : dict of str to Estimate
        Secondary estimates, e.g. the CES "easy" share or the CSAT mean.
    """

    value: float
    low: float
    high: float
    n: int
    n_invalid: int
    metric: str = ""
    unit: str = ""
    method: str = ""
    confidence: float = 0.95
    shares: dict[str, float] = field(default_factory=dict)
    distribution: dict[str, int] = field(default_factory=dict)
    components: dict[str, Estimate] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: plain ``float``/``int``, NaN as ``None``, components nested."""
        return {
            "metric": self.metric,
            "value": _num(self.value),
            "low": _num(self.low),
            "high": _num(self.high),
            "n": int(self.n),
            "n_invalid": int(self.n_invalid),
            "unit": self.unit,
            "method": self.method,
            "confidence": float(self.confidence),
            "shares": {k: _num(v) for k, v in self.shares.items()},
            "distribution": {str(k): int(v) for k, v in self.distribution.items()},
            "components": {k: v.to_dict() for k, v in self.components.items()},
        }


# --------------------------------------------------------------------------- helpers


def _num(x: Any) -> float | int | None:
    """A JSON-safe number: NaN/inf/None -> None, numpy scalars -> Python scalars."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return int(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    return x if math.isfinite(x) else None


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}.")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _as_numeric(values: Any) -> pd.Series:
    """Values as a float Series; anything that does not parse as a number becomes NaN.

    Booleans become NaN too: ``True`` is not an answer on a 0-10 or 1-5 scale, and reading
    it as 1 would count it as a detractor or a one-star answer (yes/no answers are
    :func:`recommend`'s, which reads them itself).
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_bool_dtype(s.dtype):
        return pd.Series(np.nan, index=s.index, dtype=float)
    if s.dtype == object:
        s = s.map(lambda v: np.nan if isinstance(v, (bool, np.bool_)) else v)
    out = pd.to_numeric(s, errors="coerce")
    return pd.Series(np.asarray(out, dtype=float), index=s.index)


def _scale_values(
    values: Any, low: float, high: float, *, integer: bool = True
) -> tuple[np.ndarray, int]:
    """Valid answers on a ``low..high`` scale and the number of invalid entries."""
    x = _as_numeric(values).to_numpy()
    ok = np.isfinite(x)
    ok[ok] = (x[ok] >= low) & (x[ok] <= high)
    if integer:
        ok[ok] = x[ok] == np.floor(x[ok])
    return x[ok], int((~ok).sum())


def _check_scale(scale: int, minimum: int = 2) -> int:
    if isinstance(scale, bool) or int(scale) != scale or scale < minimum:
        raise ValueError(f"scale must be a whole number >= {minimum}, got {scale!r}.")
    return int(scale)


def _distribution(x: np.ndarray, points: Iterable[float]) -> dict[str, int]:
    """Counts per scale point (every point listed) plus any other values seen."""
    counts = pd.Series(x).value_counts()
    keys = sorted(set(points) | set(counts.index.tolist()))
    return {_fmt(k): int(counts.get(k, 0)) for k in keys}


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion, as fractions in [0, 1].

    With :math:`\\hat p = x/n` and :math:`z` the normal quantile for ``confidence``::

        centre = (p + z²/2n) / (1 + z²/n)
        half   = z / (1 + z²/n) · sqrt(p(1 − p)/n + z²/4n²)

    It stays inside [0, 1] and behaves at 0 % and 100 % (where the Wald interval collapses).
    Returns ``(nan, nan)`` when ``n == 0``.

    Examples
    --------
    >>> [round(b, 4) for b in wilson_interval(81, 263)]  # Newcombe (1998), example (i)
    [0.2553, 0.3662]
    """
    if n <= 0:
        return (math.nan, math.nan)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}.")
    z = _z(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # Exact bounds at the edges (avoid 1e-17 rounding noise).
    return (0.0 if successes == 0 else low, 1.0 if successes == n else high)


def mean_interval(
    x: Any, confidence: float = 0.95, bounds: tuple[float, float] | None = None
) -> tuple[float, float, float]:
    """Mean and Student-t interval ``mean ± t(n−1) · s / √n`` of finite values.

    Returns ``(mean, low, high)``; the bounds are NaN for fewer than two values.

    ``bounds`` is the values' possible range (a 1-5 scale, a sentiment score in [−1, 1]).
    With it, ``s`` is the standard deviation of the values plus one pseudo-answer at each
    end of the range (``bounds[0]`` and ``bounds[1]``); the mean and ``n`` stay those of the
    values. On a bounded scale answers pile up at the top or bottom, and a small sample often
    has no spread at all (forty CES 7s gave [7, 7]) or too little (a 3 % tail of 2s missed):
    the t interval then undercovers (0.14 at n = 5 for 97 % 7s and 3 % 2s). The
    pseudo-answers keep ``s`` above zero and pull it towards the spread the scale allows, an
    adjustment in the spirit of Agresti-Coull that fades as ``n`` grows: coverage 0.95-1.00
    on the simulated and real distributions of ``benchmarks/stat_checks.py``, conservative
    (wider than needed) at n ≤ 10 and within 0.01 of the plain width at n = 100. The
    interval is then clipped to ``bounds``. Without ``bounds`` it is the plain t interval
    (zero width when every value is the same).
    """
    arr = np.asarray(x, dtype=float)
    arr = arr[np.isfinite(arr)]
    n = arr.size
    if n == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(arr.mean())
    if n < 2:
        return (mean, math.nan, math.nan)
    spread = arr if bounds is None else np.concatenate([arr, [bounds[0], bounds[1]]])
    s = float(spread.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * s / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return (mean, low, high)


def _share_estimate(
    successes: int, n: int, n_invalid: int, metric: str, confidence: float
) -> Estimate:
    low, high = wilson_interval(successes, n, confidence)
    value = 100 * successes / n if n else math.nan
    return Estimate(
        value,
        100 * low,
        100 * high,
        n,
        n_invalid,
        metric=metric,
        unit="percent",
        method="wilson",
        confidence=confidence,
    )


def _mean_estimate(
    x: np.ndarray, n_invalid: int, metric: str, confidence: float, scale: int
) -> Estimate:
    """Mean with its t interval on the scale ``1..scale`` (see :func:`mean_interval`)."""
    mean, low, high = mean_interval(x, confidence, bounds=(1.0, float(scale)))
    return Estimate(
        mean,
        low,
        high,
        int(x.size),
        n_invalid,
        metric=metric,
        unit="mean",
        method="t",
        confidence=confidence,
    )


def _shares(groups: Mapping[str, int], n: int) -> dict[str, float]:
    return {k: (v / n if n else math.nan) for k, v in groups.items()}


# --------------------------------------------------------------------------- score metrics


def nps(scores: Any, confidence: float = 0.95) -> Estimate:
    """Net Promoter Score with an adjusted-Wald interval (Rocks 2016).

    Answers 0-6 are detractors, 7-8 passives, 9-10 promoters. With ``P`` promoters and ``D``
    detractors among the ``n`` valid answers, the reported NPS is the raw one and the
    interval is the adjusted Wald interval of Rocks (2016), *Interval estimation for the
    "Net Promoter Score"*, The American Statistician 70(4): 365-372::

        NPS      = 100 · (P − D) / n                              (reported, unadjusted)
        ñ = n + 3,  p̃ = (P + 3/4) / ñ,  d̃ = (D + 3/4) / ñ
        Var      = [p̃ + d̃ − (p̃ − d̃)²] / ñ
        CI       = 100 · (p̃ − d̃) ± z · 100 · sqrt(Var)

    (each answer scores +1, 0 or −1; Var is the variance of their mean). Why adjusted: the
    plain Wald interval (the same formula on the raw shares) has zero width when every
    answer is a promoter, or every one a detractor, and at a true NPS of 94 it covers the
    truth only 23-78 % of the time for n = 5-30; like Agresti-Coull for a proportion, the
    added counts keep coverage near 95 % (0.92-0.98 there; 0.89-0.98 over all the cells of
    ``benchmarks/stat_checks.py``, the dips at n ≤ 10 where few outcomes are possible).
    The adjusted centre is pulled towards 0, so with very few answers the interval could
    miss the reported NPS (``[10]``: NPS 100, centre 25); it is widened to include it, then
    clipped to [−100, 100]. Entries that are missing, non-numeric, outside 0-10 or not whole
    numbers count in ``n_invalid``.

    Parameters
    ----------
    scores : Series, list or array
        Likelihood-to-recommend answers on the 0-10 scale.
    confidence : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    Estimate
        ``metric="nps"``, ``unit="points"``; ``shares`` has ``promoters``, ``passives`` and
        ``detractors``; ``distribution`` counts answers 0-10.

    Examples
    --------
    >>> est = nps([10, 9, 9, 10, 9, 8, 7, 7, 3, 6])
    >>> round(est.value, 1), round(est.low, 1), round(est.high, 1)
    (30.0, -19.1, 65.2)
    """
    x, n_invalid = _scale_values(scores, 0, 10)
    n = int(x.size)
    groups = {
        "promoters": int((x >= 9).sum()),
        "passives": int(((x >= 7) & (x <= 8)).sum()),
        "detractors": int((x <= 6).sum()),
    }
    shares = _shares(groups, n)
    if n:
        value = 100 * (shares["promoters"] - shares["detractors"])
        low, high = _nps_adjusted_wald(groups["promoters"], groups["detractors"], n, confidence)
        low, high = min(low, value), max(high, value)
    else:
        _z(confidence)
        value = low = high = math.nan
    return Estimate(
        value,
        low,
        high,
        n,
        n_invalid,
        metric="nps",
        unit="points",
        method="adjusted_wald",
        confidence=confidence,
        shares=shares,
        distribution=_distribution(x, range(11)),
    )


def _nps_adjusted_wald(
    promoters: int, detractors: int, n: int, confidence: float
) -> tuple[float, float]:
    """Rocks (2016) adjusted Wald bounds of the NPS in points, clipped to [−100, 100]:
    3/4 added to promoters and to detractors, 3 to ``n`` (so 3/2 to passives)."""
    n_adj = n + 3
    p, d = (promoters + 0.75) / n_adj, (detractors + 0.75) / n_adj
    half = 100 * _z(confidence) * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n_adj)
    centre = 100 * (p - d)
    return max(-100.0, centre - half), min(100.0, centre + half)


def csat(scores: Any, scale: int = 5, confidence: float = 0.95, top: int = 2) -> Estimate:
    """Customer satisfaction: the top-``top``-box share as a percentage, Wilson interval.

    On the default 1-5 scale, answers 4-5 are "satisfied"::

        CSAT = 100 · #(answer > scale − top) / n

    The interval is :func:`wilson_interval` times 100. ``shares`` splits answers into
    ``satisfied`` (top boxes), ``dissatisfied`` (bottom ``top`` boxes) and ``neutral``;
    ``components["mean"]`` is the mean answer with a t interval.

    Parameters
    ----------
    scores : Series, list or array
        Answers on the 1..``scale`` scale; anything else counts as invalid.
    scale : int, default 5
        Highest scale point.
    confidence : float, default 0.95
        Confidence level.
    top : int, default 2
        How many top boxes count as satisfied.

    Examples
    --------
    >>> csat([5, 4, 4, 3, 1]).value
    60.0
    """
    scale = _check_scale(scale, 3)
    if not 1 <= top < scale:
        raise ValueError(f"top must be between 1 and scale - 1 = {scale - 1}, got {top!r}.")
    x, n_invalid = _scale_values(scores, 1, scale)
    n = int(x.size)
    sat = int((x > scale - top).sum())
    dissat = int((x <= min(top, scale - top)).sum())
    est = _share_estimate(sat, n, n_invalid, f"csat_top{top}", confidence)
    groups = {"satisfied": sat, "neutral": n - sat - dissat, "dissatisfied": dissat}
    return replace(
        est,
        shares=_shares(groups, n),
        distribution=_distribution(x, range(1, scale + 1)),
        components={"mean": _mean_estimate(x, n_invalid, "csat_mean", confidence, scale)},
    )


def ces(
    scores: Any, scale: int = 7, confidence: float = 0.95, easy_min: int | None = None
) -> Estimate:
    """Customer Effort Score: the mean answer (t interval) and the share who found it easy.

    Higher means easier (CES 2.0, "The company made it easy to ..." 1 = strongly disagree).
    ``value`` is the mean with ``mean ± t(n−1)·s/√n``, ``s`` taken with one pseudo-answer
    at each end of the scale (see :func:`mean_interval`), clipped to ``1..scale``.
    ``components["easy"]`` is the share of answers ``>= easy_min`` as a percentage with a
    Wilson interval; ``easy_min`` defaults to ``scale − (scale − 1) // 3`` (5 of 7, 4 of 5).
    ``shares`` has ``easy``, ``neutral`` and
    ``difficult`` (answers ``<= scale + 1 − easy_min``).

    Examples
    --------
    >>> est = ces([7, 6, 5, 4, 2])
    >>> est.value, est.components["easy"].value
    (4.8, 60.0)
    """
    scale = _check_scale(scale, 3)
    if easy_min is None:
        easy_min = scale - (scale - 1) // 3
    if not 1 < easy_min <= scale:
        raise ValueError(f"easy_min must be between 2 and scale = {scale}, got {easy_min!r}.")
    x, n_invalid = _scale_values(scores, 1, scale)
    n = int(x.size)
    easy = int((x >= easy_min).sum())
    difficult = int((x <= min(scale + 1 - easy_min, easy_min - 1)).sum())
    est = _mean_estimate(x, n_invalid, "ces_mean", confidence, scale)
    groups = {"easy": easy, "neutral": n - easy - difficult, "difficult": difficult}
    return replace(
        est,
        shares=_shares(groups, n),
        distribution=_distribution(x, range(1, scale + 1)),
        components={"easy": _share_estimate(easy, n, n_invalid, "ces_easy", confidence)},
    )


def rating(scores: Any, scale: int = 5, confidence: float = 0.95) -> Estimate:
    """Mean star rating with a t interval, and the distribution of stars.

    Valid answers are numbers from 1 to ``scale`` (half stars such as 3.5 allowed). ``value``
    is the mean, ``mean ± t(n−1)·s/√n`` the interval (``s`` with a pseudo-answer at 1 and at
    ``scale``, see :func:`mean_interval`; clipped to ``1..scale``). ``shares``
    has ``positive`` (the top two stars), ``negative`` (the bottom two) and ``neutral`` (the
    rest).

    Examples
    --------
    >>> rating([5, 4, 4, 1]).value
    3.5
    """
    scale = _check_scale(scale, 2)
    x, n_invalid = _scale_values(scores, 1, scale, integer=False)
    n = int(x.size)
    pos = int((x >= scale - 1).sum()) if scale >= 4 else int((x == scale).sum())
    neg = int((x <= 2).sum()) if scale >= 4 else int((x == 1).sum())
    est = _mean_estimate(x, n_invalid, "rating_mean", confidence, scale)
    groups = {"positive": pos, "neutral": n - pos - neg, "negative": neg}
    return replace(
        est, shares=_shares(groups, n), distribution=_distribution(x, range(1, scale + 1))
    )


def recommend(values: Any, confidence: float = 0.95) -> Estimate:
    """Share answering yes to a would-you-recommend question, percentage with Wilson interval.

    Accepts booleans, 1/0 and yes/no words (``yes``, ``y``, ``true``, ``1``; ``no``, ``n``,
    ``false``, ``0``, case-insensitive); everything else counts as invalid.

    Examples
    --------
    >>> recommend(["yes", "no", "Yes", True, None]).value
    75.0
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    flags = s.map(_yes_no)
    valid = flags.notna()
    yes = int((flags[valid] == 1).sum())
    n = int(valid.sum())
    est = _share_estimate(yes, n, int((~valid).sum()), "recommend_yes", confidence)
    return replace(
        est,
        shares=_shares({"yes": yes, "no": n - yes}, n),
        distribution={"yes": yes, "no": n - yes},
    )


def _yes_no(v: Any) -> float | None:
    if v is None or v is pd.NA or isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v) if v in (0, 1) else None
    word = str(v).strip().lower()
    return 1.0 if word in _YES else 0.0 if word in _NO else None


_DISPATCH: dict[str, Callable[..., Estimate]] = {
    "nps": nps,
    "csat": csat,
    "ces": ces,
    "rating": rating,
    "recommend": recommend,
}


def score_metric(series: Any, kind: str, confidence: float = 0.95, **options: Any) -> Estimate:
    """The headline metric of a score column of the given ``kind``.

    Parameters
    ----------
    series : Series, list or array
        The answers.
    kind : {"nps", "csat", "ces", "rating", "recommend"}
        Score kind (as in ``columns["scores"]``).
    confidence : float, default 0.95
        Confidence level.
    **options
        Passed to the metric (e.g. ``scale=10`` for a 1-10 CSAT).
    """
    try:
        fn = _DISPATCH[kind]
    except KeyError:
        raise ValueError(
            f"Unknown score kind {kind!r}. Expected one of: {', '.join(SCORE_KINDS)}. "
            "Fix io.score_columns in your config."
        ) from None
    return fn(series, confidence=confidence, **options)



def score_values(series: Any, kind: str, **options: Any) -> np.ndarray:
    """Per-response contributions whose mean is the headline metric of ``kind`` (NaN = invalid).

    ``nps``: +100 (9-10), 0 (7-8), −100 (0-6); ``csat``: 100 for a top-``top``-box answer,
    else 0; ``ces`` and ``rating``: the answer itself; ``recommend``: 100 for yes, 0 for no.
    So ``np.nanmean(score_values(x, kind)) == score_metric(x, kind).value``, which is what
    lets the driver analysis compare the score of any subset of responses with one mean.

    Examples
    --------
    >>> score_values([10, 8, 3, "x"], "nps").tolist()
    [100.0, 0.0, -100.0, nan]
    """
    if kind == "recommend":
        s = series if isinstance(series, pd.Series) else pd.Series(list(series), dtype=object)
        # as objects: a nullable "boolean" column would keep its dtype and its NA through map
        answers = s.astype(object).map(_yes_no)
        return np.array([np.nan if f is None else 100.0 * f for f in answers], float)
    x = _as_numeric(series).to_numpy()
    if kind == "nps":
        lo, hi, integer = 0, 10, True
    elif kind in ("csat", "ces", "rating"):
        default = 7 if kind == "ces" else 5
        lo, hi, integer = 1, _check_scale(options.get("scale", default)), kind != "rating"
    else:
        raise ValueError(
            f"Unknown score kind {kind!r}. Expected one of: {', '.join(SCORE_KINDS)}."
        )
    ok = np.isfinite(x)
    ok[ok] = (x[ok] >= lo) & (x[ok] <= hi)
    if integer:
        ok[ok] = x[ok] == np.floor(x[ok])
    out = np.full(x.shape, np.nan)
    if kind == "nps":
        out[ok] = np.where(x[ok] >= 9, 100.0, np.where(x[ok] >= 7, 0.0, -100.0))
    elif kind == "csat":
        top = options.get("top", 2)
        out[ok] = np.where(x[ok] > hi - top, 100.0, 0.0)
    else:
        out[ok] = x[ok]
    return out


# --------------------------------------------------------------------------- run summary


def sentiment_summary(responses: pd.DataFrame, confidence: float = 0.95) -> dict[str, Any]:
    """Sentiment counts and shares over the analysed rows (``ok`` / ``no theme``) with a label.

    Returns ``{"n", "counts", "shares", "intervals", "mean_score"}``: ``shares`` are fractions
    of ``n``, ``intervals`` their Wilson bounds ``[low, high]`` (fractions) and ``mean_score``
    the mean ``sentiment_score`` (p_positive − p_negative, in [−1, 1]) with a t interval.
    """
    # the columns read here only: a million-row table's text is not copied with its rows
    ok = narrow(responses, _SENTIMENT_COLUMNS)[analysed(responses)]
    labels = ok["sentiment"] if "sentiment" in ok else pd.Series(dtype=object)
    labels = labels[labels.notna()]
    n = int(labels.size)
    vc = labels.astype(str).value_counts()
    counts = {lab: int(vc.get(lab, 0)) for lab in SENTIMENT_LABELS}
    for lab, c in vc.items():  # keep labels outside the contract visible rather than lose them
        counts.setdefault(str(lab), int(c))
    score = ok["sentiment_score"] if "sentiment_score" in ok else pd.Series(dtype=float)
    mean, low, high = mean_interval(pd.to_numeric(score, errors="coerce"), confidence,
                                     SCORE_BOUNDS)
    return {
        "n": n,
        "counts": counts,
        "shares": {k: _num(v / n if n else math.nan) for k, v in counts.items()},
        "intervals": {
            k: [_num(b) for b in wilson_interval(v, n, confidence)] for k, v in counts.items()
        },
        "mean_score": {
            "value": _num(mean),
            "low": _num(low),
            "high": _num(high),
            "n": int(pd.to_numeric(score, errors="coerce").notna().sum()),
        },
    }


#: What :func:`sentiment_summary` reads of ``responses``.
_SENTIMENT_COLUMNS = ("status", "sentiment", "sentiment_score")


def narrow(frame: pd.DataFrame, names: Iterable[str | None]) -> pd.DataFrame:
    """The columns ``names`` that ``frame`` has (each once; ``None`` skipped), in that order.

    Filter this rather than the whole table: selecting rows copies only these columns, not a
    million rows' text (issue 7: bounded memory).
    """
    return frame[[c for c in dict.fromkeys(names) if c is not None and c in frame]]


def segment_summary(
    responses: pd.DataFrame,
    column: str,
    scores: Mapping[str, str] | None = None,
    *,
    max_levels: int = 20,
    confidence: float = 0.95,
    min_n: int = 30,
) -> dict[str, Any]:
    """Per-level sentiment and score metrics of one segment column.

    The ``max_levels − 1`` most frequent levels are kept and the rest pooled as ``"(other)"``;
    missing values form ``"(missing)"``. Returns ``{level: {"rows", "small", "sentiment",
    "scores"}}`` in descending order of rows, where ``scores`` maps each score column to
    :meth:`Estimate.to_dict` without the distribution (each with its own ``n`` and interval)
    and ``small`` is 1 when the level has fewer than ``min_n`` rows: small cells are flagged
    so readers discount them, never hidden.

    Rows are not the n behind each number: a level of 200 rows may hold 10 analysed comments
    and 6 valid scores. So ``sentiment`` and every entry of ``scores`` also carry their own
    ``small``, 1 when *their* ``n`` is below ``min_n``; read that flag next to the number.
    """
    if column not in responses:
        raise KeyError(
            f"Segment column {column!r} not in responses "
            f"(columns: {', '.join(map(str, responses.columns))})."
        )
    levels = segment_levels(responses[column], max_levels)
    read = narrow(responses, [*_SENTIMENT_COLUMNS, *(scores or {})])
    out: dict[str, Any] = {}
    for level in levels.value_counts(sort=True).index:
        part = read[levels == level]
        sentiment = sentiment_summary(part, confidence)
        sentiment["small"] = int(sentiment["n"] < min_n)
        entry: dict[str, Any] = {
            "rows": len(part),
            "small": int(len(part) < min_n),
            "sentiment": sentiment,
        }
        entry["scores"] = {}
        for col, kind in (scores or {}).items():
            if col in part:
                d = score_metric(part[col], kind, confidence).to_dict()
                d.pop("distribution")
                d["small"] = int(d["n"] < min_n)
                entry["scores"][col] = d
        out[str(level)] = entry
    return out


def segment_levels(values: pd.Series, max_levels: int = 20) -> pd.Series:
    """Segment values as strings: ``"(missing)"`` for NaN, ``"(other)"`` past the top levels."""
    s = values.astype(object).where(values.notna(), "(missing)").astype(str)
    top = s.value_counts().index[: max(1, max_levels - 1)]
    if s.nunique() > max_levels:
        s = s.where(s.isin(top), "(other)")
    return s


def summarize(
    results: Results | pd.DataFrame,
    columns: Mapping[str, Any] | None = None,
    *,
    confidence: float = 0.95,
    max_segment_levels: int = 20,
    min_n: int = 30,
) -> dict[str, Any]:
    """Build the ``metrics.json`` payload of a run.

    Parameters
    ----------
    results : Results or DataFrame
        A :class:`~cxnlp.results.Results`, or its ``responses`` table (then pass ``columns``).
    columns : dict, optional
        Column mapping (``{"scores": {col: kind}, "segments": [...]}``); defaults to
        ``results.columns``.
    confidence : float, default 0.95
        Confidence level of every interval.
    max_segment_levels : int, default 20
        Segment levels listed per segment column before pooling into ``"(other)"``.
    min_n : int, default 30
        Segment levels with fewer rows are flagged ``small`` (``drivers.min_n``), and so is
        each segment estimate (sentiment, every score) with a smaller ``n``.

    Returns
    -------
    dict
        JSON-serialisable (plain ints/floats/str, NaN as ``None``)::

            {"schema_version": 2, "confidence": 0.95, "rows": 12,
             "status_counts": {"ok": 10, "empty text": 2},
             "languages": {"en": 9, "es": 1},  # when languages were detected
             "sentiment": {"n", "counts", "shares", "intervals", "mean_score"},
             "scores": {col: {"kind": "nps", **Estimate.to_dict()}},
             "segments": {col: {level: {"rows", "small", "sentiment", "scores"}}}}
             # in segments, sentiment and each score also carry their own "small"

        The layout is fixed by ``cxnlp/schemas/metrics.schema.json`` (documented field by
        field in ``docs/metrics.md``); the corpus stages add optional sections to it.

    Notes
    -----
    Sentiment uses the analysed rows only (status ``ok`` or ``no theme``). Score metrics use
    **every** row: a respondent who gave a score but left the comment empty still counts
    towards NPS.
    """
    if isinstance(results, pd.DataFrame):
        responses, cols = results, dict(columns or {})
    else:
        responses, cols = results.responses, dict(columns or results.columns or {})
    score_cols: dict[str, str] = dict(cols.get("scores") or {})
    missing = [c for c in score_cols if c not in responses]
    if missing:
        raise KeyError(
            f"Score column(s) {missing} not in responses "
            f"(columns: {', '.join(map(str, responses.columns))})."
        )
    status = (
        responses["status"].astype(str).value_counts()
        if "status" in responses
        else pd.Series({"ok": len(responses)})
    )
    scores = {}
    for col, kind in score_cols.items():
        scores[col] = {"kind": kind, **score_metric(responses[col], kind, confidence).to_dict()}
    segments = {
        col: segment_summary(
            responses, col, score_cols, max_levels=max_segment_levels, confidence=confidence,
            min_n=min_n,
        )
        for col in (cols.get("segments") or [])
        if col in responses
    }
    out = {
        "schema_version": SCHEMA_VERSION,
        "confidence": confidence,
        "rows": len(responses),
        "status_counts": {str(k): int(v) for k, v in status.items()},
        "sentiment": sentiment_summary(responses, confidence),
        "scores": scores,
        "segments": segments,
    }
    if "language" in responses and responses["language"].notna().any():
        told = responses["language"].dropna().astype(str).value_counts()
        out["languages"] = {str(k): int(v) for k, v in told.items()}
    return out
