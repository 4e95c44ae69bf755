"""Structured (filter) pruning of the plain digits CNNs: whole output channels of a convolution
removed, which shrinks the loop nest itself: M of the pruned layer and C of its consumer.

A digits network is a chain of ``conv``, ``res`` and ``pool`` steps ending in the classifier
``fc`` (``loopnest.workload.zoo.digits``); the consumer of a convolution is the next
convolution, or ``fc`` after the last one. ``fc`` flattens channel-major, so each kept channel
keeps its H x W block of ``fc``'s input columns and ``fc``'s C is channels x H x W. In a
residual block only the first convolution is cut (the sum ties the second one's filters, and
those of the convolution before the block, to the block's channels; :func:`prunable_layers`).
Depthwise layers (a filter per input channel) are not handled: rejected with one line.

Which filters go: those of smallest L1 norm (sum of absolute weights), the rule of Li et al.,
"Pruning filters for efficient ConvNets", ICLR 2017, also used by NetAdapt (Yang et al., ECCV
2018); ties keep the earlier filter. The loopnest network of a pruned module is re-derived from
the module by the torch importer, so its MAC counts follow the module's shapes, never a table.
"""

from __future__ import annotations

import copy

from loopnest.codesign import CodesignError


def prunable_layers(module) -> dict[str, str]:
    """Each convolution of a digits CNN whose filters can be cut -> its consumer (the next
    convolution, or ``fc`` after the last one); a CodesignError naming why for modules that are
    not digits CNNs or have depthwise layers.

    In a residual block relu(x + b(relu(a(x)))) the sum ties b's filters, and the filters of the
    convolution that made x, to x's channels: those are kept whole; a's filters are free (its
    consumer is b). So in ``digits-res6`` the first convolution of each block is prunable."""
    steps = getattr(module, "steps", None)
    name = type(module).__name__.replace("_", "-")
    if steps is None:
        raise CodesignError(f"{name}: structured pruning takes a digits CNN module (one built by loopnest.codesign.models)")
    if any(s[0] == "dw" for s in steps):
        raise CodesignError(f"{name}: structured pruning and NetAdapt do not handle depthwise layers (a depthwise filter "
                            "belongs to one input channel, so cutting a filter before it would have to cut the depthwise "
                            "filter and its consumer's channel with it); use the conv/pool/res digits CNNs")
    layers = [s for s in steps if s[0] in ("conv", "res")]
    out = {}
    for i, step in enumerate(layers):
        if step[0] == "res":
            out[step[1]] = step[2]
        elif i + 1 == len(layers):
            out[step[1]] = "fc"
        elif layers[i + 1][0] == "conv":
            out[step[1]] = layers[i + 1][1]
    return out


def filter_counts(module) -> dict[str, int]:
    """Output channels (filters, the loop nest's M) of each prunable convolution."""
    return {n: getattr(module, n).out_channels for n in prunable_layers(module)}


def keep_filters(weight, count: int) -> list[int]:
    """Indices (ascending) of the ``count`` filters of largest L1 norm in a conv ``weight``
    (M x C x R x S); ties keep the lower index."""
    norms = weight.detach().abs().flatten(1).sum(1)
    if not 1 <= count <= len(norms):
        raise CodesignError(f"filter count: 1 to {len(norms)}, got {count}")
    order = sorted(range(len(norms)), key=lambda i: (-float(norms[i]), i))
    return sorted(order[:count])


def prune_filters(module, counts: dict[str, int]):
    """A copy of ``module`` (a digits CNN without depthwise layers) with each convolution named in ``counts`` cut to
    that many filters (the largest by L1 norm) and its consumer's input channels cut to match;
    the original is untouched. Layers are cut in network order, so a consumer that is itself
    pruned loses both its filters and its input channels."""
    import torch
    from torch import nn

    consumers = prunable_layers(module)
    unknown = sorted(set(counts) - set(consumers))
    if unknown:
        raise CodesignError(f"prune: {', '.join(map(repr, unknown))} is not a prunable layer; "
                            f"the prunable layers are {', '.join(consumers)}")
    out = copy.deepcopy(module)
    for name, consumer in consumers.items():
        if name not in counts:
            continue
        conv = getattr(out, name)
        keep = keep_filters(conv.weight, counts[name])
        idx = torch.tensor(keep)
        new = nn.Conv2d(conv.in_channels, len(keep), conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                        conv.groups, conv.bias is not None)
        with torch.no_grad():
            new.weight.copy_(conv.weight[idx])
            if conv.bias is not None:
                new.bias.copy_(conv.bias[idx])
        setattr(out, name, new)
        nxt = getattr(out, consumer)
        if isinstance(nxt, nn.Conv2d):
            cut = nn.Conv2d(len(keep), nxt.out_channels, nxt.kernel_size, nxt.stride, nxt.padding, nxt.dilation,
                            nxt.groups, nxt.bias is not None)
            cols = idx
        else:  # fc: channel-major flatten, so channel j owns columns j*hw .. (j+1)*hw - 1
            hw = nxt.in_features // conv.out_channels
            cols = (idx[:, None] * hw + torch.arange(hw)).flatten()
            cut = nn.Linear(len(cols), nxt.out_features, nxt.bias is not None)
        with torch.no_grad():
            cut.weight.copy_(nxt.weight[:, cols])
            if nxt.bias is not None:
                cut.bias.copy_(nxt.bias)
        setattr(out, consumer, cut)
    return out.train(module.training)


def module_network(module, name: str):
    """The loopnest network of a digits CNN module (any filter counts), by the torch importer:
    layer names and MAC counts follow the module's own shapes."""
    import torch

    from loopnest.workload.torch_import import import_torch
    from loopnest.workload.zoo.digits import SIZE

    return import_torch(module, torch.zeros(1, 1, SIZE, SIZE), name)
