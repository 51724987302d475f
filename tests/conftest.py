"""Shared fixtures: offline by construction, one real encoder per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the embedding cache of a test run out of the user's home."""
    os.environ["CXNLP_CACHE"] = str(tmp_path_factory.mktemp("cxnlp-cache"))


@pytest.fixture(scope="session")
def encoder():
    from cxnlp.encode import Encoder

    return Encoder()


@pytest.fixture(scope="session")
def analyzer(encoder):
    from cxnlp.pipeline import Analyzer

    return Analyzer(encoder=encoder)
