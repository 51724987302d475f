"""``report.xlsx``: the run for people who live in Excel (xlsxwriter, native charts).

Sheets: ``summary`` (rows, statuses, scores with intervals, the change vs the previous period
with its interval, both periods' n and whether it is clear of 0, sentiment mix, how dates were
read, what is emerging, the impact unit and the churn base), ``themes``, ``drivers``,
``touchpoints``, ``churn``, ``trends`` (every period, ids beside labels), ``emerging`` (the
latest period's rises only, as metrics.json's ``trends.emerging``), ``topics``,
``disagreements`` and ``verbatims``; each table sheet is written only when its table has
rows, with a bold header, number formats (percent, decimals, thousands, p-values), a frozen
header row and filters. Native Excel charts sit beside the data: sentiment mix (summary),
responses per theme, the driver matrix (volume × impact, in the outcome's unit, one labelled
point per theme), sentiment by touchpoint, churn reasons and responses per discovered topic;
they stay live if a user edits the cells. Every text cell is written as a string (never a
formula or a link) and neutralised like the CSV writer does (:func:`cxnlp.io.write._neutralise`: a
leading ``=``, ``+``, ``-`` or ``@`` gets a ``'``), so a verbatim such as
``=HYPERLINK(...)`` stays inert even after a copy to CSV.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import views
from ..io.write import _neutralise
from ..metrics import SENTIMENT_LABELS, summarize

if TYPE_CHECKING:
    from ..results import Results

__all__ = ["write_excel"]

_PCT_COLS = {"share", "negative", "neutral", "positive", "mixed", "share_low", "share_high"}
#: Counts kept as floats beside NaN (trends' ``count``): whole numbers, not ``26.00``.
_INT_COLS = {"count", "n", "baseline_n", "baseline_count"}
#: p- and q-values: ``<0.001`` below that, never a bare ``0.00``.
_P_COLS = {"p_value", "q_value"}
_MAX_ROWS = 5000


def _text(v: Any) -> Any:
    """A cell value: lists joined with ``; ``, NaN as empty, strings neutralised."""
    if isinstance(v, (list, tuple, np.ndarray)):
        v = "; ".join(map(str, list(v)))
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if math.isnan(float(v)) else float(v)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (pd.Timestamp,)):
        return str(v)
    if isinstance(v, (int, float)):
        return v
    return _neutralise(str(v))[:32767]


class _Book:
    def __init__(self, path: Path) -> None:
        import xlsxwriter

        self.wb = xlsxwriter.Workbook(
            str(path),
            {"strings_to_formulas": False, "strings_to_urls": False,
             "strings_to_numbers": False, "nan_inf_to_errors": False},
        )  # fmt: skip
        self.head = self.wb.add_format({"bold": True, "bg_color": "#1f4e79",
                                        "font_color": "#ffffff", "border": 1,
                                        "text_wrap": True, "valign": "top"})  # fmt: skip
        self.pct = self.wb.add_format({"num_format": "0.0%"})
        self.dec = self.wb.add_format({"num_format": "0.00"})
        self.int = self.wb.add_format({"num_format": "#,##0"})
        self.p = self.wb.add_format({"num_format": '[<0.001]"<0.001";0.000'})
        self.wrap = self.wb.add_format({"text_wrap": True, "valign": "top"})
        self.title = self.wb.add_format({"bold": True, "font_size": 14})
        self.bold = self.wb.add_format({"bold": True})

    def table(
        self,
        name: str,
        df: pd.DataFrame,
        widths: dict[str, int] | None = None,
        pct: set[str] | frozenset[str] = frozenset(),
    ):
        """Write ``df`` with a formatted header, filters, frozen header row and number formats
        (``pct``: more fraction columns to show as percentages)."""
        ws = self.wb.add_worksheet(name)
        df = df.head(_MAX_ROWS)
        for j, col in enumerate(df.columns):
            ws.write_string(0, j, str(_text(str(col))), self.head)
            fmt = None
            series = df[col]
            numeric = pd.api.types.is_numeric_dtype(series)
            if (col in _PCT_COLS or col in pct) and numeric:
                fmt = self.pct
            elif col in _P_COLS and numeric:
                fmt = self.p
            elif col in _INT_COLS and numeric:
                fmt = self.int
            elif pd.api.types.is_float_dtype(series):
                fmt = self.dec
            elif pd.api.types.is_integer_dtype(series):
                fmt = self.int
            is_text = not pd.api.types.is_numeric_dtype(series)
            width = (widths or {}).get(col) or (
                min(60, max(10, int(series.map(lambda v: len(str(v))).quantile(0.9)) + 2))
                if is_text and len(series)
                else 12
            )
            ws.set_column(j, j, width, self.wrap if width >= 40 else fmt)
            for i, v in enumerate(series.tolist(), start=1):
                v = _text(v)
                if v is None:
                    continue
                if isinstance(v, str):
                    ws.write_string(i, j, v)
                elif isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                else:
                    ws.write_number(i, j, v, fmt)
        ws.freeze_panes(1, 0)
        ws.cx_ncols = len(df.columns)
        if len(df.columns):
            ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)
        return ws

    def bar(
        self,
        ws,
        sheet: str,
        title: str,
        cat_col: int,
        val_col: int,
        n: int,
        *,
        kind: str = "bar",
        x_title: str = "",
        color: str = "#1f4e79",
    ) -> None:
        """A native chart of column ``val_col`` against ``cat_col`` (rows 1..n) beside the data."""
        if n == 0:
            return
        chart = self.wb.add_chart({"type": kind})
        chart.add_series({
            "name": title,
            "categories": [sheet, 1, cat_col, n, cat_col],
            "values": [sheet, 1, val_col, n, val_col],
            "fill": {"color": color},
        })  # fmt: skip
        chart.set_title({"name": title})
        chart.set_legend({"none": True})
        if kind == "bar":
            chart.set_y_axis({"reverse": True})
            chart.set_x_axis({"name": x_title})
        else:
            chart.set_y_axis({"name": x_title})
        chart.set_size({"width": 640, "height": max(320, 24 * n + 100)})
        ws.insert_chart(1, getattr(ws, "cx_ncols", 10) + 1, chart)

    def diverging(self, ws, col: int, n: int) -> None:
        """Colour column ``col`` (rows 1..n) red below zero, green above, as the report does."""
        from ..plotting import COLORS

        if n:
            ws.conditional_format(1, col, n, col, {
                "type": "3_color_scale", "mid_type": "num", "mid_value": 0,
                "min_color": COLORS["negative"], "mid_color": "#ffffff",
                "max_color": COLORS["positive"],
            })  # fmt: skip

    def close(self) -> None:
        self.wb.close()


def _summary_rows(results: Results) -> list[tuple[str, Any]]:
    m = results.metrics if results.metrics.get("schema_version") else summarize(results)
    rows: list[tuple[str, Any]] = [("Rows read", m["rows"])]
    for status, n in m["status_counts"].items():
        rows.append((f"Status: {status}", n))
    labels = {}
    for col, s in (m.get("scores") or {}).items():
        label = labels[col] = f"{views.score_title(s.get('kind', ''))} ({col})"  # as the HTML
        rows += [(label, s.get("value")), (f"{label} CI low", s.get("low")),
                 (f"{label} CI high", s.get("high")), (f"{label} n", s.get("n")),
                 (f"{label} missing or invalid", s.get("n_invalid"))]  # fmt: skip
    for col, c in views.headline_changes(results).items():
        rows += _change_rows(labels.get(col, col), c)
    if views.date_note(results):
        rows.append(("Dates", views.date_note(results)))
    if views.language_note(results):
        rows.append(("Languages", views.language_note(results)))
    emerging = views.emerging_themes(results)
    if emerging is not None and emerging.attrs.get("period"):
        names = ", ".join(emerging["label"]) or "none"
        rows.append((f"Emerging in {emerging.attrs['period']} (latest period)", names))
    if views.optional_table(results, "drivers") is not None:
        rows.append(("Impact unit (drivers)", views.outcome(results)["unit"]))
        rows.append(("Significant (drivers)", views.significance_rule(results)))
    if views.disagreement_base(results):
        rows.append(("Score–text disagreements", views.disagreement_base(results)))
    if views.churn_base(results):
        rows.append(("Churn shares are of (at-risk with a reason)", views.churn_base(results)))
    if views.optional_table(results, "churn") is not None and views.at_risk_definition(results):
        rows.append(("At risk (churn)", views.at_risk_definition(results)))
    manifest = results.manifest or {}
    rows.append(("Input", manifest.get("input")))
    rows.append(("Input SHA-256", manifest.get("input_sha256") or manifest.get("input_hash")))
    rows.append(("Created", manifest.get("created") or manifest.get("run_date")))
    for k, v in (manifest.get("models") or {}).items():
        rows.append((f"Model: {k}", v))
    return rows


def _change_rows(label: str, c: dict[str, Any]) -> list[tuple[str, Any]]:
    """The change vs the previous period as the HTML card gives it: both periods with their
    n, the change with its interval, and whether it is clear of 0 (and the latest period
    whole)."""
    verdict = views.change_verdict(c) or {"up": "a clear rise", "down": "a clear fall"}[
        c["direction"]]
    part = c.get("partial")
    if part and part["period"] == c["period"]:
        verdict += (f"; {c['period']} is a partial {c['period_unit']} (data end "
                    f"{part['last_date']})")  # fmt: skip
    if c["small"]:
        verdict += f"; few responses (n < {c['min_n']:,}, drivers.min_n): read with care"
    head = f"{label}: change, {c['period']} vs {c['previous_period']}"
    return [
        (f"{label}: {c['previous_period']}", c["previous"]),
        (f"{label}: {c['previous_period']} n", c["previous_n"]),
        (f"{label}: {c['period']}", c["value"]),
        (f"{label}: {c['period']} n", c["n"]),
        (head, c["delta"]),
        (f"{head}, {c['confidence']:.0%} CI low", c["delta_low"]),
        (f"{head}, {c['confidence']:.0%} CI high", c["delta_high"]),
        (f"{head}: reads as", verdict),
    ]


def _overall_first(drivers: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Driver rows of all mentions (``sentiment == "any"``) first, and how many there are.

    The driver matrix plots one point per theme, so only those rows feed the chart; the
    per-sentiment rows follow them in the sheet.
    """
    n = min(len(drivers), _MAX_ROWS)
    if "sentiment" not in drivers:
        return drivers, n
    overall = drivers["sentiment"].astype(str) == "any"
    ordered = pd.concat([drivers[overall], drivers[~overall]], ignore_index=True)
    return ordered, min(int(overall.sum()), _MAX_ROWS)


def _theme_labels(drivers: pd.DataFrame, n: int) -> dict[str, Any]:
    """Point labels of the driver matrix read from the sheet's theme (or label) cells."""
    col = views.pick(drivers, "label", "theme")
    if col is None:
        return {"value": False}
    from xlsxwriter.utility import xl_rowcol_to_cell

    j = drivers.columns.get_loc(col)
    refs = [{"value": f"=drivers!{xl_rowcol_to_cell(i, j, True, True)}"} for i in range(1, n + 1)]
    return {"custom": refs, "position": "right", "font": {"size": 8}}


def write_excel(results: Results, path: str | Path) -> Path:
    """Write ``report.xlsx`` for ``results`` to ``path`` (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = _Book(path)
    try:
        ws = book.wb.add_worksheet("summary")
        ws.set_column(0, 0, 60)  # the change rows name both periods
        ws.set_column(1, 1, 22)
        ws.write_string(0, 0, "Customer feedback report", book.title)
        rows = _summary_rows(results)
        for i, (k, v) in enumerate(rows, start=2):
            ws.write_string(i, 0, k, book.bold)
            v = _text(v)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(i, 1, v, book.dec if isinstance(v, float) else book.int)
            elif v is not None:
                ws.write_string(i, 1, str(v))
        sent = (results.metrics or {}).get("sentiment") or summarize(results)["sentiment"]
        top = len(rows) + 4
        ws.write_string(top - 1, 0, "Sentiment", book.head)
        ws.write_string(top - 1, 1, "Responses", book.head)
        ws.write_string(top - 1, 2, "Share", book.head)
        labels = [lab for lab in SENTIMENT_LABELS if lab in sent["counts"]]
        for i, lab in enumerate(labels):
            ws.write_string(top + i, 0, lab)
            ws.write_number(top + i, 1, sent["counts"][lab], book.int)
            if sent["shares"].get(lab) is not None:
                ws.write_number(top + i, 2, sent["shares"][lab], book.pct)
        if sent["n"]:
            chart = book.wb.add_chart({"type": "column"})
            chart.add_series({
                "name": "Sentiment", "categories": ["summary", top, 0, top + len(labels) - 1, 0],
                "values": ["summary", top, 1, top + len(labels) - 1, 1],
                "points": [{"fill": {"color": c}} for c in
                           ("#c0392b", "#6c757d", "#1e8449", "#a86400")[: len(labels)]],
            })  # fmt: skip
            chart.set_title({"name": "Sentiment mix"})
            chart.set_legend({"none": True})
            ws.insert_chart(2, 3, chart)

        themes = views.theme_summary(results)
        if not themes.empty:
            ws = book.table("themes", themes)
            book.bar(
                ws,
                "themes",
                "Responses mentioning the theme",
                1,
                themes.columns.get_loc("mentions"),
                min(len(themes), 20),
            )
        drivers = views.optional_table(results, "drivers")
        if drivers is not None:
            drivers, n = _overall_first(drivers)
            ws = book.table("drivers", drivers)
            x, y = (
                views.pick(drivers, "n", "volume", "mentions", "count"),
                views.pick(drivers, "impact"),
            )
            if y:
                book.diverging(ws, drivers.columns.get_loc(y), len(drivers))
            if x and y and n:
                chart = book.wb.add_chart({"type": "scatter"})
                chart.add_series({
                    "name": "Themes",
                    "categories": ["drivers", 1, drivers.columns.get_loc(x), n,
                                   drivers.columns.get_loc(x)],
                    "values": ["drivers", 1, drivers.columns.get_loc(y), n,
                               drivers.columns.get_loc(y)],
                    "marker": {"type": "circle", "size": 7},
                    "data_labels": _theme_labels(drivers, n),
                })  # fmt: skip
                chart.set_title({"name": "Driver matrix: volume × impact"})
                chart.set_x_axis({"name": "Volume"})
                chart.set_y_axis({"name": f"Impact ({views.outcome(results)['unit']})"})
                chart.set_legend({"none": True})
                ws.insert_chart(1, len(drivers.columns) + 1, chart)
        journey = views.journey(results)
        if not journey.empty:
            ws = book.table("touchpoints", journey)
            if "sentiment_score" in journey:
                book.diverging(ws, journey.columns.get_loc("sentiment_score"), len(journey))
                column = journey.attrs.get("stages") == "column"
                book.bar(
                    ws,
                    "touchpoints",
                    f"Mean {'response' if column else 'aspect'} sentiment by touchpoint",
                    0,
                    journey.columns.get_loc("sentiment_score"),
                    len(journey),
                    kind="column",
                )
        churn = views.optional_table(results, "churn")
        if churn is not None:
            ws = book.table("churn", churn, pct={"low", "high"})  # Wilson bounds of share
            reason = views.pick(churn, "label", "churn_reason", "reason")
            n = views.pick(churn, "count", "n", "responses", "share")
            if reason and n:
                book.bar(
                    ws,
                    "churn",
                    "Churn reasons",
                    churn.columns.get_loc(reason),
                    churn.columns.get_loc(n),
                    len(churn),
                    color="#c0392b",
                )
        trends = views.optional_table(results, "trends")
        if trends is not None:
            key = views.pick(trends, "key", "theme")
            if key and "label" not in trends:  # topic and theme ids beside their names
                labels = views.trend_labels(results, trends)
                trends = trends.copy()
                trends.insert(trends.columns.get_loc(key) + 1, "label", labels)
            book.table("trends", trends)
        emerging = views.emerging_themes(results)
        if emerging is not None and not emerging.empty:  # the latest period, as metrics.json
            keep = ["period", "kind", "key", "label", "count", "n", "value", "baseline_value",
                    "p_value", "q_value", "new"]  # fmt: skip
            book.table("emerging", emerging[[c for c in keep if c in emerging]],
                       pct={"value", "baseline_value"})  # fmt: skip
        topics = views.optional_table(results, "topics")
        if topics is not None:
            ws = book.table("topics", topics)
            name = views.pick(topics, "label", "name", "topic")
            size = views.pick(topics, "size", "count", "n")
            if name and size:
                book.bar(ws, "topics", "Responses per discovered topic",
                         topics.columns.get_loc(name), topics.columns.get_loc(size),
                         min(len(topics), 30), color="#6c757d")  # fmt: skip
        dis = views.disagreements(results, limit=500)
        if not dis.empty:
            book.table("disagreements", dis, {"text": 80})
        rows = []
        for g in views.theme_verbatims(results, per_theme=20, themes=50):
            for it in g["items"]:
                rows.append({"theme": g["label"], "row_id": it["row_id"],
                             "sentiment": it["sentiment"], "confidence": it["confidence"],
                             "evidence": it["span"],
                             "text": it["before"] + it["span"] + it["after"]})  # fmt: skip
        if rows:
            book.table("verbatims", pd.DataFrame(rows), {"evidence": 40, "text": 90})
    finally:
        book.close()
    return path
