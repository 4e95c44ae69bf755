"""Transformer blocks of the zoo: one BERT-base encoder layer and one GPT-2-small decoder block.

Projections are kind "matmul" with static weights (N sequences, P tokens, M output features,
C input features); Q.K^T and A.V are kind "attention" (operand x operand, no static weights).
Q, K and V use separate projections (GPT-2's fused c_attn has the same MACs and weights).
Causal masking is not exploited: the score matrix is computed dense, as common kernels do.
"""

from __future__ import annotations

from loopnest.workload.builder import Builder
from loopnest.workload.network import Network

D_MODEL, HEADS, D_FF = 768, 12, 3072


def _attention(b: Builder, x: str, caches: tuple[str, str] | None = None) -> str:
    """Multi-head self-attention on token matrix ``x``; with ``caches``, this step's K and V
    rows are appended to the cached ones (decode)."""
    q = b.linear("attn.q", x, D_MODEL)
    k = b.linear("attn.k", x, D_MODEL)
    v = b.linear("attn.v", x, D_MODEL)
    if caches:
        k = b.concat("attn.k_cat", caches[0], k)
        v = b.concat("attn.v_cat", caches[1], v)
    a = b.softmax("attn.softmax", b.scores("attn.qk", q, k, HEADS))
    return b.linear("attn.out", b.context("attn.av", a, v, HEADS), D_MODEL)


def _ffn(b: Builder, x: str) -> str:
    return b.linear("ffn.fc2", b.act("ffn.gelu", b.linear("ffn.fc1", x, D_FF), "gelu"), D_MODEL)


def bert_base_layer(seq: int, batch: int = 1) -> Network:
    """One BERT-base encoder layer (post-LN: x -> attention -> add & norm -> FFN -> add & norm)."""
    b = Builder(f"bert_base_{seq}", {"input": (seq, D_MODEL)})
    x = b.norm("attn.ln", b.add("attn.residual", "input", _attention(b, "input")), "layernorm")
    b.norm("ffn.ln", b.add("ffn.residual", x, _ffn(b, x)), "layernorm")
    return b.build(batch)


def gpt2_block(seq: int, decode: bool, batch: int = 1) -> Network:
    """One GPT-2-small block (pre-LN). Prefill processes ``seq`` tokens; decode processes one new
    token against a K/V cache of ``seq - 1`` earlier tokens (graph inputs k_cache, v_cache)."""
    tokens = 1 if decode else seq
    inputs = {"input": (tokens, D_MODEL)}
    if decode:
        inputs |= {"k_cache": (seq - 1, D_MODEL), "v_cache": (seq - 1, D_MODEL)}
    b = Builder(f"gpt2_{'decode' if decode else 'prefill'}_{seq}", inputs)
    h = b.norm("ln_1", "input", "layernorm")
    x = b.add("attn.residual", "input", _attention(b, h, caches=("k_cache", "v_cache") if decode else None))
    b.add("ffn.residual", x, _ffn(b, b.norm("ln_2", x, "layernorm")))
    return b.build(batch)
