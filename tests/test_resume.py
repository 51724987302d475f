"""A run killed mid-way resumes with --resume and gives byte-identical output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cxnlp.checkpoint import ChunkStore
from cxnlp.errors import CxnlpError

OUTPUTS = ["responses.csv", "sentences.csv", "mentions.csv"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cxnlp", "analyze", *args, "--no-progress"]


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    src = Path(__file__).parent / "data" / "clothing_reviews.csv"
    path = tmp_path_factory.mktemp("resume") / "export.csv"
    rows = pd.read_csv(src, dtype=str, keep_default_na=False)
    pd.concat([rows] * max(1, 120 // len(rows) + 1)).head(120).to_csv(path, index=False)
    return path


def test_killed_run_resumes_identically(export, tmp_path):
    env = {**os.environ, "CXNLP_CACHE": str(tmp_path / "cache")}
    full, broken = tmp_path / "full", tmp_path / "broken"
    subprocess.run(
        _cli(str(export), "--out", str(full), "--chunk-size", "20"),
        env=env,
        check=True,
        capture_output=True,
    )

    proc = subprocess.Popen(
        _cli(str(export), "--out", str(broken), "--chunk-size", "20"),
        env={**env, "CXNLP_CACHE": str(tmp_path / "cache2")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    parts = broken / ".cxnlp-parts"
    deadline = time.time() + 120
    while time.time() < deadline and not list(parts.glob("000001.responses.parquet")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list(parts.glob("*.responses.parquet")))
    assert 2 <= finished < 6, "the kill should land mid-run"
    assert not (broken / "responses.csv").exists()

    res = subprocess.run(
        _cli(str(export), "--out", str(broken), "--chunk-size", "20", "--resume"),
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "Resuming" in res.stderr
    for name in OUTPUTS:
        assert (full / name).read_bytes() == (broken / name).read_bytes(), name
    assert not parts.exists()


def test_resume_refuses_a_changed_run(tmp_path):
    ChunkStore(tmp_path / "p", {"input_sha256": "a", "chunk_size": 10})
    with pytest.raises(CxnlpError, match="chunk_size"):
        ChunkStore(tmp_path / "p", {"input_sha256": "a", "chunk_size": 20}, resume=True)
    # a state file cut short (killed while writing it, a full disk) is refused, not a traceback
    (tmp_path / "p" / "state.json").write_text('{"digest": "ab')
    with pytest.raises(CxnlpError, match="state.json is damaged.*without --resume"):
        ChunkStore(tmp_path / "p", {"input_sha256": "a", "chunk_size": 10}, resume=True)
    assert not list((tmp_path / "p").glob("*.tmp"))
