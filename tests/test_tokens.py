"""The GPU encoding path, checked on the CPU: tokens from workers, exact-length passes."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from cxnlp.encode import Encoder
from cxnlp.tokens import Tokens, tokenize, tokenize_chunks, worker_pool

TEXTS = [
    "The flight was delayed and nobody told us why.",
    "",
    "ok",
    "Naïve café 😀 — ＦＵＬＬ width, &amp; tabs\tand\nnewlines",
    "Refund still not processed after three weeks of emails. Awful!",
    "The delivery was late. " * 60 + "The fabric is beautiful and soft. " * 60,  # > window
    "ok",
]


@pytest.fixture(scope="module")
def tokenizer_file(encoder) -> str:
    return str(Path(encoder.folder) / "tokenizer.json")


def test_tokens_are_the_models_own(encoder, tokenizer_file):
    """The Rust tokenizer of the model folder gives exactly the transformers tokenizer's ids."""
    expect = encoder.model_.tokenizer(TEXTS, truncation=False, verbose=False)["input_ids"]
    got = tokenize(tokenizer_file, TEXTS)
    assert got.lengths.tolist() == [len(e) for e in expect]
    assert got.flat.tolist() == [i for e in expect for i in e]
    assert got.lengths[5] > 256  # untruncated: the long text is windowed later, never cut
    assert tokenize(tokenizer_file, TEXTS, 256).lengths.max() == 256


def test_take_and_matrix_pick_texts(tokenizer_file):
    tok = tokenize(tokenizer_file, TEXTS)
    picked = tok.take(np.array([4, 0, 2]))
    singles = [tokenize(tokenizer_file, [TEXTS[i]]) for i in (4, 0, 2)]
    assert picked.flat.tolist() == [i for s in singles for i in s.flat.tolist()]
    same = np.flatnonzero(tok.lengths == tok.lengths[2])  # "ok" twice
    assert tok.matrix(same, int(tok.lengths[2])).shape == (2, 3)
    assert Tokens.concat([]).lengths.size == 0


@pytest.mark.parametrize("processes", [False, True])
def test_worker_pools_give_the_same_tokens_in_order(tokenizer_file, processes):
    texts = [f"{t} #{i}" for i in range(1_500) for t in TEXTS[:5]]  # several worker tasks
    whole = tokenize(tokenizer_file, texts)
    with worker_pool(2, processes=processes) as pool:
        runs = list(tokenize_chunks(tokenizer_file, texts, None, pool, chunk=4_000))
    assert [o for o, _ in runs] == [0, 4_000] and len(runs[-1][1].lengths) == 3_500
    joined = Tokens.concat([t for _, t in runs])
    np.testing.assert_array_equal(joined.flat, whole.flat)
    np.testing.assert_array_equal(joined.lengths, whole.lengths)


def test_gpu_path_gives_the_cpu_paths_vectors(encoder):
    """What CUDA runs (ids tokenized once, exact-length passes without attention mask, long
    texts windowed as on the CPU path) gives the sentence-transformers path's vectors."""
    enc = Encoder(cache=False, device="cpu", tokenize_workers=2)
    direct = enc._encode_direct(TEXTS)
    reference = encoder._encode_unique(TEXTS)
    np.testing.assert_allclose(direct, reference, atol=1e-5)
    np.testing.assert_allclose(direct[2], direct[6], atol=1e-6)  # bit-equal: CPU path only
    assert enc._pool is not None and Encoder(device="cpu")._pool is None  # CPU: no workers
    clone = pickle.loads(pickle.dumps(enc))
    assert clone.tokenize_workers == 2 and "_pool" not in clone.__dict__
