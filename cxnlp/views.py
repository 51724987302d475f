"""Tidy views of a run shared by the plots, the HTML report, the XLSX workbook and notebooks.

Each function takes a :class:`~cxnlp.results.Results` and returns a small DataFrame (or
dict) ready to show. Tables produced by later stages (``drivers``, ``touchpoints``,
``churn``, ``trends``, ``topics``) are optional: :func:`optional_table` returns them only when
they exist and have rows, and :func:`unavailable` says in one sentence why one is missing.
Where a simple, honest stand-in exists (theme volume × mean aspect sentiment instead of
drivers; a journey built from the codeframe's theme → touchpoint map) the view says so in its
``source`` attribute (``df.attrs["source"]``).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .metrics import SENTIMENT_LABELS, narrow, score_metric
from .results import analysed

if TYPE_CHECKING:
    from .results import Results

__all__ = [
    "OPTIONAL_TABLES",
    "SCORE_TITLES",
    "at_risk_definition",
    "change_verdict",
    "churn_base",
    "date_note",
    "disagreement_base",
    "disagreements",
    "drivers_settings",
    "emerging_themes",
    "headline_changes",
    "invalid_scores",
    "journey",
    "language_note",
    "languages",
    "latest_period",
    "metric_name",
    "optional_table",
    "outcome",
    "partial_period",
    "period_rule",
    "periods",
    "pick",
    "pii_counts",
    "score_title",
    "significance_rule",
    "signed_level",
    "small_flags",
    "theme_labels",
    "theme_summary",
    "theme_trends",
    "theme_verbatims",
    "trend_labels",
    "unavailable",
]

#: Tables that later stages add to ``Results`` and why each may be missing.
OPTIONAL_TABLES: dict[str, str] = {
    "drivers": "key-driver analysis needs a score column (NPS, CSAT, CES or rating) and themes",
    "touchpoints": "touchpoints come from the codeframe's theme → touchpoint map or a "
    "touchpoint column in the export",
    "churn": "churn reasons need churned or at-risk customers (a churn column, a detractor "
    "score or a cancellation question)",
    "trends": "trends need a date column spanning at least two periods",
    "topics": "topic discovery was not run on this data",
}

# --------------------------------------------------------------------------- basics


def optional_table(results: Results, name: str) -> pd.DataFrame | None:
    """``results.<name>`` when it is a DataFrame with rows, else ``None``."""
    table = getattr(results, name, None)
    if isinstance(table, pd.DataFrame) and len(table) and len(table.columns):
        return table
    return None


def unavailable(results: Results, name: str) -> str:
    """One sentence saying why ``results.<name>`` has nothing to show."""
    why = OPTIONAL_TABLES.get(name, "this stage did not run")
    table = getattr(results, name, None)
    if table is None:
        return f"Not available: this version of cxnlp does not compute {name} ({why})."
    return f"Not available: no {name} in this run ({why})."


def small_flags(table: pd.DataFrame) -> pd.Series:
    """The drivers table's ``small`` flag as booleans (missing column or value: not small)."""
    if "small" not in table:
        return pd.Series(False, index=table.index)
    return table["small"].map(lambda v: v is True or (not pd.isna(v) and bool(v))).astype(bool)


def pick(df: pd.DataFrame | None, *names: str) -> str | None:
    """The first of ``names`` that is a column of ``df`` (``None`` if none is)."""
    if df is None:
        return None
    for name in names:
        if name in df.columns:
            return name
    return None


def _ok(responses: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The analysed rows (``ok`` / ``no theme``), of ``columns`` only when given.

    Picking the columns first keeps a million-row export from being copied whole.
    """
    r = responses if columns is None else responses[[c for c in columns if c in responses]]
    return r[analysed(responses)]


def _codeframe(results: Results) -> Any:
    """The run's codeframe: the one its manifest records (when it does), else from its
    config: the one saved with the trained head (``themes.model``) when there is one, else
    ``themes.codeframe``; ``None`` if neither loads."""
    manifest = results.manifest or {}
    cfg = (manifest.get("config") or {}).get("themes") or {}
    try:
        from .themes import Codeframe

        if manifest.get("codeframe"):
            return Codeframe.from_dict(manifest["codeframe"])
        if cfg.get("model"):  # a trained head carries its own codeframe
            meta = json.loads((Path(cfg["model"]) / "themes.json").read_text(encoding="utf-8"))
            return Codeframe.from_dict(meta["codeframe"])
        return Codeframe.load(cfg["codeframe"]) if cfg.get("codeframe") else None
    except Exception:  # noqa: BLE001 - a codeframe that moved away only loses labels
        return None


def theme_labels(results: Results) -> dict[str, str]:
    """Theme id → human label from the run's codeframe (ids missing from it map to themselves)."""
    cf = _codeframe(results)
    labels = {t.id: t.label for t in cf.themes} if cf is not None else {}
    ids: Iterable[str] = []
    if len(results.mentions) and "theme" in results.mentions:
        ids = results.mentions["theme"].dropna().astype(str).unique()
    return {**{i: i for i in ids}, **labels}


# --------------------------------------------------------------------------- periods


def date_column(results: Results) -> str | None:
    col = (results.columns or {}).get("date")
    return col if col and col in results.responses else None


#: Shapes of the trends stage's period labels (``cxnlp.drivers.assign_periods``).
_PERIOD_SHAPES = (("day", r"\d{4}-\d{2}-\d{2}"), ("week", r"\d{4}-W\d{2}"),
                  ("month", r"\d{4}-\d{2}"), ("quarter", r"\d{4}Q[1-4]"))  # fmt: skip


def drivers_settings(results: Results) -> dict[str, Any]:
    """The run's ``drivers`` settings (``period``, ``dayfirst``, ``min_n``, ``confidence``...)
    from the manifest's config, defaults filled in for a run without them."""
    from .config import DriversConfig

    given = ((results.manifest or {}).get("config") or {}).get("drivers") or {}
    return {**DriversConfig().model_dump(mode="json"), **given}


def period_rule(results: Results) -> str:
    """The period the run's trends use: ``day``, ``week``, ``month``, ``quarter`` or ``auto``.

    In order: the period the trends stage resolved (``metrics["trends"]["period"]``), the shape
    of the ``trends`` table's period labels (``2018-W05`` → week), the run's
    ``drivers.period`` setting; ``auto`` (pick from the span) when none says. Both the trends
    stage and :func:`periods` then go through :func:`cxnlp.drivers.assign_periods`, so the
    report's period filter and headline change use the periods of the trends table.
    """
    resolved = ((results.metrics or {}).get("trends") or {}).get("period")
    if resolved in {name for name, _ in _PERIOD_SHAPES}:
        return str(resolved)
    tr = optional_table(results, "trends")
    if tr is not None and "period" in tr:
        labels = tr["period"].dropna().astype(str).unique()
        for name, shape in _PERIOD_SHAPES:
            if len(labels) and all(re.fullmatch(shape, lab) for lab in labels):
                return name
    return str(drivers_settings(results).get("period") or "auto")


def periods(results: Results) -> pd.Series | None:
    """Period label (``2024-05-17``, ``2024-W07``, ``2024-05`` or ``2024Q2``) of every response,
    or ``None`` without a date column (or without one readable date).

    The periods are the trends stage's (:func:`period_rule`, then
    :func:`cxnlp.drivers.assign_periods` with the run's ``drivers.dayfirst``): day up to 31
    days, week up to 26 weeks, month up to 3 years, else quarter, unless ``drivers.period``
    forces one. Rows without a readable date get a missing label; ``attrs["freq"]`` is the
    period (``day``, ``week``, ``month`` or ``quarter``), ``attrs["dates"]`` how the dates
    were read (:func:`cxnlp.drivers.parse_dates`' note).
    """
    from .drivers import assign_periods

    col = date_column(results)
    if col is None:
        return None
    found = assign_periods(results.responses[col], period_rule(results),
                           drivers_settings(results).get("dayfirst"))  # fmt: skip
    if found.label.isna().all():
        return None
    out = found.label.rename("period")
    out.attrs["freq"] = found.period
    out.attrs["dates"] = found.note
    out.attrs["last_date"] = found.dates.max()  # a scalar: attrs are copied with the Series
    return out


#: pandas period of each period name (weeks run Monday to Sunday, as the trends stage's).
_PANDAS_FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q"}


def partial_period(per: pd.Series) -> dict[str, Any] | None:
    """The latest period when the data stop well before its end (June data ending on the
    20th): ``{"period", "last_date", "end"}`` as ``YYYY-MM-DD``; ``None`` when it is whole.

    A reader comparing it with a whole period should know it covers fewer days. "Well
    before" means more than a day and more than a tenth of the period is missing; a day is
    never partial (the dates are read as days).
    """
    last, freq = per.attrs.get("last_date"), per.attrs.get("freq")
    if last is None or pd.isna(last) or freq not in _PANDAS_FREQ or freq == "day":
        return None
    period = pd.Timestamp(last).to_period(_PANDAS_FREQ[freq])
    start, end = period.start_time.normalize(), period.end_time.normalize()
    missing = (end - pd.Timestamp(last).normalize()).days
    length = (end - start).days + 1
    if missing <= max(1, length / 10):
        return None
    return {"period": max(per.dropna().unique()), "last_date": f"{pd.Timestamp(last):%Y-%m-%d}",
            "end": f"{end:%Y-%m-%d}"}  # fmt: skip


def change_verdict(c: dict[str, Any]) -> str | None:
    """Why a change of :func:`headline_changes` has no direction to show, in words, or
    ``None``: the latest period is a partial one with fewer than ``drivers.min_n`` scores,
    the change has no interval, or its interval includes 0 (a rise of 11 points with an
    interval of -5 to +27 is not a rise). The reading is :func:`cxnlp.drivers.assess_change`'s;
    the HTML card and the Excel summary word it the same."""
    if c["not_assessed"] == "partial_small":
        return f"not assessed (a partial {c['period_unit']} with few responses)"
    if c["not_assessed"] == "no_interval":
        return "no interval (too few responses)"
    if c["direction"] == "unclear":
        return "not a clear change (the interval includes 0)"
    return None


def significance_rule(results: Results) -> str:
    """What a driver row's "significant" means in this run: Benjamini-Hochberg ``q ≤ fdr``
    over every tested driver row and an interval that excludes 0 (one row at a time, about 1
    unrelated theme in 20 would have an interval excluding 0); the interval alone for a run
    written before ``q_value`` existed. The HTML caption and the workbook say the same."""
    drivers = optional_table(results, "drivers")
    if drivers is None or "q_value" not in drivers:
        return "Significant: the interval excludes 0"
    tested = int(pd.to_numeric(drivers["p_value"], errors="coerce").notna().sum())
    fdr = float(drivers_settings(results).get("fdr") or 0.05)
    return (f"Significant: q ≤ {fdr:g} after Benjamini-Hochberg over all {tested:,} driver rows "
            "tested (themes × sentiments, drivers.csv), and the interval excludes 0")


def disagreement_base(results: Results, total: int | None = None) -> str:
    """``That is 3.0% of the 1,917 responses that could disagree ...`` from metrics.json, each
    direction over its own side (a promoter venting is common, a detractor praising rare).

    Empty for a run without the bases, or when ``total`` (the disagreements shown) is not the
    count the bases belong to."""
    m = (results.metrics or {}).get("disagreement") or {}
    hi, lo = m.get("high_score_negative_text"), m.get("low_score_positive_text")
    if not m.get("base") or (total is not None and m.get("n") != total) or not hi or not lo:
        return ""

    def part(d: dict[str, Any], side: str, text: str) -> str:
        share = f" ({d['share']:.1%})" if d.get("share") is not None else ""
        return f"{d['n']:,} of {d['base']:,} {side} scores with {text} text{share}"

    return (f"That is {m['share']:.1%} of the {m['base']:,} responses that could disagree (a "
            f"high or low score, text analysed and not mixed): {part(hi, 'high', 'negative')}, "
            f"{part(lo, 'low', 'positive')}.")  # fmt: skip


def headline_changes(results: Results) -> dict[str, dict[str, Any]]:
    """Each score's value in the latest period against the one before, with both intervals
    and the interval of the change.

    The periods are :func:`periods`' (the trends stage's). Returns ``{column: {"kind",
    "unit", "period_unit", "period", "previous_period", "value", "low", "high", "n",
    "previous", "previous_low", "previous_high", "previous_n", "delta", "delta_low",
    "delta_high", "assessed", "not_assessed", "direction", "confidence", "min_n", "small",
    "partial"}}``: intervals at ``drivers.confidence``; the change, its interval and whether
    it can be read from :func:`cxnlp.drivers.assess_change`; ``small`` when either period
    has fewer than ``drivers.min_n`` valid scores; ``partial`` (:func:`partial_period` of the
    latest period, or ``None``). Empty without a date column or with fewer than two periods.
    """
    from .drivers import assess_change

    per = periods(results)
    if per is None:
        return {}
    labels = sorted(per.dropna().unique())
    if len(labels) < 2:
        return {}
    cur, prev = labels[-1], labels[-2]
    settings = drivers_settings(results)
    confidence, min_n = float(settings["confidence"]), int(settings["min_n"])
    partial = partial_period(per)
    out: dict[str, dict[str, Any]] = {}
    for col, kind in ((results.columns or {}).get("scores") or {}).items():
        if col not in results.responses:
            continue
        a = score_metric(results.responses.loc[(per == cur).to_numpy(), col], kind, confidence)
        b = score_metric(results.responses.loc[(per == prev).to_numpy(), col], kind, confidence)
        if a.n == 0 or b.n == 0:
            continue
        change = assess_change(a, b, partial=bool(partial and partial["period"] == cur),
                               min_n=min_n)
        out[col] = {
            "kind": kind, "unit": a.unit, "period_unit": per.attrs["freq"], "period": cur,
            "previous_period": prev,
            "value": a.value, "low": a.low, "high": a.high, "n": a.n,
            "previous": b.value, "previous_low": b.low, "previous_high": b.high,
            "previous_n": b.n, **change, "confidence": confidence, "min_n": min_n,
            "small": a.n < min_n or b.n < min_n, "partial": partial,
        }  # fmt: skip
    return out


def date_note(results: Results) -> str | None:
    """One line on how the dates were read when a reader should know: day/month order guessed
    (all numbers 12 or less) or mixed, or values that could not be read; ``None`` otherwise.

    From the trends stage's note (``metrics["trends"]["dates"]``, written by
    :func:`cxnlp.drivers.parse_dates`), else the same parse of the date column.
    """
    note = ((results.metrics or {}).get("trends") or {}).get("dates")
    if not note:
        per = periods(results)
        note = per.attrs.get("dates") if per is not None else None
    if not note:
        return None
    parts = []
    first = "day first" if "read day first" in note else "month first"
    other = "month first" if first == "day first" else "day first"
    setting = f"drivers.dayfirst: {'false' if first == 'day first' else 'true'}"
    example = _ambiguous_example(results)
    if "ambiguous" in note:
        like = f"Dates like {example}" if example else "Dates"
        parts.append(f"{like} were read {first} (every day and month is 12 or less); "
                     f"set {setting} if they are {other}.")  # fmt: skip
    elif "inconsistent" in note:
        parts.append(f"Dates mix day-first and month-first orders and were read {first}; "
                     "check the export's dates.")  # fmt: skip
    unread = re.search(r"(\d+) value\(s\) could not be read", note)
    if unread:
        parts.append(f"{int(unread.group(1)):,} date value(s) could not be read and are left "
                     "out of the periods.")  # fmt: skip
    return " ".join(parts) or None


def _ambiguous_example(results: Results) -> str | None:
    """A date of the export whose day and month differ and could swap (``03/04/2018``)."""
    col = date_column(results)
    if col is None:
        return None
    values = results.responses[col].dropna().astype(str).str.strip().drop_duplicates().head(500)
    found = values.str.extract(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}")
    a, b = pd.to_numeric(found[0], errors="coerce"), pd.to_numeric(found[1], errors="coerce")
    hit = values[(a <= 12) & (b <= 12) & (a != b)]
    return hit.iloc[0].split(" ")[0] if len(hit) else None


#: A score kind as the report's cards and the workbook's summary title it.
SCORE_TITLES = {"nps": "Net Promoter Score", "csat": "Customer satisfaction",
                "ces": "Customer effort", "rating": "Average rating",
                "recommend": "Would recommend"}  # fmt: skip


def score_title(kind: str) -> str:
    return SCORE_TITLES.get(kind, kind)


#: What a metric (metrics.json's score ``metric``, or the drivers ``outcome``) is called and
#: the unit an impact or a change of it is in.
_OUTCOMES: dict[str, tuple[str, str]] = {
    "nps": ("NPS", "NPS points"),
    "csat_top2": ("CSAT", "percentage points"),
    "recommend_yes": ("the share who would recommend", "percentage points"),
    "rating_mean": ("the mean rating", "rating points"),
    "csat_mean": ("the mean CSAT", "rating points"),
    "ces_mean": ("the mean effort score (CES)", "CES points"),
    "sentiment_score": ("text sentiment", "sentiment score, −1 to +1"),
}
_UNIT_NAMES = {"points": "points", "percent": "percentage points", "mean": "scale points"}


def metric_name(metric: str) -> str:
    """A metric id as a reader says it: ``rating_mean`` -> ``mean rating``, ``nps`` -> ``NPS``."""
    return _OUTCOMES[metric][0].removeprefix("the ") if metric in _OUTCOMES else metric


def outcome(results: Results) -> dict[str, str]:
    """The score that key-driver impacts are measured on: ``metric`` (``nps``,
    ``rating_mean``, ``sentiment_score``...), ``name`` and ``unit`` (``"NPS points"``).

    The drivers stage's ``outcome`` when it ran (metrics.json or the drivers table), else the
    score it would pick (:func:`cxnlp.link.primary_score`), else the text sentiment score.
    """
    from .link import primary_score

    metric = ((results.metrics or {}).get("drivers") or {}).get("outcome")
    d = optional_table(results, "drivers")
    if not metric and d is not None and "outcome" in d and d["outcome"].notna().any():
        metric = str(d["outcome"].dropna().iloc[0])
    if not metric:
        try:
            kind = primary_score(
                results.columns or {},
                drivers_settings(results).get("score_column"),
                results.responses,
            )[1]
        except KeyError:  # drivers.score_column names no score column: drivers said so
            kind = None
        metric = score_metric([], kind).metric if kind else "sentiment_score"
    if metric in _OUTCOMES:
        name, unit = _OUTCOMES[metric]
    else:
        unit = next((s.get("unit") for s in ((results.metrics or {}).get("scores") or {}).values()
                     if s.get("metric") == metric), "")  # fmt: skip
        name, unit = metric, _UNIT_NAMES.get(unit, "the score's unit")
    return {"metric": metric, "name": name, "unit": unit}


def signed_level(metric: str) -> bool:
    """Whether a level of ``metric`` reads better with its sign: NPS and sentiment run below
    zero; a mean rating or a percentage never does (``+4.2`` stars reads as a change)."""
    return metric in ("nps", "sentiment_score")


def churn_base(results: Results) -> int | None:
    """How many responses the churn shares are of: the at-risk responses with a churn reason
    (``metrics["churn"]["with_reason"]``, else the churn table's ``n`` beside its ``count``)."""
    got = ((results.metrics or {}).get("churn") or {}).get("with_reason")
    if got:
        return int(got)
    c = optional_table(results, "churn")
    if c is not None and {"count", "n"} <= set(c.columns) and c["n"].notna().any():
        return int(c["n"].dropna().iloc[0])
    return None


#: What each signal of ``responses.at_risk`` (:func:`cxnlp.link.at_risk`) means, by its start.
_AT_RISK_SIGNALS = (
    ("detractor", "a detractor NPS (0-6)"), ("dissatisfied", "a CSAT of 1-2"),
    ("high effort", "a CES of 3 or less (of 7)"), ("low rating", "a rating of 1-2 stars"),
    ("would not recommend", "a 'no' to would recommend"),
    ("negative text", "negative text (no score or churn column)"),
)  # fmt: skip


def at_risk_definition(results: Results) -> str | None:
    """Who the run counted as at risk, from ``responses.at_risk``: ``"the 1,271 responses
    with a detractor NPS (0-6)"``, each signal with its count when there are several;
    ``None`` without that column or without an at-risk response.

    The churn shares mean little unless a reader knows whose reasons they are.
    """
    r = results.responses
    if "at_risk" not in r:
        return None
    why = r["at_risk"].dropna().astype(str)
    why = why[why.str.strip() != ""]
    if why.empty:
        return None
    counts: Counter[str] = Counter()
    for text, n in why.value_counts().items():
        for part in {p.strip() for p in text.split(";") if p.strip()}:
            counts[_signal_name(part)] += int(n)
    parts = [f"{name} ({n:,})" if len(counts) > 1 else name
             for name, n in counts.most_common()]  # fmt: skip
    return f"the {len(why):,} responses with " + " or ".join(parts)


def _signal_name(part: str) -> str:
    """One at-risk signal as a reader says it; a churn column or a cancellation question
    keeps its own text (it names the column)."""
    for start, name in _AT_RISK_SIGNALS:
        if part.startswith(start):
            return name
    return re.sub(r"\s*\([^)]*\)$", "", part)


# --------------------------------------------------------------------------- themes


def theme_summary(results: Results) -> pd.DataFrame:
    """One row per theme: volume, share of analysed responses, aspect sentiment mix and,
    when ``Results.drivers`` exists, its impact.

    Columns: ``theme``, ``label``, ``parent``, ``mentions`` (responses that mention it),
    ``share`` (of analysed responses), ``sentiment_score`` (mean aspect sentiment, −1..1),
    ``negative``/``neutral``/``positive`` (shares of its mentions) and, from the drivers
    table, ``impact`` (plus ``impact_low``/``impact_high``, ``significant``, ``impact_n``,
    ``negative_impact`` where given) and ``small`` (the drivers table's flag, else
    ``impact_n`` under ``drivers.min_n``). Sorted by volume.
    """
    m = results.mentions
    cols = ["theme", "label", "parent", "mentions", "share", "sentiment_score",
            "negative", "neutral", "positive"]  # fmt: skip
    if m is None or m.empty or "theme" not in m:
        return pd.DataFrame(columns=cols)
    m = m.dropna(subset=["theme"])
    analysed = max(len(_ok(results.responses, ["row_id"])), 1)
    g = m.groupby("theme", sort=False)
    out = pd.DataFrame({"mentions": g["row_id"].nunique() if "row_id" in m else g.size()})
    out["share"] = out["mentions"] / analysed
    score = (
        pd.to_numeric(m.get("sentiment_score"), errors="coerce")
        if "sentiment_score" in m
        else pd.Series(np.nan, index=m.index)
    )
    out["sentiment_score"] = score.groupby(m["theme"]).mean()
    if "sentiment" in m:
        mix = pd.crosstab(m["theme"], m["sentiment"].astype(str), normalize="index")
    else:
        mix = pd.DataFrame(index=out.index)
    for lab in ("negative", "neutral", "positive"):
        out[lab] = mix.get(lab, 0.0)
    out["parent"] = g["parent"].first() if "parent" in m else None
    out = out.reset_index()
    labels = theme_labels(results)
    out["label"] = out["theme"].map(lambda t: labels.get(t, t))
    out = out[cols]
    drivers = optional_table(results, "drivers")
    if (
        drivers is not None
        and pick(drivers, "theme", "theme_id", "driver")
        and pick(drivers, "impact", "effect", "importance")
    ):
        out = out.merge(_driver_columns(drivers), on="theme", how="left")
        if "small" not in out and "impact_n" in out:
            n = pd.to_numeric(out["impact_n"], errors="coerce")
            out["small"] = (n < int(drivers_settings(results)["min_n"])).where(n.notna())
    out = out.sort_values(["mentions", "theme"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


def _driver_columns(drivers: pd.DataFrame) -> pd.DataFrame:
    """Per theme: ``impact`` with its interval, ``significant``, ``n`` and ``small`` (fewer
    than ``drivers.min_n`` responses) of all its mentions, and ``negative_impact`` (of its
    negative mentions) when the table splits themes by aspect sentiment."""
    tcol = pick(drivers, "theme", "theme_id", "driver")
    icol = pick(drivers, "impact", "effect", "importance")
    d = _first_score(drivers)
    keep = {tcol: "theme", icol: "impact"}
    for src, dst in ((pick(d, "impact_low", "low", "ci_low"), "impact_low"),
                     (pick(d, "impact_high", "high", "ci_high"), "impact_high"),
                     (pick(d, "significant", "is_significant"), "significant"),
                     (pick(d, "n", "volume", "count"), "impact_n"),
                     (pick(d, "small"), "small")):  # fmt: skip
        if src:
            keep[src] = dst
    out = d[list(keep)].rename(columns=keep).drop_duplicates("theme")
    out["theme"] = out["theme"].astype(str)
    if "sentiment" in drivers:
        rows = _by_score(drivers)
        neg = rows[rows["sentiment"].astype(str) == "negative"]
        neg = neg[[tcol, icol]].rename(columns={tcol: "theme", icol: "negative_impact"})
        neg = neg.drop_duplicates("theme")
        neg["theme"] = neg["theme"].astype(str)
        if len(neg):
            out = out.merge(neg, on="theme", how="left")
    return out


def _by_score(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of the first score column when a table covers several (``score_column`` etc.)."""
    col = pick(df, "score_column", "outcome", "metric", "column")
    if col and df[col].dtype == object and df[col].nunique() > 1:
        return df[df[col] == df[col].iloc[0]]
    return df


def _first_score(df: pd.DataFrame) -> pd.DataFrame:
    """The theme-level rows of the first score column (theme × sentiment rows left out)."""
    df = _by_score(df)
    if "sentiment" in df and "theme" in df and df["theme"].duplicated().any():
        # theme × sentiment rows alongside the theme rows: keep the theme-level ones
        level = df[df["sentiment"].isna() | df["sentiment"].astype(str).isin(["all", "any"])]
        return level if len(level) else df
    return df


def journey(results: Results) -> pd.DataFrame:
    """Touchpoints in journey order: ``touchpoint``, ``responses`` (responses mentioning the
    stage), ``sentiment_score``, ``negative`` share, and score columns when known.

    From ``Results.touchpoints`` when present; otherwise derived from the mentions through the
    codeframe's theme → touchpoint map (``attrs["source"]`` says which), in the codeframe's
    touchpoint order.

    ``attrs``: ``source`` (``touchpoints`` or ``codeframe``), ``stages`` (``column`` when the
    rows are the export's touchpoint column: their sentiment is the whole response's, not
    an aspect's; else ``themes``), ``other`` (the touchpoints of the source left out: the theme
    links when a column exists) and ``empty`` (stages no response reached, left out).
    """
    tp = optional_table(results, "touchpoints")
    if tp is not None:
        df, other, src = tp.copy(), [], "themes"
        if "source" in df and df["source"].nunique() > 1:  # export column beats theme links
            src = "column" if (df["source"] == "column").any() else str(df["source"].iloc[0])
            other = _stage_names(df[df["source"] != src])
            df = df[df["source"] == src]
        elif "source" in df and len(df):
            src = str(df["source"].iloc[0])
        name = pick(df, "touchpoint", "stage", "name")
        if name and name != "touchpoint":
            df = df.rename(columns={name: "touchpoint"})
        # responses that mention the stage; the table's "mentions" (sentence-level, several
        # per response) keeps its name, as in touchpoints.csv
        n = pick(df, "responses", "n", "volume", "count")
        if n and n != "responses":
            df = df.rename(columns={n: "responses"})
        s = pick(df, "sentiment_score", "mean_sentiment", "sentiment")
        if s and s != "sentiment_score" and pd.api.types.is_numeric_dtype(df[s]):
            df = df.rename(columns={s: "sentiment_score"})
        order = pick(df, "order", "position", "stage_order")
        if order:
            df = df.sort_values(order, kind="stable")
        df, empty = _drop_empty(df)
        df.attrs.update(source="touchpoints", stages=src, other=other, empty=empty)
        return df.reset_index(drop=True)
    cf = _codeframe(results)
    m = results.mentions
    if cf is None or m is None or m.empty:
        return pd.DataFrame(columns=["touchpoint", "responses", "sentiment_score", "negative"])
    tmap = {t.id: t.touchpoint for t in cf.themes if t.touchpoint}
    m = m.assign(touchpoint=m["theme"].map(tmap)).dropna(subset=["touchpoint"])
    if m.empty:
        return pd.DataFrame(columns=["touchpoint", "responses", "sentiment_score", "negative"])
    g = m.groupby("touchpoint")
    df = pd.DataFrame({
        "responses": g["row_id"].nunique(),
        "sentiment_score": pd.to_numeric(m["sentiment_score"], errors="coerce")
        .groupby(m["touchpoint"]).mean(),
        "negative": (m["sentiment"].astype(str) == "negative").groupby(m["touchpoint"]).mean(),
    })  # fmt: skip
    for col, kind in ((results.columns or {}).get("scores") or {}).items():
        if col not in results.responses:
            continue
        by_row = results.responses.set_index("row_id")[col]
        df[col] = [
            score_metric(by_row.reindex(m.loc[m["touchpoint"] == t, "row_id"].unique()), kind).value
            for t in df.index
        ]
    order = list(cf.touchpoints or []) + sorted(set(df.index) - set(cf.touchpoints or []))
    df = df.reindex([t for t in order if t in df.index]).reset_index()
    df = df.rename(columns={"index": "touchpoint"})
    df.attrs.update(source="codeframe", stages="themes", other=[], empty=[])
    return df


def _stage_names(df: pd.DataFrame) -> list[str]:
    name = pick(df, "touchpoint", "stage", "name")
    return [] if name is None else [str(v) for v in df[name].dropna().unique()]


def _drop_empty(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Stages with no response (a chart bar of nothing, a row of dashes) and their names."""
    if "responses" not in df:
        return df, []
    none = pd.to_numeric(df["responses"], errors="coerce").fillna(0).to_numpy() == 0
    return df[~none], _stage_names(df[none])


def theme_trends(results: Results, top: int = 8) -> pd.DataFrame:
    """Theme share of analysed responses by period (long table: ``period``, ``theme``,
    ``share``, ``mentions``), from ``Results.trends`` when it has theme rows, otherwise from
    the mentions and the date column. Empty without periods."""
    tr = optional_table(results, "trends")
    if tr is not None and {"kind", "key", "value", "period"} <= set(tr.columns):
        tr = tr[tr["kind"] == "theme"].rename(columns={"key": "theme", "value": "share"})
        if "count" in tr:
            tr = tr.rename(columns={"count": "mentions"})
        tr = tr[["period", "theme", "share"] + (["mentions"] if "mentions" in tr else [])]
        if tr.empty:
            tr = None
    if tr is not None:
        p, t = pick(tr, "period", "date", "month", "week"), pick(tr, "theme")
        v = pick(tr, "share", "theme_share", "rate")
        if p and t and v:
            out = tr.dropna(subset=[t]).rename(columns={p: "period", t: "theme", v: "share"})
            n = pick(out, "mentions", "n", "count")
            if n and n != "mentions":
                out = out.rename(columns={n: "mentions"})
            out["period"] = out["period"].astype(str)
            keep = (out.groupby("theme")["share"].mean().sort_values(ascending=False)
                    .index[:top])  # fmt: skip
            out = out[out["theme"].isin(keep)]
            out.attrs["source"] = "trends"
            return out.reset_index(drop=True)
    per = periods(results)
    m = results.mentions
    if per is None or m is None or m.empty:
        return pd.DataFrame(columns=["period", "theme", "share", "mentions"])
    ok = _ok(results.responses, ["row_id"])
    base = per.loc[ok.index].groupby(per.loc[ok.index]).size()
    row_period = pd.Series(per.to_numpy(), index=results.responses["row_id"].to_numpy())
    mm = m.assign(period=m["row_id"].map(row_period)).dropna(subset=["period"])
    top_themes = mm["theme"].value_counts().index[:top]
    mm = mm[mm["theme"].isin(top_themes)]
    counts = mm.groupby(["period", "theme"])["row_id"].nunique().rename("mentions").reset_index()
    counts["share"] = counts["mentions"] / counts["period"].map(base)
    counts = counts.sort_values(["period", "theme"]).reset_index(drop=True)
    counts.attrs["source"] = "mentions"
    return counts


def latest_period(trends: pd.DataFrame) -> str | None:
    """The last period of a trends table: by ``period_start`` when it has one (the trends stage
    orders periods so), else by label (``2018-06``, ``2018-W05``, ``2018Q1`` sort in time)."""
    p = pick(trends, "period", "date", "month", "week")
    if p is None or trends[p].isna().all():
        return None
    if "period_start" in trends:
        start = pd.to_datetime(trends["period_start"], errors="coerce")
        if start.notna().any():
            return str(trends.loc[start.idxmax(), p])
    return str(trends[p].dropna().astype(str).max())


def _is_flag(values: pd.Series) -> bool:
    """Booleans or numbers (``astype(bool)`` reads them), not text such as ``"False"``."""
    return pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values)


def _truthy(flag: pd.Series) -> np.ndarray:
    """A flag column as booleans (``True``/``1``/``"yes"``...; missing is false)."""
    if _is_flag(flag):
        return flag.fillna(False).astype(bool).to_numpy()
    text = flag.astype(str).str.lower()
    return text.isin(["true", "1", "emerging", "up", "yes"]).to_numpy()


def emerging_themes(results: Results) -> pd.DataFrame | None:
    """Themes and topics emerging in the latest period: the rows behind metrics.json's
    ``trends.emerging`` (``None`` when trends are absent).

    The trends stage flags a rise in *every* period, but reports the latest period's only;
    this view keeps that one rule, so the report never shows a rise from months ago as news.
    The (kind, key) pairs come from ``metrics["trends"]["emerging"]`` when the run has them,
    else from the table's flag in its latest period (the same rule, for hand-built results).
    Adds ``label`` (the theme's label, or ``Topic 2: <label>``). ``attrs``: ``period`` (the
    latest) and ``earlier`` (rises flagged in earlier periods, which stay in trends.csv).
    """
    tr = optional_table(results, "trends")
    if tr is None:
        return None
    flag = pick(tr, "emerging", "is_emerging", "flag")
    latest = latest_period(tr)
    if flag is None or latest is None:
        out = tr.iloc[0:0].assign(label=pd.Series(dtype=object))
        out.attrs.update(period=latest, earlier=0)
        return out
    p = pick(tr, "period", "date", "month", "week")
    at_latest = (tr[p].astype(str) == latest).to_numpy()
    flagged = _truthy(tr[flag])
    listed = ((results.metrics or {}).get("trends") or {}).get("emerging")
    if listed is not None and {"kind", "key"} <= set(tr.columns):
        keys = {(str(e.get("kind")), str(e.get("key"))) for e in listed}
        chosen = at_latest & np.array([(str(k), str(v)) in keys
                                       for k, v in zip(tr["kind"], tr["key"], strict=True)],
                                      dtype=bool)  # fmt: skip
    else:
        chosen = at_latest & flagged
    out = tr[chosen].reset_index(drop=True)
    out["label"] = trend_labels(results, out)
    out.attrs.update(period=latest, earlier=int((flagged & ~at_latest).sum()))
    return out


def trend_labels(results: Results, rows: pd.DataFrame) -> list[str]:
    """Readable names of trends rows: a theme's codeframe label, ``Topic 2: <its label>``."""
    key = pick(rows, "key", "theme")
    if key is None:
        return [""] * len(rows)
    themes = theme_labels(results)
    topics: dict[str, str] = {}
    t = optional_table(results, "topics")
    if t is not None and "topic" in t and "label" in t:
        ids = pd.to_numeric(t["topic"], errors="coerce")
        topics = {str(int(i)): str(lab) for i, lab in zip(ids, t["label"], strict=True)
                  if pd.notna(i) and pd.notna(lab)}  # fmt: skip
    kinds = rows["kind"].astype(str) if "kind" in rows else pd.Series("theme", index=rows.index)
    out = []
    for kind, k in zip(kinds, rows[key].astype(str), strict=True):
        if kind == "topic":
            out.append(f"Topic {k}: {topics[k]}" if k in topics else f"Topic {k}")
        else:
            out.append(themes.get(k, k))
    return out


# --------------------------------------------------------------------------- verbatims


def theme_verbatims(results: Results, per_theme: int = 5, themes: int = 12) -> list[dict]:
    """For the ``themes`` largest themes, up to ``per_theme`` mentions (most confident first),
    each with its text split around the evidence span so a view can highlight it.

    Each item: ``row_id``, ``sentiment``, ``confidence``, ``before``, ``span``, ``after``
    (plain, unescaped text: ``text[:start]``, ``text[start:end]``, ``text[end:]``, trimmed
    around long contexts), ``segment`` and ``period`` (strings or ``""``).
    """
    m = results.mentions
    r = results.responses
    if m is None or m.empty or "text" not in r:
        return []
    labels = theme_labels(results)
    summary = theme_summary(results).head(themes)
    # ranked without every mention's evidence; labels are positions in m
    ranks = narrow(m, ("theme", "confidence")).reset_index(drop=True)
    picked = {}
    for theme in summary["theme"]:
        rows = ranks[ranks["theme"] == theme]
        if "confidence" in rows:
            rows = rows.sort_values("confidence", ascending=False, kind="stable")
        picked[theme] = m.iloc[rows.index[:per_theme]]
    # text, segment and period of the picked rows only: not a dict of every response
    need = r["row_id"].isin({i for rows in picked.values() for i in rows["row_id"]}).to_numpy()
    sel = r[need]
    texts = dict(zip(sel["row_id"], sel["text"].astype(str), strict=False))
    seg_col = next((c for c in (results.columns or {}).get("segments") or [] if c in r), None)
    segs = dict(zip(sel["row_id"], sel[seg_col], strict=False)) if seg_col else {}
    per = periods(results)
    pers = dict(zip(sel["row_id"], per[need], strict=False)) if per is not None else {}
    out = []
    for _, trow in summary.iterrows():
        items = []
        for _, row in picked[trow["theme"]].iterrows():
            text = texts.get(row["row_id"], "")
            start, end = _span(row, text)
            items.append({
                "row_id": int(row["row_id"]),
                "sentiment": str(row.get("sentiment") or ""),
                "confidence": float(row.get("confidence", math.nan)),
                **_split(text, start, end),
                "segment": _str(segs.get(row["row_id"])),
                "period": _str(pers.get(row["row_id"])),
            })  # fmt: skip
        out.append(
            {
                "theme": trow["theme"],
                "label": labels.get(trow["theme"], trow["theme"]),
                "mentions": int(trow["mentions"]),
                "items": items,
            }
        )
    return out


def _str(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _span(row: pd.Series, text: str) -> tuple[int, int]:
    """Evidence offsets into ``text``; falls back to finding the evidence string."""
    try:
        start, end = int(row["start"]), int(row["end"])
    except (KeyError, TypeError, ValueError):
        start = end = -1
    if 0 <= start < end <= len(text):
        return start, end
    ev = str(row.get("evidence") or "")
    i = text.find(ev) if ev else -1
    return (i, i + len(ev)) if i >= 0 else (0, 0)


def _split(text: str, start: int, end: int, context: int = 240) -> dict[str, str]:
    before, span, after = text[:start], text[start:end], text[end:]
    if len(before) > context:
        before = "…" + before[-context:].lstrip()
    if len(after) > context:
        after = after[:context].rstrip() + "…"
    return {"before": before, "span": span, "after": after}


# --------------------------------------------------------------------------- disagreement


def disagreements(results: Results, limit: int = 20) -> pd.DataFrame:
    """Responses whose score and text disagree, with a reason.

    Uses the linking step's flag when ``responses`` has one (``disagreement`` plus
    ``disagreement_reason``); otherwise a transparent rule on the first NPS / rating / CSAT
    column: a top score with a confidently negative text (p_negative ≥ 0.7), or a bottom score
    with a confidently positive one. ``attrs["source"]`` says which, ``attrs["total"]`` how
    many rows disagree in all; the ``limit`` clearest come first (the text model's
    confidence in the sentiment that contradicts the score).
    """
    r = results.responses
    cols = ["row_id", "score_column", "score", "sentiment", "reason", "text"]
    flag = pick(r, "disagreement", "score_text_disagreement", "disagree")
    scores = (results.columns or {}).get("scores") or {}
    score_col = next((c for c, k in scores.items() if k in ("nps", "rating", "csat", "ces")
                      and c in r), None)  # fmt: skip
    if flag is not None:
        read = ["row_id", score_col, "sentiment", "disagreement_reason", "disagreement", flag,
                "p_negative", "p_positive", "text"]  # fmt: skip
        r = narrow(r, read)  # flagged rows, not all columns
        f = r[flag]
        mask = (  # a reason text (object or str dtype) flags its row; so does True
            f.fillna(False).astype(bool)
            if _is_flag(f)
            else f.notna() & (f != "") & (f.astype(str).str.lower() != "false")
        )
        sel = r[mask]
        reason_col = pick(sel, "disagreement_reason", "disagreement") or flag
        out = pd.DataFrame({
            "row_id": sel["row_id"], "score_column": score_col or "",
            "score": sel[score_col] if score_col else np.nan,
            "sentiment": sel.get("sentiment"), "reason": sel[reason_col].astype(str),
            "text": sel["text"],
        })  # fmt: skip
        out = out.iloc[np.argsort(-_clarity(sel, out["reason"]), kind="stable")]
        out.attrs.update(source="flag", total=len(sel), column=flag)
        return out.head(limit).reset_index(drop=True)
    if score_col is None or "p_negative" not in r:
        out = pd.DataFrame(columns=cols)
        out.attrs["source"] = "none"
        return out
    kind = scores[score_col]
    top, bottom = {"nps": (9, 6), "rating": (5, 1), "csat": (5, 1), "ces": (7, 2)}[kind]
    ok = _ok(r, ["row_id", score_col, "p_negative", "p_positive", "sentiment", "text"])
    score = pd.to_numeric(ok[score_col], errors="coerce")
    pneg = pd.to_numeric(ok["p_negative"], errors="coerce")
    ppos = pd.to_numeric(ok["p_positive"], errors="coerce")
    high = (score >= top) & (pneg >= 0.7)
    low = (score <= bottom) & (ppos >= 0.7)
    sel = ok[high | low]
    strength = np.where(high[sel.index], pneg[sel.index], ppos[sel.index])
    reason = np.where(
        high[sel.index],
        f"{score_col} ≥ {top} but the text is negative",
        f"{score_col} ≤ {bottom} but the text is positive",
    )
    out = pd.DataFrame(
        {
            "row_id": sel["row_id"],
            "score_column": score_col,
            "score": score[sel.index],
            "sentiment": sel["sentiment"],
            "reason": reason,
            "text": sel["text"],
            "_s": strength,
        }
    )
    out = out.sort_values("_s", ascending=False, kind="stable").drop(columns="_s")
    out.attrs["source"] = "rule"
    out.attrs["total"] = len(sel)
    return out.head(limit).reset_index(drop=True)


def _clarity(rows: pd.DataFrame, reasons: pd.Series) -> np.ndarray:
    """How clearly each flagged row's text contradicts its score: the text model's confidence
    in the sentiment that disagrees (the larger of p_negative and p_positive: one of them
    passed the threshold), else the ``p=0.83`` its reason quotes; 0 when neither is known."""
    probs = [pd.to_numeric(rows[c], errors="coerce") for c in ("p_negative", "p_positive")
             if c in rows]  # fmt: skip
    quoted = pd.to_numeric(reasons.str.extract(r"p=([0-9.]+)", expand=False), errors="coerce")
    best = pd.concat(probs, axis=1).max(axis=1) if probs else quoted
    return best.fillna(quoted).fillna(0.0).to_numpy(dtype=float)


# --------------------------------------------------------------------------- data quality

_INVALID = re.compile(r"invalid (\w+) value (.*?) in '([^']*)'")


def invalid_scores(results: Results) -> pd.DataFrame:
    """Invalid score entries explained in ``responses.notes``: ``column``, ``kind``,
    ``count`` and up to three ``examples``."""
    r = results.responses
    if "notes" not in r:
        return pd.DataFrame(columns=["column", "kind", "count", "examples"])
    found: dict[tuple[str, str], list[str]] = {}
    for note in r["notes"].dropna().astype(str):
        for kind, value, col in _INVALID.findall(note):
            found.setdefault((col, kind), []).append(value)
    rows = [{"column": c, "kind": k, "count": len(v), "examples": ", ".join(dict.fromkeys(v))[:80]}
            for (c, k), v in sorted(found.items())]  # fmt: skip
    return pd.DataFrame(rows, columns=["column", "kind", "count", "examples"])


def pii_counts(results: Results) -> dict[str, int]:
    """PII redactions by kind (email, phone, ...) summed over the ``pii`` list column."""
    r = results.responses
    if "pii" not in r:
        return {}
    counts: Counter[str] = Counter()
    for v in r["pii"]:
        if isinstance(v, (list, tuple, np.ndarray)):
            counts.update(str(x) for x in v)
        elif isinstance(v, str) and v:
            counts.update(x.strip() for x in v.split(";") if x.strip())
    return dict(counts.most_common())


def language_note(results: Results) -> str | None:
    """One line when some comments were in a language the models do not read (status
    ``other language``): how many, which languages, and the setting; ``None`` otherwise."""
    from .language import language_name

    r = results.responses
    if "status" not in r or "language" not in r:
        return None
    other = r.loc[r["status"].astype(str) == "other language", "language"].dropna().astype(str)
    if other.empty:
        return None
    which = ", ".join(f"{language_name(k)} {v:,}" for k, v in other.value_counts().items())
    return (f"{len(other):,} comment(s) ({len(other) / len(r):.1%} of rows) are in a language "
            f"the models do not read ({which}): status 'other language', left out of sentiment "
            "and themes (their scores still count). List the language in clean.languages to "
            "analyse them anyway, with models that read English.")  # fmt: skip


def languages(results: Results) -> dict[str, int] | None:
    """Rows per language by name ("English": 1,850), from the run's detection (``language``),
    else from the export's own language column; ``None`` when neither exists.

    Comments the run could read but not tell the language of (too short) are counted as
    "too short to tell"; rows with nothing to read are counted by their status instead.
    """
    from .language import language_name

    r = results.responses
    if "language" in r and r["language"].notna().any():
        told = r["language"].dropna().astype(str).value_counts()
        counts = {language_name(str(k)): int(v) for k, v in told.items()}
        untold = int((r["language"].isna().to_numpy() & analysed(r)).sum())
        return counts | ({"too short to tell": untold} if untold else {})
    col = pick(r, "input_language", "lang", "input_lang")
    if col is None:
        return None
    vc = r[col].astype(object).where(r[col].notna(), "(unknown)")
    return {str(k): int(v) for k, v in vc.value_counts().items()}


def sentiment_labels() -> tuple[str, ...]:
    return SENTIMENT_LABELS
