"""Throughput of `cxnlp.analyze` beside a plain sentence-transformers encode of the same texts.

Usage::

    python benchmarks/speed.py [--n 2901] [--repeats 3]

Both sides run in this process, alternating, on the airline tweets test split (real customer
text, ~18 words each); the median of ``--repeats`` runs is printed with the ratio.

* ``plain encode``: ``SentenceTransformer(all-MiniLM-L6-v2).encode(texts, batch_size=64)``,
  the floor any embedding-based analysis pays.
* ``cxnlp analyze (cold)``: the whole pipeline (read DataFrame, clean + PII redaction,
  sentence split, encode, sentiment doc + sentence, zero-shot themes, metrics) with an empty
  embedding cache every run.
* ``cxnlp analyze (warm)``: the same run again with the embedding cache filled, as when a
  user re-runs with another codeframe.
* ``analyze onnx fp32`` / ``onnx-int8``: the cold run with ``encoder.backend: onnx`` (exact
  fp32 ONNX Runtime graph) or ``onnx-int8`` (per-token int8, see cxnlp/onnx_backend.py).
* ``torch bfloat16``: the cold run with ``encoder.dtype: bfloat16`` (on a CPU: bfloat16
  matrix products, float32 embeddings and layer norms, see cxnlp/cpu_bf16.py; fast where
  the CPU has AMX or AVX512-BF16).
* ``onnx-int8, no topics`` / ``torch bf16, no topics``: the same with
  ``topics.enabled: false`` (sentiment, themes, churn, drivers, metrics and report, without
  BERTopic discovery).
* ``hand-built stack``: what a user would assemble by hand from the usual libraries: a
  transformers ``pipeline("text-classification")`` over a local MiniLM-L6 sequence classifier
  for sentiment (no sentiment transformer ships offline, so its head is untrained: same cost,
  and a generous baseline, since the usual sentiment models are 2-4x larger), BERTopic with
  its own embedding pass (``embedding_model=`` the same MiniLM, default UMAP/HDBSCAN), and
  zero-shot theme scores as cosine between those embeddings and the codeframe's themes.

Every cxnlp run writes the HTML report too (``Results.to_html``), as the CLI does.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from _common import machine, median_time, need_data, peak_rss_mib

from cxnlp.encode import Encoder
from cxnlp.pipeline import Analyzer


def airline_texts(n: int) -> pd.DataFrame:
    df = pd.read_csv(need_data("twitter-us-airline-sentiment", "Tweets.csv"))
    test = df[df["tweet_id"] % 5 == 0]
    return test[["tweet_id", "text", "airline"]].head(n).reset_index(drop=True)


def hand_built_stack(encoder: Encoder, codeframe: str) -> Callable[[list[str]], None]:
    """Sentiment pipeline + BERTopic with its own embedding pass + zero-shot theme scores."""
    from bertopic import BERTopic
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    from cxnlp.themes import Codeframe

    st, folder = encoder.model_, encoder.folder
    hf_logging.set_verbosity_error()  # "some weights are newly initialised": on purpose
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=3)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    clf = pipeline("text-classification", model=model, tokenizer=tokenizer, device=-1)
    themes = Codeframe.load(codeframe).themes
    theme_vecs = st.encode(
        [f"{t.label}. {t.description}" for t in themes], normalize_embeddings=True
    )

    def run(texts: list[str]) -> None:
        clf(texts, batch_size=64, truncation=True)
        topic_model = BERTopic(embedding_model=st, verbose=False)
        topic_model.fit_transform(texts)
        emb = st.encode(texts, batch_size=64, normalize_embeddings=True)  # for theme scores
        (emb @ theme_vecs.T) > 0.3  # noqa: B015 - the themes each text would get

    return run


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=2901)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--codeframe", default="airline")
    args = ap.parse_args(argv)

    frame = airline_texts(args.n)
    report = Path(tempfile.mkdtemp(prefix="cxnlp-speed-report-")) / "report.html"
    texts = frame["text"].tolist()
    print(f"machine: {machine()}")
    print(
        f"texts: {len(texts):,} airline tweets (test split), mean "
        f"{frame['text'].str.split().str.len().mean():.1f} words"
    )

    plain = Encoder(cache=False)
    st = plain.model_
    st.encode(texts[:64], batch_size=64)  # warm-up: load and first-call costs out of the timing

    def run_plain() -> None:
        st.encode(texts, batch_size=64, show_progress_bar=False)

    an = Analyzer().with_overrides(
        codeframe=args.codeframe, cache_dir=tempfile.mkdtemp(prefix="cxnlp-speed-")
    )
    an.analyze(frame, text_column="text")  # loads every model once

    def run_cold() -> None:
        an.encoder._cache.clear(an.encoder.model_id)
        an.analyze(frame, text_column="text").to_html(report)

    def run_warm() -> None:
        an.analyze(frame, text_column="text").to_html(report)

    hand_built = hand_built_stack(plain, args.codeframe)
    hand_built(texts[:64])  # load the classifier once

    def cold_run(backend: str, **more: object) -> Callable[[], None]:
        """A cold ``analyze`` with another encoder backend (its graph built here, once)."""
        other = an.with_overrides(backend=backend, **more)
        other.analyze(frame.head(50), text_column="text")  # exports / quantises once

        def run() -> None:
            other.encoder._cache.clear(other.encoder.model_id)
            other.analyze(frame, text_column="text").to_html(report)

        return run

    runs = {"plain": run_plain, "hand": lambda: hand_built(texts), "cold": run_cold,
            "onnx": cold_run("onnx"), "bf16": cold_run("torch", dtype="bfloat16"),
            "int8": cold_run("onnx-int8"),
            "int8-no-topics": cold_run("onnx-int8", **{"topics.enabled": False}),
            "bf16-no-topics": cold_run("torch", dtype="bfloat16", **{"topics.enabled": False}),
            "warm": run_warm}  # fmt: skip
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.repeats):  # alternate so drift hits every side alike
        for key, fn in runs.items():
            times[key] += median_time(fn, 1)[1]
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    n = len(texts)
    print(f"\n{'':28}{'median s':>10}{'texts/s':>10}{'vs plain':>10}")
    for key, label in [
        ("plain", "plain ST encode"),
        ("hand", "hand-built stack"),
        ("cold", "cxnlp analyze (cold cache)"),
        ("onnx", "analyze onnx fp32 (cold)"),
        ("bf16", "analyze torch bf16 (cold)"),
        ("int8", "analyze onnx-int8 (cold)"),
        ("int8-no-topics", "onnx-int8, no topics (cold)"),
        ("bf16-no-topics", "torch bf16, no topics (cold)"),
        ("warm", "cxnlp analyze (warm cache)"),
    ]:
        print(f"{label:28}{med[key]:10.2f}{n / med[key]:10.0f}{med['plain'] / med[key]:9.2f}x")
    for key in ("cold", "onnx", "bf16", "int8", "int8-no-topics", "bf16-no-topics", "warm"):
        print(f"{key}: {med['hand'] / med[key]:.2f}x faster than the hand-built stack")
    print("runs (s): " + ", ".join(f"{k}={[round(t, 2) for t in v]}" for k, v in times.items()))
    print(f"peak RSS of this process: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
