"""Loaders and helpers for aspect-based sentiment data (SemEval-2014, MAMS, airline reasons).

These read the public sets in ``../shared/data`` (see :func:`cxnlp.paths.data_dir`) for
benchmarks. SemEval-2014 and the airline tweets are *evaluate only*: models fitted on them
may be measured inside ``benchmarks/`` but never shipped under ``models/``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from ..clean import normalize
from ..paths import data_dir

#: Polarity order shared with the sentiment head: negative, neutral, positive.
POLARITIES = ("negative", "neutral", "positive")

#: The nine named airline complaint reasons ("Can't Tell" excluded).
AIRLINE_REASONS = (
    "Customer Service Issue",
    "Late Flight",
    "Cancelled Flight",
    "Lost Luggage",
    "Bad Flight",
    "Flight Booking Problems",
    "Flight Attendant Complaints",
    "longlines",
    "Damaged Luggage",
)


def read_aspect_xml(path: str | Path) -> pd.DataFrame:
    """Read a SemEval-2014 / MAMS-ACSA XML file into one row per sentence.

    Returns
    -------
    DataFrame
        ``text`` and ``aspects``: a list of ``(category, polarity)`` pairs (possibly empty).
    """
    root = ET.parse(path).getroot()
    rows = []
    for s in root.iter("sentence"):
        text = s.findtext("text") or ""
        cats = [
            (c.get("category"), c.get("polarity"))
            for c in s.iter("aspectCategory")
            if c.get("category")
        ]
        rows.append({"id": s.get("id", str(len(rows))), "text": text, "aspects": cats})
    return pd.DataFrame(rows)


def semeval_restaurants(split: str) -> pd.DataFrame:
    """SemEval-2014 restaurants: ``split`` is ``"train"`` (Train_v2) or ``"test"`` (Test_Gold)."""
    name = {"train": "Restaurants_Train_v2.xml", "test": "Restaurants_Test_Gold.xml"}[split]
    return read_aspect_xml(data_dir() / "semeval2014-absa" / name)


def mams_acsa(split: str) -> pd.DataFrame:
    """MAMS-ACSA (ship-safe, Apache-2.0): ``split`` in ``train``, ``val``, ``test``."""
    return read_aspect_xml(data_dir() / "mams-absa" / "MAMS-ACSA" / f"{split}.xml")


_HANDLE = re.compile(r"@\w+")


def clean_tweet(text: str) -> str:
    """Unescape HTML and drop @handles (airline names add nothing to the reason)."""
    return re.sub(r"\s+", " ", _HANDLE.sub(" ", normalize(text))).strip()


def airline_reasons(split: str) -> pd.DataFrame:
    """Negative airline tweets with one of the nine named reasons.

    ``split`` is ``"test"`` (``tweet_id % 5 == 0``) or ``"train"`` (the rest). Returns
    ``tweet_id``, ``text`` (cleaned), ``reason``.
    """
    df = pd.read_csv(data_dir() / "twitter-us-airline-sentiment" / "Tweets.csv")
    df = df[(df["airline_sentiment"] == "negative") & df["negativereason"].isin(AIRLINE_REASONS)]
    test = df["tweet_id"] % 5 == 0
    df = df[test] if split == "test" else df[~test]
    out = pd.DataFrame(
        {
            "tweet_id": df["tweet_id"].to_numpy(),
            "text": [clean_tweet(t) for t in df["text"]],
            "reason": df["negativereason"].to_numpy(),
        }
    )
    return out[out["text"].str.len() > 0].reset_index(drop=True)


def banking77(split: str) -> pd.DataFrame:
    """banking77 (ship-safe, CC BY 4.0): ``text`` and ``category`` of ``train`` or ``test``."""
    return pd.read_csv(data_dir() / "banking77" / f"{split}.csv")


_CLAUSE = re.compile(
    r"\s*(?:[,;:()]|\s[-–—]+\s|--|\.\s)\s*"
    r"|\s+(?=(?:but|although|though|however|whereas|while|yet|except|and\sthe)\b)",
    re.IGNORECASE,
)


def split_clauses(text: str, min_words: int = 3) -> list[str]:
    """Split a sentence into clauses at punctuation and contrast words ("but", "although").

    Clauses shorter than ``min_words`` words are merged into the previous one, so each clause
    says something on its own. A sentence without a break comes back whole.
    """
    parts = [p.strip() for p in _CLAUSE.split(text) if p and p.strip()]
    out: list[str] = []
    for p in parts:
        if out and (len(p.split()) < min_words or len(out[-1].split()) < min_words):
            out[-1] = f"{out[-1]} {p}"
        else:
            out.append(p)
    return out or [text]


def polarity_index(labels: list[str]) -> np.ndarray:
    """Map polarity names to 0/1/2 (negative/neutral/positive)."""
    return np.array([POLARITIES.index(p) for p in labels], dtype=np.int64)
