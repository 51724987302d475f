"""Training utilities: loaders of the public labelled sets and reproducible training recipes."""

from __future__ import annotations

from .datasets import (
    DATASETS,
    DatasetInfo,
    load_airline,
    load_alexa,
    load_banking77,
    load_clothing,
    load_mams_acsa,
    load_mams_atsa,
    load_nps_telecom,
    load_semeval_restaurants,
    load_uci,
    require_ship_safe,
    star_to_sentiment,
)

__all__ = [
    "DATASETS",
    "DatasetInfo",
    "load_airline",
    "load_alexa",
    "load_banking77",
    "load_clothing",
    "load_mams_acsa",
    "load_mams_atsa",
    "load_nps_telecom",
    "load_semeval_restaurants",
    "load_uci",
    "require_ship_safe",
    "star_to_sentiment",
]
