"""Name one layer on the command line: ``MODEL:LAYER`` from the zoo (or an .onnx file), or a
YAML layer spec file such as::

    layer: {type: conv2d, name: my_conv, C: 64, M: 64, H: 56, W: 56, R: 3, padding: 1}

``type`` is one of the layer constructors of ``loopnest.workload.layers``; the other keys are its
keyword arguments (checked against its signature, never evaluated).
"""

from __future__ import annotations

import inspect
from pathlib import Path

from loopnest.datafile import DataFileError, read_yaml
from loopnest.names import did_you_mean
from loopnest.workload import layers
from loopnest.workload.problem import Problem

CONSTRUCTORS = {f.__name__: f for f in (layers.conv2d, layers.pointwise, layers.depthwise, layers.fc, layers.matmul)}


class LayerRefError(ValueError):
    """A layer reference that names no layer."""


def _from_spec(path: Path) -> Problem:
    try:
        data = read_yaml(path)
    except DataFileError as e:
        raise LayerRefError(str(e)) from None
    if not isinstance(data, dict) or set(data) != {"layer"} or not isinstance(data["layer"], dict):
        raise LayerRefError(f"{path}: expected one top-level key 'layer' holding a mapping")
    spec = dict(data["layer"])
    kind = spec.pop("type", None)
    if kind not in CONSTRUCTORS:
        raise LayerRefError(f"{path}: field layer.type: {kind!r} is not one of {', '.join(CONSTRUCTORS)}")
    fn = CONSTRUCTORS[kind]
    allowed = [p for p in inspect.signature(fn).parameters if p != "name"]
    unknown = sorted(set(spec) - set(allowed) - {"name"})
    if unknown:
        raise LayerRefError(f"{path}: field layer.{unknown[0]}: unknown for {kind}; allowed: {', '.join(allowed)}")
    try:
        return fn(spec.pop("name", path.stem), **spec)
    except (TypeError, ValueError) as e:
        raise LayerRefError(f"{path}: layer: {e}") from None


def load_layer(ref: str, batch: int = 1) -> Problem:
    """The layer named by ``ref`` (``MODEL:LAYER`` or a YAML layer spec file), at ``batch``."""
    from loopnest.workload import load_network

    path = Path(ref)
    if path.suffix.lower() in (".yaml", ".yml"):
        problem = _from_spec(path)
        return problem.with_dims(N=batch) if "N" in problem.dims and batch != 1 else problem
    model, sep, name = ref.rpartition(":")
    if not sep:
        raise LayerRefError(f"layer {ref!r}: give MODEL:LAYER (e.g. resnet50:layer1.0.conv2) or a .yaml layer spec")
    net = load_network(model, batch)
    for problem in net.layers:
        if problem.name == name:
            return problem
    names = [p.name for p in net.layers]
    raise LayerRefError(f"model {model!r} has no layer {name!r}{did_you_mean(name, names)}; "
                        f"layers: {', '.join(names[:12])}{' ...' if len(names) > 12 else ''}")
