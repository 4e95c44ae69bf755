"""The per-layer steps of energy-aware pruning (Yang, Chen, Sze, CVPR 2017, Sec. 4): after a
layer's weights are removed by magnitude, restore single weights greedily by their effect on the
layer's output error, then fit the layer's kept weights to the unpruned layer's outputs by least
squares (their closed-form "local fine-tune"), before the network's global fine-tune.

The fit sees calibration inputs of the layer: the first ``FIT_IMAGES`` images of the train split
(not the calibration split, which the budget search checks: fitting on it would bias the check)
run through the network pruned so far (earlier layers already pruned and fitted, in network
order), and as targets the unpruned network's outputs of the same layer on the same images. A
layer's rows are its input patches (im2col: one row per image and output position, one column per
input channel x filter tap of the filter's group, plus a column of ones for the bias), so the
layer's outputs are Y = X W (W: one column per filter, the bias in the last row).

Rules, for one filter m of a layer with patch Gram matrix H = X'X and cross term b = X'y_m:

* **Least squares** (:func:`least_squares`): with S the kept weights plus the bias, w_S solves
  H_SS w_S = b_S (minimum-norm solution when H_SS is singular); every other weight is zero.
* **Restore** (:func:`restore`): magnitude removes ``drop + extra`` weights (the ``drop`` the
  level asks for and ``extra`` more); then ``extra`` of them return, one at a time, each the
  removed weight w_i (of filter m, original value) whose return cuts the output error
  ||y_m - X w||^2 the most: the cut is 2 w_i g_i - w_i^2 H_ii, with g = X'(y_m - X w) the
  residual's correlation with each column, updated after each return (g -= w_i H_i). Exactly
  ``drop`` weights stay removed (ties: lower filter, then lower flat index).
"""

from __future__ import annotations

import copy

import numpy as np

from loopnest.codesign import CodesignError

FIT_IMAGES = 256  # train images whose patches the fit sees
CHUNK_VALUES = 1 << 24  # patch values (float64, 128 MiB) held at once
RESTORE = 0.5  # extra weights removed and restored, as a fraction of those the level keeps
LOCAL_FITS = ("none", "least-squares")


def restore(w0: np.ndarray, keep: np.ndarray, grams: np.ndarray, cross: np.ndarray, group: np.ndarray,
            count: int) -> np.ndarray:
    """The greedy restore of the module docstring. ``w0`` (M, k+1): the unpruned weights of each
    filter with its bias last; ``keep`` (M, k): the magnitude keep-mask; ``grams`` (G, k+1, k+1)
    and ``cross`` (M, k+1): each group's H and each filter's b; ``group`` (M,): each filter's
    group. Returns ``keep`` with ``count`` removed weights restored."""
    keep = keep.copy()
    m_count, k = keep.shape
    w_now = np.where(np.c_[keep, np.ones(m_count, bool)], w0, 0.0)
    g = (cross - np.einsum("mij,mj->mi", grams[group], w_now))[:, :k]  # (M, k): X' residual per filter
    diag = np.diagonal(grams, axis1=1, axis2=2)[group][:, :k]
    w = w0[:, :k]

    def cuts(m: int) -> np.ndarray:
        return np.where(keep[m], -np.inf, 2 * w[m] * g[m] - w[m] ** 2 * diag[m])

    table = np.stack([cuts(m) for m in range(m_count)]) if m_count else np.zeros((0, k))
    for _ in range(min(count, int((~keep).sum()))):
        m, i = divmod(int(np.argmax(table)), k)  # first maximum: lower filter, then lower index
        keep[m, i] = True
        g[m] -= w[m, i] * grams[group[m], i, :k]
        table[m] = cuts(m)
    return keep


def least_squares(keep: np.ndarray, grams: np.ndarray, cross: np.ndarray, group: np.ndarray,
                  bias: bool = True) -> np.ndarray:
    """Each filter's kept weights and bias (``bias`` False: none, the last column stays 0) fitted
    by least squares (module docstring); (M, k+1)."""
    from scipy.linalg import lstsq

    m_count, k = keep.shape
    out = np.zeros((m_count, k + 1))
    for m in range(m_count):
        s = np.flatnonzero(np.r_[keep[m], bias])
        h = grams[group[m]][np.ix_(s, s)]
        out[m, s] = lstsq(h, cross[m, s], lapack_driver="gelsy")[0]  # pivoted QR: rank-deficient H too
    return out


def _patches(layer, x):
    """(rows, groups, k+1) float64 patches of ``layer``'s input ``x`` (a ones column last)."""
    import torch
    from torch import nn

    if isinstance(layer, nn.Linear):
        cols = x.reshape(-1, layer.in_features).double()[:, None, :]
    else:
        if layer.padding_mode != "zeros" or isinstance(layer.padding, str) and layer.padding != "valid":
            raise CodesignError(f"least-squares local fit: a Conv2d with padding {layer.padding!r} "
                                f"({layer.padding_mode}) is not supported; numeric zero padding only")
        pad = 0 if isinstance(layer.padding, str) else layer.padding
        u = nn.functional.unfold(x.double(), layer.kernel_size, layer.dilation, pad, layer.stride)  # (N, C R S, L)
        cols = u.transpose(1, 2).reshape(-1, layer.groups, u.shape[1] // layer.groups)
    return torch.cat([cols, torch.ones(*cols.shape[:2], 1, dtype=torch.float64)], dim=2)


def _outputs(module, name: str, images):
    """Layer ``name``'s outputs in ``module`` on ``images``, as (rows, M) float64 (rows: image and
    output position, in the order of :func:`_patches`)."""
    import torch

    seen = {}
    hook = dict(module.named_modules())[name].register_forward_hook(lambda _, __, out: seen.setdefault("y", out.detach()))
    try:
        with torch.no_grad():
            module.eval()(images)
    finally:
        hook.remove()
    y = seen["y"].double()
    if y.dim() == 4:  # conv: (N, M, P, Q)
        return y.reshape(len(y), y.shape[1], -1).transpose(1, 2).reshape(-1, y.shape[1])
    return y.reshape(-1, y.shape[-1])


def _normal_equations(module, reference, name: str, images):
    """Each group's H = X'X and each filter's b = X'y_m for layer ``name``: X its patches in
    ``module``, y its outputs in ``reference``; summed over chunks of images so that at most about
    ``CHUNK_VALUES`` patch values are held at once."""
    import torch

    layer = dict(module.named_modules())[name]
    grams = cross = None
    at, step = 0, len(images)
    while at < len(images):
        chunk = images[at:at + step]
        x = _patches(layer, _inputs(module, name, chunk))
        if x.numel() > CHUNK_VALUES and step > 1:  # too many values: fewer images per chunk
            step = max(1, step * CHUNK_VALUES // x.numel())
            continue
        y = _outputs(reference, name, chunk)
        per = y.shape[1] // x.shape[1]  # filters per group
        h = torch.einsum("rgi,rgj->gij", x, x).numpy()
        b = np.concatenate([(x[:, g].T @ y[:, g * per:(g + 1) * per]).T.numpy() for g in range(x.shape[1])])
        grams, cross = (h, b) if grams is None else (grams + h, cross + b)
        at += step
    return grams, cross


def _inputs(module, name: str, images):
    """The input of layer ``name`` in ``module`` on ``images``."""
    import torch

    seen = {}
    hook = dict(module.named_modules())[name].register_forward_pre_hook(lambda _, args: seen.setdefault("x", args[0].detach()))
    try:
        with torch.no_grad():
            module.eval()(images)
    finally:
        hook.remove()
    return seen["x"]


def first_inputs(split, count: int = FIT_IMAGES):
    """The first ``count`` inputs of a split (a Split, arrays or a DataLoader), a float tensor."""
    import torch

    from loopnest.codesign.accuracy import batches

    got, n = [], 0
    for x, _ in batches(split, count):
        got.append(x)
        n += len(x)
        if n >= count:
            break
    return torch.cat(got)[:count].float()


def local_fit(module, masks: dict, images, extra: float = RESTORE) -> tuple[object, dict]:
    """A copy of ``module`` whose layers named in ``masks`` (magnitude keep-masks) are pruned in
    network order with the restore and least-squares steps of the module docstring; ``extra``:
    the weights removed beyond each mask and restored, as a fraction of those it keeps. Returns
    (the copy, with the fitted weights and zeros in plain tensors; the keep-masks after restore)."""
    import torch

    from loopnest.codesign.accuracy import mac_layers

    if not 0 <= extra <= 1:
        raise CodesignError(f"restore fraction: in [0, 1], got {extra}")
    out, final = copy.deepcopy(module), {}
    for name, layer in mac_layers(out).items():
        if name not in masks:
            continue
        grams, cross = _normal_equations(out, module, name, images)
        group = np.arange(len(cross)) // (len(cross) // len(grams))  # each filter's group
        w = layer.weight.detach().double().reshape(len(group), -1).numpy()
        bias = layer.bias.detach().double().numpy() if layer.bias is not None else np.zeros(len(group))
        keep = masks[name].reshape(len(group), -1).numpy()
        kept = int(keep.sum())
        more = min(int(extra * kept), kept)
        if more:  # remove `more` further weights by magnitude, then restore as many by output error
            flat = torch.as_tensor(np.where(keep, np.abs(w), -1.0).ravel())
            order = torch.argsort(flat, stable=True)[int((~keep).sum()):][:more]
            keep = keep.copy().ravel()
            keep[order.numpy()] = False
            keep = restore(np.c_[w, bias], keep.reshape(w.shape), grams, cross, group, more)
        fitted = least_squares(keep, grams, cross, group, layer.bias is not None)
        with torch.no_grad():
            layer.weight.copy_(torch.as_tensor(fitted[:, :-1], dtype=layer.weight.dtype).reshape(layer.weight.shape))
            if layer.bias is not None:
                layer.bias.copy_(torch.as_tensor(fitted[:, -1], dtype=layer.bias.dtype))
        final[name] = torch.as_tensor(keep).reshape(layer.weight.shape)
    return out, final
