"""Sentence offsets, normalisation and the shared encoder (real model, offline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxnlp.clean import normalize, split_sentences
from cxnlp.encode import EmbeddingCache, Encoder, embed_documents
from cxnlp.errors import ConfigError


def test_split_sentences_keeps_offsets():
    text = "The staff were lovely. The delivery was late!! Would I order again? No."
    spans = split_sentences(text)
    assert [s.text for s in spans] == [
        "The staff were lovely.",
        "The delivery was late!!",
        "Would I order again? No.",
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)


@given(st.text(max_size=300))
def test_offsets_always_slice_the_text(text):
    for s in split_sentences(text):
        assert text[s.start : s.end] == s.text
        assert s.text.strip()


def test_normalize_fixes_entities_mojibake_and_controls():
    assert normalize("Caf\u00c3\u00a9 &amp; bar\x00 ") == "Café & bar"
    assert normalize("  \n ") == ""


def test_encoder_dedupes_and_normalises(encoder):
    vecs = encoder.encode(["Great service", "Late delivery", "Great service"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(vecs[0], vecs[2])
    assert encoder.encode([]).shape == (0, 384)


def test_long_text_is_windowed_not_truncated(encoder):
    head = "The delivery was late. " * 60
    tail = "The fabric is beautiful and soft. " * 60
    windows = encoder.windows(head + tail)
    assert len(windows) >= 2
    assert windows[-1].rstrip().endswith("soft.")  # the end of the text is read
    long_vec = encoder.encode([head + tail])[0]
    head_vec = encoder.encode([head])[0]
    assert long_vec @ head_vec < 0.999  # the tail changed the vector


def test_cache_makes_rerun_free(tmp_path):
    enc = Encoder(cache_dir=tmp_path)
    first = enc.encode(["a brand new sentence about refunds"])
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    key = EmbeddingCache.key("a brand new sentence about refunds")
    stored = cache.get(enc.model_id, [key])
    np.testing.assert_array_equal(stored[key], first[0])
    assert Encoder(cache_dir=tmp_path).encode(["a brand new sentence about refunds"]).shape == (
        1,
        384,
    )


def test_unknown_model_says_what_to_do():
    with pytest.raises(ConfigError, match="hub names are not reachable offline"):
        _ = Encoder("sentence-transformers/all-mpnet-base-v2").model_id


def test_embed_documents_means_sentences(encoder):
    emb = embed_documents(encoder, ["Love it. Delivery was late!", "", "ok"])
    assert list(emb.sentences["doc"]) == [0, 0, 2]
    assert not emb.docs[1].any()
    expect = emb.sentence_vectors[:2].sum(0)
    np.testing.assert_allclose(emb.docs[0], expect / np.linalg.norm(expect), atol=1e-6)


def test_passes_are_the_models_own_vectors(encoder):
    """Each pass hands the model its tokenizer's exact tensors, tokenized once (by the
    word-piece cache): bit for bit what ``SentenceTransformer.encode`` gives for that pass."""
    from cxnlp.encode import MIN_PASS_TOKENS

    for text in ["Where can I find the size guide?", "Rude staff at the till, long queue!", "ok"]:
        length = len(encoder.model_.tokenizer(text)["input_ids"])
        rows = -(-MIN_PASS_TOKENS // length)  # a pass filled with copies of the text
        want = encoder.model_.encode([text] * rows, batch_size=rows, normalize_embeddings=True)
        np.testing.assert_array_equal(encoder._encode_unique([text])[0], want[0])


def _folder_like(encoder, where: Path, drop: str = "", **files: object) -> Path:
    """The model folder with ``drop`` left out and ``files`` (name: JSON) written instead."""
    import json

    where.mkdir()
    for item in Path(encoder.folder).iterdir():
        if item.name != drop and item.name not in files:
            (where / item.name).symlink_to(item)
    for name, content in files.items():
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        (where / name).write_text(json.dumps(content))
    return where


def test_a_model_folder_without_tokenizer_json_uses_its_own_tokenizer(encoder, tmp_path):
    local = Encoder(str(_folder_like(encoder, tmp_path / "m", drop="tokenizer.json")), cache=False)
    texts = ["The parcel arrived two weeks late.", "ok", "Naïve café 😀"]
    np.testing.assert_array_equal(local.encode(texts), encoder._encode_unique(texts))


MODULES = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
           {"idx": 1, "name": "1", "path": "1_Pooling",
            "type": "sentence_transformers.models.Pooling"},
           {"idx": 2, "name": "2", "path": "2_Dropout",
            "type": "sentence_transformers.models.Dropout"},
           {"idx": 3, "name": "3", "path": "3_Normalize",
            "type": "sentence_transformers.models.Normalize"}]  # fmt: skip
def _cased_tokenizer() -> dict:
    """The model's tokenizer.json with lower-casing off (sentence-transformers does it)."""
    import json

    spec = json.loads(Path(Encoder(cache=False).tokenizer_file).read_text())
    spec["normalizer"]["lowercase"] = False
    return spec


CHANGED_TEXT = {
    "lower-cased": {"sentence_bert_config.json": {"max_seq_length": 256, "do_lower_case": True},
                    "tokenizer.json": _cased_tokenizer()},
    "prompted": {"config_sentence_transformers.json": {"prompts": {"query": "query: "},
                                                       "default_prompt_name": "query"}},
    "dropout": {"modules.json": MODULES, "2_Dropout/config.json": {"dropout": 0.5}},
}  # fmt: skip


@pytest.mark.parametrize("change", sorted(CHANGED_TEXT))
def test_folders_that_change_the_text_keep_their_own_encode(encoder, tmp_path, change):
    """Where sentence-transformers lower-cases, prompts or adds modules, ``tokenizer.json``'s
    ids are not what the model reads: each pass goes through ``model.encode`` (in eval mode)."""
    from cxnlp.encode import MIN_PASS_TOKENS

    local = Encoder(str(_folder_like(encoder, tmp_path / "m", **CHANGED_TEXT[change])),
                    cache=False)  # fmt: skip
    assert encoder._ids_path and not local._ids_path
    for text in ["Where can I find the SIZE guide?", "REFUND please"]:
        rows = -(-MIN_PASS_TOKENS // int(local._tokens([text]).lengths[0]))
        want = local.model_.encode([text] * rows, batch_size=rows, normalize_embeddings=True)
        got = local._encode_unique([text])[0]
        np.testing.assert_array_equal(got, want[0])
        if change == "prompted":  # the others read as the shipped folder does
            assert not np.array_equal(got, encoder._encode_unique([text])[0])


def test_passes_of_ids_suit_another_architecture(encoder, tmp_path):
    """A local folder of another architecture (a tiny random DistilBERT with the same
    tokenizer, built here) gets ``SentenceTransformer.encode``'s own vectors from its ids."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import DistilBertConfig, DistilBertModel

    tok = encoder.model_.tokenizer
    torch.manual_seed(0)
    config = DistilBertConfig(vocab_size=tok.vocab_size, dim=32, n_layers=1, n_heads=2,
                              hidden_dim=64)  # fmt: skip
    DistilBertModel(config).save_pretrained(tmp_path / "hf")
    tok.save_pretrained(tmp_path / "hf")
    word = models.Transformer(str(tmp_path / "hf"))
    dim = getattr(word, "get_embedding_dimension", None) or word.get_word_embedding_dimension
    pooling = models.Pooling(dim())
    SentenceTransformer(modules=[word, pooling]).save(str(tmp_path / "st"))
    model = SentenceTransformer(str(tmp_path / "st"), device="cpu")
    text = "Where can I find the size guide?"
    from cxnlp.encode import MIN_PASS_TOKENS

    rows = -(-MIN_PASS_TOKENS // len(model.tokenizer(text)["input_ids"]))
    want = model.encode([text] * rows, batch_size=rows, normalize_embeddings=True)[0]
    local = Encoder(str(tmp_path / "st"), cache=False)
    assert local._ids_path
    np.testing.assert_array_equal(local.encode([text])[0], want)


def test_vectors_do_not_depend_on_the_thread_count():
    """A Dask worker encodes on one thread, a local run on all cores: same bits."""
    import torch

    texts = ["The parcel arrived two weeks late and customer service never answered my emails.",
             "Where can I find the size guide?", "Rude staff at the till and a long queue."]
    fresh = Encoder(cache=False)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        two = fresh.encode(texts)
        torch.set_num_threads(1)
        one = fresh.encode(texts)
    finally:
        torch.set_num_threads(before)
    assert np.array_equal(one, two)


def test_bfloat16_on_cpu_is_close_to_fp32_and_batch_independent(encoder):
    """CPU bfloat16 stays at cosine > 0.9999 of fp32, gets its own cache keys, and gives
    every text the same bits in passes of 256 texts (its default) or 7, alone, and on 1 or
    2 threads (a Dask worker's thread count)."""
    import torch

    from cxnlp.cpu_bf16 import BlockedLinear

    base = ["The flight was delayed and nobody told us why.", "Lovely staff!", "ok",
            "Refund still not processed after three weeks of emails.",
            "The parcel arrived two weeks late and customer service never answered my emails.",
            "Where can I find the size guide?", "Rude staff at the till and a long queue.",
            "Great value for money, would buy again."]  # fmt: skip
    # 8 x 40 distinct texts; texts of one token length share a pass: up to 40 x 3 tokens...
    texts = [f"{t} ({n})" for n in range(40) for t in base]
    # ...and 300 of one length make passes of 256 + 44 texts (12,288 token rows)
    texts += [f"Order {n} was late" for n in range(100, 400)]
    half = Encoder(device="cpu", dtype="bfloat16", cache=False)
    assert half.torch_dtype == "bfloat16"
    assert half.model_id == f"{encoder.model_id}+bfloat16-blocked"  # its own cache keys
    assert Encoder(device="cuda", dtype="bfloat16").model_id == f"{encoder.model_id}+bfloat16"
    assert any(isinstance(m, BlockedLinear) for m in half.model_.modules())
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        vecs = half.encode(texts)
        small = Encoder(device="cpu", dtype="bfloat16", cache=False, batch_size=7)
        small.model_ = half.model_  # the same weights in other passes
        assert np.array_equal(small.encode(texts[::-1])[::-1], vecs)
        assert np.array_equal(np.stack([half.encode([t])[0] for t in texts[::37]]), vecs[::37])
        torch.set_num_threads(1)
        assert np.array_equal(half.encode(texts), vecs)
    finally:
        torch.set_num_threads(before)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-6)
    assert (vecs * encoder.encode(texts)).sum(axis=1).min() > 0.9999


def test_blocked_linear_rounds_alike_for_any_row_count():
    """The products plain bfloat16 rounded by row count (64-256 rows differed on AMX)."""
    import torch

    from cxnlp.cpu_bf16 import BlockedLinear, prepare

    torch.manual_seed(0)
    wide, plain = torch.nn.Linear(1536, 384), torch.nn.Linear(1536, 384, bias=False)
    x = torch.randn(1100, 1536)
    for linear in (wide, plain):
        blocked = BlockedLinear(linear)
        with torch.inference_mode():
            full = blocked(x)
            for rows in (1, 63, 64, 256, 257, 1024):
                assert torch.equal(torch.cat([blocked(p) for p in x.split(rows)]), full), rows
            assert torch.equal(blocked(x.view(11, 100, 1536)).view(1100, 384), full)  # 3-D
        assert full.dtype == torch.float32
        torch.testing.assert_close(full, linear(x).detach(), atol=0.05, rtol=0.02)
    with pytest.raises(ConfigError, match="float32"):
        BlockedLinear(torch.nn.Linear(1000, 10))
    model = prepare(torch.nn.Sequential(torch.nn.Linear(384, 1536), torch.nn.Linear(1536, 384)))
    assert model[0].weight.dtype == torch.bfloat16 and isinstance(model[1], BlockedLinear)


def test_encoder_dtype_resolution_and_errors():
    # on a GPU "auto" means float16 (resolved without touching one); on CPU float32
    assert Encoder(device="cuda").torch_dtype == "float16"
    assert Encoder(device="cpu").torch_dtype == "float32"
    with pytest.raises(ValueError, match="dtype"):
        Encoder(dtype="float8")
    with pytest.raises(ConfigError, match="float16' is for CUDA"):
        _ = Encoder(device="cpu", dtype="float16", cache=False).model_
    with pytest.raises(ConfigError, match="float16' is for CUDA"):  # before any cache lookup
        _ = Encoder(device="cpu", dtype="float16").model_id


def test_onnx_int8_backend_matches_torch(encoder, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    fast = Encoder(
        backend="onnx-int8", cache=False, cache_dir=tmp_path_factory.getbasetemp() / "onnx-build"
    )
    texts = [
        "The parcel arrived two weeks late.",
        "Lovely staff, great service!",
        "How do I change my PIN?",
        "ok",
    ]
    got, want = fast.encode(texts), encoder.encode(texts)
    assert got.shape == want.shape
    assert ((got * want).sum(1) > 0.95).all()
    assert "+onnx-int8" in fast.model_id and fast.model_id != encoder.model_id
