"""Key drivers, score-text disagreement and trends: the corpus stages after linking.

Key drivers (:func:`driver_table`)
    For each theme (and each theme x aspect sentiment), over the responses with analysed text
    and a valid score, with ``S(·)`` the score metric (NPS, CSAT %, CES mean, ...) of a set::

        impact = S(all responses) − S(responses that do not mention the theme)

    the leave-one-out definition used by Thematic and Kapiche. Because every metric is a mean
    of per-response values (:func:`cxnlp.metrics.score_values`),
    ``impact = share · (S_mentioners − S_others)``: the score gap between the theme's
    mentioners and the rest, weighted by how many mention it. It is an association, not
    the gain from fixing the theme (in survey verbatims the score often drives the comment),
    and impacts overlap (one comment mentions several themes), so they must not be added
    up. Its interval is a seeded percentile bootstrap over responses; ``p_value`` compares
    the impact with its bootstrap standard error, ``q_value`` is its Benjamini-Hochberg
    adjustment over every row of the table, and ``significant`` means ``q_value ≤ fdr``
    (and the interval excludes 0), so that with many themes an unrelated one is rarely
    flagged. ``relative_weight`` splits the R² of a
    linear regression of the per-response score on all theme indicators among the themes
    (Johnson's relative weights, 2000): it sums to R² and does not double count, and
    ``relative_weight_pct`` is a share of R², not of the score's variance.

Disagreement (:func:`disagreement`, :func:`disagreement_summary`)
    A promoter/satisfied score with clearly negative text, or a detractor/dissatisfied score
    with clearly positive text, is flagged with the reason. Shares are over the rows that
    could disagree (analysed text, not mixed, a high or low score), each direction over its
    own base.

Trends (:func:`trend_table`)
    Dates are parsed robustly (:func:`parse_dates`), the period (day/week/month/quarter)
    follows the date span, and each period gets volume, the score with its interval,
    sentiment shares and theme shares (Wilson intervals). A theme is *emerging* in a period
    when its share is higher than in the ``baseline_periods`` before it by a one-sided
    two-proportion test (Fisher's exact test when an expected count is below 5), with
    Benjamini-Hochberg control of the false discovery rate over all themes and periods. A
    period whose baseline has fewer than ``min_n`` analysed responses is not tested. A theme
    is *new* when it is emerging and was absent from the baseline: an absence is evidence
    only when the test says so.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from .link import primary_score
from .metrics import (
    SCORE_BOUNDS,
    Estimate,
    _num,
    mean_interval,
    narrow,
    score_metric,
    score_values,
    wilson_interval,
)
from .results import analysed

__all__ = [
    "Periods",
    "apply_corpus_stages",
    "assess_change",
    "assign_periods",
    "benjamini_hochberg",
    "change_interval",
    "choose_period",
    "disagreement",
    "disagreement_summary",
    "driver_table",
    "emerging_test",
    "impact",
    "outcome_values",
    "parse_dates",
    "relative_weights",
    "trend_table",
]

DRIVER_COLUMNS = ["theme", "label", "parent", "touchpoint", "sentiment", "n", "share", "score",
                  "score_low", "score_high", "score_without", "overall", "impact", "impact_low",
                  "impact_high", "p_value", "q_value", "significant", "relative_weight",
                  "relative_weight_pct", "outcome", "small"]
TREND_COLUMNS = ["period", "period_start", "kind", "key", "n", "count", "value", "low", "high",
                 "small", "baseline_n", "baseline_count", "baseline_value", "p_value", "q_value",
                 "emerging", "new"]


# --------------------------------------------------------------------------- outcome


def outcome_values(responses: pd.DataFrame, columns: Mapping[str, Any],
                   score_column: str | None = None) -> tuple[np.ndarray, str, str | None]:
    """Per-response outcome values, the metric name, and the score kind.

    The primary score column (see :func:`cxnlp.link.primary_score`) through
    :func:`~cxnlp.metrics.score_values` (NPS: ±100/0, CSAT: 100/0, ...); without one, the
    text ``sentiment_score`` (p_positive − p_negative, in [−1, 1]). NaN marks no valid value.
    """
    col, kind = primary_score(columns, score_column, responses)
    if col is not None and kind is not None:
        metric = score_metric([], kind).metric
        return score_values(responses[col], kind), metric, kind
    if "sentiment_score" in responses:
        return (pd.to_numeric(responses["sentiment_score"], errors="coerce").to_numpy(float),
                "sentiment_score", None)
    return np.full(len(responses), np.nan), "none", None


# --------------------------------------------------------------------------- impact


def impact(u: np.ndarray, mention: np.ndarray) -> tuple[float, float, float, float]:
    """``(impact, score of mentioners, score of the others, overall)`` for one theme.

    ``impact = mean(u) − mean(u[~mention])`` over finite ``u``; NaN when nobody or everybody
    mentions the theme.

    Examples
    --------
    >>> u = np.array([100, 100, 0, -100, -100, 100, 0, 0, 100, -100.])
    >>> m = np.array([0, 0, 0, 1, 1, 0, 0, 0, 0, 1], bool)
    >>> [round(v, 1) for v in impact(u, m)]   # NPS 10 overall, 57.1 without the theme
    [-47.1, -100.0, 57.1, 10.0]
    """
    u = np.asarray(u, float)
    m = np.asarray(mention, bool)
    ok = np.isfinite(u)
    u, m = u[ok], m[ok]
    overall = float(u.mean()) if len(u) else math.nan
    if not m.any() or m.all():
        with_ = float(u[m].mean()) if m.any() else math.nan
        return math.nan, with_, (float(u[~m].mean()) if (~m).any() else math.nan), overall
    others = float(u[~m].mean())
    return overall - others, float(u[m].mean()), others, overall


def _bootstrap_impacts(u: np.ndarray, M: np.ndarray, B: int, seed: int,
                       chunk: int = 200, columns: int = 8) -> np.ndarray:
    """(B, K) bootstrap replicates of the impact of each column of ``M`` (resampled rows).

    Memory stays flat in the number of rows: replicates come ``chunk`` at a time as
    (chunk, n) weights of ~32 MB, and ``M`` is turned into floats ``columns`` at a time,
    each block replaying the same seeded draws (so every column sees the same replicates).
    """
    n, K = M.shape
    chunk = max(1, min(chunk, 4_000_000 // max(n, 1)))
    u = np.asarray(u, np.float64)
    out = np.empty((B, K))
    for c in range(0, K, columns):
        notM = 1.0 - M[:, c : c + columns].astype(np.float64)
        notMu = notM * u[:, None]
        rng = np.random.default_rng(seed)
        for start in range(0, B, chunk):
            b = min(chunk, B - start)
            # how often each row is drawn in n draws with replacement (multinomial counts;
            # drawing indices is ~10x faster than rng.multinomial over n categories)
            draws = rng.integers(0, n, size=(b, n)) + n * np.arange(b)[:, None]
            W = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)
            tot_w, tot_u = W.sum(1), W @ u
            with np.errstate(invalid="ignore", divide="ignore"):
                out[start : start + b, c : c + columns] = (
                    (tot_u / tot_w)[:, None] - (W @ notMu) / (W @ notM)
                )
    return out


def _boot_p(estimate: float, replicates: np.ndarray) -> float:
    """Two-sided p-value of ``estimate`` from its bootstrap standard error (normal theory).

    Not the share of replicates beyond 0: with a handful of mentioners that share is often
    exactly 0 (all five drew the same score), and those zeros flood a Benjamini-Hochberg step
    over many rows with false discoveries. With this p-value, under no relation at all
    (40 themes × 4 sentiments, ``benchmarks/stat_checks.py``) 4 % of runs flag at least one
    row, against every run when each row's interval is read on its own. NaN without spread.
    """
    sd = float(np.std(replicates, ddof=1)) if len(replicates) > 1 else math.nan
    if not (math.isfinite(estimate) and math.isfinite(sd) and sd > 0):
        return math.nan
    return float(2 * stats.norm.sf(abs(estimate) / sd))


#: Responses a theme needs in a period to be called new (absent from the baseline).
MIN_NEW = 3


def _check_fdr(fdr: float) -> None:
    """A false discovery rate outside (0, 1) would flag nothing, or let every test through."""
    if not 0 < fdr < 1:  # also refuses NaN
        raise ValueError(f"fdr must be between 0 and 1 (exclusive), got {fdr!r}; 0.05 is usual.")


def relative_weights(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Johnson's (2000) relative weights of correlated predictors, and the model's R².

    The predictors are replaced by their closest orthogonal counterparts ``Z`` (via the
    symmetric square root of their correlation matrix), ``y`` is regressed on ``Z``, and
    each predictor gets the share of R² it carries into ``Z``. The weights are ≥ 0 and sum
    to R² (of the OLS fit of ``y`` on all of ``X``). Constant columns get weight 0.
    """
    y = np.asarray(y, float)
    n, k = X.shape
    w = np.zeros(k)
    # centred cross-products a block of rows at a time: no (n, k) float copy of X
    mean, ym = X.mean(axis=0, dtype=np.float64), y.mean()
    G, g = np.zeros((k, k)), np.zeros(k)
    for s in range(0, n, 65_536):
        Xb = np.asarray(X[s : s + 65_536], float) - mean
        G += Xb.T @ Xb
        g += Xb.T @ (y[s : s + 65_536] - ym)
    sd = np.sqrt(np.clip(np.diag(G), 0, None) / max(n, 1))
    keep = sd > 1e-12 * np.maximum(np.abs(mean), 1)
    if n < 3 or keep.sum() == 0 or np.std(y) == 0:
        return w, math.nan if n < 3 or np.std(y) == 0 else 0.0
    sk = sd[keep]
    R = np.atleast_2d(G[np.ix_(keep, keep)] / n / np.outer(sk, sk))
    rxy = g[keep] / n / (sk * y.std())
    evals, evecs = np.linalg.eigh(R)
    evals = np.clip(evals, 1e-10, None)
    lam = evecs @ np.diag(np.sqrt(evals)) @ evecs.T  # R^(1/2): corr(X_j, Z_k)
    beta = np.linalg.solve(lam, rxy)  # y on Z
    raw = (lam ** 2) @ (beta ** 2)
    w[keep] = raw
    return w, float(raw.sum())


def _indicators(responses: pd.DataFrame, mentions: pd.DataFrame, themes: Sequence[str],
                sentiment: str | None = None) -> np.ndarray:
    """(n_responses, n_themes) bool: response mentions the theme (with that aspect sentiment)."""
    M = np.zeros((len(responses), len(themes)), bool)
    if not len(mentions) or not len(themes):
        return M
    pos = pd.Series(np.arange(len(responses)), index=responses["row_id"].to_numpy())
    col = {t: j for j, t in enumerate(themes)}
    m = narrow(mentions, ("row_id", "theme", "sentiment"))  # no evidence
    m = m[m["row_id"].isin(pos.index) & m["theme"].isin(col)]
    if sentiment is not None:
        m = m[m["sentiment"].astype(str) == sentiment]
    if len(m):
        M[pos.loc[m["row_id"].to_numpy()].to_numpy(), m["theme"].map(col).to_numpy()] = True
    return M


def driver_table(
    responses: pd.DataFrame,
    mentions: pd.DataFrame,
    columns: Mapping[str, Any],
    codeframe: Any = None,
    *,
    score_column: str | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    min_n: int = 30,
    by_sentiment: bool = True,
    fdr: float = 0.05,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Key drivers per theme and per theme x aspect sentiment.

    Over responses with analysed text (status ``ok`` / ``no theme``) and a valid outcome
    value ``u`` (:func:`outcome_values`)::

        impact = S(all) − S(responses not mentioning the theme)
               = share · (S(mentioners) − S(others))

    where ``S`` is the mean of ``u`` (= the NPS, CSAT %, CES mean... of the set): the score
    gap between mentioners and the rest, weighted by how many mention the theme. An
    association, not the gain from fixing the theme; impacts overlap and must not be added.

    Returns
    -------
    (DataFrame, dict)
        The table, columns :data:`DRIVER_COLUMNS`: ``theme``, ``label``, ``parent``,
        ``touchpoint``, ``sentiment`` (``"any"`` or the aspect sentiment of the mentions),
        ``n`` (mentioners), ``share`` (fraction of the responses analysed), ``score``
        (mentioners) with ``score_low``/``score_high`` (the metric's own interval: adjusted Wald for
        NPS, Wilson for CSAT / recommend, t for means), ``score_without`` (the others),
        ``overall``, ``impact`` with ``impact_low``/``impact_high`` (bootstrap percentile
        interval), ``p_value`` (two-sided, impact over its bootstrap standard error),
        ``q_value`` (Benjamini-Hochberg over every row of the table: themes × sentiments
        tested), ``significant`` (``q_value ≤ fdr`` and the interval excludes 0: one row at
        a time, about 1 in 20 unrelated themes would have an interval excluding 0),
        ``relative_weight`` (share of R² from Johnson's relative weights, ``"any"`` rows
        only) and ``relative_weight_pct`` (percent of R², not of the variance: quote it with
        R²), ``outcome`` (the metric), ``small`` (``n < min_n``).
        Sorted by sentiment (any, negative, neutral, positive), then impact ascending (most
        negative first). The dict summarises it: outcome, overall, n, R², formula, fdr.
    """
    _check_fdr(fdr)
    read = ["row_id", "status", "sentiment_score", *dict(columns.get("scores") or {})]
    ok = narrow(responses, read)[analysed(responses)]
    u_all, metric, kind = outcome_values(ok, columns, score_column)
    valid = np.isfinite(u_all)
    ok, u = ok[valid], u_all[valid]
    col = primary_score(columns, score_column, ok)[0] if kind is not None else None

    def interval(mask: np.ndarray) -> tuple[float, float]:
        """The interval of the outcome among ``mask``, as the headline metric forms it."""
        if col is not None:
            est = score_metric(ok[col].to_numpy()[mask], kind, confidence)
            return est.low, est.high
        return mean_interval(u[mask], confidence, SCORE_BOUNDS)[1:]  # u: sentiment scores
    themes = list(codeframe.ids) if codeframe is not None else []
    for t in pd.unique(mentions["theme"]) if len(mentions) else []:
        if t not in themes:
            themes.append(str(t))
    meta = {t.id: t for t in codeframe.themes} if codeframe is not None else {}
    tp = {}
    if len(mentions) and "touchpoint" in mentions:
        tp = mentions.drop_duplicates("theme").set_index("theme")["touchpoint"].to_dict()
    summary: dict[str, Any] = {
        "outcome": metric, "kind": kind, "n": int(len(u)),
        "overall": _num(u.mean()) if len(u) else None, "r2": None,
        "formula": "impact = overall score - score of the responses not mentioning the theme",
        "bootstrap": bootstrap, "seed": seed, "confidence": confidence, "fdr": fdr,
    }
    if not len(u) or not themes:
        return pd.DataFrame(columns=DRIVER_COLUMNS), summary
    splits = ["any"] + (["negative", "neutral", "positive"] if by_sentiment else [])
    mats = {s: _indicators(ok, mentions, themes, None if s == "any" else s) for s in splits}
    rw, r2 = relative_weights(mats["any"], u)
    summary["r2"] = _num(r2)
    rows = []
    alpha = 1 - confidence
    for s in splits:
        M = mats[s]
        used = M.any(axis=0)
        boots = (_bootstrap_impacts(u, M[:, used], bootstrap, seed) if bootstrap and used.any()
                 else np.empty((0, int(used.sum()))))
        bcol = np.cumsum(used) - 1
        for j, t in enumerate(themes):
            k = int(M[:, j].sum())
            if k == 0:
                continue
            imp, s_with, s_without, overall = impact(u, M[:, j])
            lo = hi = p = math.nan
            if len(boots):
                b = boots[:, bcol[j]]
                b = b[np.isfinite(b)]
                if len(b):
                    lo, hi = np.quantile(b, [alpha / 2, 1 - alpha / 2])
                    p = _boot_p(imp, b)
            theme = meta.get(t)
            s_low, s_high = interval(M[:, j])
            rows.append({
                "theme": t, "label": theme.label if theme else t,
                "parent": theme.parent if theme else None, "touchpoint": tp.get(t),
                "sentiment": s, "n": k, "share": k / len(u), "score": s_with,
                "score_low": s_low, "score_high": s_high, "score_without": s_without,
                "overall": overall, "impact": imp,
                "impact_low": lo, "impact_high": hi, "p_value": p,
                "significant": bool(np.isfinite(lo) and (lo > 0 or hi < 0)),  # until q below
                "relative_weight": rw[j] if s == "any" else np.nan,
                "relative_weight_pct": (100 * rw[j] / r2 if s == "any" and r2 and r2 > 0
                                        else np.nan),
                "outcome": metric, "small": k < min_n,
            })
    table = pd.DataFrame(rows, columns=DRIVER_COLUMNS)
    # one test per row: control the false discovery rate over all of them, not row by row
    table["q_value"] = benjamini_hochberg(table["p_value"].to_numpy(float))
    table["significant"] = table["significant"] & (table["q_value"] <= fdr)
    table["_s"] = table["sentiment"].map({s: i for i, s in enumerate(splits)})
    table = table.sort_values(["_s", "impact", "theme"], kind="mergesort").drop(columns="_s")
    return table.reset_index(drop=True), summary


# --------------------------------------------------------------------------- disagreement


class _Disagreement(NamedTuple):
    """Row masks behind :func:`disagreement` and :func:`disagreement_summary`."""

    eligible: np.ndarray  #: analysed, not mixed text with its probabilities and a high or low score
    high: np.ndarray  #: eligible with a high score (promoter, satisfied...)
    low: np.ndarray  #: eligible with a low score (detractor, dissatisfied...)
    high_negative: np.ndarray  #: high score with negative text (flagged)
    low_positive: np.ndarray  #: low score with positive text (flagged)
    p_negative: np.ndarray
    p_positive: np.ndarray
    names: tuple[str, str]  #: what a high and a low score are called
    column: str
    kind: str


def _disagreement_masks(responses: pd.DataFrame, columns: Mapping[str, Any],
                        score_column: str | None, threshold: float) -> _Disagreement | None:
    """The rows that could disagree and those that do; ``None`` without a score or text model.

    One definition serves the flags and their shares, so the base of a share is exactly the
    rows the rule could have flagged.
    """
    col, kind = primary_score(columns, score_column, responses)
    if col is None or kind is None or "p_negative" not in responses:
        return None
    from .link import _low_score

    x = pd.to_numeric(responses[col], errors="coerce").to_numpy(float)
    vals = score_values(responses[col], kind)
    valid = np.isfinite(vals)
    low = _low_score(responses[col], kind)[0] & valid
    high = {
        "nps": x >= 9, "csat": vals == 100.0, "ces": x >= 5,
        "rating": x >= 4, "recommend": vals == 100.0,
    }[kind] & valid
    names = {"nps": ("promoter", "detractor"), "csat": ("satisfied", "dissatisfied"),
             "ces": ("low-effort", "high-effort"), "rating": ("high", "low"),
             "recommend": ("would-recommend", "would-not-recommend")}[kind]
    pn = pd.to_numeric(responses["p_negative"], errors="coerce").to_numpy(float)
    pp = (pd.to_numeric(responses["p_positive"], errors="coerce").to_numpy(float)
          if "p_positive" in responses else np.full(len(responses), np.nan))
    eligible = analysed(responses) & (high | low) & np.isfinite(pn) & np.isfinite(pp)
    if "sentiment" in responses:
        eligible &= (responses["sentiment"].astype(str) != "mixed").to_numpy()
    high, low = eligible & high, eligible & low
    return _Disagreement(eligible, high, low, high & (pn >= threshold),
                         low & (pp >= threshold), pn, pp, names, col, kind)


def disagreement(responses: pd.DataFrame, columns: Mapping[str, Any],
                 score_column: str | None = None, threshold: float = 0.7) -> pd.Series:
    """A reason where the score and the text disagree, else ``None``.

    With the primary score column: a high score (NPS 9-10, CSAT top two boxes, CES ≥ 5 of 7,
    rating top two stars, recommend yes) whose text has ``p_negative ≥ threshold`` is
    "promoter score (10) with negative text"; a low score (NPS 0-6, CSAT ≤ 2, CES ≤ 3,
    rating ≤ 2, recommend no) with ``p_positive ≥ threshold`` is "detractor score (2) with
    positive text". Rows without analysed text or a valid score are ``None``, and so are
    ``mixed`` texts: praise and complaint in one answer explain either score.
    """
    out = pd.Series([None] * len(responses), index=responses.index, dtype=object,
                    name="disagreement")
    d = _disagreement_masks(responses, columns, score_column, threshold)
    if d is None:
        return out
    pn, pp = d.p_negative, d.p_positive
    raw = [f"{v:g}" if isinstance(v, (int, float, np.number)) else str(v)
           for v in responses[d.column].to_numpy()]
    for i in np.flatnonzero(d.high_negative):
        out.iat[i] = f"{d.names[0]} score ({raw[i]}) with negative text (p={pn[i]:.2f})"
    for i in np.flatnonzero(d.low_positive):
        out.iat[i] = f"{d.names[1]} score ({raw[i]}) with positive text (p={pp[i]:.2f})"
    return out


def disagreement_summary(responses: pd.DataFrame, columns: Mapping[str, Any],
                         score_column: str | None = None, threshold: float = 0.7,
                         confidence: float = 0.95) -> dict[str, Any]:
    """Counts and shares of score-text disagreement for ``metrics.json``.

    ``n`` flagged rows; ``base`` the rows that could be flagged (analysed text with its
    probabilities, not ``mixed``, with a high or a low score: a passive or a 3-star answer
    cannot disagree); ``share`` = n / base with its Wilson
    interval ``low``/``high``. A blank comment cannot disagree, so dividing by all rows
    would shrink the share with the blank rate. The two directions are not symmetric (a
    promoter venting is common, a detractor praising rare), so each has its own base:
    ``high_score_negative_text`` over the eligible high scores and
    ``low_score_positive_text`` over the eligible low scores, each ``{n, base, share, low,
    high}``. Without a score column or text probabilities everything is 0 / ``None``.
    """
    def part(flag: np.ndarray, base: np.ndarray) -> dict[str, Any]:
        k, n = int(flag.sum()), int(base.sum())
        lo, hi = wilson_interval(k, n, confidence)
        return {"n": k, "base": n, "share": _num(k / n) if n else None,
                "low": _num(lo), "high": _num(hi)}

    d = _disagreement_masks(responses, columns, score_column, threshold)
    none = np.zeros(len(responses), bool)
    if d is None:
        nan = np.full(len(responses), np.nan)
        d = _Disagreement(none, none, none, none, none, nan, nan, ("", ""), "", "")
    return {**part(d.high_negative | d.low_positive, d.eligible),
            "high_score_negative_text": part(d.high_negative, d.high),
            "low_score_positive_text": part(d.low_positive, d.low)}


# --------------------------------------------------------------------------- dates


_DMY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\b")
#: A trailing UTC offset or zone after a time ("11:35:52 -0800", "T10:00:00Z", "+01:00"),
#: dropped so that times stay as written.
_OFFSET = re.compile(r"(?<=\d)\s*(?:Z|[+-]\d{2}:?\d{2}|(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?)$")


def parse_dates(values: pd.Series, dayfirst: bool | None = None) -> tuple[pd.Series, str]:
    """Parse a date column robustly; returns (naive timestamps, a note on how).

    - times are kept as the export writes them (wall-clock): an offset such as ``-0800`` or a
      time zone is dropped, not converted, so a day is the export's own day (a tweet sent at
      23:30 Pacific time is on the date it shows, not on the next UTC day);
    - datetime columns pass through (a time zone dropped the same way);
    - ``dd/mm/yyyy`` vs ``mm/dd/yyyy``: with ``dayfirst=None`` the values decide — a first
      number above 12 means day first, a second above 12 means month first; when every date
      is ambiguous (both ≤ 12) they are read **month first** and the note says so (set
      ``drivers.dayfirst: true`` for day-first exports);
    - ISO dates, month names and offsets (``2015-02-24 11:35:52 -0800``) are understood;
      unparseable values become NaT and are counted in the note.
    """
    s = values
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        ts = pd.to_datetime(s)
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_localize(None)  # the wall-clock time in the column's own zone
        return ts, "datetime column"
    # parse each distinct value once: exports repeat a few hundred dates a million times
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    weight = np.bincount(codes[codes >= 0], minlength=len(uniq))
    ts_u, note, bad = _parse_distinct(pd.Series(uniq, dtype=object), dayfirst)
    ts = pd.Series(np.append(ts_u.to_numpy(), np.datetime64("NaT"))[codes].astype(ts_u.dtype),
                   index=s.index)
    bad_rows = int(weight[bad].sum())
    if bad_rows:
        note += f"; {bad_rows} value(s) could not be read as dates"
    return ts, note


def _parse_distinct(s: pd.Series, dayfirst: bool | None) -> tuple[pd.Series, str, np.ndarray]:
    """:func:`parse_dates` of distinct values: timestamps, the note, and which were unreadable."""
    strs = s.astype("string").str.strip().str.replace(_OFFSET, "", regex=True)
    m = strs.str.extract(_DMY)
    first = pd.to_numeric(m[0], errors="coerce")
    second = pd.to_numeric(m[1], errors="coerce")
    note = ""
    if dayfirst is None and first.notna().any():
        a, b = bool((first > 12).any()), bool((second > 12).any())
        if a and not b:
            dayfirst, note = True, "day first (a first number above 12 seen)"
        elif b and not a:
            dayfirst, note = False, "month first (a second number above 12 seen)"
        elif a and b:
            dayfirst, note = False, "inconsistent day/month order; read month first"
        else:
            dayfirst, note = False, ("ambiguous day/month order (all numbers <= 12); read month "
                                     "first: set drivers.dayfirst: true for day-first dates")
    elif dayfirst is not None:
        note = "day first (configured)" if dayfirst else "month first (configured)"
    else:
        dayfirst, note = False, "ISO or named-month dates"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts = pd.to_datetime(strs, errors="coerce", utc=True, dayfirst=bool(dayfirst))
        if ts.isna().sum() > strs.isna().sum():
            ts2 = pd.to_datetime(strs, errors="coerce", utc=True, dayfirst=bool(dayfirst),
                                 format="mixed")
            ts = ts.fillna(ts2) if ts.notna().any() else ts2
    ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    bad = (ts.isna() & strs.notna() & (strs != "")).to_numpy(dtype=bool)
    return ts, note, bad


def choose_period(dates: pd.Series, period: str = "auto") -> str:
    """``day`` for a span up to 31 days, ``week`` up to 26 weeks, ``month`` up to 3 years,
    else ``quarter`` (``period`` other than ``auto`` is returned as is)."""
    if period != "auto":
        return period
    d = dates.dropna()
    if d.empty:
        return "month"
    span = (d.max() - d.min()).days
    return "day" if span <= 31 else "week" if span <= 182 else "month" if span <= 3 * 366 \
        else "quarter"


_FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q"}  # weeks run Mon-Sun


def _period_labels(dates: pd.Series, period: str) -> tuple[pd.Series, pd.Series]:
    """Label (``2018-03``, ``2018-W05``, ``2015-02-17``, ``2018Q1``; missing without a date)
    and start of each date's period, formatted once per distinct date."""
    if period not in _FREQ:
        raise ValueError(f"Unknown period {period!r}: expected auto, {', '.join(_FREQ)}. "
                         "Fix drivers.period in your config.")
    codes, uniq = pd.factorize(dates, use_na_sentinel=True)
    p = pd.Series(pd.DatetimeIndex(uniq)).dt.to_period(_FREQ[period])
    start = p.dt.start_time
    if period == "week":
        label = start.dt.strftime("%G-W%V")
    elif period == "day":
        label = start.dt.strftime("%Y-%m-%d")
    else:
        label = p.astype(str)
    text = np.append(label.to_numpy(dtype=object), None)[codes]
    first = np.append(start.to_numpy(), np.datetime64("NaT"))[codes].astype(start.dtype)
    return (pd.Series(text, index=dates.index, dtype=label.dtype),
            pd.Series(first, index=dates.index))


class Periods(NamedTuple):
    """What :func:`assign_periods` returns."""

    label: pd.Series  #: period label of each value; missing where it is not a date
    start: pd.Series  #: first day of each value's period
    period: str  #: the period used: ``day``, ``week``, ``month`` or ``quarter``
    note: str  #: how the dates were read (:func:`parse_dates`)
    dates: pd.Series  #: the parsed dates


def assign_periods(values: pd.Series, period: str = "auto",
                   dayfirst: bool | None = None) -> Periods:
    """The period of every response: cxnlp's one period rule, used by the trends stage and
    by the report's period filter and headline change (:func:`cxnlp.views.periods`).

    ``values`` (a date column) are read by :func:`parse_dates` (``dayfirst`` as there) and
    the period is ``period``, or with ``"auto"`` the one :func:`choose_period` picks for the
    span (day up to 31 days, week up to 26 weeks, month up to 3 years, else quarter).

    Examples
    --------
    >>> p = assign_periods(pd.Series(["2018-01-01", "2018-01-29", None]))
    >>> p.period, p.label.tolist()
    ('day', ['2018-01-01', '2018-01-29', nan])
    """
    dates, note = parse_dates(values, dayfirst)
    per = choose_period(dates, period)
    label, start = _period_labels(dates, per)
    return Periods(label, start, per, note, dates)


def change_interval(current: Estimate, previous: Estimate) -> tuple[float, float]:
    """Interval of ``current.value − previous.value`` for two independent estimates, from
    their own intervals (MOVER: Newcombe 1998 for proportions, Zou & Donner 2008)::

        low  = d − √((value₁ − low₁)² + (high₀ − value₀)²)
        high = d + √((high₁ − value₁)² + (value₀ − low₀)²)

    so the change between two periods has the same kind of interval as each period's score
    (Wilson for shares, t for means, adjusted Wald for NPS). NaN when either interval is missing.

    Examples
    --------
    >>> from cxnlp.metrics import Estimate
    >>> change_interval(Estimate(60, 50, 70, 100, 0), Estimate(40, 30, 50, 100, 0))
    (5.857864376269049, 34.14213562373095)
    """
    d = current.value - previous.value
    low = d - math.hypot(current.value - current.low, previous.high - previous.value)
    high = d + math.hypot(current.high - current.value, previous.value - previous.low)
    if math.isnan(low) or math.isnan(high):
        return (math.nan, math.nan)
    return (low, high)


def assess_change(current: Estimate, previous: Estimate, *, partial: bool = False,
                  min_n: int = 30) -> dict[str, Any]:
    """The change ``current − previous`` with its interval and whether it can be read.

    Returns ``delta``, ``delta_low``, ``delta_high`` (:func:`change_interval`; NaN when
    either period has no interval), ``assessed`` and ``not_assessed`` (why not) and
    ``direction``. A change is not assessed when the latest period is both partial and
    small (``partial`` and ``current.n < min_n``: a few early answers, e.g. 4 promoters on
    the 3rd of the month, are no "rise") — ``not_assessed = "partial_small"`` — or when the
    interval is missing (``"no_interval"``): an arrow without an interval would look like a
    finding. ``direction`` is ``up``/``down`` when the interval excludes 0, ``unclear`` when
    it includes 0 (a change of exactly 0 too: its interval says how far it could be off), and
    ``None`` when not assessed.

    Examples
    --------
    >>> from cxnlp.metrics import Estimate
    >>> assess_change(Estimate(60, 50, 70, 100, 0), Estimate(40, 30, 50, 100, 0))["direction"]
    'up'
    >>> c = assess_change(Estimate(100, 100, 100, 4, 0), Estimate(0, -9, 9, 300, 0),
    ...                   partial=True)
    >>> c["assessed"], c["not_assessed"], c["direction"]
    (False, 'partial_small', None)
    """
    delta = current.value - previous.value
    low, high = change_interval(current, previous)
    reason = ("partial_small" if partial and current.n < min_n
              else "no_interval" if math.isnan(low) or math.isnan(high) else None)
    direction = None if reason else "up" if low > 0 else "down" if high < 0 else "unclear"
    return {"delta": delta, "delta_low": low, "delta_high": high, "assessed": reason is None,
            "not_assessed": reason, "direction": direction}


# --------------------------------------------------------------------------- tests


def benjamini_hochberg(p: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN stays NaN.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.2]).round(3).tolist()
    [0.04, 0.053, 0.053, 0.2]
    """
    p = np.asarray(p, float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if not m:
        return q
    pv = p[ok]
    order = np.argsort(pv)
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1].clip(0, 1)
    out = np.empty(m)
    out[order] = ranked
    q[ok] = out
    return q


def emerging_test(count: int, n: int, base_count: int, base_n: int) -> float:
    """One-sided p-value that a share ``count/n`` exceeds the baseline ``base_count/base_n``.

    Pooled two-proportion z-test; Fisher's exact test (one-sided, ``greater``) when an
    expected cell count is below 5. NaN when either group is empty.

    Examples
    --------
    >>> round(emerging_test(30, 100, 10, 100), 5)   # 30 % vs 10 %: z = 3.54
    0.0002
    """
    if n <= 0 or base_n <= 0:
        return math.nan
    pooled = (count + base_count) / (n + base_n)
    expected = [n * pooled, n * (1 - pooled), base_n * pooled, base_n * (1 - pooled)]
    if min(expected) < 5:
        table = [[count, n - count], [base_count, base_n - base_count]]
        return float(stats.fisher_exact(table, alternative="greater")[1])
    se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / base_n))
    if se == 0:
        return math.nan
    z = (count / n - base_count / base_n) / se
    return float(stats.norm.sf(z))


def trend_table(
    responses: pd.DataFrame,
    mentions: pd.DataFrame,
    columns: Mapping[str, Any],
    *,
    score_column: str | None = None,
    period: str = "auto",
    dayfirst: bool | None = None,
    baseline_periods: int = 3,
    fdr: float = 0.05,
    confidence: float = 0.95,
    min_n: int = 30,
    min_new: int = MIN_NEW,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Volume, score, sentiment and theme shares by period, with emerging-theme tests.

    Returns
    -------
    (DataFrame, dict)
        Long table, columns :data:`TREND_COLUMNS`: ``period`` (label: ``2018-03``,
        ``2018-W05``, ``2015-02-17``, ``2018Q1``), ``period_start``, ``kind`` (``volume``,
        ``score``, ``sentiment``, ``theme``, ``topic``), ``key`` (``responses``, the metric,
        the sentiment label, theme id or topic id), ``n`` (denominator: rows, valid scores or
        analysed responses), ``count``, ``value`` (volume; the metric in its unit; shares as
        fractions) with ``low``/``high``, ``small`` (``n < min_n``), and for theme/topic rows
        the test against the previous ``baseline_periods`` periods: ``baseline_n``,
        ``baseline_count``, ``baseline_value``, ``p_value`` (one-sided; NaN, not tested,
        when ``baseline_n < min_n``), ``q_value`` (Benjamini-Hochberg over all tests),
        ``emerging`` (``q ≤ fdr`` and a rise), ``new`` (emerging, absent from the baseline,
        ``count ≥ min_new``). The dict: date column, period, note on date parsing, emerging and
        new themes of the latest period. Empty without a date column.
    """
    _check_fdr(fdr)
    summary: dict[str, Any] = {"date_column": columns.get("date"), "period": None,
                               "dates": None, "n_periods": 0, "emerging": [], "new": []}
    date_col = columns.get("date")
    if not date_col or date_col not in responses:
        return pd.DataFrame(columns=TREND_COLUMNS), summary
    label, start, per, note, dates = assign_periods(responses[date_col], period, dayfirst)
    summary.update(period=per, dates=note)
    if label.isna().all():
        return pd.DataFrame(columns=TREND_COLUMNS), summary
    periods = (pd.DataFrame({"label": label, "start": start}).dropna()
               .drop_duplicates("label").sort_values("start"))
    summary["n_periods"] = len(periods)
    summary["first"], summary["last"] = str(dates.min()), str(dates.max())
    analysed_rows = analysed(responses)
    col, kind = primary_score(columns, score_column, responses)
    themes = [str(t) for t in pd.unique(mentions["theme"])] if len(mentions) else []
    M = _indicators(responses, mentions, themes) if themes else np.zeros((len(responses), 0))
    groups: dict[str, tuple[list[str], np.ndarray]] = {"theme": (themes, M)}
    if "topic" in responses:
        topic = pd.to_numeric(responses["topic"], errors="coerce")
        ids = sorted(t for t in topic.dropna().unique() if t >= 0)
        groups["topic"] = ([str(int(t)) for t in ids],
                           np.column_stack([(topic == t).to_numpy() for t in ids])
                           if ids else np.zeros((len(responses), 0), bool))
    lab = label.to_numpy()
    rows: list[dict[str, Any]] = []
    counts_by: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for pl, ps in zip(periods["label"], periods["start"], strict=True):
        inp = lab == pl
        base = {"period": pl, "period_start": ps}
        rows.append({**base, "kind": "volume", "key": "responses", "n": int(inp.sum()),
                     "count": int(inp.sum()), "value": int(inp.sum()), "low": np.nan,
                     "high": np.nan, "small": int(inp.sum()) < min_n})
        if col is not None:
            est = score_metric(responses.loc[inp, col], kind, confidence)
            rows.append({**base, "kind": "score", "key": est.metric, "n": est.n,
                         "count": np.nan, "value": est.value, "low": est.low,
                         "high": est.high, "small": est.n < min_n})
        a = inp & analysed_rows
        na = int(a.sum())
        if "sentiment" in responses:
            sent = responses.loc[a, "sentiment"].astype(str)
            for s in ("negative", "neutral", "positive", "mixed"):
                k = int((sent == s).sum())
                lo, hi = wilson_interval(k, na, confidence)
                rows.append({**base, "kind": "sentiment", "key": s, "n": na, "count": k,
                             "value": k / na if na else np.nan, "low": lo, "high": hi,
                             "small": na < min_n})
        for kind_name, (keys, X) in groups.items():
            for j, key in enumerate(keys):
                k = int(X[a, j].sum())
                lo, hi = wilson_interval(k, na, confidence)
                counts_by.setdefault((kind_name, key), []).append((k, na))
                rows.append({**base, "kind": kind_name, "key": key, "n": na, "count": k,
                             "value": k / na if na else np.nan, "low": lo, "high": hi,
                             "small": na < min_n})
    table = pd.DataFrame(rows)
    for c in TREND_COLUMNS:
        if c not in table:
            table[c] = np.nan
    table[["baseline_n", "baseline_count"]] = np.nan
    table["emerging"] = False
    table["new"] = False
    order = {p: i for i, p in enumerate(periods["label"])}
    tested = table["kind"].isin(list(groups)).to_numpy()
    for idx in np.flatnonzero(tested):
        r = table.iloc[idx]
        i = order[r["period"]]
        if i == 0:
            continue
        hist = counts_by[(r["kind"], r["key"])][max(0, i - baseline_periods):i]
        bk, bn = sum(h[0] for h in hist), sum(h[1] for h in hist)
        table.iat[idx, table.columns.get_loc("baseline_n")] = bn
        table.iat[idx, table.columns.get_loc("baseline_count")] = bk
        if bn >= min_n:  # a tiny baseline (a partial first day) says nothing: no test
            table.iat[idx, table.columns.get_loc("p_value")] = emerging_test(
                int(r["count"]), int(r["n"]), bk, bn)
    table["baseline_value"] = table["baseline_count"] / table["baseline_n"].where(
        table["baseline_n"] > 0)
    table["q_value"] = benjamini_hochberg(table["p_value"].to_numpy(float))
    table["emerging"] = (table["q_value"] <= fdr) & (table["value"] > table["baseline_value"])
    # absent before is news only when the rise passes the same FDR-controlled test: a rule
    # on the absence alone flagged a rare theme in 59-70 % of 12-period runs where nothing
    # changed, this one in none (benchmarks/stat_checks.py)
    table["new"] = table["emerging"] & (table["baseline_count"] == 0) & (
        table["count"] >= min_new)
    table = table[TREND_COLUMNS].reset_index(drop=True)
    last = periods["label"].iloc[-1]
    latest = table[(table["period"] == last) & table["kind"].isin(list(groups))]
    summary["emerging"] = [
        {"kind": r.kind, "key": r.key, "value": _num(r.value),
         "baseline_value": _num(r.baseline_value), "q_value": _num(r.q_value)}
        for r in latest[latest["emerging"]].itertuples()]
    summary["new"] = [{"kind": r.kind, "key": r.key, "count": int(r.count)}
                      for r in latest[latest["new"]].itertuples()]
    summary["emerging_any_period"] = int(table["emerging"].sum())
    return table, summary


# --------------------------------------------------------------------------- the stage


def _records(df: pd.DataFrame, cols: Sequence[str], limit: int | None = None) -> list[dict]:
    part = df[[c for c in cols if c in df]]
    if limit is not None:
        part = part.head(limit)
    out = []
    for rec in part.to_dict("records"):
        out.append({k: (_num(v) if isinstance(v, (int, float, np.number, bool, np.bool_))
                        else (None if v is None or (isinstance(v, float) and math.isnan(v))
                              else str(v)))
                    for k, v in rec.items()})
    return out


def apply_corpus_stages(results: Any, config: Any, codeframe: Any = None,
                        encoder: Any = None, sentences: Any = None) -> Any:
    """Link, drivers, disagreement and trends over a run (one call in ``Analyzer.assemble``).

    Fills ``results.touchpoints``, ``churn``, ``drivers``, ``trends``; adds ``touchpoint``,
    ``at_risk``, ``churn_reason``, ``churn_confidence``, ``churn_evidence`` and
    ``disagreement`` to ``responses`` and ``touchpoint`` to ``mentions``; and their summaries
    to ``results.metrics`` (``touchpoints``, ``churn``, ``drivers``, ``disagreement``,
    ``trends``). ``sentences`` is passed to :func:`~cxnlp.link.link_results`.
    """
    from .link import link_results

    dc = config.drivers
    link_results(results, config, codeframe, encoder, sentences=sentences)
    r, cols = results.responses, results.columns
    r["disagreement"] = disagreement(r, cols, dc.score_column, dc.disagreement_threshold)
    results.drivers, dsum = driver_table(
        r, results.mentions, cols, codeframe, score_column=dc.score_column,
        bootstrap=dc.bootstrap, seed=dc.seed, confidence=dc.confidence, min_n=dc.min_n,
        fdr=dc.fdr)
    results.trends, tsum = trend_table(
        r, results.mentions, cols, score_column=dc.score_column, period=dc.period,
        dayfirst=dc.dayfirst, baseline_periods=dc.baseline_periods, fdr=dc.fdr,
        confidence=dc.confidence, min_n=dc.min_n)
    m = results.metrics
    m["touchpoints"] = _records(results.touchpoints, [
        "source", "touchpoint", "responses", "share", "sentiment_score", "score_metric",
        "score", "score_low", "score_high", "score_n", "small", "sentiment_n", "sentiment_small",
        "score_small"])
    at = r["at_risk"].notna() if "at_risk" in r else pd.Series(False, index=r.index)
    m["churn"] = {"at_risk": int(at.sum()),
                  "with_reason": int(r["churn_reason"].notna().sum()) if "churn_reason" in r
                  else 0,
                  "ranking": _records(results.churn, ["rank", "reason", "count", "share", "low",
                                                      "high", "small"])}
    dsum["top"] = _records(results.drivers[results.drivers["sentiment"] == "any"], [
        "theme", "n", "score", "score_without", "impact", "impact_low", "impact_high",
        "p_value", "q_value", "significant", "relative_weight_pct", "small"])
    m["drivers"] = dsum
    m["disagreement"] = disagreement_summary(r, cols, dc.score_column,
                                             dc.disagreement_threshold, dc.confidence)
    m["trends"] = tsum
    return results
