"""Results: the tidy tables every output (CSV, Parquet, JSON, HTML, notebooks) is derived from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

#: Columns of the sentence table (one row per sentence of an analysed response).
SENTENCE_COLUMNS = ["row_id", "sentence", "start", "end", "text", "sentiment",
                    "p_negative", "p_neutral", "p_positive"]
#: Columns of the mentions table (one row per response x theme), filled by the themes step.
MENTION_COLUMNS = ["row_id", "theme", "parent", "confidence", "sentiment", "sentiment_score",
                   "start", "end", "evidence"]


@dataclass
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
        Discovered topics.
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
    metrics: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Results({len(self.responses)} responses, {len(self.sentences)} sentences, "
                f"{len(self.mentions)} mentions, {len(self.topics)} topics)")
