"""Token ids of many texts at once, as flat arrays, optionally from worker processes.

At GPU speed (100k texts/s) the tokenizer, not the model, is the limit: one core turns
about 10-20k texts/s into ids, and the per-text Python lists of a ``transformers`` tokenizer
cost as much again. So the fast path keeps every text's ids back to back in one int32 array
(:class:`Tokens`), made by the Rust tokenizer that the model folder ships
(``tokenizer.json``) in worker threads (it lets go of the GIL) or processes. This module
imports no torch: process workers start in a second.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import chain
from multiprocessing import get_context

import numpy as np

#: Texts per worker task: big enough to amortise pickling, small enough to keep every worker busy.
TASK_TEXTS = 2_000


@dataclass(frozen=True)
class Tokens:
    """Token ids of ``len(lengths)`` texts, back to back in ``flat``."""

    flat: np.ndarray  # int32
    lengths: np.ndarray  # int64, tokens of each text ([CLS] and [SEP] included)

    @cached_property  # read by every forward pass of a run: computed once
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def matrix(self, rows: np.ndarray, length: int) -> np.ndarray:
        """Ids of texts ``rows`` (all of ``length`` tokens) as a ``(len(rows), length)`` array."""
        return self.flat[self.starts[rows, None] + np.arange(length)]

    def take(self, rows: np.ndarray) -> Tokens:
        """The texts ``rows``, in that order."""
        lengths = self.lengths[rows]
        starts = self.starts[rows]
        within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return Tokens(self.flat[np.repeat(starts, lengths) + within], lengths)

    @staticmethod
    def concat(parts: Sequence[Tokens]) -> Tokens:
        if not parts:
            return Tokens(np.zeros(0, np.int32), np.zeros(0, np.int64))
        return Tokens(np.concatenate([p.flat for p in parts]),
                      np.concatenate([p.lengths for p in parts]))  # fmt: skip


@lru_cache(maxsize=4)
def _tokenizer(path: str, max_length: int | None):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)
    tok.no_padding()
    if max_length:
        tok.enable_truncation(max_length)
    else:
        tok.no_truncation()
    return tok


def tokenize(path: str, texts: Sequence[str], max_length: int | None = None) -> Tokens:
    """Ids of ``texts`` (special tokens added) by the tokenizer file ``path``, in this process."""
    tok = _tokenizer(path, max_length)
    encodings = getattr(tok, "encode_batch_fast", tok.encode_batch)(list(texts))
    lengths = np.fromiter((len(e) for e in encodings), np.int64, len(encodings))
    flat = np.fromiter(chain.from_iterable(e.ids for e in encodings), np.int32,
                       int(lengths.sum()))  # fmt: skip
    return Tokens(flat, lengths)


def _tokenize_task(args: tuple[str, list[str], int | None]) -> Tokens:
    path, texts, max_length = args
    return tokenize(path, texts, max_length)


def worker_pool(workers: int, processes: bool = False) -> Executor:
    """Workers that tokenize: threads (the Rust tokenizer lets go of the GIL), or processes.

    Processes are spawned (safe beside CUDA and torch's threads), so a script that uses them
    must guard its top level with ``if __name__ == "__main__":``.
    """
    if processes:
        return ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
    return ThreadPoolExecutor(workers, thread_name_prefix="cxnlp-tokenize")


def default_workers() -> int:
    """Tokenizer workers for the GPU path: the cores, less one for the thread feeding the GPU."""
    return max(1, min(15, (os.cpu_count() or 2) - 1))


def tokenize_chunks(
    path: str,
    texts: Sequence[str],
    max_length: int | None = None,
    pool: Executor | None = None,
    chunk: int = 50_000,
) -> Iterator[tuple[int, Tokens]]:
    """Yield ``(offset, Tokens)`` for consecutive runs of about ``chunk`` texts, in order.

    With a ``pool`` the workers run ahead while the caller uses the runs already yielded
    (tokenizing overlaps the forward passes).
    """
    n = len(texts)
    if pool is None:
        for s in range(0, n, chunk):
            yield s, tokenize(path, texts[s : s + chunk], max_length)
        return
    tasks = [(path, list(texts[s : s + TASK_TEXTS]), max_length) for s in range(0, n, TASK_TEXTS)]
    per_run = max(1, chunk // TASK_TEXTS)
    done: list[Tokens] = []
    offset = start = 0
    for part in pool.map(_tokenize_task, tasks):
        done.append(part)
        offset += len(part.lengths)
        if len(done) == per_run:
            yield start, Tokens.concat(done)
            done, start = [], offset
    if done:
        yield start, Tokens.concat(done)
