"""The GPU encoding path, checked on the CPU: tokens from workers, exact-length passes."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxnlp import tokens as tokens_module
from cxnlp.encode import Encoder
from cxnlp.tokens import Tokens, WordPieces, _word_pieces, tokenize, tokenize_chunks, worker_pool

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
    return encoder.tokenizer_file


def test_tokens_are_the_models_own(encoder, tokenizer_file):
    """The Rust tokenizer of the model folder gives exactly the transformers tokenizer's ids."""
    expect = encoder.model_.tokenizer(TEXTS, truncation=False, verbose=False)["input_ids"]
    got = tokenize(tokenizer_file, TEXTS)
    assert got.lengths.tolist() == [len(e) for e in expect]
    assert got.flat.tolist() == [i for e in expect for i in e]
    assert got.lengths[5] > 256  # untruncated: the long text is windowed later, never cut
    assert tokenize(tokenizer_file, TEXTS, 256).lengths.max() == 256


#: Pieces of text where a word-piece shortcut could go wrong: case, punctuation, digits, the
#: special tokens written out, control and non-ASCII characters, words over 100 characters.
TRICKY = ["Don't", "NOT", "bad", "e-mail", "3.5", "$20", "a_b", "[MASK]", "[sep]", "[UNK]x",
          "\t", "\n", "\r\n", "  ", "\x7f", "\x0b", "\x00", "café", "Ｆ", "😀", "中文", "İ",
          "x" * 101, "unbelievably", "##ing", "@united", "#hashtag", "...", "!?"]  # fmt: skip


def _ids(tok: Tokens) -> list[list[int]]:
    return [tok.flat[s : s + n].tolist() for s, n in zip(tok.starts, tok.lengths, strict=True)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=6)), max_size=12)
                .map("".join), min_size=1, max_size=8),
       st.sampled_from([None, 1, 2, 3, 8, 256]))  # fmt: skip
def test_word_piece_cache_gives_the_rust_tokenizers_ids(tokenizer_file, texts, max_length):
    """The cache is exact: the same ids as the Rust tokenizer for any text and cut."""
    assert isinstance(_word_pieces(tokenizer_file), WordPieces)
    got = tokenize(tokenizer_file, texts, max_length)
    assert _ids(got) == _ids(tokenize(tokenizer_file, texts, max_length, word_cache=False))


def test_word_piece_cache_stays_bounded_and_exact(tokenizer_file, monkeypatch):
    monkeypatch.setattr(tokens_module, "CACHE_WORDS", 5)
    words = _word_pieces(tokenizer_file).words
    texts = [" ".join(f"w{i}x{j}" for j in range(4)) for i in range(20)]
    got = tokenize(tokenizer_file, texts)
    assert len(words) <= 5
    assert _ids(got) == _ids(tokenize(tokenizer_file, texts, word_cache=False))


def test_tokens_added_to_normalised_text_go_to_the_rust_tokenizer(tokenizer_file, tmp_path):
    """An added token matched after normalisation ("new york" in "New\tYork") is not cached."""
    from tokenizers import AddedToken, Tokenizer

    tok = Tokenizer.from_file(tokenizer_file)
    tok.add_tokens([AddedToken("new york", normalized=True)])
    path = str(tmp_path / "tokenizer.json")
    tok.save(path)
    assert WordPieces.from_tokenizer(Tokenizer.from_file(path)) is None
    texts = ["I live in New\tYork", "new york, new york"]
    assert _ids(tokenize(path, texts)) == _ids(tokenize(path, texts, word_cache=False))
    assert _ids(tokenize(path, texts))[1].count(tok.token_to_id("new york")) == 2


def test_other_tokenizers_go_to_the_rust_tokenizer(tmp_path):
    """A tokenizer file of another shape (here whitespace words, no lower-casing) is not
    cached: its own ids come back."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "Good": 1, "service": 2}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    path = str(tmp_path / "tokenizer.json")
    tok.save(path)
    assert WordPieces.from_tokenizer(Tokenizer.from_file(path)) is None
    assert _ids(tokenize(path, ["Good service", "good SERVICE"])) == [[1, 2], [0, 0]]


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
