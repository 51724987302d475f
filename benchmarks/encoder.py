"""Encoder backends side by side: speed, closeness to torch and batch dependence.

Usage::

    python benchmarks/encoder.py [--n 3000] [--repeats 3]

Encodes the unique sentences of the airline tweets test split (what ``analyze`` encodes:
sentence split, @handles removed) with each backend through ``Encoder._encode_by_length``
(passes of one token length, each backend's default batch: 64, 256 for CPU bfloat16),
alternating backends each repeat in this process, and prints the median wall time.
``torch bfloat16`` is the torch backend with ``dtype="bfloat16"``: on a CPU, bfloat16
matrix products with float32 embeddings and layer norms (:mod:`cxnlp.cpu_bf16`; fast only
where the CPU has AMX or AVX512-BF16, which the header says). Beside the shipped backends
it runs ORT's stock dynamic int8 graph (``quantize_dynamic``, one activation scale per batch
tensor; the onnx-int8 backend before per-token scales) to show what per-token scales cost and buy.

* ``cosine``: of each vector with the torch vector of the same sentence (mean / min).
* ``batch dep.``: largest change of any vector component when the same sentences are
  encoded in other passes (batch 7, reversed order) and each of 50 sentences alone.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, median_time, need_data

from cxnlp import cpu_bf16
from cxnlp.clean import split_sentences
from cxnlp.encode import Encoder, encoder_text
from cxnlp.onnx_backend import GRAPHS, OnnxSentenceModel


def airline_sentences(n: int) -> list[str]:
    df = pd.read_csv(need_data("twitter-us-airline-sentiment", "Tweets.csv"))
    texts = df[df["tweet_id"] % 5 == 0]["text"]
    sents = (encoder_text(s.text) for t in texts for s in split_sentences(t))
    return list(dict.fromkeys(sents))[:n]


def per_batch_int8(enc: Encoder, folder: Path) -> Encoder:
    """The same encoder on ORT's stock dynamic int8 graph (activation scales per batch)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = folder / "model-int8-per-batch.onnx"
    if not out.exists():
        fp32 = Path(enc.model_.onnx_path).with_name(GRAPHS["onnx"].file)
        logging.getLogger().setLevel(logging.ERROR)  # its pre-processing hint
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    old = Encoder(backend="onnx-int8", cache=False, cache_dir=enc.cache_dir)
    old.model_ = OnnxSentenceModel(enc.folder, out)  # replaces the cached property
    return old


def batch_dependence(enc: Encoder, sents: list[str], vecs: np.ndarray) -> float:
    """Largest component change in other passes: batch 7 reversed, and 50 sentences alone."""
    other = Encoder(enc.model, backend=enc.backend, dtype=enc.dtype, cache=False, batch_size=7)
    other.model_ = enc.model_
    again = other._encode_by_length(sents[::-1])[::-1]
    alone = np.stack([enc._encode_by_length([s])[0] for s in sents[:50]])
    return float(max(np.abs(again - vecs).max(), np.abs(alone - vecs[:50]).max()))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    sents = airline_sentences(args.n)
    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.1f}; "
          f"native bfloat16: {cpu_bf16.native()}")  # fmt: skip
    print(f"sentences: {len(sents):,} unique airline test-split sentences")
    build = Path(tempfile.mkdtemp(prefix="cxnlp-encoder-bench-"))
    encs = {b: Encoder(backend=b, cache=False, cache_dir=build) for b in GRAPHS}
    encs = {"torch": Encoder(cache=False), "torch bfloat16": Encoder(cache=False, dtype="bfloat16"),
            **encs}  # fmt: skip
    encs["int8 per batch (ORT stock)"] = per_batch_int8(encs["onnx-int8"], build)

    vecs = {k: e._encode_by_length(sents) for k, e in encs.items()}  # also loads / warms up
    times: dict[str, list[float]] = {k: [] for k in encs}
    for _ in range(args.repeats):  # alternate so drift hits every backend alike
        for k, e in encs.items():
            times[k] += median_time(lambda e=e: e._encode_by_length(sents), 1)[1]
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}

    ref = vecs["torch"]
    print(f"\n{'backend':28}{'median s':>9}{'sent/s':>8}{'vs torch':>9}{'cosine mean / min':>20}"
          f"{'max |diff|':>11}{'batch dep.':>11}")  # fmt: skip
    for k, v in vecs.items():
        cos = (v * ref).sum(1)
        dep = batch_dependence(encs[k], sents, v)
        print(
            f"{k:28}{med[k]:9.2f}{len(sents) / med[k]:8.0f}{med['torch'] / med[k]:8.2f}x"
            f"{cos.mean():11.4f} / {cos.min():.4f}{np.abs(v - ref).max():11.1e}{dep:11.1e}"
        )
    print("runs (s): " + ", ".join(f"{k}={[round(t, 2) for t in v]}" for k, v in times.items()))
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
