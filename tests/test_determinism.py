"""Same input + config + models -> byte-identical results, whatever the chunking or cache.

Each run gets a fresh (cold) embedding cache, so every vector is really computed in that
run's own batches: chunks of 7, 11 and 1,000 rows put each text beside other texts. The
local-versus-Dask comparison lives in ``tests/test_dask.py`` (exact there too). Topic
discovery needs 50 rows and is skipped here; it is a corpus stage fitted on the same vectors.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cxnlp.config import apply_overrides, load_config
from cxnlp.encode import EmbeddingCache, Encoder, encoder_text
from cxnlp.pipeline import Analyzer

DATA = Path(__file__).parent / "data"
#: Written by ``Results.save`` but not compared: it records the creation time and chunk size.
SKIPPED = {"manifest.json"}


def test_vector_does_not_depend_on_its_batch(encoder):
    """A text's vector is the same bytes alone, beside one other text, or among many."""
    texts = pd.read_csv(DATA / "topics_feedback.csv")["comment"].tolist()[:40:2]
    texts += ["ok", "Bad.", "x " * 400]  # tiny passes (filled up) and a windowed text
    fresh = Encoder(cache=False)
    fresh.__dict__["model_"] = encoder.model_  # same weights, no second load
    together = fresh.encode(texts)
    assert together.tobytes() == fresh.encode(texts[::-1])[::-1].tobytes()
    assert together[:4].tobytes() == fresh.encode(texts[:4]).tobytes()
    for i in (0, -3, -2, -1):
        assert together[i].tobytes() == fresh.encode([texts[i]])[0].tobytes(), texts[i]
    assert together[:2].tobytes() == fresh.encode(texts[:2]).tobytes()


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """30 rows: real reviews, short comments, a duplicate, empty and symbol-only texts, PII."""
    reviews = pd.read_csv(DATA / "clothing_reviews.csv", dtype=str, keep_default_na=False)
    short = pd.read_csv(DATA / "topics_feedback.csv")["comment"].tolist()[::13][:14]
    extra = ["", "   ", "😀😀", "Call me on 07911 123456!", "ok", short[0]]
    comments = reviews["Review Text"].tolist()[:10] + short + extra
    n = len(comments)
    frame = pd.DataFrame(
        {
            "comment": comments,
            "nps": [str((i * 7) % 12) for i in range(n)],  # 11 is out of range
        }
    )
    path = tmp_path_factory.mktemp("determinism") / "export.csv"
    frame.to_csv(path, index=False)
    return path


def _analyzer(
    encoder, cache_dir: Path, chunk_size: int, text_column: str | list[str] = "comment"
) -> Analyzer:
    config = apply_overrides(
        load_config(),
        chunk_size=chunk_size,
        cache_dir=str(cache_dir),
        text_column=text_column,
        score_columns={"nps": "nps"},
    )
    fresh = Encoder(cache=True, cache_dir=cache_dir)
    fresh.__dict__["model_"] = encoder.model_  # the weights are read-only: share them
    return Analyzer(config, encoder=fresh)


@pytest.fixture(scope="module")
def codeframe_cache(encoder, tmp_path_factory) -> Path:
    """A cache with the codeframe's and churn reasons' vectors only (saves each run ~5 s).

    They are encoded in one call per run whatever the chunk size; what the chunking changes
    is the batches of the export's own sentences, and those stay cold in every run.
    """
    folder = tmp_path_factory.mktemp("codeframe-cache")
    frame = pd.DataFrame(
        {"comment": ["Nobody answered my calls, so I am cancelling."], "nps": ["0"]}
    )
    _analyzer(encoder, folder, 1000).analyze(frame)
    return folder


def _run(
    encoder, export: Path, out: Path, chunk_size: int, warm: Path, text_column="comment"
) -> dict[str, bytes]:
    shutil.copytree(warm, out / "cache")
    analyzer = _analyzer(encoder, out / "cache", chunk_size, text_column)
    results = analyzer.analyze(export)
    assert len(results.responses) == len(pd.read_csv(export))
    written = results.save(out / "results", report=False)
    return {name: path.read_bytes() for name, path in written.items() if name not in SKIPPED}


def test_results_byte_identical_across_chunk_sizes_with_cold_caches(
    encoder, export, codeframe_cache, tmp_path
):
    sizes = (7, 11, 1000)  # 30 rows: 5 chunks, 3 chunks, one chunk
    runs = {
        size: _run(encoder, export, tmp_path / f"chunks{size}", size, codeframe_cache)
        for size in sizes
    }
    first = runs[7]
    assert {"responses.csv", "responses.parquet", "mentions.csv", "metrics.json"} <= first.keys()
    for size, files in runs.items():
        assert files.keys() == first.keys(), size
        differ = sorted(name for name in files if files[name] != first[name])
        assert not differ, f"chunk size {size} vs 7: {differ} differ"
    # the export's sentences really were encoded in each run: none was in the shared cache
    sentences = pd.read_parquet(tmp_path / "chunks7" / "results" / "sentences.parquet")
    keys = [EmbeddingCache.key(encoder_text(t)) for t in sentences["text"]]
    model = _analyzer(encoder, codeframe_cache, 7).encoder.model_id
    assert len(keys) > 20 and not EmbeddingCache(codeframe_cache / "embeddings.sqlite").get(
        model, keys
    )


@pytest.mark.parametrize("two_texts", [False, True])
def test_streamed_run_writes_what_an_in_memory_run_saves(
    encoder, export, codeframe_cache, tmp_path, two_texts
):
    """``Analyzer.run`` (the CLI: parts on disk, sentences never loaded whole, the input's
    text columns left on disk during the corpus stages) writes the same tables and metrics
    as ``analyze(...).save(...)``; also with two text columns, one named like an output
    column (``status``, which responses call ``input_status``)."""
    text_column: str | list[str] = "comment"
    if two_texts:
        frame = pd.read_csv(export, dtype=str, keep_default_na=False)
        frame.insert(0, "status", frame.pop("comment"))
        frame["Q2"] = frame["status"].str[::-1].str.upper()
        export = tmp_path / "two_texts.csv"
        frame.to_csv(export, index=False)
        text_column = ["status", "Q2"]
    memory = _run(encoder, export, tmp_path / "memory", 11, codeframe_cache, text_column)
    shutil.copytree(codeframe_cache, tmp_path / "disk" / "cache")
    analyzer = _analyzer(encoder, tmp_path / "disk" / "cache", 11, text_column)
    results, written = analyzer.run(export, tmp_path / "disk" / "results")
    assert results.sentences.empty and not (tmp_path / "disk" / "results" / ".cxnlp-parts").exists()
    assert memory.keys() <= written.keys()
    if two_texts:  # both input texts came back, beside the joined ``text``, in place
        cols = list(pd.read_parquet(written["responses.parquet"]).columns)
        assert cols.index("input_status") < cols.index("Q2") and "text" in cols
    for name, data in memory.items():
        path = written[name]
        if name.endswith(".parquet"):
            pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(io.BytesIO(data)))
        else:
            assert path.read_bytes() == data, name
