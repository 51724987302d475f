"""GPU throughput of the shared encoder and the heads, with the fraction of the FLOP ceiling.

Usage::

    python benchmarks/gpu.py [--rows 400000] [--repeats 3] [--skip-compile]

Texts are the CC0 clothing reviews (review-length, ~80 word pieces), repeated to ``--rows``;
duplicates are *not* collapsed here (``Encoder._encode_unique``): every text is tokenized and
run, so the figures are what distinct texts cost. Printed side by side, median of
``--repeats`` after a warm-up run:

* ``naive loop``: ``SentenceTransformer.encode`` one text at a time (fp32);
* ``sentence-transformers fp32``: ``encode(texts, batch_size=256)`` (it sorts by length);
* ``cxnlp GPU path``: :meth:`Encoder._encode_direct`: tokenized once by the Rust tokenizer
  in worker threads (or processes) ahead of the GPU, exact-length passes of ~64k tokens with
  no padding and no attention mask (SDPA's fastest kernels), float16 or bfloat16 weights;
  also with ``torch.compile`` (unless ``--skip-compile``);
* ``encode + heads``: the shipped sentiment head (with its text cues) and the generic
  codeframe's zero-shot theme scores (with keyword boosts) on the vectors, the text features
  computed in worker processes beside the GPU; tokenized in threads (the Rust tokenizer)
  and in processes (the word-piece cache, :class:`cxnlp.tokens.WordPieces`).

The CPU work per text that caps the end-to-end figure is measured on its own, on any
machine, by ``benchmarks/host.py``.

The ceiling is the FLOPs of the transformer per text (2 x non-embedding parameters per
token, plus attention) at the H100 SXM's dense bf16 peak of 989 TFLOP/s. Without CUDA the
script runs the same code on the CPU with few rows (a smoke test; the figures mean little).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import pandas as pd
from _common import machine, need_data

PEAK_BF16 = 989e12  # H100 SXM dense bf16 FLOP/s


def reviews() -> list[str]:
    path = need_data("womens-ecommerce-clothing-reviews", "Womens Clothing E-Commerce Reviews.csv")
    text = pd.read_csv(path)["Review Text"].dropna().astype(str)
    return text[text.str.strip() != ""].tolist()


def flops_per_text(bert, mean_len: float) -> float:
    """Forward FLOPs of one text of ``mean_len`` tokens: matmuls + attention scores."""
    cfg = bert.config
    emb = sum(p.numel() for p in bert.embeddings.parameters())
    body = sum(p.numel() for p in bert.parameters()) - emb
    attention = 4 * mean_len * cfg.hidden_size * cfg.num_hidden_layers
    return (2 * body + attention) * mean_len


def timed(fn, repeats: int) -> tuple[float, list[float]]:
    fn()  # warm-up: kernels, allocator, compile
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        _sync()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), runs


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


_HEADS: dict = {}


def _init_heads(sentiment, themes) -> None:
    _HEADS.update(sentiment=sentiment, themes=themes)


def _heads(args: tuple[list[str], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Sentiment probabilities and theme confidences of one chunk (in a worker process)."""
    from cxnlp.sentiment import head_proba

    texts, vecs = args
    return (head_proba(_HEADS["sentiment"], vecs, texts),
            _HEADS["themes"].decision_scores(vecs, texts))  # fmt: skip


def main() -> None:
    import torch

    from cxnlp.encode import Encoder
    from cxnlp.sentiment import head_proba, load_sentiment
    from cxnlp.themes import CodeframeClassifier
    from cxnlp.tokens import default_workers, tokenize_chunks, worker_pool

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cuda = torch.cuda.is_available()
    parser.add_argument("--rows", type=int, default=400_000 if cuda else 3_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-compile", action="store_true")
    args = parser.parse_args()
    print(machine())
    base = reviews()
    texts = (base * (args.rows // len(base) + 1))[: args.rows]
    n = len(texts)
    enc = Encoder(cache=False)
    st = enc.model_
    bert = st[0].auto_model
    path = enc.tokenizer_file
    from cxnlp.tokens import tokenize

    lengths = tokenize(path, base).lengths
    assert lengths.max() <= 256, "a review over the window: the end-to-end loop skips windowing"
    mean_len = float(np.mean(lengths))
    per_text = flops_per_text(bert, mean_len)
    ceiling = PEAK_BF16 / per_text
    print(
        f"{n:,} texts ({len(base):,} distinct reviews repeated), mean {mean_len:.1f} tokens, "
        f"{per_text / 1e9:.2f} GFLOP/text -> ceiling {ceiling:,.0f} texts/s at 989 TFLOP/s"
    )
    rows: list[tuple[str, float]] = []

    def report(name: str, secs: float, count: int) -> None:
        rate = count / secs
        rows.append((name, rate))
        print(
            f"  {name}: {rate:,.0f} texts/s ({count:,} in {secs:.2f} s, "
            f"{100 * rate / ceiling:.1f}% of ceiling)",
            flush=True,
        )

    # (a) naive loop and (b) sentence-transformers fp32, length-sorted batches
    st32 = st.to(torch.float32)
    few = texts[: 500 if cuda else 20]
    secs, _ = timed(lambda: [st32.encode([t]) for t in few], 1)
    report("naive loop, fp32, one text per call", secs, len(few))
    some = texts[: min(n, 20_000)]
    secs, _ = timed(lambda: st32.encode(some, batch_size=256), 1)
    report("sentence-transformers encode, fp32, batch 256", secs, len(some))

    # (c) the cxnlp GPU path, in float16 (the default on CUDA) and bfloat16
    results: dict[str, np.ndarray] = {}
    variants = [("float16", False), ("float16", True), ("bfloat16", False)]
    for dtype, procs in variants if cuda else [("float32", False)]:
        e = Encoder(cache=False, dtype=dtype, device=None if cuda else "cpu",
                    tokenize_workers=default_workers())  # fmt: skip
        if procs:
            e.__dict__["_pool"] = worker_pool(default_workers(), processes=True)
        e.model_  # noqa: B018 - load before timing
        secs, _ = timed(lambda e=e, d=dtype: results.__setitem__(d, e._encode_direct(texts)),
                        args.repeats)  # fmt: skip
        report(f"cxnlp GPU path, {dtype}, tokenizer {'processes' if procs else 'threads'} "
               f"x{default_workers()}", secs, n)  # fmt: skip
        if procs:
            e._pool.shutdown()
    # the parts: tokenizing alone, forward passes alone
    pool = worker_pool(default_workers())
    t = time.perf_counter()
    runs = list(tokenize_chunks(path, texts, None, pool, 50_000))
    report("  tokenize only (threads)", time.perf_counter() - t, n)
    pool.shutdown()
    ppool = worker_pool(default_workers(), processes=True)
    list(tokenize_chunks(path, texts[:20_000], None, ppool, 100_000))  # start the workers
    t = time.perf_counter()
    list(tokenize_chunks(path, texts, None, ppool, 100_000))
    report("  tokenize only (processes)", time.perf_counter() - t, n)
    e = Encoder(cache=False, device=None if cuda else "cpu")
    secs, _ = timed(lambda: [e._forward(tok) for _, tok in runs], args.repeats)
    report(f"  forward passes only, {e.torch_dtype}", secs, n)
    # agreement of the GPU path with fp32 sentence-transformers
    m = min(5_000, n)
    ref = st32.encode(texts[:m], batch_size=256, normalize_embeddings=True)
    for dtype, vecs in results.items():
        cos = (vecs[:m] * ref).sum(1)
        print(
            f"  cosine to fp32 sentence-transformers, {dtype}: mean {cos.mean():.5f}, "
            f"min {cos.min():.5f}"
        )

    # (d) encode + heads: sentiment (with text cues) and zero-shot themes on every vector
    sent = load_sentiment()
    themes = CodeframeClassifier(codeframe="generic", encoder=enc)
    themes._ensure_prototypes()  # embedded once here; the workers get the fitted head
    vecs = results.get("float16", next(iter(results.values())))
    t = time.perf_counter()
    k = min(50_000, n)
    head_proba(sent, vecs[:k], texts[:k])
    themes.decision_scores(vecs[:k], texts[:k])
    report(f"  heads only, one process ({k:,} vectors)", time.perf_counter() - t, k)
    workers = max(1, (os.cpu_count() or 2) // 2)  # the other half tokenizes
    hpool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_heads,
                                initargs=(sent, themes))  # fmt: skip
    list(hpool.map(_heads, [(texts[:10], vecs[:10])] * workers))  # start the workers
    e = Encoder(cache=False, device=None if cuda else "cpu")
    e._encode_direct(texts[:10_000])  # warm

    def end_to_end(tokenizers) -> None:
        step = 20_000
        futures = []
        for offset, tok in tokenize_chunks(path, texts, None, tokenizers, 50_000):
            v = e._forward(tok)
            futures += [hpool.submit(_heads, (texts[offset + s : offset + s + step],
                                              v[s : s + step]))
                        for s in range(0, len(v), step)]  # fmt: skip
        for f in futures:
            f.result()

    for name, tokenizers in (("threads", e._pool), ("processes", ppool)):
        secs, _ = timed(lambda p=tokenizers: end_to_end(p), args.repeats)
        report(f"encode + heads end to end (tokenizer {name}, heads in {workers} processes)",
               secs, n)  # fmt: skip
    hpool.shutdown()
    ppool.shutdown()
    print("\n| | texts/s | % of ceiling |\n|---|---:|---:|")
    for name, rate in rows:
        print(f"| {name.strip()} | {rate:,.0f} | {100 * rate / ceiling:.1f}% |")
    if cuda and not args.skip_compile:  # last: its warm-up compiles for minutes
        try:
            e.model_[0].auto_model = torch.compile(e.model_[0].auto_model, dynamic=True)
            t = time.perf_counter()
            [e._forward(tok) for _, tok in runs]
            print(f"  (torch.compile warm-up {time.perf_counter() - t:.0f} s)", flush=True)
            secs, _ = timed(lambda: [e._forward(tok) for _, tok in runs], args.repeats)
            report(f"  forward passes only, {e.torch_dtype}, torch.compile", secs, n)
        except Exception as exc:  # noqa: BLE001 - a benchmark variant, reported and skipped
            print(f"  torch.compile failed: {type(exc).__name__}: {str(exc)[:200]}")


if __name__ == "__main__":
    main()
