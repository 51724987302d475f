"""Property suite: whatever the export holds, either one clear error or one row out per row in.

Two generated populations (3,000 + 2,000 cases by default; raise CXNLP_PROPERTY_MEMORY and
CXNLP_PROPERTY_FILES for a nightly-sized run):
* tables in memory (random Unicode, control characters, NUL, huge and empty texts, numbers
  where text should be, NaN/inf/strings/out-of-range scores) through cleaning and scoring;
* files on disk (CSV in several encodings, delimiters, BOMs and line endings, JSON Lines,
  Parquet, XLSX, plus raw junk bytes and truncations) through reading, column detection
  and cleaning.
The encoder and heads run on a generated messy export at the end (real model).
"""

from __future__ import annotations

import io as stdio
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxnlp import io as cxio
from cxnlp.errors import CxnlpError
from cxnlp.pipeline import Analyzer


def fast(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )


N_MEMORY = int(os.environ.get("CXNLP_PROPERTY_MEMORY", 3000))
N_FILES = int(os.environ.get("CXNLP_PROPERTY_FILES", 2000))

texts = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(
        [
            "",
            "   ",
            "\x00",
            "😀😀",
            "=cmd|' /C calc'!A0",
            "<script>alert(1)</script>",
            "Great\r\nservice",
            'a,b;c\t"d"',
            "é’€",
            "0",
            "nan",
            "None",
        ]
    ),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.none(),
)
scores = st.one_of(
    st.integers(-5, 15).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "abc", "10 - Extremely likely", "7.5", "yes", "no", " 9 "]),
    st.none(),
)
rows = st.lists(
    st.tuples(texts, scores, st.sampled_from(["north", "south", "", None])), min_size=0, max_size=12
)


@pytest.fixture(scope="module")
def cleaner() -> Analyzer:
    return Analyzer()


MAPPING = cxio.ColumnMap(text=["comment"], scores={"nps": "nps"}, segments=["region"])


@fast(N_MEMORY)
@given(rows)
def test_tables_in_memory_keep_every_row(cleaner, data):
    frame = pd.DataFrame(data, columns=["comment", "nps", "region"], dtype=object)
    out = cleaner.clean_chunk(frame, MAPPING, 0)
    assert len(out) == len(frame)
    assert out["row_id"].tolist() == list(range(len(frame)))
    assert out["status"].notna().all()
    valid = out["nps"].dropna()
    assert valid.between(0, 10).all() and (valid == valid.round()).all()
    bad = [i for i, n in enumerate(out["notes"]) if "invalid nps" in n]
    assert all(math.isnan(out["nps"].iloc[i]) for i in bad)


def _to_bytes(frame: pd.DataFrame, fmt: str, encoding: str, sep: str, newline: str) -> bytes:
    if fmt == "csv":
        text = frame.to_csv(index=False, sep=sep, lineterminator=newline)
        return text.encode(encoding, errors="replace")
    if fmt == "jsonl":
        return "".join(
            json.dumps(r, ensure_ascii=False) + "\n" for r in frame.to_dict("records")
        ).encode()
    buf = stdio.BytesIO()
    if fmt == "parquet":
        frame.astype("string").to_parquet(buf)
    else:
        frame.to_excel(buf, index=False, engine="xlsxwriter")
    return buf.getvalue()


def _safe_for_format(value: object, fmt: str) -> object:
    if fmt == "xlsx" and isinstance(value, str):  # XML cannot hold control characters
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")
    return value


files = st.tuples(
    rows,
    st.sampled_from(["csv", "csv", "csv", "jsonl", "parquet", "xlsx"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1"]),
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["\n", "\r\n"]),
    st.one_of(st.none(), st.integers(0, 400)),  # truncate the bytes here
    st.sampled_from([".csv", ".csv", ".jsonl", ".parquet", ".xlsx", ".txt", ".bin"]),
    st.booleans(),  # prepend junk bytes
)


@fast(N_FILES)
@given(files)
def test_files_on_disk_error_clearly_or_keep_every_row(cleaner, case):
    data, fmt, encoding, sep, newline, cut, ext, junk = case
    frame = pd.DataFrame(
        [[_safe_for_format(v, fmt) for v in r] for r in data],
        columns=["comment", "nps", "region"],
        dtype=object,
    )
    blob = _to_bytes(frame, fmt, encoding, sep, newline)
    if cut is not None:
        blob = blob[:cut]
    if junk:
        blob = b"\xff\xfe\x00\x81garbage\x00" + blob
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export{ext}"
        path.write_bytes(blob)
        try:
            read = cxio.read_feedback(path)
            columns = cxio.detect_columns(read)
        except CxnlpError as exc:
            message = str(exc)
            assert message and "Traceback" not in message
            return
        out = cleaner.clean_chunk(read, columns, 0)
        assert len(out) == len(read)
        assert out["status"].notna().all()


def test_messy_export_through_the_real_models(analyzer, tmp_path):
    rng = np.random.default_rng(0)
    pool = [
        "Loved it, fast delivery!",
        "",
        "   ",
        "😀",
        "\x00\x01",
        "x" * 120_000,
        "Terrible. Never again.",
        "Call me on 07700 900123",
        "=SUM(A1:A3)",
        None,
        "ok",
        "The app keeps crashing when I log in.",
        "Où est ma commande ?",
        "1234",
    ]
    frame = pd.DataFrame(
        {
            "comment": [pool[i] for i in rng.integers(0, len(pool), 300)],
            "nps": [str(v) for v in rng.choice(["0", "10", "11", "-1", "x", "nan", "7", ""], 300)],
        }
    )
    res = analyzer.analyze(frame, text_column="comment", score_columns={"nps": "nps"})
    r = res.responses
    assert len(r) == 300 and r["row_id"].tolist() == list(range(300))
    assert set(r.loc[r["sentiment"].isna(), "status"]) <= {
        "empty text",
        "no words (only symbols or emoji)",
        "text too long",
    }
    assert "[PHONE]" in " ".join(r["text"])
    res.save(tmp_path)
    assert len(pd.read_csv(tmp_path / "responses.csv")) == 300
