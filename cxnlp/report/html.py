"""Self-contained HTML report of a run.

One packaged Jinja2 template (autoescape on) renders the headline scores, charts, example
verbatims, data quality and the run manifest. Plotly.js is inlined once and every figure is
embedded without it, so the file opens offline: no CDN, web fonts or remote images.
"""

from __future__ import annotations

import datetime as _dt
import functools
import html
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from .. import views
from ..drivers import MIN_NEW
from ..metrics import SCHEMA_VERSION, SENTIMENT_LABELS, narrow, summarize
from ..plotting import (
    COLORS,
    FONT_FAMILY,
    figure_description,
    plot_churn,
    plot_drivers,
    plot_journey,
    plot_scores,
    plot_sentiment,
    plot_sentiment_by,
    plot_theme_trends,
    plot_themes,
    plot_topics,
    share_text,
    signed_text,
    value_digits,
)
from ..results import ANALYSED, analysed

if TYPE_CHECKING:
    from ..results import Results

__all__ = ["render_html", "write_html"]

_MAX_SCORE_CHARTS = 4
_MAX_VERBATIM_CHARS = 600
#: Manifest keys tried, in order, for the run date shown in the header.
_DATE_KEYS = ("run_date", "created_at", "created", "started_at", "timestamp", "date")


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cxnlp.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _fmt_pct
    env.filters["num"] = _fmt_num
    return env


@functools.lru_cache(maxsize=1)
def _plotly_js() -> Markup:
    from plotly.offline import get_plotlyjs

    return Markup(get_plotlyjs())


def _fmt_pct(x: Any, digits: int = 0) -> str:
    """Fraction -> ``"42%"`` (``"<1%"`` for a small share that is not zero); ``None``/NaN ->
    an en dash."""
    return share_text(None if x is None else float(x), digits)


def _fmt_num(x: Any, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, int) and digits == 0:
        return f"{x:,}"
    return f"{float(x):,.{digits}f}"


def _figure_html(fig: go.Figure, div_id: str) -> dict[str, Any]:
    """A figure as an embeddable ``<div>`` (no plotly.js), its title and text alternative.

    The title moves out of the figure into the page: plotly neither wraps a title nor makes
    room for a legend that wraps, so on a phone both overlapped; HTML wraps it.
    """
    title = fig.layout.title.text
    if title:
        fig = go.Figure(fig)  # the caller's figure keeps its title (notebooks show it)
        fig.update_layout(title=None, margin={"t": 16})
    body = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        default_width="100%",
        default_height=f"{fig.layout.height or 380}px",
        config={"displaylogo": False, "responsive": True},
    )
    return {
        "id": div_id,
        "html": Markup(body),
        "title": html.unescape(title) if title else None,  # plotly's escaping undone: Jinja escapes
        "description": figure_description(fig),
    }


def _cards(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Headline cards: one per score column plus sentiment."""
    cards = []
    for col, m in metrics.get("scores", {}).items():
        kind = m.get("kind", "")
        percent = m.get("unit") == "percent"
        digits = 2 if m.get("unit") == "mean" else 0
        suffix = "%" if percent else ""
        value = "–" if m["value"] is None else f"{m['value']:.{digits}f}{suffix}"
        if m["value"] is not None and kind == "nps" and m["value"] > 0:
            value = "+" + value
        ci = (
            None
            if m["low"] is None
            else f"{m['confidence']:.0%} CI {m['low']:.{digits}f} to {m['high']:.{digits}f}{suffix}"
        )
        details = []
        shares = m.get("shares", {})
        if kind == "nps":
            details = [
                f"{_fmt_pct(shares.get(g))} {g}" for g in ("promoters", "passives", "detractors")
            ]
        elif kind == "csat":
            mean = m["components"].get("mean", {}).get("value")
            details = [f"mean {_fmt_num(mean, 2)} of 5"]
        elif kind == "ces":
            easy = m["components"].get("easy", {})
            details = [f"{_fmt_num(easy.get('value'))}% found it easy"]
            if easy.get("low") is not None:
                details.append(f"CI {easy['low']:.0f} to {easy['high']:.0f}%")
        elif kind == "rating":
            details = [f"{_fmt_pct(shares.get('positive'))} 4-5 stars"]
        cards.append(
            {
                "title": views.score_title(kind),
                "column": col,
                "value": value,
                "ci": ci,
                "n": m["n"],
                "n_invalid": m["n_invalid"],
                "details": details,
            }
        )
    return cards


def _confidence(frame: pd.DataFrame, label: str) -> pd.Series:
    """How sure the model is of ``label``: its probability, or for "mixed" the weaker of
    p_positive and p_negative (both must be high for a response to be mixed). NaN when the
    probabilities are not in the table."""

    def prob(name: str) -> pd.Series:
        col = f"p_{name}"
        if col not in frame:
            return pd.Series(math.nan, index=frame.index, dtype=float)
        return pd.to_numeric(frame[col], errors="coerce").astype(float)

    if label == "mixed":
        return pd.concat([prob("positive"), prob("negative")], axis=1).min(axis=1)
    return prob(label)


def _row_meta(
    r: pd.DataFrame, seg_col: str | None, per: pd.Series | None
) -> Callable[[Any], dict[str, str]]:
    """Segment and period of a response by ``row_id``, looked up when a view shows it
    (a dict for every row cost ~400 MB on a million responses)."""
    index = pd.Index(r["row_id"] if "row_id" in r else range(len(r)))

    def meta(rid: Any) -> dict[str, str]:
        at = int(index.get_indexer([rid])[0])
        if at < 0:
            return {"segment": "", "period": ""}
        seg = r[seg_col].iloc[at] if seg_col else None
        period = per.iloc[at] if per is not None else None
        return {
            "segment": "" if seg is None or pd.isna(seg) else str(seg),
            "period": "" if period is None or pd.isna(period) else period,
        }

    return meta


#: Most values a filter lists: the largest segments, so the list stays usable.
_FILTER_VALUES = 60


def _filter_values(values: pd.Series) -> tuple[list[str], int]:
    """The segment filter's values: the :data:`_FILTER_VALUES` most frequent, in natural order
    (numbers by value: 2 before 10), and how many distinct values there are in all."""
    counts = values.dropna().astype(str).value_counts(sort=True)
    top = list(counts.index[:_FILTER_VALUES])
    numbers = pd.to_numeric(pd.Series(top, dtype=object), errors="coerce")
    if top and numbers.notna().all():
        top = [v for _, v in sorted(zip(numbers, top, strict=True))]
    else:
        top.sort()
    return top, len(counts)


def _verbatims(results: Results, per_label: int) -> list[dict[str, Any]]:
    """Up to ``per_label`` most confident examples of each sentiment (text left unescaped:
    the template escapes it)."""
    r = results.responses
    if per_label <= 0 or "sentiment" not in r or "text" not in r:
        return []
    cols = results.columns or {}
    score_col = next(iter(cols.get("scores") or {}), None)
    seg_col = next(iter(cols.get("segments") or []), None)
    keep = ["row_id", "sentiment", "p_negative", "p_neutral", "p_positive", score_col, seg_col]
    ok = narrow(r, keep)  # the text of the shown rows only
    ok = ok[(r["sentiment"].notna() & r["text"].notna()).to_numpy() & analysed(r)]
    groups = []
    for label in SENTIMENT_LABELS:
        part = ok[ok["sentiment"].astype(str) == label]
        if part.empty:
            continue
        conf = _confidence(part, label)
        order = conf.fillna(-1).sort_values(ascending=False, kind="stable").index[:per_label]
        items = []
        for idx in order:
            row = part.loc[idx]
            text = str(r.at[idx, "text"])
            if len(text) > _MAX_VERBATIM_CHARS:
                text = text[:_MAX_VERBATIM_CHARS].rstrip() + "…"
            meta = []
            if score_col and score_col in part and pd.notna(row[score_col]):
                value = float(row[score_col])
                meta.append(f"{score_col}: {_fmt_num(value, 0 if value.is_integer() else 1)}")
            if seg_col and seg_col in part and pd.notna(row[seg_col]):
                meta.append(f"{seg_col}: {row[seg_col]}")
            if "row_id" in part:
                meta.append(f"row {row['row_id']}")
            items.append(
                {
                    "text": text,
                    "confidence": _fmt_pct(conf.loc[idx]),
                    "meta": meta,
                    "row_id": row["row_id"] if "row_id" in part else None,
                }
            )
        groups.append({"label": label, "color": COLORS[label], "count": len(part), "items": items})
    return groups


def _run_date(manifest: dict[str, Any]) -> str:
    for key in _DATE_KEYS:
        if manifest.get(key):
            return str(manifest[key])
    return _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()


def _context(results: Results, title: str, examples_per_sentiment: int) -> dict[str, Any]:
    metrics = (
        results.metrics
        if (results.metrics or {}).get("schema_version") == SCHEMA_VERSION
        else summarize(results)
    )
    cols = results.columns or {}
    scores = dict(cols.get("scores") or {})
    segments = [c for c in (cols.get("segments") or []) if c in results.responses]
    sentiment = metrics["sentiment"]

    charts: dict[str, Any] = {"sentiment": None, "scores": [], "segment": None}
    if sentiment["n"]:
        charts["sentiment"] = _figure_html(plot_sentiment(results), "cx-fig-sentiment")
    for i, col in enumerate(list(scores)[:_MAX_SCORE_CHARTS]):
        charts["scores"].append(_figure_html(plot_scores(results, col), f"cx-fig-score-{i}"))
    if segments and sentiment["n"]:
        charts["segment"] = _figure_html(plot_sentiment_by(results, segments[0]), "cx-fig-segment")

    rows = int(metrics["rows"])
    status = [
        {"status": k, "count": v, "share": v / rows if rows else None}
        for k, v in sorted(
            metrics["status_counts"].items(), key=lambda kv: (kv[0] != "ok", -kv[1], kv[0])
        )
    ]
    manifest = results.manifest or {}
    extra = _sections(results, segments, charts)
    _add_changes(results, cards := _cards(metrics))
    change_note = _change_note(results, cards)
    verbatims = _verbatims(results, examples_per_sentiment)
    for group in verbatims:
        for item in group["items"]:
            item.update(extra["row_meta"](item["row_id"]))
    return {
        **extra,
        "title": title,
        "rows": rows,
        "run_date": _run_date(manifest),
        "metrics": metrics,
        "sentiment": sentiment,
        "sentiment_labels": [lab for lab in SENTIMENT_LABELS],
        "colors": COLORS,
        "font_family": FONT_FAMILY,
        "cards": cards,
        "change_note": change_note,
        "charts": charts,
        "score_columns": scores,
        "segment_column": segments[0] if segments else None,
        "verbatims": verbatims,
        "examples_per_sentiment": examples_per_sentiment,
        "status": status,
        "ok_rows": sum(int(metrics["status_counts"].get(s, 0)) for s in ANALYSED),
        "manifest": manifest,
        "manifest_json": json.dumps(
            manifest, indent=2, ensure_ascii=False, default=str, sort_keys=True
        ),
        "input_hash": manifest.get("input_hash") or manifest.get("input_sha256"),
        "plotly_js": _plotly_js() if _any_chart(charts) else None,
    }


def _any_chart(charts: dict[str, Any]) -> bool:
    return any(bool(v) for v in charts.values())


def _add_changes(results: Results, cards: list[dict[str, Any]]) -> None:
    """Attach "change vs the previous period" to each score card (needs a date column): the
    latest two of the trends stage's periods, the change's interval, whether it is clear of
    0, a note when the latest period is partial, and a "Few responses" flag when either
    period has fewer than ``drivers.min_n`` valid scores."""
    changes = views.headline_changes(results)
    for card in cards:
        card.update(change=None, change_dir="", change_small=None, change_partial=None)
        c = changes.get(card["column"])
        if not c:
            continue
        card["change"], card["change_dir"] = _change_text(c), _change_dir(c)
        part = c.get("partial")
        if part and part["period"] == c["period"]:
            card["change_partial"] = (
                f"{c['period']} is a partial {c['period_unit']}: its data end on "
                f"{part['last_date']} (the {c['period_unit']} ends {part['end']})."
            )
        if c["small"]:
            few = [p for p, n in ((c["previous_period"], c["previous_n"]), (c["period"], c["n"]))
                   if n < c["min_n"]]  # fmt: skip
            card["change_small"] = (
                f"Few responses (n < {c['min_n']:,}, drivers.min_n) in {' and '.join(few)}: "
                "read the change with care."
            )


def _change_dir(c: dict[str, Any]) -> str:
    """``up``/``down`` for a change clear of 0, ``unclear`` otherwise (including a change that
    was not assessed)."""
    return c["direction"] or "unclear"


def _change_text(c: dict[str, Any]) -> str:
    """``+11 pts (95% CI -5 to +27): not a clear change (the interval includes 0) vs 2018-05
    (-22, n = 334); 2018-06: -11, n = 174``."""
    digits = 2 if c["unit"] == "mean" else 0
    suffix = "%" if c["unit"] == "percent" else ""
    unit = " pts" if c["unit"] in ("points", "percent") else ""
    ci = (
        ""
        if math.isnan(c["delta_low"])
        else f" ({c['confidence']:.0%} CI {signed_text(c['delta_low'], digits)} to "
        f"{signed_text(c['delta_high'], digits)})"
    )
    verdict = f": {why}" if (why := views.change_verdict(c)) else ""
    return (
        f"{signed_text(c['delta'], digits)}{unit}{ci}{verdict} vs {c['previous_period']} "
        f"({c['previous']:.{digits}f}{suffix}, n = {c['previous_n']:,}); "
        f"{c['period']}: {c['value']:.{digits}f}{suffix}, n = {c['n']:,}"
    )


def _change_note(results: Results, cards: list[dict[str, Any]]) -> str | None:
    """Why the score cards show no change vs the previous period (``None`` when one does)."""
    if not cards or any(card["change"] for card in cards):
        return None
    if views.date_column(results) is None:
        return ("No change vs the previous period: this export has no date column (map one "
                "with --date-column).")  # fmt: skip
    per = views.periods(results)
    if per is None:
        return "No change vs the previous period: no value of the date column could be read."
    unit = per.attrs.get("freq", "period")
    if per.nunique() < 2:
        return f"No change vs the previous period: the dates cover a single {unit}."
    return (f"No change vs the previous period: the latest two {unit}s do not both have "
            "valid scores.")  # fmt: skip


def _p_value(p: float) -> str:
    """A p- or q-value: ``<0.001`` below that, else three decimals (never a bare ``0.00``)."""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _cell(value: Any, fmt: str | Callable[[Any], str] = "") -> str:
    """One table cell as text: ``pct`` fractions, ``signed`` numbers, ``int`` counts (stored
    as floats beside NaN), ``p`` values, lists joined; a callable formats the value itself."""
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(value, list):
            return ", ".join(map(str, value[:6]))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    try:
        if pd.isna(value):
            return "–"
    except (TypeError, ValueError):
        pass
    if callable(fmt):
        return fmt(value)
    if fmt == "pct":
        return _fmt_pct(value, 1)
    if fmt == "signed":
        return f"{float(value):+.2f}"
    if fmt == "int":
        return f"{round(float(value)):,}"
    if fmt == "p":
        return _p_value(float(value))
    if isinstance(value, (bool,)):
        return "yes" if value else "no"
    if isinstance(value, float) or hasattr(value, "dtype") and "float" in str(value.dtype):
        return f"{float(value):,.2f}"
    if isinstance(value, int) or hasattr(value, "dtype") and "int" in str(value.dtype):
        return f"{int(value):,}"
    return str(value)


def _table(
    df: pd.DataFrame | None, columns: dict[str, tuple[str, Any]] | None = None, limit: int = 30
) -> dict[str, Any] | None:
    """A table for the ``data_table`` macro: ``columns`` maps source column → (header, fmt);
    without it every column is shown (lists joined, floats rounded)."""
    if df is None or df.empty:
        return None
    if columns is None:
        columns = {c: (str(c).replace("_", " "), "") for c in df.columns}
    columns = {c: v for c, v in columns.items() if c in df.columns}
    rows = []
    for _, r in df.head(limit).iterrows():
        rows.append([_cell(r[c], fmt) for c, (_, fmt) in columns.items()])
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in columns]
    return {
        "headers": [h for h, _ in columns.values()],
        "rows": rows,
        "numeric": numeric,
        "total": len(df),
        "shown": min(len(df), limit),
    }


#: Columns shown for the linking / drivers / topics tables (others stay in the CSV/XLSX).
_JOURNEY_COLS = {"touchpoint": ("Touchpoint", ""), "responses": ("Responses", ""),
                 "share": ("Share", "pct"),
                 "sentiment_score": ("Sentiment", "signed"), "negative": ("Negative", "pct"),
                 "score_metric": ("Metric", ""), "score": ("Score", ""),
                 "score_low": ("CI low", ""), "score_high": ("CI high", ""),
                 "score_n": ("Scores", "int"), "small": ("Few responses", ""),
                 "sentiment_small": ("Few comments", ""),
                 "score_small": ("Few scores", "")}  # fmt: skip
_CHURN_COLS = {"rank": ("Rank", ""), "label": ("Reason", ""), "reason": ("Reason id", ""),
               "churn_reason": ("Reason", ""), "count": ("Responses", ""),
               "share": ("Share", "pct"), "low": ("CI low", "pct"), "high": ("CI high", "pct"),
               "example": ("Example", ""), "small": ("Few responses", "")}  # fmt: skip
#: The emerging table: one period (the latest, named in the caption), labels not ids.
_EMERGING_COLS = {"label": ("Theme or topic", ""), "count": ("Responses", "int"),
                  "value": ("Share", "pct"), "share": ("Share", "pct"),
                  "baseline_value": ("Baseline share", "pct"), "p_value": ("p", "p"),
                  "q_value": ("q (FDR)", "p"), "new": ("New", "")}  # fmt: skip
_TOPIC_COLS = {"topic": ("Topic", ""), "label": ("Label", ""), "size": ("Responses", ""),
               "share": ("Share", "pct"), "sentiment_score": ("Sentiment", "signed"),
               "negative": ("Negative", "pct"), "matched_theme": ("Closest theme", ""),
               "keywords": ("Keywords", "")}  # fmt: skip


def _known(df: pd.DataFrame | None, cols: dict[str, tuple[str, str]]):
    """``cols`` restricted to ``df``'s columns, or ``None`` (show all) when none match."""
    if df is None:
        return None
    found = {c: v for c, v in cols.items() if c in df.columns}
    return found if len(found) >= 2 else None


def _period_unit(results: Results) -> str:
    """``month``, ``week``... as the trends stage resolved it; ``period`` when unknown."""
    rule = views.period_rule(results)
    return rule if rule in ("day", "week", "month", "quarter") else "period"


def _emerging_caption(results: Results, emerging: pd.DataFrame | None) -> str:
    """What the emerging table shows: rises in the latest period only, as metrics.json."""
    if emerging is None or emerging.empty:
        return ""
    unit = _period_unit(results)
    settings = views.drivers_settings(results)
    k = int(settings.get("baseline_periods") or 3)
    text = (f"Themes and topics flagged as emerging in {emerging.attrs.get('period')}, the latest "
            f"{unit}: share of its analysed responses against the previous {k} {unit}s "
            "(one-sided test; q controls the false discovery rate)")  # fmt: skip
    if ((results.metrics or {}).get("schema_version") or 1) >= 2:  # runs under today's rules
        text += (f". New: emerging, absent from the baseline and in at least {MIN_NEW} responses; "
                 f"{unit}s whose baseline has "
                 f"fewer than {int(settings['min_n']):,} analysed responses (drivers.min_n) "
                 "are not tested")  # fmt: skip
    return text


def _no_emerging(results: Results, emerging: pd.DataFrame) -> str:
    """One line for a latest period without a rise, pointing to earlier ones if any."""
    unit = _period_unit(results)
    period = emerging.attrs.get("period")
    when = f"{period}, the latest {unit}" if period else f"the latest {unit}"
    line = f"No theme or topic rose significantly in {when}."
    min_n = int(views.drivers_settings(results)["min_n"])
    if ((results.metrics or {}).get("schema_version") or 1) >= 2:
        line += (f" {unit.capitalize()}s whose baseline has fewer than {min_n:,} analysed "
                 "responses (drivers.min_n) are not tested.")  # fmt: skip
    earlier = int(emerging.attrs.get("earlier") or 0)
    if earlier:
        line += (f" {earlier:,} rise(s) flagged in earlier {unit}s are in the trends table "
                 "(trends.csv, column emerging).")  # fmt: skip
    return line


def _impact_caption(outcome: dict[str, str], table: pd.DataFrame, shown: int, min_n: int,
                    tested: str = "") -> str:
    """What the impact table shows, which rows, and what its markers mean; ``tested`` is
    :func:`cxnlp.views.significance_rule` when the table has a significance column."""
    if "impact" not in table or table["impact"].isna().all():
        text = "Themes by mean aspect sentiment (−1 to +1), most negative first"
        value = "sentiment"
    else:
        text = (f"Themes by impact on {outcome['name']}, most negative first; impact, in "
                f"{outcome['unit']}, is the overall score minus the score of the responses not "
                "mentioning the theme")  # fmt: skip
        if "negative_impact" in table and table["negative_impact"].notna().any():
            text += ("; the impact of negative mentions is the same for the responses that "
                     "mention the theme negatively")  # fmt: skip
        text += (". An impact is an association, not what fixing the theme would gain, and "
                 "impacts overlap (one response can mention several themes): do not add them "
                 "up")  # fmt: skip
        if tested and "significant" in table:
            text += f". {tested}"
        value = "impacts"
    if views.small_flags(table.head(shown)).any():
        text += (f". “{_FEW}”: fewer than {min_n:,} responses (drivers.min_n), read with "
                 "care")  # fmt: skip
    if len(table) > shown:
        text += f". Shown: the largest {value}, either way"
    return text


#: The marker of a theme whose impact rests on fewer than ``drivers.min_n`` responses.
_FEW = "few responses"


def _marked(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with "(few responses)" after the label of each small theme, so the flag the
    drivers doc promises ("shown, not hidden") is seen beside the number."""
    small = views.small_flags(table)
    if not small.any():
        return table
    label = table["label"].astype(str).where(~small, table["label"].astype(str) + f" ({_FEW})")
    return table.assign(label=label)


def _largest_first(table: pd.DataFrame, column: str, limit: int) -> pd.DataFrame:
    """The ``limit`` rows of largest ``|column|`` ordered by ``column`` (most negative first),
    then the rest: a table cut at ``limit`` keeps the strongest drivers of both signs."""
    rows = table.dropna(subset=[column])
    top = rows[column].abs().sort_values(ascending=False, kind="stable").index[:limit]
    chosen = rows.loc[top].sort_values(column, kind="stable")
    return pd.concat([chosen, rows.drop(index=top).sort_values(column, kind="stable")])


def _churn_caption(results: Results) -> str:
    """The churn table's caption: who counted as at risk (a detractor score, negative text,
    a churn column...), and the base of the shares: the at-risk responses that have a churn
    reason, not all responses."""
    base = views.churn_base(results)
    of = f"the {base:,}" if base else "the"
    who = views.at_risk_definition(results)
    defined = (f"At risk: {who}. " if who else
               "At risk: a churn column, a low score, or negative text where there is neither "
               "(responses.at_risk says which). ")  # fmt: skip
    return (
        f"Churn reasons, most frequent first. {defined}Shares are of {of} at-risk responses "
        "that have a churn reason"
    )


def _journey_caption(jr: pd.DataFrame, results: Results) -> str:
    """The journey table's caption: where its stages come from and whose sentiment it shows
    (a touchpoint column's rows carry the whole response's sentiment, not an aspect's)."""
    if jr.attrs.get("stages") == "column":
        col = (results.columns or {}).get("touchpoint")
        named = f" {col}" if col else ""
        return (f"Touchpoints in journey order, from the export's touchpoint column{named}; "
                "sentiment is that of the whole response (−1 to +1)")  # fmt: skip
    return ("Touchpoints in journey order, from the themes' touchpoint links; sentiment is the "
            "mean aspect sentiment of the mentions (−1 to +1)")  # fmt: skip


def _journey_note(jr: pd.DataFrame) -> str:
    """Stages the chart and table leave out: theme-linked ones when a column exists, and
    stages no response reached."""
    parts = []
    if jr.attrs.get("other"):
        parts.append("The touchpoints the themes link to (" + ", ".join(jr.attrs["other"])
                     + ") are in touchpoints.csv (source = themes); the stages here come "
                     "from the touchpoint column.")  # fmt: skip
    if jr.attrs.get("empty"):
        parts.append("No response reached " + ", ".join(jr.attrs["empty"]) + ".")
    return " ".join(parts)


def _disagreements_intro(dis: pd.DataFrame, base: str = "") -> str:
    """How many responses disagree in all and which are shown: the table is cut, and a
    reader should know it holds the 20 clearest of 57, not all of them; ``base`` is
    :func:`cxnlp.views.disagreement_base`."""
    total, shown = int(dis.attrs.get("total", len(dis))), len(dis)
    how = "rule: " if dis.attrs.get("source") == "rule" else "flagged by the linking step: "
    which = f"the clearest {shown:,} of {total:,} shown" if total > shown else "all shown"
    where = (f" (all {total:,} in responses.csv, column {dis.attrs.get('column')})"
             if total > shown and dis.attrs.get("source") == "flag" else "")  # fmt: skip
    return (f"{total:,} responses whose score and text point opposite ways ({how}a top score "
            "with a confidently negative text, or a bottom score with a confidently positive "
            f"one); {which}, the text model's most confident first{where}."
            + (f" {base}" if base else ""))  # fmt: skip


#: Rows of the impact table: the largest impacts of either sign.
_IMPACT_ROWS = 15


def _impact_columns(summary: pd.DataFrame, outcome: dict[str, str]) -> dict[str, tuple]:
    """Impact columns of the theme tables, with as many decimals as the impacts need."""
    digits = value_digits(summary["impact"])

    def signed(v: Any) -> str:
        return signed_text(float(v), digits)

    cols = {"impact": (f"Impact ({outcome['unit']})", signed), "impact_low": ("CI low", signed),
            "impact_high": ("CI high", signed)}  # fmt: skip
    if "negative_impact" in summary and summary["negative_impact"].notna().any():
        cols["negative_impact"] = ("Impact of negative mentions", signed)
    return cols


def _yes_no(value: Any) -> str:
    return "yes" if bool(value) else "no"


def _sections(results: Results, segments: list[str], charts: dict[str, Any]) -> dict[str, Any]:
    """Themes, drivers, journey, churn, trends, topics, disagreements, verbatims by theme,
    data quality and filters. Charts are added to ``charts``; each section also gets a
    ``notes`` entry saying why it is empty when it is."""
    sections = (
        "themes",
        "drivers",
        "journey",
        "churn",
        "trends",
        "emerging",
        "topics",
        "disagreements",
    )
    notes: dict[str, str] = dict.fromkeys(sections, "")
    for key in sections:
        charts.setdefault(key, None)
    summary = views.theme_summary(results)
    if summary.empty:
        notes["themes"] = (
            "Not available: no theme mentions in this run (themes were switched "
            "off with --no-themes, or nothing matched the codeframe)."
        )
    else:
        charts["themes"] = _figure_html(plot_themes(results), "cx-fig-themes")
        charts["drivers"] = _figure_html(plot_drivers(results), "cx-fig-drivers")
    has_impact = "impact" in summary and summary["impact"].notna().any()
    if not summary.empty and not has_impact:
        notes["drivers"] = (
            views.unavailable(results, "drivers") + " The matrix below plots "
            "each theme's volume against its mean aspect sentiment instead."
        )
    theme_cols = {
        "label": ("Theme", ""),
        "mentions": ("Responses", ""),
        "share": ("Share of analysed", "pct"),
        "sentiment_score": ("Aspect sentiment", "signed"),
        "negative": ("Negative", "pct"),
        "positive": ("Positive", "pct"),
    }
    outcome = views.outcome(results)
    if has_impact:
        theme_cols.update(_impact_columns(summary, outcome))
    min_n = int(views.drivers_settings(results)["min_n"])
    ranked = pd.DataFrame()
    if not summary.empty:
        ranked = _largest_first(summary, "impact" if has_impact else "sentiment_score",
                                _IMPACT_ROWS)  # fmt: skip
    impact_cols = dict(theme_cols)  # the impact table alone, whose caption gives the rule
    if has_impact and "significant" in summary and summary["significant"].notna().any():
        impact_cols["significant"] = ("Significant", _yes_no)
    by_impact = _table(_marked(ranked), impact_cols, _IMPACT_ROWS)

    jr = views.journey(results)
    if jr.empty:
        notes["journey"] = views.unavailable(results, "touchpoints")
    else:
        charts["journey"] = _figure_html(plot_journey(results), "cx-fig-journey")
        notes["journey"] = _journey_note(jr)
        if jr.attrs.get("source") != "touchpoints":
            notes["journey"] = (
                "Derived from the codeframe's theme → touchpoint map (no "
                "touchpoints table in this run). " + notes["journey"]
            ).strip()
    churn = views.optional_table(results, "churn")
    if churn is None:
        notes["churn"] = views.unavailable(results, "churn")
    else:
        charts["churn"] = _figure_html(plot_churn(results), "cx-fig-churn")
    trends = views.theme_trends(results)
    if trends.empty or trends["period"].nunique() < 2:
        notes["trends"] = views.unavailable(results, "trends")
    else:
        charts["trends"] = _figure_html(plot_theme_trends(results), "cx-fig-trends")
    emerging = views.emerging_themes(results)
    if emerging is None:
        notes["emerging"] = views.unavailable(results, "trends")
    elif emerging.empty:
        notes["emerging"] = _no_emerging(results, emerging)
    topics = views.optional_table(results, "topics")
    if topics is None:
        notes["topics"] = views.unavailable(results, "topics")
    else:
        charts["topics"] = _figure_html(plot_topics(results), "cx-fig-topics")
    dis = views.disagreements(results)
    if dis.empty:
        notes["disagreements"] = (
            "No score–text disagreements found."
            if dis.attrs.get("source") != "none" and (results.columns or {}).get("scores")
            else "Not available: needs a score column (NPS, rating, CSAT or CES) and sentiment."
        )

    per = views.periods(results)
    seg_col = segments[0] if segments else None
    r = results.responses
    seg_values, seg_total = _filter_values(r[seg_col]) if seg_col else ([], 0)
    period_values = sorted(per.dropna().unique()) if per is not None else []
    row_meta = _row_meta(r, seg_col, per)
    if not dis.empty:
        dis = dis.assign(
            segment=dis["row_id"].map(lambda x: row_meta(x)["segment"]),
            period=dis["row_id"].map(lambda x: row_meta(x)["period"]),
        )
    counts = []
    if "sentiment" in r:
        keep = r["sentiment"].notna().to_numpy() & analysed(r)
        ok = r[[c for c in ("sentiment", seg_col) if c]][keep]  # two columns only
        key = pd.DataFrame(
            {
                "s": ok[seg_col].astype(object).where(ok[seg_col].notna(), "").astype(str)
                if seg_col
                else "",
                "p": per.loc[ok.index].fillna("") if per is not None else "",
                "l": ok["sentiment"].astype(str),
            },
            index=ok.index,
        )
        counts = [[s_, p_, l_, int(n)] for (s_, p_, l_), n in key.value_counts().items()]
    filter_data = {"labels": [lab for lab in SENTIMENT_LABELS], "counts": counts}

    langs = views.languages(results)
    return {
        "notes": notes,
        "theme_table": _table(_marked(summary), theme_cols, 20),
        "impact_table": by_impact,
        "has_impact": has_impact,
        "journey_table": _table(jr, _known(jr, _JOURNEY_COLS)),
        "journey_caption": _journey_caption(jr, results),
        "churn_table": _table(churn, _known(churn, _CHURN_COLS)),
        "emerging_table": _table(emerging, _known(emerging, _EMERGING_COLS)),
        "emerging_caption": _emerging_caption(results, emerging),
        "impact_caption": _impact_caption(outcome, ranked, _IMPACT_ROWS, min_n,
                                          views.significance_rule(results)),
        "churn_caption": _churn_caption(results),
        "date_note": views.date_note(results),
        "language_note": views.language_note(results),
        "topics_table": _table(topics, _known(topics, _TOPIC_COLS), 20),
        "disagreements": dis.to_dict("records") if not dis.empty else [],
        "disagreements_intro": _disagreements_intro(
            dis, views.disagreement_base(results, int(dis.attrs.get("total", len(dis))))),
        "theme_verbatims": [
            {**g, "items": [{**it, **row_meta(it["row_id"])} for it in g["items"]]}
            for g in views.theme_verbatims(results)
        ],
        "invalid_scores": views.invalid_scores(results).to_dict("records"),
        "pii": views.pii_counts(results),
        "pii_tracked": "pii" in r,
        "languages": langs,
        "filters": {
            "segment_column": seg_col,
            "segments": seg_values,
            "segments_total": seg_total,
            "periods": period_values,
            "period_unit": per.attrs.get("freq", "period") if per is not None else "",
        },
        "filter_json": Markup(
            json.dumps(filter_data, ensure_ascii=True)
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
        ),
        "row_meta": row_meta,
    }


def render_html(
    results: Results, title: str = "cxnlp report", *, examples_per_sentiment: int = 5
) -> str:
    """Render the report of a run as one self-contained HTML page.

    Parameters
    ----------
    results : Results
        The run. ``results.metrics`` is used when it is a :func:`~cxnlp.metrics.summarize`
        payload, otherwise it is computed.
    title : str, default "cxnlp report"
        Page title and heading (escaped).
    examples_per_sentiment : int, default 5
        Verbatims shown per sentiment, most confident first.

    Returns
    -------
    str
        The HTML document. Every text from the data is escaped; plotly.js is inlined once.
    """
    template = _environment().get_template("report.html.j2")
    return template.render(**_context(results, title, examples_per_sentiment))


def write_html(
    results: Results,
    path: str | Path,
    title: str = "cxnlp report",
    *,
    examples_per_sentiment: int = 5,
) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8, parent folders created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_html(results, title, examples_per_sentiment=examples_per_sentiment)
    path.write_text(text, encoding="utf-8")
    return path
