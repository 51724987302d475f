"""CPU work per text on the GPU path: what caps it once the forward passes are fast.

Usage::

    python benchmarks/host.py [--n 20000] [--repeats 3]

On an H100 the forward passes ran at 95-99k review-length texts/s (``benchmarks/gpu.py``),
but every text also costs CPU time: its token ids, the sentiment head's text cues and the
theme keyword hits. This script measures that CPU time on one core of this machine, on the
CC0 clothing reviews (the texts ``gpu.py`` uses), median of ``--repeats`` runs, before and
after the word-piece cache (:class:`cxnlp.tokens.WordPieces`) and the lower-cased cue
patterns, each checked to give exactly the same ids and cues:

* ``token ids``: the Rust tokenizer of the model folder (``encode_batch_fast``) vs the
  word-piece cache, cold (a fresh cache: every word split once) and warm;
* ``text cues``: the ``re.I`` patterns on the text as written vs :func:`text_cues`;
* ``keyword hits``: the generic codeframe's theme keywords (unchanged);
* pools on this machine's cores: ``tokenize_chunks`` in threads (the Rust tokenizer) and in
  processes (the cache), each run on a fresh pool whose caches start cold.

The end line turns the CPU time per text into the most texts/s one core can feed a GPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one core: Rust would use them all

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import machine, median_time, need_data  # noqa: E402
from gpu import reviews  # noqa: E402


def cues_before(texts: list[str]) -> np.ndarray:
    """Text cues as computed before the lower-cased patterns: ``re.I`` on the text as written."""
    from cxnlp.encode import encoder_text
    from cxnlp.sentiment import TEXT_CUES

    out = np.zeros((len(texts), len(TEXT_CUES)), np.float32)
    for i, raw in enumerate(texts):
        t = encoder_text(raw)
        for j, (name, pat) in enumerate(TEXT_CUES.items()):
            found = pat.findall(t) if name == "negation" else pat.search(t)
            out[i, j] = min(len(found), 3) / 3 if name == "negation" else bool(found)
    return out


def main() -> None:
    from cxnlp.encode import Encoder
    from cxnlp.sentiment import text_cues
    from cxnlp.themes import CodeframeClassifier
    from cxnlp.tokens import _word_pieces, tokenize, tokenize_chunks, worker_pool

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    texts = reviews()[: args.n]
    n = len(texts)
    path = Encoder(cache=False).tokenizer_file
    themes = CodeframeClassifier("generic")
    print(f"{n:,} clothing reviews, one core, median of {args.repeats}\n")

    rust = tokenize(path, texts, word_cache=False)
    _word_pieces(path).words.clear()
    t = time.perf_counter()
    cached = tokenize(path, texts)
    cold = time.perf_counter() - t
    same = np.array_equal(rust.flat, cached.flat) and np.array_equal(rust.lengths, cached.lengths)
    assert same, "the word-piece cache gave other ids than the Rust tokenizer"
    assert np.array_equal(cues_before(texts), text_cues(texts)), "text cues changed"

    def us(fn) -> float:
        return 1e6 * median_time(fn, args.repeats)[0] / n

    ids_before = us(lambda: tokenize(path, texts, word_cache=False))
    ids_now = us(lambda: tokenize(path, texts))
    cues_old, cues_now = us(lambda: cues_before(texts)), us(lambda: text_cues(texts))
    keywords = us(lambda: themes.keyword_hits(texts))
    rows = [
        ("token ids", ids_before, ids_now),
        ("  (word-piece cache cold: every word split once)", None, 1e6 * cold / n),
        ("text cues (sentiment head)", cues_old, cues_now),
        ("keyword hits (generic codeframe)", keywords, keywords),
    ]
    before, now = ids_before + cues_old + keywords, ids_now + cues_now + keywords
    print("| CPU work per text | before, µs | now, µs | speed-up |\n|---|---:|---:|---:|")
    for name, old, new in rows:
        ratio = f"{old / new:.1f}×" if old else ""
        print(f"| {name} | {'' if old is None else f'{old:.1f}'} | {new:.1f} | {ratio} |")
    print(f"| **total** | {before:.1f} | {now:.1f} | **{before / now:.1f}×** |")
    print(f"\none core feeds the GPU at most {1e6 / before:,.0f} texts/s before, "
          f"{1e6 / now:,.0f} now")  # fmt: skip

    cores = os.cpu_count() or 1
    many = (texts * (100_000 // n + 1))[:100_000]
    tweets = pd.read_csv(need_data("twitter-us-airline-sentiment", "Tweets.csv"))["text"]
    print(f"\ntokenize_chunks on {cores} workers ({len(many):,} reviews: the {n:,} repeated; a "
          f"fresh pool each run, started on tweets, so every cache starts cold; median of "
          f"{args.repeats}):")  # fmt: skip
    for name, processes in (("threads, Rust tokenizer", False), ("processes, word-piece cache",
                                                                  True)):  # fmt: skip
        runs = []
        for _ in range(args.repeats):
            with worker_pool(cores, processes=processes) as pool:
                list(tokenize_chunks(path, tweets.head(4 * cores * 500).tolist(), None, pool))
                t = time.perf_counter()
                list(tokenize_chunks(path, many, None, pool))
                runs.append(time.perf_counter() - t)
        print(f"  {name}: {len(many) / statistics.median(runs):,.0f} texts/s")


if __name__ == "__main__":
    main()
