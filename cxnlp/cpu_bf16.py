"""bfloat16 on the CPU that keeps every vector independent of its batch and thread count.

On a CPU that multiplies bfloat16 natively (AMX, AVX512-BF16), the encoder's matrix products
in bfloat16 are much faster than in float32, with vectors at cosine ~0.99998 to float32.
But oneDNN picks its bfloat16 kernel by the number of matrix rows (tokens in a pass): on a
Xeon with AMX, a 1,536-wide product (BERT's feed-forward output) rounded differently for
64-256 rows than for fewer or more, so under plain ``torch.autocast`` the same text came out
~2e-3 apart in another batch, in another Dask partition, or on another thread count.
Products 384 inputs wide gave bit-identical rows for every row count from 1 to 4,096 and on
1 or 2 threads. So each wider product is cut into 384-wide blocks, multiplied in one batched
bfloat16 product, and the blocks' partial sums are added in float32. Weights are cast to
bfloat16 once (autocast would cast them again on every pass). Measured on 3,000 airline
sentences: bit-identical vectors in passes of 7, 64 or 256 texts or alone and on 1 or 2
threads, at 1.8-2.1x the speed of float32 (``benchmarks/encoder.py`` prints the figures;
``tests/test_clean_encode.py`` holds the equality).
"""

from __future__ import annotations

import torch
from torch import nn

from .errors import ConfigError

#: Input width of one bfloat16 product block: widths up to this were batch-independent.
K_BLOCK = 384


class BlockedLinear(nn.Module):
    """``nn.Linear`` as a float32 sum of bfloat16 products over ``block``-wide input blocks."""

    def __init__(self, linear: nn.Linear, block: int = K_BLOCK) -> None:
        super().__init__()
        out_features, in_features = linear.weight.shape
        if in_features % block:
            raise ConfigError(
                f"A {in_features}-input layer does not split into {block}-wide blocks, so "
                "bfloat16 on the CPU cannot keep vectors batch-independent for this model: "
                "set encoder.dtype to float32."
            )
        # (blocks, block, out): one batched product computes every block's partial sum
        weight = linear.weight.detach().to(torch.bfloat16).T.reshape(-1, block, out_features)
        self.weight = nn.Parameter(weight.contiguous(), requires_grad=False)
        bias = None if linear.bias is None else linear.bias.detach().float()
        self.bias = None if bias is None else nn.Parameter(bias, requires_grad=False)
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, len(self.weight), self.block).transpose(0, 1).to(torch.bfloat16)
        out = torch.bmm(rows, self.weight).float().sum(0)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*x.shape[:-1], out.shape[-1])


def prepare(model: nn.Module, block: int = K_BLOCK) -> nn.Module:
    """Ready ``model`` (in place) to compute in bfloat16 on the CPU; return it.

    Every ``nn.Linear`` gets bfloat16 weights once, one wider than ``block`` inputs becomes
    a :class:`BlockedLinear`, and the model's forward runs under bfloat16 autocast, so its
    callers need no special case. The narrow products give plain autocast's numbers.
    """
    for name, mod in list(model.named_modules()):
        if not isinstance(mod, nn.Linear):
            continue
        if mod.in_features > block:
            parent_name, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent_name), child, BlockedLinear(mod, block))
        else:
            mod.to(torch.bfloat16)
    model.forward = torch.autocast("cpu", dtype=torch.bfloat16)(model.forward)
    return model


def native() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (else bfloat16 is emulated: slow)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
