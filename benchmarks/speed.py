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
"""

from __future__ import annotations

import argparse
import tempfile

import pandas as pd
from _common import machine, median_time, need_data, peak_rss_mib

from cxnlp.encode import Encoder
from cxnlp.pipeline import Analyzer


def airline_texts(n: int) -> pd.DataFrame:
    df = pd.read_csv(need_data("twitter-us-airline-sentiment", "Tweets.csv"))
    test = df[df["tweet_id"] % 5 == 0]
    return test[["tweet_id", "text", "airline"]].head(n).reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=2901)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--codeframe", default="airline")
    args = ap.parse_args(argv)

    frame = airline_texts(args.n)
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
        an.analyze(frame, text_column="text")

    def run_warm() -> None:
        an.analyze(frame, text_column="text")

    fast = an.with_overrides(backend="onnx-int8")
    fast.analyze(frame.head(50), text_column="text")  # exports the int8 graph once

    def run_onnx() -> None:
        fast.encoder._cache.clear(fast.encoder.model_id)
        fast.analyze(frame, text_column="text")

    runs = {"plain": run_plain, "cold": run_cold, "onnx": run_onnx, "warm": run_warm}
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.repeats):  # alternate so drift hits every side alike
        for key, fn in runs.items():
            times[key] += median_time(fn, 1)[1]
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    n = len(texts)
    print(f"\n{'':28}{'median s':>10}{'texts/s':>10}{'vs plain':>10}")
    for key, label in [
        ("plain", "plain ST encode"),
        ("cold", "cxnlp analyze (cold cache)"),
        ("onnx", "analyze onnx-int8 (cold)"),
        ("warm", "cxnlp analyze (warm cache)"),
    ]:
        print(f"{label:28}{med[key]:10.2f}{n / med[key]:10.0f}{med['plain'] / med[key]:9.2f}x")
    print("runs (s): " + ", ".join(f"{k}={[round(t, 2) for t in v]}" for k, v in times.items()))
    print(f"peak RSS of this process: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
