"""Layer constructors: conv2d (stride, dilation, padding, groups, depthwise), pointwise, fully
connected, matmul / batched matmul, and attention products, each as a :class:`Problem`.

Dimension conventions (always all listed, size 1 where unused):

* conv: ``N, G, M, C, P, Q, R, S`` with M and C *per group*. Weights[g,m,c,r,s],
  Inputs[n,g,c, stride_h*p + dil_h*r, stride_w*q + dil_w*s], Outputs[n,g,m,p,q].
* fc: ``N, M, C``. Weights[m,c], Inputs[n,c], Outputs[n,m].
* matmul: ``N, P, M, C``. Outputs[n,p,m] = Inputs[n,p,c] * Weights[m,c] (static weights for
  transformer projections; ``static=False`` for an activation x activation product).
* attention: ``N, G, P, M, C`` (G heads, P query positions). Q.K^T: C = head dim, M = key
  positions; A.V: C = key positions, M = head dim. The second operand has role ``weights`` and
  ``static=False``: statistics count it as an activation.

Padding rule: output size P = floor((H + pad_top + pad_bottom - dil*(R-1) - 1) / stride) + 1.
The input tensor's ``true_extents`` hold the unpadded H and W, so statistics count the real
input while the cost model uses the touched (padded) extent.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from loopnest.workload.problem import Problem, Tensor

DEFAULT_BITS = 16


class LayerError(ValueError):
    """A layer whose parameters do not describe a valid loop nest."""


def _pair(v: int | Sequence[int], what: str) -> tuple[int, int]:
    t = (v, v) if isinstance(v, int) else tuple(v)
    if len(t) != 2 or any(not isinstance(x, int) or x < 1 for x in t):
        raise LayerError(f"{what} must be a positive int or a pair of them, got {v!r}")
    return t  # type: ignore[return-value]


def _pads(v: int | Sequence[int]) -> tuple[int, int, int, int]:
    """Padding as (top, left, bottom, right), the ONNX order; int or (h, w) means symmetric."""
    t = (v,) * 4 if isinstance(v, int) else tuple(v)
    if len(t) == 2:
        t = (t[0], t[1], t[0], t[1])
    if len(t) != 4 or any(not isinstance(x, int) or x < 0 for x in t):
        raise LayerError(f"padding must be an int >= 0, (h, w) or (top, left, bottom, right), got {v!r}")
    return t  # type: ignore[return-value]


def conv_out_size(size: int, kernel: int, stride: int, dilation: int, pad_lo: int, pad_hi: int,
                  ceil_mode: bool = False) -> int:
    """Output size of a sliding window (floor rule, or ceil rule as Caffe pooling uses)."""
    span = size + pad_lo + pad_hi - dilation * (kernel - 1) - 1
    if span < 0:
        raise LayerError(f"window {kernel} (dilation {dilation}) larger than padded input {size + pad_lo + pad_hi}")
    out = -(-span // stride) + 1 if ceil_mode else span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad_lo:  # last window must start inside input
        out -= 1
    return out


def conv2d(name: str, *, C: int, M: int, H: int, W: int, R: int, S: int | None = None, N: int = 1,
           stride: int | Sequence[int] = 1, dilation: int | Sequence[int] = 1,
           padding: int | Sequence[int] = 0, groups: int = 1, bits: int = DEFAULT_BITS) -> Problem:
    """2-D convolution. C and M are total channels; they must divide by ``groups``.

    groups == C with one input channel per group is depthwise (attrs["depthwise"] = True);
    a 1x1 kernel is pointwise (attrs["pointwise"] = True).
    """
    S = R if S is None else S
    sh, sw = _pair(stride, "stride")
    dh, dw = _pair(dilation, "dilation")
    pt, pl, pb, pr = _pads(padding)
    if groups < 1 or C % groups or M % groups:
        raise LayerError(f"layer {name!r}: channels C={C}, M={M} must divide by groups={groups}")
    P = conv_out_size(H, R, sh, dh, pt, pb)
    Q = conv_out_size(W, S, sw, dw, pl, pr)
    G, Mg, Cg = groups, M // groups, C // groups
    dims = {"N": N, "G": G, "M": Mg, "C": Cg, "P": P, "Q": Q, "R": R, "S": S}
    tensors = (
        Tensor("Weights", "weights", ({"G": 1}, {"M": 1}, {"C": 1}, {"R": 1}, {"S": 1}), bits, static=True),
        Tensor("Inputs", "inputs", ({"N": 1}, {"G": 1}, {"C": 1}, {"P": sh, "R": dh}, {"Q": sw, "S": dw}),
               bits, true_extents=(None, None, None, H, W)),
        Tensor("Outputs", "outputs", ({"N": 1}, {"G": 1}, {"M": 1}, {"P": 1}, {"Q": 1}), bits),
    )
    attrs = {"H": H, "W": W, "stride": (sh, sw), "dilation": (dh, dw), "padding": (pt, pl, pb, pr),
             "groups": G, "depthwise": G > 1 and Cg == 1, "pointwise": R == 1 and S == 1}
    return Problem(name, "conv", dims, tensors, attrs)


def pointwise(name: str, *, C: int, M: int, H: int, W: int, N: int = 1, stride: int = 1,
              groups: int = 1, bits: int = DEFAULT_BITS) -> Problem:
    """1x1 convolution (kind "conv", attrs["pointwise"] = True)."""
    return conv2d(name, C=C, M=M, H=H, W=W, R=1, S=1, N=N, stride=stride, groups=groups, bits=bits)


def depthwise(name: str, *, C: int, H: int, W: int, R: int, N: int = 1, multiplier: int = 1,
              stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
              dilation: int | Sequence[int] = 1, bits: int = DEFAULT_BITS) -> Problem:
    """Depthwise convolution: G = C groups, one input channel and ``multiplier`` filters each."""
    return conv2d(name, C=C, M=C * multiplier, H=H, W=W, R=R, N=N, stride=stride, dilation=dilation,
                  padding=padding, groups=C, bits=bits)


def fc(name: str, *, C: int, M: int, N: int = 1, bits: int = DEFAULT_BITS,
       input_shape: Sequence[int] | None = None) -> Problem:
    """Fully connected layer. After a conv, C is the flattened C*H*W (``input_shape`` records it)."""
    dims = {"N": N, "M": M, "C": C}
    tensors = (
        Tensor("Weights", "weights", ({"M": 1}, {"C": 1}), bits, static=True),
        Tensor("Inputs", "inputs", ({"N": 1}, {"C": 1}), bits),
        Tensor("Outputs", "outputs", ({"N": 1}, {"M": 1}), bits),
    )
    attrs = {"input_shape": tuple(input_shape)} if input_shape is not None else {}
    return Problem(name, "fc", dims, tensors, attrs)


def matmul(name: str, *, P: int, M: int, C: int, N: int = 1, static: bool = True,
           bits: int = DEFAULT_BITS) -> Problem:
    """(Batched) matmul Outputs[n,p,m] = Inputs[n,p,c] * Weights[m,c]; kind "matmul".

    ``static=True`` (a transformer projection): one weight matrix shared by the batch.
    ``static=False``: the second operand is an activation with its own copy per batch item.
    """
    w_idx = ({"M": 1}, {"C": 1}) if static else ({"N": 1}, {"M": 1}, {"C": 1})
    dims = {"N": N, "P": P, "M": M, "C": C}
    tensors = (
        Tensor("Weights", "weights", w_idx, bits, static=static),
        Tensor("Inputs", "inputs", ({"N": 1}, {"P": 1}, {"C": 1}), bits),
        Tensor("Outputs", "outputs", ({"N": 1}, {"P": 1}, {"M": 1}), bits),
    )
    return Problem(name, "matmul", dims, tensors, {})


def attention(name: str, *, N: int, G: int, P: int, M: int, C: int, op: str = "product",
              bits: int = DEFAULT_BITS, names: tuple[str, str, str] = ("A", "B", "Out")) -> Problem:
    """Operand x operand product per head: Out[n,g,p,m] = sum_c A[n,g,p,c] * B[n,g,m,c]."""
    dims = {"N": N, "G": G, "P": P, "M": M, "C": C}
    tensors = (
        Tensor(names[0], "inputs", ({"N": 1}, {"G": 1}, {"P": 1}, {"C": 1}), bits),
        Tensor(names[1], "weights", ({"N": 1}, {"G": 1}, {"M": 1}, {"C": 1}), bits, static=False),
        Tensor(names[2], "outputs", ({"N": 1}, {"G": 1}, {"P": 1}, {"M": 1}), bits),
    )
    return Problem(name, "attention", dims, tensors, {"op": op})


def attention_scores(name: str, *, heads: int, queries: int, keys: int, head_dim: int, N: int = 1,
                     bits: int = DEFAULT_BITS) -> Problem:
    """Q.K^T per head: Scores[n,g,p,m] = sum_c Q[n,g,p,c] * K[n,g,m,c] (P queries, M keys)."""
    return attention(name, N=N, G=heads, P=queries, M=keys, C=head_dim, op="qk", bits=bits,
                     names=("Q", "K", "Scores"))


def attention_context(name: str, *, heads: int, queries: int, keys: int, head_dim: int, N: int = 1,
                      bits: int = DEFAULT_BITS) -> Problem:
    """A.V per head: Context[n,g,p,m] = sum_c A[n,g,p,c] * V[n,g,m,c] (C keys, M head dim).

    V is stored key-major in the model; the index order inside a tensor does not change any
    size or reuse, only the layout, so V uses the same [n,g,m,c] projection as K.
    """
    return attention(name, N=N, G=heads, P=queries, M=head_dim, C=keys, op="av", bits=bits,
                     names=("A", "V", "Context"))


def product(name: str, a: Sequence[int], b: Sequence[int], b_static: bool, bits: int = DEFAULT_BITS) -> Problem:
    """A @ B from operand shapes as importers see them: A [..., P, C], B [..., C, M].

    A static 2-D B gives kind "fc" for a 2-D A (N = rows) and kind "matmul" otherwise (N = first
    axis, P = the other leading axes). A non-static B gives kind "attention" with N = the
    first batch axis and G = the product of the others; both operands need the same batch axes.
    Raises LayerError for shapes this representation cannot hold.
    """
    a, b = tuple(a), tuple(b)
    if len(a) < 2 or len(b) < 2 or a[-1] != b[-2]:
        raise LayerError(f"operand shapes {a} and {b} do not multiply")
    if b_static:
        if len(b) != 2:
            raise LayerError(f"constant operand with batch axes {b[:-2]}")
        if len(a) == 2:
            return fc(name, N=a[0], C=a[1], M=b[1], bits=bits)
        return matmul(name, N=a[0], P=prod(a[1:-1]), M=b[1], C=a[-1], bits=bits)
    if a[:-2] != b[:-2]:
        raise LayerError(f"broadcast batch axes {a[:-2]} x {b[:-2]}")
    lead = a[:-2] or (1,)
    return attention(name, N=lead[0], G=prod(lead[1:]), P=a[-2], M=b[-1], C=a[-1], bits=bits)


def einsum(name: str, *, dims: dict[str, int], tensors: Sequence[dict], N: int = 1,
           bits: int = DEFAULT_BITS) -> Problem:
    """Any loop nest given directly (kind "einsum"): ``dims`` sizes in loop order and ``tensors``,
    each ``{name, role, indices: [{dim: coefficient, ...}, ...], static}`` (one per role), the
    form Timeloop problems are imported into. ``N`` sets the batch where ``dims`` has an N."""
    if N != 1:
        if "N" not in dims:
            raise LayerError(f"layer {name!r}: N={N} but the einsum has no dimension N; dimensions are {list(dims)}")
        dims = {**dims, "N": N}
    try:
        return Problem(name, "einsum", dict(dims), tuple(
            Tensor(t["name"], t["role"], tuple(dict(i) for i in t["indices"]), bits, static=bool(t.get("static", False)))
            for t in tensors))
    except ValueError as e:  # Problem's own checks (one tensor per role, known dimensions)
        raise LayerError(str(e)) from None
