"""Results: the tidy tables every output (CSV, Parquet, JSON, HTML, notebooks) is derived from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Statuses of the responses whose text was analysed (they carry a sentiment): ``ok``, or
#: ``no theme`` when no codeframe theme matched. Any other status says why a row was not.
OK, NO_THEME = "ok", "no theme"
ANALYSED = (OK, NO_THEME)


def analysed(responses: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the analysed rows of ``responses`` (all of them without a status).

    Every count, share and chart "of analysed responses" uses this one rule, so the headline
    sentiment does not depend on whether a codeframe theme matched.
    """
    if "status" not in responses:
        return np.ones(len(responses), bool)
    return responses["status"].astype(str).isin(ANALYSED).to_numpy(dtype=bool, copy=True)

#: Columns of the sentence table (one row per sentence of an analysed response).
SENTENCE_COLUMNS = [
    "row_id",
    "sentence",
    "start",
    "end",
    "text",
    "sentiment",
    "p_negative",
    "p_neutral",
    "p_positive",
]
#: Columns of the mentions table (one row per response x theme), filled by the themes step.
MENTION_COLUMNS = [
    "row_id",
    "theme",
    "parent",
    "confidence",
    "sentiment",
    "sentiment_score",
    "start",
    "end",
    "evidence",
]

#: Tables the corpus stages derive from responses + mentions; written only when not empty.
CORPUS_TABLES = ("topics", "touchpoints", "churn", "drivers", "trends")


def table_columns(name: str) -> list[str]:
    """The columns of table ``name`` (sentences, mentions or a corpus table), so one not
    written (empty) loads with them."""
    from .drivers import DRIVER_COLUMNS, TREND_COLUMNS
    from .link import CHURN_COLUMNS, TOUCHPOINT_COLUMNS
    from .topics import TOPIC_COLUMNS

    return {"sentences": SENTENCE_COLUMNS, "mentions": MENTION_COLUMNS, "topics": TOPIC_COLUMNS,
            "touchpoints": TOUCHPOINT_COLUMNS, "churn": CHURN_COLUMNS, "drivers": DRIVER_COLUMNS,
            "trends": TREND_COLUMNS}[name]  # fmt: skip


def as_stored(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text columns in pandas' string dtype, as Parquet reads them back.

    Object columns of strings and missing values (``None``) become ``str`` (missing: NaN), so
    a run's tables equal those of :meth:`Results.load` and ``Analyzer.run``; other object
    columns (lists, all missing) are left as they are. Changes ``frame`` in place.
    """
    for col, dtype in frame.dtypes.items():
        if pd.api.types.is_object_dtype(dtype) and (
            pd.api.types.infer_dtype(frame[col], skipna=True) == "string"
        ):
            frame[col] = frame[col].astype("str")
    return frame


@dataclass(eq=False)  # tables compare cell by cell (pandas.testing), not with ==
class Results:
    """What a run produced.

    Attributes
    ----------
    responses : DataFrame
        Exactly one row per input row, in input order: ``row_id``, ``status``, the input
        columns, ``text`` (cleaned), ``sentiment``, ``p_negative``, ``p_neutral``,
        ``p_positive``, ``sentiment_score``.
    sentences : DataFrame
        One row per sentence: ``row_id``, offsets into ``responses.text``, sentiment.
    mentions : DataFrame
        One row per (response, theme) with aspect sentiment and evidence span.
    topics : DataFrame
        Discovered topics (:func:`cxnlp.topics.discover_topics`, columns
        :data:`cxnlp.topics.TOPIC_COLUMNS`): label, keywords, size, share, sentiment mix,
        representative verbatims and the closest codeframe theme (``matched_theme`` empty when
        the codeframe misses the topic); ``responses.topic`` holds each row's topic id.
    touchpoints : DataFrame
        Volume, sentiment mix and score (with CI) per journey touchpoint, in journey order
        (:func:`cxnlp.link.touchpoint_table`).
    churn : DataFrame
        Churn reasons of at-risk responses ranked with counts, shares and Wilson CIs
        (:func:`cxnlp.link.churn_table`).
    drivers : DataFrame
        Key drivers per theme and theme x sentiment: impact = overall score − score of the
        responses not mentioning the theme, bootstrap CI, relative weights
        (:func:`cxnlp.drivers.driver_table`).
    trends : DataFrame
        Volume, score, sentiment and theme shares per period, with emerging-theme tests
        (:func:`cxnlp.drivers.trend_table`).
    metrics : dict
        Counts, sentiment shares and score metrics (see ``metrics.json``).
    columns : dict
        The column mapping used (text, scores by kind, date, segments).
    manifest : dict
        Versions, model ids and input hash that make the run reproducible.
    """

    responses: pd.DataFrame
    sentences: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SENTENCE_COLUMNS))
    mentions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MENTION_COLUMNS))
    topics: pd.DataFrame = field(default_factory=pd.DataFrame)
    touchpoints: pd.DataFrame = field(default_factory=pd.DataFrame)
    churn: pd.DataFrame = field(default_factory=pd.DataFrame)
    drivers: pd.DataFrame = field(default_factory=pd.DataFrame)
    trends: pd.DataFrame = field(default_factory=pd.DataFrame)
    metrics: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"Results({len(self.responses)} responses, {len(self.sentences)} sentences, "
            f"{len(self.mentions)} mentions, {len(self.topics)} topics)"
        )

    # --- persistence -------------------------------------------------------------------
    def save(
        self, out_dir: str | Path, report: bool = True, skip: tuple[str, ...] = ()
    ) -> dict[str, Path]:
        """Write every table (CSV, Parquet), the metrics, manifest and columns JSON, the report.

        CSV cells are protected against formula injection; list columns are joined with ``; ``.
        Tables named in ``skip`` are not written (:meth:`Analyzer.run` streams them itself).
        """
        from .io import flatten_lists, write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        for name in ("responses", "sentences", "mentions", *CORPUS_TABLES):
            if name in skip:
                continue
            table = getattr(self, name)
            if name in CORPUS_TABLES and table.empty:
                continue
            for ext in ("parquet", "csv"):
                path = out / f"{name}.{ext}"
                write_table(flatten_lists(table) if ext == "csv" else table, path)
                written[f"{name}.{ext}"] = path
        for name in ("metrics", "manifest", "columns"):
            path = out / f"{name}.json"
            path.write_text(
                json.dumps(getattr(self, name), indent=2, default=str) + "\n", encoding="utf-8"
            )
            written[path.name] = path
        if report:
            written["report.html"] = self.to_html(out / "report.html")
            written["report.xlsx"] = self.to_excel(out / "report.xlsx")
        return written

    @classmethod
    def load(cls, out_dir: str | Path) -> Results:
        """Read back what :meth:`save` wrote (Parquet tables, JSON metrics and manifest).

        List columns (``themes``, ``pii``) come back as Python lists, as the run made them
        (Parquet hands back numpy arrays, on which ``if row.themes:`` fails).
        """
        out = Path(out_dir)
        if not (out / "responses.parquet").is_file():
            from .errors import InputError

            what = "is not a folder" if not out.is_dir() else "has no responses.parquet"
            raise InputError(f"No saved results in {out}: it {what}. Pass the folder that "
                             "`cxnlp analyze --out` or Results.save wrote.")

        def table(name: str) -> pd.DataFrame:
            path = out / f"{name}.parquet"
            if not path.exists():
                return pd.DataFrame(columns=table_columns(name))
            import pyarrow as pa
            import pyarrow.parquet as pq

            frame = pd.read_parquet(path)
            for col in pq.read_schema(path):  # the list columns only: no pass over texts
                if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
                    frame[col.name] = frame[col.name].map(
                        lambda v: v.tolist() if isinstance(v, np.ndarray) else v)
            return frame

        def js(name: str) -> dict[str, Any]:
            path = out / f"{name}.json"
            return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

        return cls(
            responses=table("responses"),
            sentences=table("sentences"),
            mentions=table("mentions"),
            metrics=js("metrics"),
            columns=js("columns"),
            manifest=js("manifest"),
            **{name: table(name) for name in CORPUS_TABLES},
        )

    def to_excel(self, path: str | Path) -> Path:
        """Write ``report.xlsx``: summary, themes, drivers, touchpoints, churn, verbatims."""
        from .report.excel import write_excel

        return write_excel(self, path)

    def to_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report."""
        from .report.html import write_html

        report = (self.manifest.get("config") or {}).get("report") or {}
        write_html(
            self,
            path,
            title=report.get("title", "Customer feedback report"),
            examples_per_sentiment=report.get("examples_per_sentiment", 5),
        )
        return Path(path)


