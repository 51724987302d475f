"""Token ids of many texts at once, as flat arrays, optionally from worker processes.

At GPU speed (100k texts/s) the CPU work per text, not the model, is the limit: the Rust
tokenizer that the model folder ships (``tokenizer.json``) takes ~110 us of one core for a
review, and the per-text Python lists of a ``transformers`` tokenizer cost as much again.
So every text's ids are kept back to back in one int32 array (:class:`Tokens`), word-piece
tokenizers go through :class:`WordPieces` (the same ids, each distinct word split once:
~5x less CPU per review), and the work runs in worker threads (the Rust tokenizer, which
lets go of the GIL) or processes (the cache). The CPU path uses the cache in its own thread.
This module imports no torch: process workers start in a second.
"""

from __future__ import annotations

import json
import os
import re
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
    def from_rows(rows: Sequence[Sequence[int]]) -> Tokens:
        """Tokens of per-text id lists."""
        lengths = np.fromiter(map(len, rows), np.int64, len(rows))
        return Tokens(np.fromiter(chain.from_iterable(rows), np.int32, int(lengths.sum())), lengths)

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


def _encode_batch(tokenizer, texts: list[str]) -> list:
    """Encodings of ``texts``, without offsets where this version of tokenizers can."""
    return getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)(texts)


#: Text that BERT's normaliser only lower-cases (tab, newline and return become spaces, which
#: :data:`_WORD` skips): printable ASCII and those three.
_PLAIN = re.compile(r"[\t\n\r\x20-\x7e]*")
#: BERT's pre-tokenizer on such text: runs of letters and digits, and every other visible
#: character alone (each ASCII symbol is punctuation to BERT); white space splits.
_WORD = re.compile(r"[a-z0-9]+|[^a-z0-9\s]")
#: Distinct words one cache holds before it starts afresh (a few hundred bytes each).
CACHE_WORDS = 200_000


class _Words(dict):
    """Word -> its word-piece ids, split by the Rust tokenizer on first sight."""

    def __init__(self, tokenizer) -> None:
        super().__init__()
        self.tokenizer = tokenizer

    def __missing__(self, word: str) -> list[int]:
        if len(self) >= CACHE_WORDS:
            self.clear()
        ids = self[word] = self.tokenizer.encode(word, add_special_tokens=False).ids
        return ids


class WordPieces:
    """A BERT word-piece tokenizer's exact ids, each distinct word split once.

    The Rust tokenizer normalises, splits and word-pieces every word of every text: ~110 us
    of one core for a review, which caps the GPU path. Feedback repeats a small vocabulary,
    so plain-ASCII text is lower-cased, cut at BERT's word boundaries by one regex and its
    words looked up (~20 us; ``benchmarks/host.py``). Other text, and text holding an added
    token such as ``[MASK]``, goes to the Rust tokenizer whole. Only for tokenizer files of
    exactly that shape (:meth:`from_tokenizer`); tests compare the ids with the Rust ones.
    """

    def __init__(self, tokenizer, cls: int, sep: int) -> None:
        self.tokenizer = tokenizer  # no truncation, no padding
        self.cls, self.sep = cls, sep
        added = tokenizer.get_added_tokens_decoder().values()
        self.added = [t.content.lower() for t in added]
        self.words = _Words(tokenizer)

    @classmethod
    def from_tokenizer(cls, tokenizer) -> WordPieces | None:
        """A cache for ``tokenizer`` when it is a lower-casing BERT word-piece one, else None."""
        spec = json.loads(tokenizer.to_str())
        parts = ("normalizer", "pre_tokenizer", "model", "post_processor")
        norm, pre, model, post = (spec.get(k) or {} for k in parts)
        if not (norm.get("type") == "BertNormalizer" and norm.get("lowercase")
                and norm.get("clean_text") and pre.get("type") == "BertPreTokenizer"
                and model.get("type") == "WordPiece"):  # fmt: skip
            return None
        if any(t.normalized for t in tokenizer.get_added_tokens_decoder().values()):
            return None  # those match normalised text (spaces, accents): rare, never special
        if post.get("type") == "BertProcessing":
            return cls(tokenizer, post["cls"][1], post["sep"][1])
        single = post.get("single") if post.get("type") == "TemplateProcessing" else None
        if not single or [next(iter(p)) for p in single] != ["SpecialToken", "Sequence",
                                                               "SpecialToken"]:  # fmt: skip
            return None
        ids = [post["special_tokens"][single[i]["SpecialToken"]["id"]]["ids"] for i in (0, 2)]
        if any(len(i) != 1 for i in ids):
            return None
        return cls(tokenizer, ids[0][0], ids[1][0])

    def __call__(self, texts: Sequence[str], max_length: int | None = None) -> list[list[int]]:
        """Ids of each text, special tokens added, cut to ``max_length`` as the Rust one cuts."""
        get = self.words.__getitem__
        rows: list[list[int] | None] = []
        others: list[int] = []
        for i, text in enumerate(texts):
            low = text.lower()
            if _PLAIN.fullmatch(text) and not any(a in low for a in self.added):
                rows.append([self.cls, *chain.from_iterable(map(get, _WORD.findall(low))),
                             self.sep])  # fmt: skip
            else:
                rows.append(None)
                others.append(i)
        if others:
            encodings = _encode_batch(self.tokenizer, [texts[i] for i in others])
            for i, e in zip(others, encodings, strict=True):
                rows[i] = e.ids
        if max_length and max_length >= 2:  # under 2 the Rust tokenizer does not cut at all
            rows = [r if len(r) <= max_length else [*r[: max_length - 1], self.sep] for r in rows]
        return rows  # type: ignore[return-value]


@lru_cache(maxsize=4)
def _word_pieces(path: str) -> WordPieces | None:
    tok = _tokenizer(path, None)
    return WordPieces.from_tokenizer(tok)


def tokenize(
    path: str, texts: Sequence[str], max_length: int | None = None, word_cache: bool = True
) -> Tokens:
    """Ids of ``texts`` (special tokens added) by the tokenizer file ``path``, in this process.

    Word-piece (BERT) tokenizer files go through the exact :class:`WordPieces` cache, unless
    ``word_cache`` is false: in threads, where only the Rust tokenizer lets go of the GIL.
    """
    texts = list(texts)
    pieces = _word_pieces(path) if word_cache else None
    if pieces is not None:
        rows = pieces(texts, max_length)
    else:
        tok = _tokenizer(path, max_length)
        rows = [e.ids for e in _encode_batch(tok, texts)]
    return Tokens.from_rows(rows)


def _tokenize_task(args: tuple[str, list[str], int | None, bool]) -> Tokens:
    return tokenize(*args)


def worker_pool(workers: int, processes: bool = False) -> Executor:
    """Workers that tokenize: threads (the Rust tokenizer lets go of the GIL), or processes.

    Processes are spawned (safe beside CUDA and torch's threads), so a script that uses them
    must guard its top level with ``if __name__ == "__main__":``. They tokenize with the
    word-piece cache, whose Python loop holds the GIL: on 2 cores, 2 processes made ~4x the
    ids per second of 2 threads (``benchmarks/host.py``).
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
    cached = not isinstance(pool, ThreadPoolExecutor)  # see tokenize()
    tasks = [(path, list(texts[s : s + TASK_TEXTS]), max_length, cached)
             for s in range(0, n, TASK_TEXTS)]  # fmt: skip
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
