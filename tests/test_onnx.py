"""ONNX encoder backends: exact fp32 and per-token int8, both batch-independent (real model)."""

from __future__ import annotations

import numpy as np
import pytest

from cxnlp.encode import MIN_PASS_TOKENS, Encoder

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

TEXTS = [
    "ok",
    "Thanks!",
    "The parcel arrived two weeks late.",
    "Lovely staff, great service!",
    "How do I change my PIN?",
    "My flight was cancelled and nobody at the desk could tell me when the next one leaves.",
    "The seat was fine but the food was cold and the crew ignored the call button.",
    "Refund still not processed after three phone calls and two emails.",
    "Great app, easy to use.",
    "Terrible.",
]


@pytest.fixture(scope="module", params=["onnx", "onnx-int8"])
def fast(request, tmp_path_factory) -> Encoder:
    # one build per test session, shared with test_clean_encode's onnx-int8 test
    where = tmp_path_factory.getbasetemp() / "onnx-build"
    return Encoder(backend=request.param, cache=False, cache_dir=where)


def test_vectors_close_to_torch(fast, encoder):
    got, want = fast.encode(TEXTS), encoder.encode(TEXTS)
    assert got.shape == want.shape == (len(TEXTS), 384)
    if fast.backend == "onnx":
        assert np.abs(got - want).max() < 1e-4
    else:
        cos = (got * want).sum(1)
        assert cos.min() > 0.95 and cos.mean() > 0.98, cos
    assert fast.model_id != encoder.model_id


def test_vectors_do_not_depend_on_batch_companions(fast):
    """Alone (filled with copies of itself), among others, in passes of 2 or 64: same bytes."""
    alone = np.stack([fast._encode_by_length([t])[0] for t in TEXTS])
    together = fast._encode_by_length(TEXTS)
    np.testing.assert_array_equal(together, alone)
    # other texts, some of the same token length: other companions in the same passes
    others = [t + " " + "x" * (i + 1) for i, t in enumerate(TEXTS)]
    small = Encoder(backend=fast.backend, cache=False, cache_dir=fast.cache_dir, batch_size=2)
    mixed = small._encode_by_length(others[::-1] + TEXTS + others)
    np.testing.assert_array_equal(mixed[len(others) : len(others) + len(TEXTS)], alone)


def test_passes_of_ids_are_the_graphs_own_vectors(fast):
    """Ids tokenized once (word-piece cache) give the vectors of the graph's own tokenizing."""
    for text in TEXTS:
        rows = -(-MIN_PASS_TOKENS // len(fast.model_.tokenizer(text)["input_ids"]))
        want = fast.model_.encode([text] * rows, batch_size=rows)[0]
        np.testing.assert_array_equal(fast._encode_by_length([text])[0], want)


def test_backends_have_their_own_cache_keys(fast, encoder):
    assert fast.model_id.startswith(encoder.model_id + "+onnx")
    other = "onnx" if fast.backend == "onnx-int8" else "onnx-int8"
    assert Encoder(backend=other).model_id != fast.model_id


def test_int8_graph_quantises_each_token_on_its_own():
    """A tiny MatMul graph: ORT's output equals numpy's per-token uint8 x per-column int8."""
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime import InferenceSession

    from cxnlp.onnx_backend import quantize_per_token

    rng = np.random.default_rng(0)
    w = rng.normal(size=(16, 8)).astype(np.float32)
    dims = ["batch", "tokens"]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [*dims, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [*dims, 8])],
        [numpy_helper.from_array(w, "w")],
    )
    model = quantize_per_token(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    )
    assert {n.op_type for n in model.graph.node} >= {"MatMulIntegerToFloat", "QuantizeLinear"}
    sess = InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    x = rng.normal(size=(3, 5, 16)).astype(np.float32)
    x[1] *= 40  # one item with a far wider range must not change the others
    y = sess.run(None, {"x": x})[0]

    lo, hi = np.minimum(x.min(-1, keepdims=True), 0), np.maximum(x.max(-1, keepdims=True), 0)
    s = (hi - lo) / 255
    z = np.clip(np.round(-lo / s), 0, 255)
    xq = (np.clip(np.round(x / s) + z, 0, 255) - z) * s
    ws = np.abs(w).max(0) / 127
    wq = np.clip(np.round(w / ws), -127, 127) * ws
    np.testing.assert_allclose(y, xq @ wq, rtol=1e-4, atol=1e-4)
    for i in range(3):  # each item alone: the same bytes
        np.testing.assert_array_equal(sess.run(None, {"x": x[i : i + 1]})[0][0], y[i])
