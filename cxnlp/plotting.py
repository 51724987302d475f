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

from . import views
from .metrics import (
    SENTIMENT_LABELS,
    Estimate,
    narrow,
    score_metric,
    segment_levels,
    sentiment_summary,
)
from .results import analysed

if TYPE_CHECKING:
    from .results import Results

__all__ = [
    "COLORS",
    "FONT_FAMILY",
    "figure_description",
    "plot_churn",
    "plot_drivers",
    "plot_journey",
    "plot_scores",
    "plot_sentiment",
    "plot_sentiment_by",
    "plot_theme_trends",
    "plot_themes",
    "plot_topics",
    "responses_text",
    "share_text",
    "signed_text",
    "style_figure",
    "value_digits",
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


def share_text(x: float | None, digits: int = 0) -> str:
    """A fraction as a percentage; a share that rounds to 0 % or 100 % but is not says
    ``<1%`` / ``>99%`` (15 of 3,000 responses is not "0%"). ``None``/NaN: an en dash."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    pct, step = 100 * float(x), 10.0**-digits
    if 0 < pct < step / 2:
        return f"<{step:.{digits}f}%"
    if 100 - step / 2 < pct < 100:
        return f">{100 - step:.{digits}f}%"
    return f"{pct:.{digits}f}%"


_pct = share_text


def signed_text(x: float, digits: int = 2) -> str:
    """``+1.23``; a value that rounds to zero but is not gets up to two more decimals, so an
    interval reads ``-0.1 to +4``, not ``-0 to +4`` (which hides that it includes 0)."""
    for d in range(digits, digits + 3):
        if round(x, d) != 0:
            return f"{x:+.{d}f}"
    return f"{0:.{digits}f}"  # zero, or too small to print: never "-0"


def value_digits(values: Any) -> int:
    """Decimals for impacts: 2, or 3 (4) when every one is under 0.1 (0.01) in size: a mean
    rating or a sentiment score moves by hundredths, and a column of ``+0.00`` says nothing."""
    x = pd.to_numeric(pd.Series(values, dtype=float), errors="coerce").abs().dropna()
    top = float(x.max()) if len(x) else 1.0
    return 2 if top >= 0.1 else 3 if top >= 0.01 else 4


def responses_text(n: Any) -> str:
    """``1 response``, ``1,271 responses``."""
    n = int(n)
    return f"{n:,} response" + ("" if n == 1 else "s")


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
    """Sentiment mix of the analysed responses (``ok`` / ``no theme``): one bar per label.

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
        A run; without a score column the figure says so (like the other plots).
    column : str, optional
        The score column; defaults to the first one. A name that is not a score column of
        the run is a ``ValueError``.
    """
    scores = _score_columns(results)
    if not scores:
        return _unavailable(
            "Score distribution",
            "Not available: this run has no score column. "
            "Map one with io.score_columns in your config (e.g. {'Q1': 'nps'}).",
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


#: Beside the n of a bar that rests on fewer than ``drivers.min_n`` responses.
_FEW_RESPONSES = "few responses"


def plot_sentiment_by(results: Results, column: str, max_levels: int = 15) -> go.Figure:
    """Sentiment shares by the levels of a segment column (100 % stacked horizontal bars).

    Only analysed rows (``ok`` / ``no theme``) count. The ``max_levels − 1`` largest levels are
    shown, the rest pooled as ``"(other)"``; each bar is labelled with its number of rows, and
    a level with fewer than ``drivers.min_n`` of them says "few responses" beside its n (the
    shares of 8 comments swing by 12 points per comment).
    """
    responses = results.responses
    if column not in responses:
        raise ValueError(
            f"Segment column {column!r} not in responses "
            f"(columns: {', '.join(map(str, responses.columns))})."
        )
    read = narrow(responses, (column, "sentiment"))
    # the two columns' rows, not a copy of every column (a million texts)
    ok = read[analysed(responses) & responses["sentiment"].notna().to_numpy()]
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
    min_n = int(views.drivers_settings(results)["min_n"])
    few = {level: f", {_FEW_RESPONSES}" if rows[level] < min_n else "" for level in table.index}
    y = [f"{_esc(level)} (n={rows[level]:,}{few[level]})" for level in table.index]
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
            f"{level} (n={rows[level]:,}{few[level]}): "
            + ", ".join(f"{lab} {shares.at[level, lab]:.0%}" for lab in table.columns)
            for level in table.index
        )
        + "."
    )
    if any(few.values()):
        desc += (f" {_FEW_RESPONSES.capitalize()}: fewer than {min_n:,} analysed responses "
                 "(drivers.min_n).")
    return style_figure(
        fig, title=f"Sentiment by {column}", description=desc, height=140 + 44 * len(table)
    )


# --------------------------------------------------------------------------- themes and links

#: Diverging scale for aspect sentiment (−1 red, 0 grey, +1 green).
SENTIMENT_SCALE = [[0.0, _RED], [0.5, "#8a939b"], [1.0, _GREEN]]


def _unavailable(title: str, message: str) -> go.Figure:
    return style_figure(_empty(go.Figure(), message), title=title, description=message,
                        height=220)  # fmt: skip


def _num(v: Any, digits: int = 2) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(x) else signed_text(x, digits)


def _level(v: Any, metric: str) -> str:
    """A score level as the headline cards write it: NPS with its sign (``-10.0``), a share
    with ``%`` (``82.0%``), a mean plain (``4.20``): ``+4.2`` stars would read as a change."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(x):
        return "–"
    if views.signed_level(metric):
        return f"{x:+.1f}"
    if "_mean" in metric:
        return f"{x:.2f}"
    if metric.startswith(("csat_top", "recommend", "ces_easy")):
        return f"{x:.1f}%"
    return f"{x:.1f}"


def plot_themes(results: Results, top: int = 15) -> go.Figure:
    """Themes ranked by volume: one horizontal bar per theme, split by aspect sentiment.

    Bars count the responses that mention each theme (``results.mentions``); the
    ``top`` largest themes are shown, largest first.
    """
    summary = views.theme_summary(results).head(top)
    if summary.empty:
        return _unavailable(
            "Themes by volume",
            "No theme mentions in this run (themes were "
            "switched off or nothing matched the codeframe).",
        )
    y = [_esc(lab) for lab in summary["label"]]
    fig = go.Figure()
    for lab in ("negative", "neutral", "positive"):
        counts = (summary[lab] * summary["mentions"]).round().astype(int)
        fig.add_trace(go.Bar(
            y=y, x=counts, name=lab, orientation="h", marker_color=COLORS[lab],
            hovertemplate="%{y}: %{x:,} " + lab + " mentions<extra></extra>",
        ))  # fmt: skip
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="Responses mentioning the theme")
    desc = (
        "Themes by volume: "
        + "; ".join(
            f"{r.label} {r.mentions:,} responses ({_pct(r.share)} of analysed), "
            f"{_pct(r.negative)} negative"
            for r in summary.itertuples()
        )
        + "."
    )
    return style_figure(fig, title="Themes by volume", description=desc,
                        height=120 + 28 * len(summary))  # fmt: skip


def plot_drivers(results: Results, top: int = 25) -> go.Figure:
    """Driver matrix: theme volume (x) × impact on the score (y), coloured by aspect sentiment.

    Impact comes from ``results.drivers`` (overall score minus the score of the responses that
    do not mention the theme), in the outcome's unit (:func:`cxnlp.views.outcome`: NPS points,
    percentage points, rating points, sentiment score). Without a drivers table the y axis
    shows the mean aspect sentiment of each theme's mentions instead, and the title says so.
    Themes under ``drivers.min_n`` responses (the drivers table's ``small``) are open circles
    marked "(few)", in the hover text and the description too.
    """
    summary = views.theme_summary(results)
    if summary.empty:
        return _unavailable(
            "Driver matrix", "No theme mentions in this run, so there is no driver matrix to show."
        )
    summary = summary.head(top)
    has_impact = "impact" in summary and summary["impact"].notna().any()
    what = "impact" if has_impact else "mean aspect sentiment"
    if has_impact:
        summary = summary[summary["impact"].notna()]
        out = views.outcome(results)
        y, ytitle = summary["impact"].astype(float), f"Impact on {out['name']} ({out['unit']})"
        what = f"impact on {out['name']} ({out['unit']})"
        title = "Driver matrix: volume × impact"
    else:
        y, ytitle = summary["sentiment_score"].astype(float), "Mean aspect sentiment (−1 to +1)"
        title = "Themes: volume × aspect sentiment (no driver analysis in this run)"
    digits = value_digits(y) if has_impact else 2
    small = views.small_flags(summary).tolist() if has_impact else [False] * len(summary)
    error = None
    if has_impact and {"impact_low", "impact_high"} <= set(summary.columns):
        error = {"type": "data", "symmetric": False, "color": "#9aa5b1",
                 "array": (summary["impact_high"] - y).clip(lower=0).tolist(),
                 "arrayminus": (y - summary["impact_low"]).clip(lower=0).tolist()}  # fmt: skip
    min_n = int(views.drivers_settings(results)["min_n"])
    few = f"few responses (n < {min_n:,}): read with care"
    fig = go.Figure(go.Scatter(
        x=summary["mentions"], y=y, mode="markers+text",
        text=[_esc(lab) + (" (few)" if f else "") for lab, f in zip(summary["label"], small,
                                                                     strict=True)],
        textposition=_label_positions(summary["mentions"]), error_y=error,
        textfont={"size": 12, "color": _INK},
        marker={"size": 14, "color": summary["sentiment_score"].fillna(0),
                "colorscale": SENTIMENT_SCALE, "cmin": -1, "cmax": 1,
                "symbol": ["circle-open" if f else "circle" for f in small],
                "line": {"width": [2.5 if f else 1 for f in small], "color": _INK},
                "colorbar": {"title": {"text": "Aspect<br>sentiment"}, "thickness": 12}},
        customdata=[[v, _esc(few) if f else ""] for v, f in zip(summary["sentiment_score"], small,
                                                           strict=True)],
        hovertemplate="%{text}<br>%{x:,} responses<br>" + ytitle.split(" (")[0]
        + f": %{{y:+.{digits}f}}<br>aspect sentiment %{{customdata[0]:.2f}}"
        + "<br>%{customdata[1]}<extra></extra>",
        showlegend=False,
    ))  # fmt: skip
    fig.add_hline(y=0, line_color=_MUTED, line_width=1)
    ticks = _log_ticks(summary["mentions"])
    xtitle = "Volume (responses mentioning the theme)"
    if any(small):  # the axis title wraps with the page; an annotation would sit on points
        xtitle += f"<br>open circles, “(few)”: {_esc(few)}"
    fig.update_xaxes(title_text=xtitle, type="log", tickvals=ticks,
                     ticktext=[f"{v:,}" for v in ticks])  # fmt: skip
    fig.update_yaxes(title_text=ytitle)
    ranked = summary.assign(yval=y, few=small).sort_values("yval", kind="stable")
    desc = (f"{title}. Each theme's volume and {what}, most negative first: "
            + "; ".join(f"{r.label}: {responses_text(r.mentions)}"
                        + (f" (few: n < {min_n:,})" if r.few else "")
                        + f", {'impact' if has_impact else what} {_num(r.yval, digits)}"
                        for r in ranked.itertuples()) + ".")  # fmt: skip
    return style_figure(fig, title=title, description=desc, height=480)


def _label_positions(x: pd.Series) -> list[str]:
    """Point labels above the points, the leftmost and rightmost leaning inwards so the plot
    edge does not cut them ("bric & material")."""
    x = pd.to_numeric(x, errors="coerce")
    lo, hi = x.min(), x.max()
    return ["top right" if v == lo and lo != hi else "top left" if v == hi and lo != hi
            else "top center" for v in x]  # fmt: skip


def _log_ticks(values: pd.Series) -> list[int]:
    """Tick values for a log volume axis: 1-2-5 steps (1-2-3-5-7 over a short span) across
    the data, so the axis reads "10 20 50 100", not plotly's "5 6 7 8 9 100 2 3 4"."""
    x = pd.to_numeric(values, errors="coerce").dropna()
    x = x[x > 0]
    if x.empty:
        return []
    low, high = float(x.min()) / 2, float(x.max()) * 2
    decades = range(int(math.floor(math.log10(low))), int(math.ceil(math.log10(high))) + 1)
    for steps in ((1, 2, 5), (1, 2, 3, 5, 7)):
        ticks = [s * 10**d for d in decades for s in steps if low <= s * 10**d <= high]
        if len(ticks) >= 4:
            break
    return [int(t) for t in ticks if t >= 1]


def plot_journey(results: Results) -> go.Figure:
    """Touchpoint journey: mean sentiment per stage in journey order, bars labelled with
    volume; the first score column per stage as a line on a second axis when known.

    From ``results.touchpoints`` when present, else from the codeframe's theme → touchpoint map.
    Stages from the theme links carry the mean aspect sentiment of their mentions; stages from
    the export's touchpoint column the sentiment of the whole response, and say so.
    """
    df = views.journey(results)
    if df.empty or "touchpoint" not in df:
        return _unavailable("Journey", views.unavailable(results, "touchpoints"))
    x = [_esc(t) for t in df["touchpoint"]]
    fig = go.Figure()
    parts = []
    column = df.attrs.get("stages") == "column"
    what = "response sentiment" if column else "aspect sentiment"
    if "sentiment_score" in df:
        s = pd.to_numeric(df["sentiment_score"], errors="coerce")
        n = df["responses"] if "responses" in df else pd.Series([None] * len(df))
        fig.add_trace(go.Bar(
            x=x, y=s, name=what,
            marker_color=[_RED if v < -0.05 else _GREEN if v > 0.05 else _GREY
                          for v in s.fillna(0)],
            text=[f"n={int(v):,}" if pd.notna(v) else "" for v in n], textposition="outside",
            textfont={"color": _INK}, cliponaxis=False,
            hovertemplate="%{x}: sentiment %{y:.2f} (%{text})<extra></extra>",
        ))  # fmt: skip
        fig.update_yaxes(title_text=f"Mean {what}", range=[-1.05, 1.05])
        parts = [f"{t}: {what} {_num(v)}" + (f", {responses_text(k)}" if pd.notna(k) else "")
                 for t, v, k in zip(df["touchpoint"], s, n, strict=False)]  # fmt: skip
    score_cols = [c for c in _score_columns(results) if c in df]
    if "score" in df and pd.to_numeric(df["score"], errors="coerce").notna().any():
        score_cols = ["score"]  # the touchpoints table's score (metric in score_metric)
    if score_cols:
        col = score_cols[0]
        kind = _KIND_NAMES.get(_score_columns(results).get(col, ""), "")
        raw = _score_columns(results).get(col)
        metric = score_metric([], raw).metric if raw in _KIND_GROUPS else ""
        if col == "score" and "score_metric" in df:
            kind = metric = (
                str(df["score_metric"].dropna().iloc[0]) if df["score_metric"].notna().any() else ""
            )
        fig.add_trace(go.Scatter(
            x=x, y=df[col], name=_esc(f"{col} ({views.metric_name(kind)})" if kind else col),
            mode="lines+markers", yaxis="y2", line={"color": "#1f4e79"},
        ))  # fmt: skip
        fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "title": _esc(col),
                                  "showgrid": False})  # fmt: skip
        parts = [p + f", {col} {_level(v, metric)}" for p, v in zip(parts, df[col], strict=False)]
    src = (
        "from the export's touchpoint column; sentiment of the whole response"
        if column
        else "from the touchpoints table"
        if df.attrs.get("source") == "touchpoints"
        else "from the codeframe's theme-to-touchpoint map"
    )
    desc = f"Journey in stage order ({src}): " + "; ".join(parts) + "."
    return style_figure(fig, title="Journey: sentiment by touchpoint", description=desc, height=400)


def plot_theme_trends(results: Results, top: int = 8) -> go.Figure:
    """Share of analysed responses mentioning each of the ``top`` themes, by period (lines).

    Needs a date column (or ``results.trends``); otherwise an explanatory empty figure.
    """
    df = views.theme_trends(results, top)
    if df.empty or df["period"].nunique() < 2:
        mentions = getattr(results, "mentions", None)
        why = (
            "Not available: no theme mentions in this run (themes off, or none matched), so "
            "no theme trends."
            if mentions is None or mentions.empty
            else views.unavailable(results, "trends")
        )
        return _unavailable("Theme trends", why)
    labels = views.theme_labels(results)
    fig = go.Figure()
    for theme, part in df.groupby("theme", sort=False):
        part = part.sort_values("period")
        fig.add_trace(go.Scatter(
            x=part["period"], y=part["share"] * 100, mode="lines+markers",
            name=_esc(labels.get(theme, theme)),
            hovertemplate=_esc(labels.get(theme, theme)) + " %{x}: %{y:.0f}%<extra></extra>",
        ))  # fmt: skip
    fig.update_yaxes(title_text="Share of responses", ticksuffix="%", rangemode="tozero")
    fig.update_xaxes(type="category", title_text="Period")
    last = sorted(df["period"].unique())[-2:]
    wide = df.pivot_table(index="theme", columns="period", values="share")
    desc = (
        "Theme share by period. "
        + "; ".join(
            f"{labels.get(t, t)}: {_pct(wide.at[t, last[0]] if last[0] in wide else None)} in "
            f"{last[0]}, {_pct(wide.at[t, last[1]] if last[1] in wide else None)} in {last[1]}"
            for t in wide.index
        )
        + "."
    )
    return style_figure(fig, title="Theme trends", description=desc, height=420)


def plot_topics(results: Results, top: int = 20) -> go.Figure:
    """Discovered topics by size; topics that no codeframe theme covers are highlighted.

    Reads ``results.topics`` (outlier topic ``-1`` left out).
    """
    t = views.optional_table(results, "topics")
    if t is None:
        return _unavailable("Discovered topics", views.unavailable(results, "topics"))
    tid = views.pick(t, "topic", "topic_id", "id")
    size = views.pick(t, "size", "count", "n", "documents")
    name = views.pick(t, "label", "name", "keywords", "representation")
    if size is None:
        return _unavailable("Discovered topics", "The topics table has no size column.")
    if tid is not None:
        t = t[pd.to_numeric(t[tid], errors="coerce") != -1]
    t = t.sort_values(size, ascending=False, kind="stable").head(top)
    new = _novel(t)
    raw = [_topic_name(r, name, tid) for _, r in t.iterrows()]
    names = [_esc(n) for n in raw]
    fig = go.Figure(go.Bar(
        y=names, x=t[size], orientation="h",
        marker_color=["#1f4e79" if v else "#9aa5b1" for v in new],
        text=["not in codeframe" if v else "" for v in new], textposition="auto",
        hovertemplate="%{y}: %{x:,} responses<extra></extra>",
    ))  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="Responses")
    desc = (
        "Discovered topics by size: "
        + "; ".join(
            f"{n} {int(s):,}{' (not in codeframe)' if v else ''}"
            for n, s, v in zip(raw, t[size], new, strict=False)
        )
        + "."
    )
    return style_figure(fig, title="Discovered topics", description=desc,
                        height=120 + 28 * len(t))  # fmt: skip


def _topic_name(row: pd.Series, name: str | None, tid: str | None) -> str:
    v = row[name] if name else None
    if isinstance(v, (list, tuple)) or hasattr(v, "tolist"):
        v = ", ".join(map(str, list(v)[:4]))
    return str(v) if v not in (None, "") else f"topic {row[tid] if tid else ''}"


def _novel(t: pd.DataFrame) -> list[bool]:
    """Which topics no codeframe theme covers (``matched_theme`` empty, or a flag column)."""
    flag = views.pick(t, "novel", "new", "not_in_codeframe", "unmatched")
    if flag:
        return [bool(v) for v in t[flag].fillna(False)]
    flag = views.pick(t, "in_codeframe", "matched")
    if flag:
        return [not bool(v) for v in t[flag].fillna(False)]
    match = views.pick(t, "matched_theme", "theme", "codeframe_theme", "closest_theme")
    if match:
        return [v is None or (isinstance(v, float) and math.isnan(v)) or v == "" for v in t[match]]
    return [False] * len(t)


def plot_churn(results: Results) -> go.Figure:
    """Churn reasons ranked by count, with interval bars on the share when given.

    Shares are of the at-risk responses that have a churn reason (:func:`cxnlp.views.churn_base`),
    not of all responses; the axis and the description say so.
    """
    c = views.optional_table(results, "churn")
    if c is None:
        return _unavailable("Churn reasons", views.unavailable(results, "churn"))
    reason = views.pick(c, "label", "churn_reason", "reason")
    n = views.pick(c, "count", "n", "responses", "mentions")
    share = views.pick(c, "share", "rate")
    if reason is None or (n is None and share is None):
        return _unavailable("Churn reasons", "The churn table has no reason or count column.")
    value = share or n
    c = c.sort_values(value, ascending=False, kind="stable")
    x = c[value] * (100 if value == share else 1)
    error = None
    lo, hi = views.pick(c, "share_low", "low"), views.pick(c, "share_high", "high")
    if value == share and lo and hi:
        error = {"type": "data", "symmetric": False, "color": _MUTED,
                 "array": (c[hi] * 100 - x).clip(lower=0),
                 "arrayminus": (x - c[lo] * 100).clip(lower=0)}  # fmt: skip
    raw = [str(v).replace("_", " ") for v in c[reason]]
    labels = [_esc(v) for v in raw]
    fig = go.Figure(go.Bar(y=labels, x=x, orientation="h", marker_color=_RED, error_x=error,
                           hovertemplate="%{y}: %{x:.1f}<extra></extra>"))  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="Share of at-risk responses with a reason (%)" if value == share
                     else "Responses", rangemode="tozero")  # fmt: skip
    base = views.churn_base(results)
    of = f"the {base:,} " if base else "the "
    if value == share:
        items = [f"{lab} {_pct(v / 100)}" for lab, v in zip(raw, x, strict=False)]
        head = f"Churn reasons, as shares of {of}at-risk responses with a churn reason: "
    else:
        items = [f"{lab} {v:,.0f} responses" for lab, v in zip(raw, x, strict=False)]
        head = "Churn reasons: "
    desc = head + "; ".join(items) + "."
    return style_figure(fig, title="Churn reasons", description=desc, height=120 + 30 * len(c))
