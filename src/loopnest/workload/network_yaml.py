"""A network written in YAML, for users without ONNX: MAC layers plus the edges between them.

::

    network:
      name: tiny-cnn            # default: the file's stem
      inputs: [image]           # the graph inputs' names; default: [input]
      layers:                   # each as in a layer spec (loopnest.workload.layer_ref)
        - {type: conv2d, name: conv1, C: 1, M: 8, H: 28, W: 28, R: 5}
        - {type: conv2d, name: conv2, C: 8, M: 16, H: 24, W: 24, R: 5}
        - {type: fc, name: fc, C: 6400, M: 10}
      edges:                    # [producer, consumer]; default: a chain in the listed order
        - [image, conv1]
        - [conv1, conv2]
        - [conv2, fc]

Every layer's sizes are written out (nothing is inferred from its producer), so a layer fed
through a pooling or a concatenation is written with the sizes it sees. Edges are the data
dependences (``Network.layer_edges``); a layer no edge feeds reads the first input. Layers are
listed producers first. A file holding one ``layer:`` spec is a one-layer network.
"""

from __future__ import annotations

from pathlib import Path

from loopnest.datafile import read_own_yaml
from loopnest.names import did_you_mean
from loopnest.workload.layer_ref import LayerRefError, build_layer, parse_layer_spec
from loopnest.workload.network import Network, NetworkError, Node

KEYS = ("name", "inputs", "layers", "edges")


def load_network_yaml(path: str | Path) -> Network:
    """The network in a YAML file (``network:`` or a single ``layer:``), at batch 1."""
    return parse_network(read_own_yaml(path, LayerRefError), str(path))


def parse_network(data: object, source: str = "<network>") -> Network:
    """A network from plain data ``{"network": {...}}`` or ``{"layer": {...}}``; errors name
    ``source`` and the field."""
    if isinstance(data, dict) and set(data) == {"layer"}:
        layer = parse_layer_spec(data, source)
        return Network(layer.name, 1, (Node(layer.name, layer, ("input",)),), {"input": ()}, source=source)
    if not isinstance(data, dict) or set(data) != {"network"} or not isinstance(data["network"], dict):
        raise LayerRefError(f"{source}: expected one top-level key 'network' (layers and edges) or 'layer' "
                            "(one layer) holding a mapping; see docs/workload.md, Networks in YAML")
    spec = data["network"]
    unknown = [k for k in spec if k not in KEYS]
    if unknown:
        raise LayerRefError(f"{source}: field network.{unknown[0]}: unknown{did_you_mean(str(unknown[0]), KEYS)}; "
                            f"allowed: {', '.join(KEYS)}")
    name = _text(spec.get("name", Path(source).stem), source, "network.name")
    inputs = spec.get("inputs", ["input"])
    if not isinstance(inputs, list) or not inputs:
        raise LayerRefError(f"{source}: field network.inputs: a non-empty list of names (got {inputs!r})")
    inputs = [_text(x, source, f"network.inputs[{i}]") for i, x in enumerate(inputs)]
    raw = spec.get("layers")
    if not isinstance(raw, list) or not raw:
        raise LayerRefError(f"{source}: field network.layers: required, a non-empty list of layer specs "
                            "({type: conv2d, name: ..., ...})")
    layers = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise LayerRefError(f"{source}: field network.layers[{i}]: a mapping {{type: ..., name: ..., ...}} "
                                f"(got {item!r})")
        layers.append(build_layer(item, f"layer{i}", source, ("network", "layers", i), data))
    producers = _edges(spec, source, inputs, [p.name for p in layers])
    nodes = tuple(Node(p.name, p, producers.get(p.name) or (inputs[0],)) for p in layers)
    try:
        return Network(name, 1, nodes, {x: () for x in inputs}, source=source)
    except NetworkError as e:
        raise LayerRefError(f"{source}: {e}") from None


def _text(value: object, source: str, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise LayerRefError(f"{source}: field {field}: a non-empty string (got {value!r}); quote a name "
                            "that YAML reads as a number, a boolean or null")
    return value


def _edges(spec: dict, source: str, inputs: list[str], names: list[str]) -> dict[str, tuple[str, ...]]:
    """Each layer's producers, from ``edges`` (default: each layer reads the one listed before it)."""
    dupes = sorted({n for n in names if names.count(n) > 1} | (set(names) & set(inputs)))
    if dupes:
        raise LayerRefError(f"{source}: field network.layers: the name {dupes[0]!r} is used twice (layer and "
                            "input names must be distinct)")
    if "edges" not in spec:
        return {b: (a,) for a, b in zip(names, names[1:])}
    edges = spec["edges"]
    if not isinstance(edges, list):
        raise LayerRefError(f"{source}: field network.edges: a list of [producer, consumer] pairs (got {edges!r})")
    order = {n: i for i, n in enumerate(names)} | {x: -1 for x in inputs}
    producers: dict[str, list[str]] = {}
    for i, edge in enumerate(edges):
        where = f"{source}: field network.edges[{i}]"
        if not (isinstance(edge, list) and len(edge) == 2 and all(isinstance(x, str) for x in edge)):
            raise LayerRefError(f"{where}: a pair [producer, consumer] of layer or input names (got {edge!r})")
        src, dst = edge
        for end, allowed in ((src, [*inputs, *names]), (dst, names)):
            if end not in allowed:
                raise LayerRefError(f"{where}: {end!r} is not a layer{' or an input' if end == src else ''} of "
                                    f"this network{did_you_mean(end, allowed)}")
        if src == dst:
            raise LayerRefError(f"{where}: layer {src!r} cannot feed itself (the graph has no cycles)")
        if order[src] > order[dst]:
            raise LayerRefError(f"{where}: {src!r} is listed after {dst!r}; list every producer before its "
                                "consumers (the graph has no cycles)")
        if src not in producers.setdefault(dst, []):
            producers[dst].append(src)
    return {k: tuple(v) for k, v in producers.items()}
