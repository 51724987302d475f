"""Charts of a run: plain functions ``plot_*(results, ...) -> plotly Figure``.

The same figures appear in notebooks and in the HTML report. Every figure carries a plain-text
summary of its numbers in ``fig.layout.meta["description"]`` (the report uses it as the chart's
text alternative), and all share one look through :func:`style_figure`.

Labels that come from the data (segment names) are HTML-escaped before they reach plotly,
which otherwise interprets a subset of HTML tags in text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go

from .metrics import (
    SENTIMENT_LABELS,
    Estimate,
    score_metric,
    segment_levels,
    sentiment_summary,
)

if TYPE_CHECKING:
    from .results import Results

__all__ = [
    "COLORS",
    "FONT_FAMILY",
    "figure_description",
    "plot_scores",
    "plot_sentiment",
    "plot_sentiment_by",
    "style_figure",
]

_RED, _GREY, _GREEN, _AMBER = "#c0392b", "#6c757d", "#1e8449", "#a86400"
#: Colours by meaning. Each has at least 4.5:1 contrast with white (text on bars stays readable).
COLORS: dict[str, str] = {
    "negative": _RED, "neutral": _GREY, "positive": _GREEN, "mixed": _AMBER,
    "detractors": _RED, "passives": _AMBER, "promoters": _GREEN,
    "dissatisfied": _RED, "satisfied": _GREEN,
    "difficult": _RED, "easy": _GREEN,
    "no": _RED, "yes": _GREEN,
}  # fmt: skip
#: System font stack: nothing is fetched, so figures render the same offline.
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_INK = "#1f2933"
_MUTED = "#52606d"
_GRID = "#e4e7eb"
_KIND_NAMES = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "rating": "Rating",
               "recommend": "Would recommend"}  # fmt: skip
#: Groups of each score kind, low to high (names match ``Estimate.shares``).
_KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "nps": ("detractors", "passives", "promoters"),
    "csat": ("dissatisfied", "neutral", "satisfied"),
    "ces": ("difficult", "neutral", "easy"),
    "rating": ("negative", "neutral", "positive"),
    "recommend": ("no", "yes"),
}


def style_figure(
    fig: go.Figure,
    *,
    title: str | None = None,
    description: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Apply the shared cxnlp look (white background, system fonts, compact margins) in place.

    Parameters
    ----------
    fig : Figure
        The figure to style; returned for chaining.
    title : str, optional
        Figure title (plain text: it is escaped).
    description : str, optional
        Text alternative summarising the numbers, stored in ``layout.meta["description"]``.
    height : int, optional
        Height in pixels (width follows the container).
    """
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, Mapping) else {}
    if description is not None:
        meta["description"] = description
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT_FAMILY, "size": 14, "color": _INK},
        title={
            "text": _esc(title) if title else None,
            "x": 0,
            "xanchor": "left",
            "font": {"size": 17},
        },
        margin={"l": 10, "r": 20, "t": 56 if title else 16, "b": 10},
        height=height,
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "xanchor": "left",
            "x": 0,
            "title": {"text": ""},
        },
        hoverlabel={"font": {"family": FONT_FAMILY}},
        bargap=0.25,
        meta=meta,
    )
    fig.update_xaxes(
        gridcolor=_GRID, zerolinecolor=_GRID, automargin=True, tickfont={"color": _MUTED}
    )
    fig.update_yaxes(
        gridcolor=_GRID, zerolinecolor=_GRID, automargin=True, tickfont={"color": _MUTED}
    )
    return fig


def figure_description(fig: go.Figure) -> str:
    """The plain-text summary stored by :func:`style_figure` (``""`` if there is none)."""
    meta = fig.layout.meta
    return str(meta.get("description", "")) if isinstance(meta, Mapping) else ""


def _esc(text: Any) -> str:
    """Escape data-derived text for plotly, which renders <b>, <a href> and friends."""
    return html.escape(str(text), quote=False)


def _pct(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def _empty(fig: go.Figure, message: str) -> go.Figure:
    fig.add_annotation(
        text=_esc(message),
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font={"size": 15, "color": _MUTED},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def plot_sentiment(results: Results) -> go.Figure:
    """Sentiment mix of the analysed (``status == "ok"``) responses: one bar per label.

    Bars are labelled with count and share; the description lists every label.
    """
    summary = sentiment_summary(results.responses)
    n, counts, shares = summary["n"], summary["counts"], summary["shares"]
    labels = [lab for lab in SENTIMENT_LABELS] + [k for k in counts if k not in SENTIMENT_LABELS]
    fig = go.Figure()
    if n == 0:
        desc = "No responses were analysed, so there is no sentiment to show."
        return style_figure(_empty(fig, desc), title="Sentiment", description=desc, height=260)
    fig.add_trace(go.Bar(
        x=[_esc(lab) for lab in labels],
        y=[counts[lab] for lab in labels],
        marker_color=[COLORS.get(lab, _GREY) for lab in labels],
        text=[f"{counts[lab]:,} ({_pct(shares[lab])})" for lab in labels],
        textposition="outside", textfont={"color": _INK}, cliponaxis=False,
        hovertemplate="%{x}: %{y:,} responses<extra></extra>",
        showlegend=False,
    ))  # fmt: skip
    fig.update_yaxes(title_text="Responses", rangemode="tozero")
    desc = (
        f"Sentiment of {n:,} analysed responses: "
        + ", ".join(f"{lab} {counts[lab]:,} ({_pct(shares[lab])})" for lab in labels)
        + "."
    )
    return style_figure(fig, title="Sentiment", description=desc, height=360)


def _score_columns(results: Results) -> dict[str, str]:
    return dict((results.columns or {}).get("scores") or {})


def _group_of(kind: str, value: float, scale: float) -> str:
    """Which group (detractors/passives/..., see ``_KIND_GROUPS``) a scale point falls in."""
    low_g, mid_g, high_g = (_KIND_GROUPS[kind] + ("",))[:3]
    if kind == "nps":
        return high_g if value >= 9 else mid_g if value >= 7 else low_g
    if kind == "csat":
        return high_g if value > scale - 2 else low_g if value <= 2 else mid_g
    if kind == "ces":
        easy_min = scale - (scale - 1) // 3
        return high_g if value >= easy_min else low_g if value <= scale + 1 - easy_min else mid_g
    if kind == "rating":
        return high_g if value >= scale - 1 else low_g if value <= 2 else mid_g
    return "yes" if value == 1 else "no"


def _estimate_text(kind: str, est: Estimate) -> str:
    """Headline such as ``NPS 30 (95% CI -18 to 78)``."""
    if est.n == 0:
        return f"{_KIND_NAMES.get(kind, kind)}: no valid answers"
    unit = "%" if est.unit == "percent" else ""
    digits = 2 if est.unit == "mean" else 0
    ci = (
        ""
        if math.isnan(est.low)
        else (f" ({est.confidence:.0%} CI {est.low:.{digits}f} to {est.high:.{digits}f}{unit})")
    )
    return f"{_KIND_NAMES.get(kind, kind)} {est.value:.{digits}f}{unit}{ci}"


def plot_scores(results: Results, column: str | None = None) -> go.Figure:
    """Distribution of one score column, bars coloured by group.

    NPS answers 0-10 are coloured as detractors / passives / promoters, CSAT as
    dissatisfied / neutral / satisfied, CES as difficult / neutral / easy, ratings by star band,
    recommend as no / yes. The title gives the headline metric and its interval.

    Parameters
    ----------
    results : Results
        A run with at least one score column in ``results.columns["scores"]``.
    column : str, optional
        The score column; defaults to the first one.
    """
    scores = _score_columns(results)
    if not scores:
        raise ValueError(
            "This run has no score columns to plot. Map one with "
            "io.score_columns in your config (e.g. {'Q1': 'nps'})."
        )
    column = column if column is not None else next(iter(scores))
    if column not in scores:
        raise ValueError(
            f"{column!r} is not a score column of this run (score columns: {', '.join(scores)})."
        )
    kind = scores[column]
    est = score_metric(results.responses[column], kind)
    dist = est.distribution
    scale = {"nps": 10.0, "csat": 5.0, "ces": 7.0, "rating": 5.0}.get(kind, 1.0)
    title = _estimate_text(kind, est) + f", n = {est.n:,}"
    fig = go.Figure()
    if est.n == 0:
        desc = (
            f"{column}: no valid {_KIND_NAMES.get(kind, kind)} answers "
            f"({est.n_invalid:,} missing or invalid)."
        )
        return style_figure(_empty(fig, desc), title=f"{column}", description=desc, height=260)
    keys = list(dist)
    if kind == "recommend":
        keys = ["no", "yes"]
    groups = {k: (k if kind == "recommend" else _group_of(kind, float(k), scale)) for k in keys}
    total = max(est.n, 1)
    for group in _KIND_GROUPS[kind]:
        ks = [k for k in keys if groups[k] == group]
        share = est.shares.get(group, math.nan)
        fig.add_trace(go.Bar(
            x=ks, y=[dist[k] for k in ks], name=f"{group} ({_pct(share)})",
            marker_color=COLORS.get(group, _GREY),
            text=[f"{dist[k]:,}" for k in ks], textposition="outside",
            textfont={"color": _INK}, cliponaxis=False,
            customdata=[dist[k] / total for k in ks],
            hovertemplate=f"{_esc(column)} = %{{x}}: %{{y:,}} (%{{customdata:.0%}})<extra></extra>",
        ))  # fmt: skip
    fig.update_xaxes(
        type="category", categoryorder="array", categoryarray=keys, title_text=_esc(column)
    )
    fig.update_yaxes(title_text="Responses", rangemode="tozero")
    group_text = ", ".join(f"{g} {_pct(est.shares.get(g))}" for g in reversed(_KIND_GROUPS[kind]))
    desc = (
        f"Distribution of {column} (n = {est.n:,}, {est.n_invalid:,} missing or invalid): "
        f"{_estimate_text(kind, est)}; {group_text}. Counts: "
        + ", ".join(f"{k}: {dist[k]:,}" for k in keys)
        + "."
    )
    return style_figure(fig, title=title, description=desc, height=380)


def plot_sentiment_by(results: Results, column: str, max_levels: int = 15) -> go.Figure:
    """Sentiment shares by the levels of a segment column (100 % stacked horizontal bars).

    Only analysed (``status == "ok"``) rows count. The ``max_levels − 1`` largest levels are
    shown, the rest pooled as ``"(other)"``; each bar is labelled with its number of rows.
    """
    responses = results.responses
    if column not in responses:
        raise ValueError(
            f"Segment column {column!r} not in responses "
            f"(columns: {', '.join(map(str, responses.columns))})."
        )
    ok = (
        responses[(responses["status"].astype(str) == "ok") & responses["sentiment"].notna()]
        if "status" in responses
        else responses[responses["sentiment"].notna()]
    )
    fig = go.Figure()
    if ok.empty:
        desc = f"No analysed responses, so there is no sentiment by {column} to show."
        return style_figure(
            _empty(fig, desc), title=f"Sentiment by {column}", description=desc, height=260
        )
    levels = segment_levels(ok[column], max_levels)
    table = pd.crosstab(levels, ok["sentiment"].astype(str))
    table = table.reindex(
        columns=[lab for lab in SENTIMENT_LABELS if lab in table.columns]
        + [c for c in table.columns if c not in SENTIMENT_LABELS]
    )
    rows = table.sum(axis=1).sort_values(ascending=False, kind="stable")
    table = table.loc[rows.index]
    shares = table.div(rows, axis=0)
    y = [f"{_esc(level)} (n={rows[level]:,})" for level in table.index]
    for lab in table.columns:
        fig.add_trace(go.Bar(
            y=y, x=shares[lab] * 100, name=_esc(lab), orientation="h",
            marker_color=COLORS.get(lab, _GREY),
            text=[f"{v:.0%}" if v >= 0.08 else "" for v in shares[lab]],
            textposition="inside", insidetextanchor="middle",
            textfont={"color": "#ffffff"},
            customdata=table[lab],
            hovertemplate="%{y}<br>" + _esc(lab) + ": %{x:.0f}% (%{customdata:,})<extra></extra>",
        ))  # fmt: skip
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 100], ticksuffix="%", title_text="Share of responses")
    fig.update_yaxes(autorange="reversed")
    desc = (
        f"Sentiment by {column}: "
        + "; ".join(
            f"{level} (n={rows[level]:,}): "
            + ", ".join(f"{lab} {shares.at[level, lab]:.0%}" for lab in table.columns)
            for level in table.index
        )
        + "."
    )
    return style_figure(
        fig, title=f"Sentiment by {column}", description=desc, height=140 + 44 * len(table)
    )
