"""Self-contained HTML report of a run.

One packaged Jinja2 template (autoescape on) renders the headline scores, charts, example
verbatims, data quality and the run manifest. Plotly.js is inlined once and every figure is
embedded without it, so the file opens offline: no CDN, web fonts or remote images.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from ..metrics import SCHEMA_VERSION, SENTIMENT_LABELS, summarize
from ..plotting import (
    COLORS,
    FONT_FAMILY,
    figure_description,
    plot_scores,
    plot_sentiment,
    plot_sentiment_by,
)

if TYPE_CHECKING:
    from ..results import Results

__all__ = ["render_html", "write_html"]

_KIND_TITLES = {"nps": "Net Promoter Score", "csat": "Customer satisfaction",
                "ces": "Customer effort", "rating": "Average rating",
                "recommend": "Would recommend"}  # fmt: skip
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
    """Fraction -> ``"42%"``; ``None``/NaN -> an en dash."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * float(x):.{digits}f}%"


def _fmt_num(x: Any, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, int) and digits == 0:
        return f"{x:,}"
    return f"{float(x):,.{digits}f}"


def _figure_html(fig: go.Figure, div_id: str) -> dict[str, Any]:
    """A figure as an embeddable ``<div>`` (no plotly.js) plus its text alternative."""
    body = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        default_width="100%",
        default_height=f"{fig.layout.height or 380}px",
        config={"displaylogo": False, "responsive": True},
    )
    return {"id": div_id, "html": Markup(body), "description": figure_description(fig)}


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
                "title": _KIND_TITLES.get(kind, kind),
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


def _verbatims(results: Results, per_label: int) -> list[dict[str, Any]]:
    """Up to ``per_label`` most confident examples of each sentiment (text left unescaped:
    the template escapes it)."""
    r = results.responses
    if per_label <= 0 or "sentiment" not in r or "text" not in r:
        return []
    ok = r[(r["status"].astype(str) == "ok")] if "status" in r else r
    ok = ok[ok["sentiment"].notna() & ok["text"].notna()]
    cols = results.columns or {}
    score_col = next(iter(cols.get("scores") or {}), None)
    seg_col = next(iter(cols.get("segments") or []), None)
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
            text = str(row["text"])
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
            items.append({"text": text, "confidence": _fmt_pct(conf.loc[idx]), "meta": meta})
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
    return {
        "title": title,
        "rows": rows,
        "run_date": _run_date(manifest),
        "metrics": metrics,
        "sentiment": sentiment,
        "sentiment_labels": [lab for lab in SENTIMENT_LABELS],
        "colors": COLORS,
        "font_family": FONT_FAMILY,
        "cards": _cards(metrics),
        "charts": charts,
        "score_columns": scores,
        "segment_column": segments[0] if segments else None,
        "verbatims": _verbatims(results, examples_per_sentiment),
        "examples_per_sentiment": examples_per_sentiment,
        "status": status,
        "ok_rows": int(metrics["status_counts"].get("ok", 0)),
        "manifest": manifest,
        "manifest_json": json.dumps(
            manifest, indent=2, ensure_ascii=False, default=str, sort_keys=True
        ),
        "input_hash": manifest.get("input_hash") or manifest.get("input_sha256"),
        "plotly_js": _plotly_js()
        if any([charts["sentiment"], charts["scores"], charts["segment"]])
        else None,
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
