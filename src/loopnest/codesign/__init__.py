"""loopnest.codesign: the network side of co-design.

An accuracy harness over a torch module and a dataset (torch and scikit-learn are the optional
extra ``loopnest[codesign]``, imported only inside functions), quantizers, pruning and NetAdapt, the shipped digits
CNNs, and studies that pair accuracy with the energy and latency that ``loopnest.search`` finds.
"""

from __future__ import annotations


class CodesignError(ValueError):
    """A co-design input that cannot be used: unknown model, layers that do not match, bad data."""
