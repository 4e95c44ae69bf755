"""loopnest.workload: layers as loop nests, networks as graphs, the model zoo, importers, stats.

Entry points for the layers below: :func:`load_network` (a zoo name or a model file) and
:func:`list_models`. Importing this package is light: onnx and torch load only inside importers.
"""

from __future__ import annotations

from pathlib import Path

from loopnest.names import did_you_mean
from loopnest.workload.network import ElementOp, Network, NetworkError, Node
from loopnest.workload.problem import Problem, Tensor
from loopnest.workload.zoo import find_model, list_models


class WorkloadError(ValueError):
    """A workload that cannot be loaded: unknown name, missing or malformed file."""


def load_network(name_or_path: str | Path, batch: int = 1) -> Network:
    """A network by zoo name (case, '-' and '_' ignored) or from an ``.onnx`` file, at ``batch``."""
    from loopnest.workload import zoo

    if not isinstance(batch, int) or batch < 1:
        raise WorkloadError(f"batch must be a positive integer, got {batch!r}")
    text = str(name_or_path)
    if text.lower().endswith(".onnx"):
        from loopnest.workload.onnx_import import import_onnx

        return import_onnx(text).with_batch(batch)
    found = find_model(text)
    if found is None:
        if Path(text).exists():
            raise WorkloadError(f"{text}: unsupported model file type (expected .onnx)")
        raise WorkloadError(f"unknown model {text!r}{did_you_mean(text, list_models())}; "
                            f"available: {', '.join(list_models())} (or a path to an .onnx file)")
    return zoo.build(found, batch)


__all__ = ["ElementOp", "Network", "NetworkError", "Node", "Problem", "Tensor", "WorkloadError",
           "list_models", "load_network"]
