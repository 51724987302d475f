"""Loaders for the public labelled sets in ``../shared/data`` with their standard splits.

Every loader returns a :class:`pandas.DataFrame` with at least ``text`` (raw, as stored:
callers normalise with :func:`cxnlp.clean.normalize` like the pipeline does) and ``label``.
Splits follow the ``README.md`` of the data sets' folder (``CXNLP_DATA``) so figures stay
comparable across the project. Whether a
set may train a shipped model is recorded in :data:`DATASETS` (``ship_safe``); use
:func:`require_ship_safe` in training code.

Examples
--------
>>> from cxnlp.training import load_clothing  # doctest: +SKIP
>>> load_clothing("test").label.value_counts()  # doctest: +SKIP
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from ..errors import InputError
from ..paths import data_dir as default_data_dir

__all__ = [
    "DATASETS",
    "DatasetInfo",
    "require_ship_safe",
    "load_airline",
    "load_clothing",
    "load_uci",
    "load_banking77",
    "load_mams_acsa",
    "load_mams_atsa",
    "load_semeval_restaurants",
    "load_nps_telecom",
    "load_alexa",
    "star_to_sentiment",
]


@dataclass(frozen=True)
class DatasetInfo:
    """Where a set lives, its licence and whether a shipped model may be trained on it."""

    folder: str
    licence: str
    ship_safe: bool
    split_rule: str


DATASETS: dict[str, DatasetInfo] = {
    "airline": DatasetInfo(
        "twitter-us-airline-sentiment", "CC BY-NC-SA 4.0", False, "test = tweet_id % 5 == 0"
    ),
    "clothing": DatasetInfo(
        "womens-ecommerce-clothing-reviews", "CC0", True, "test = row id % 5 == 0"
    ),
    "uci": DatasetInfo(
        "uci-sentiment-labelled-sentences", "CC BY 4.0", True, "none (out-of-domain test only)"
    ),
    "banking77": DatasetInfo("banking77", "CC BY 4.0", True, "official train/test"),
    "mams": DatasetInfo("mams-absa", "Apache-2.0", True, "official train/val/test"),
    "semeval2014": DatasetInfo("semeval2014-absa", "research use", False, "official train/test"),
    "nps_telecom": DatasetInfo("nps-verbatims-telecom", "GPL", False, "test = row number % 5 == 0"),
    "alexa": DatasetInfo("amazon-alexa-reviews", "unclear", False, "none (test only)"),
}

Split = Literal["train", "test", "all"]


def require_ship_safe(name: str) -> None:
    """Raise ``ValueError`` unless dataset ``name`` (see :data:`DATASETS`) may train a model."""
    info = DATASETS[name]
    if not info.ship_safe:
        raise ValueError(
            f"Dataset '{name}' is licensed '{info.licence}' (evaluate only): it must not train a "
            "shipped model. Use it in benchmarks only."
        )


def _folder(name: str, data_dir: str | Path | None) -> Path:
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    path = root / DATASETS[name].folder
    if not path.exists():
        raise InputError(
            f"Dataset folder {path} not found. Point $CXNLP_DATA (or data_dir=) at the folder "
            "that holds the shared public data sets (see data/README.md)."
        )
    return path


def _check_split(split: str, allowed: tuple[str, ...]) -> None:
    if split not in allowed:
        raise ValueError(f"split must be one of {allowed}, got {split!r}")


def _by_modulo(df: pd.DataFrame, key: pd.Series, split: str) -> pd.DataFrame:
    if split == "all":
        return df.reset_index(drop=True)
    mask = (key % 5 == 0).to_numpy()
    return df[mask if split == "test" else ~mask].reset_index(drop=True)


def star_to_sentiment(stars: pd.Series) -> pd.Series:
    """Map 1-5 star ratings to ``negative`` (1-2), ``neutral`` (3), ``positive`` (4-5)."""
    return stars.map({1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"})


def load_airline(split: Split = "test", data_dir: str | Path | None = None) -> pd.DataFrame:
    """Twitter US airline sentiment (evaluate only). ``test`` = ``tweet_id % 5 == 0`` (2,901 rows).

    Columns: ``tweet_id``, ``text`` (HTML-escaped as published), ``label`` (negative/neutral/
    positive), ``negativereason``, ``airline``, ``confidence``.
    """
    _check_split(split, ("train", "test", "all"))
    df = pd.read_csv(_folder("airline", data_dir) / "Tweets.csv", dtype={"tweet_id": "int64"})
    df = df.rename(
        columns={"airline_sentiment": "label", "airline_sentiment_confidence": "confidence"}
    )
    df = df[["tweet_id", "text", "label", "negativereason", "airline", "confidence"]]
    return _by_modulo(df, df["tweet_id"], split)


def load_clothing(split: Split = "train", data_dir: str | Path | None = None) -> pd.DataFrame:
    """Women's e-commerce clothing reviews (CC0). ``test`` = row id ``% 5 == 0``.

    Columns: ``id``, ``text`` (review text; ``""`` for the 845 empty reviews, kept, not
    dropped), ``title`` (``""`` when absent), ``rating`` (1-5), ``label`` (1-2 negative,
    3 neutral, 4-5 positive), ``recommended``, ``division``, ``department``, ``class_name``.
    """
    _check_split(split, ("train", "test", "all"))
    path = _folder("clothing", data_dir) / "Womens Clothing E-Commerce Reviews.csv"
    raw = pd.read_csv(path)
    df = pd.DataFrame(
        {
            "id": raw.iloc[:, 0].astype("int64"),
            "text": raw["Review Text"].fillna("").astype(str),
            "title": raw["Title"].fillna("").astype(str),
            "rating": raw["Rating"].astype("int64"),
            "recommended": raw["Recommended IND"].astype("int64"),
            "division": raw["Division Name"],
            "department": raw["Department Name"],
            "class_name": raw["Class Name"],
        }
    )
    df.insert(4, "label", star_to_sentiment(df["rating"]))
    return _by_modulo(df, df["id"], split)


_UCI_FILES = {
    "amazon": "amazon_cells_labelled.txt",
    "yelp": "yelp_labelled.txt",
    "imdb": "imdb_labelled.txt",
}


def load_uci(
    source: Literal["amazon", "yelp", "imdb", "all"] = "all", data_dir: str | Path | None = None
) -> pd.DataFrame:
    """UCI sentiment-labelled sentences (CC BY 4.0; our out-of-domain test: do not train on it).

    Columns: ``source``, ``text``, ``label`` (negative/positive).
    """
    _check_split(source, (*_UCI_FILES, "all"))
    folder = _folder("uci", data_dir)
    frames = []
    for name in _UCI_FILES if source == "all" else [source]:
        rows = []
        with open(folder / _UCI_FILES[name], encoding="utf-8") as fh:
            for line in fh:
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                text, _, lab = line.rpartition("\t")
                rows.append((name, text.strip(), "positive" if lab.strip() == "1" else "negative"))
        frames.append(pd.DataFrame(rows, columns=["source", "text", "label"]))
    return pd.concat(frames, ignore_index=True)


def load_banking77(
    split: Literal["train", "test"] = "train", data_dir: str | Path | None = None
) -> pd.DataFrame:
    """Banking77 customer queries (CC BY 4.0), official split. ``label`` is the intent (77)."""
    _check_split(split, ("train", "test"))
    df = pd.read_csv(_folder("banking77", data_dir) / f"{split}.csv")
    return df.rename(columns={"category": "label"})[["text", "label"]]


def _sentence_polarity(polarities: list[str]) -> str:
    """One label for a sentence from its aspect polarities (pos+neg -> mixed)."""
    s = set(polarities)
    if {"positive", "negative"} <= s:
        return "mixed"
    for p in ("positive", "negative"):
        if p in s:
            return p
    return "neutral"


def load_mams_acsa(
    split: Literal["train", "val", "test"] = "train", data_dir: str | Path | None = None
) -> pd.DataFrame:
    """MAMS aspect-category sentiment (Apache-2.0), one row per sentence.

    Columns: ``text``, ``aspects`` (list of ``(category, polarity)``), ``label`` (sentence
    polarity derived from the aspects: ``mixed`` when both positive and negative occur,
    else positive/negative when present, else neutral).
    """
    _check_split(split, ("train", "val", "test"))
    root = ET.parse(_folder("mams", data_dir) / "MAMS-ACSA" / f"{split}.xml").getroot()
    rows = []
    for s in root.iter("sentence"):
        aspects = [(a.get("category"), a.get("polarity")) for a in s.iter("aspectCategory")]
        rows.append((s.findtext("text", ""), aspects, _sentence_polarity([p for _, p in aspects])))
    return pd.DataFrame(rows, columns=["text", "aspects", "label"])


def load_mams_atsa(
    split: Literal["train", "val", "test"] = "train", data_dir: str | Path | None = None
) -> pd.DataFrame:
    """MAMS aspect-term sentiment (Apache-2.0), one row per (sentence, term).

    Columns: ``text``, ``term``, ``start``, ``end`` (character offsets of the term),
    ``label`` (polarity of the term).
    """
    _check_split(split, ("train", "val", "test"))
    root = ET.parse(_folder("mams", data_dir) / "MAMS-ATSA" / f"{split}.xml").getroot()
    rows = []
    for s in root.iter("sentence"):
        text = s.findtext("text", "")
        for a in s.iter("aspectTerm"):
            rows.append(
                (text, a.get("term"), int(a.get("from")), int(a.get("to")), a.get("polarity"))
            )
    return pd.DataFrame(rows, columns=["text", "term", "start", "end", "label"])


def load_semeval_restaurants(
    split: Literal["train", "test"] = "train", data_dir: str | Path | None = None
) -> pd.DataFrame:
    """SemEval-2014 Task 4 restaurants (research use: evaluate only), one row per sentence.

    Columns: ``id``, ``text``, ``aspects`` (list of ``(category, polarity)``; polarity may be
    ``conflict``), ``terms`` (list of ``(term, polarity, start, end)``), ``label`` (sentence
    polarity derived from the categories as in :func:`load_mams_acsa`).
    """
    _check_split(split, ("train", "test"))
    name = "Restaurants_Train_v2.xml" if split == "train" else "Restaurants_Test_Gold.xml"
    root = ET.parse(_folder("semeval2014", data_dir) / name).getroot()
    rows = []
    for s in root.iter("sentence"):
        cats = [(a.get("category"), a.get("polarity")) for a in s.iter("aspectCategory")]
        terms = [
            (a.get("term"), a.get("polarity"), int(a.get("from")), int(a.get("to")))
            for a in s.iter("aspectTerm")
        ]
        pols = [("mixed" if p == "conflict" else p) for _, p in cats]
        label = "mixed" if "mixed" in pols else _sentence_polarity(pols)
        rows.append((s.get("id"), s.findtext("text", ""), cats, terms, label))
    return pd.DataFrame(rows, columns=["id", "text", "aspects", "terms", "label"])


def load_nps_telecom(split: Split = "test", data_dir: str | Path | None = None) -> pd.DataFrame:
    """UK broadband NPS verbatims (GPL: evaluate only). ``test`` = row number ``% 5 == 0``.

    All original columns are kept; ``text`` is the verbatim and ``label`` the NPS score
    (0-10, NaN for the 32 rows without one).
    """
    _check_split(split, ("train", "test", "all"))
    df = pd.read_csv(_folder("nps_telecom", data_dir) / "nps_verbatims.csv")
    text_col = next((c for c in df.columns if "VERBATIM" in c.upper() or c.lower() == "text"), None)
    if text_col is None:
        raise InputError(f"No verbatim column in nps_verbatims.csv (columns: {list(df.columns)})")
    df = df.rename(columns={text_col: "text"})
    df["text"] = df["text"].fillna("").astype(str)
    df["label"] = pd.to_numeric(df.get("NPS_SCORE"), errors="coerce")
    return _by_modulo(df, pd.Series(range(len(df)), index=df.index), split)


def load_alexa(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Amazon Alexa reviews (licence unclear: evaluate only; no split, test only).

    Columns: ``text``, ``rating``, ``label`` (from the rating as in :func:`star_to_sentiment`),
    ``feedback``, ``variation``, ``date``.
    """
    df = pd.read_csv(_folder("alexa", data_dir) / "amazon_alexa.tsv", sep="\t")
    df = df.rename(columns={"verified_reviews": "text"})
    df["text"] = df["text"].fillna("").astype(str)
    df["label"] = star_to_sentiment(df["rating"])
    return df
