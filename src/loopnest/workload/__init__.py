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
    """A network by zoo name (case, '-' and '_' ignored), from an ``.onnx`` file or from a YAML
    network (or one-layer) file (:mod:`loopnest.workload.network_yaml`), at ``batch``."""
    from loopnest.datafile import is_file
    from loopnest.workload import zoo

    if not isinstance(batch, int) or batch < 1:
        raise WorkloadError(f"batch must be a positive integer, got {batch!r}")
    text = str(name_or_path)
    if text.lower().endswith(".onnx"):
        from loopnest.workload.onnx_import import import_onnx

        _check_onnx(text)
        try:
            return import_onnx(text).with_batch(batch)
        except (IndexError, KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError, OverflowError) as e:
            if isinstance(e, WorkloadError):
                raise
            # a graph the importer's own checks did not foresee: still one line, never a traceback
            raise WorkloadError(f"{text}: cannot import this ONNX graph ({type(e).__name__}: "
                                f"{' '.join(str(e).split())[:120]}); is it a valid model?") from None
    if text.lower().endswith((".yaml", ".yml")):
        from loopnest.workload.layer_ref import LayerRefError
        from loopnest.workload.network_yaml import load_network_yaml

        try:
            return load_network_yaml(text).with_batch(batch)
        except (LayerRefError, NetworkError) as e:
            raise WorkloadError(str(e)) from None
    found = find_model(text)
    if found is None:
        if is_file(text):
            raise WorkloadError(f"{text}: unsupported model file type (expected .onnx, .yaml or .yml)")
        raise WorkloadError(f"unknown model {text!r}{did_you_mean(text, list_models())}; "
                            f"available: {', '.join(list_models())} (or a path to an .onnx file or a YAML network)")
    return zoo.build(found, batch)


MAX_ONNX_MB = 512  # size limit of an ONNX file, MiB (LOOPNEST_MAX_ONNX_MB overrides it)
MAX_ONNX_NODES = 100_000  # nodes of an ONNX graph (LOOPNEST_MAX_ONNX_NODES overrides it)


def _check_onnx(path: str) -> None:
    """Limits checked before the import: a regular file within the size limit, a graph within the
    node limit (counted on the parsed protobuf, before any conversion)."""
    import os

    from loopnest.datafile import DataFileError, check_file, max_bytes

    try:
        check_file(path, max_bytes("LOOPNEST_MAX_ONNX_MB", MAX_ONNX_MB), "ONNX file", "LOOPNEST_MAX_ONNX_MB")
    except DataFileError as e:
        raise WorkloadError(str(e)) from None
    try:
        import onnx
    except ImportError:
        return  # the importer says what to install
    try:
        nodes = len(onnx.load(path, load_external_data=False).graph.node)
    except Exception:  # noqa: BLE001 - protobuf decode errors have no common base; the importer reports them
        return
    text = os.environ.get("LOOPNEST_MAX_ONNX_NODES", "")
    limit = int(text) if text.isdigit() and int(text) > 0 else MAX_ONNX_NODES
    if nodes > limit:
        raise WorkloadError(f"{path}: the graph has {nodes:,} nodes, more than the limit of {limit:,} "
                            "(set LOOPNEST_MAX_ONNX_NODES to raise it)")


__all__ = ["ElementOp", "Network", "NetworkError", "Node", "Problem", "Tensor", "WorkloadError",
           "list_models", "load_network"]
