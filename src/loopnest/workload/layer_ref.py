"""Name one layer on the command line: ``MODEL:LAYER`` from the zoo (or an .onnx file), or a
YAML layer spec file such as::

    layer: {type: conv2d, name: my_conv, C: 64, M: 64, H: 56, W: 56, R: 3, padding: 1}

or any loop nest directly (``type: einsum``, what ``loopnest import timeloop`` writes)::

    layer: {type: einsum, name: conv1d, bits: 8, dims: {K: 32, R: 3, P: 16}, tensors: [
      {name: Weights, role: weights, indices: [{K: 1}, {R: 1}], static: true},
      {name: Inputs, role: inputs, indices: [{P: 1, R: 1}]},
      {name: Outputs, role: outputs, indices: [{K: 1}, {P: 1}]}]}

``type`` is one of the layer constructors of ``loopnest.workload.layers``; the other keys are its
keyword arguments, validated by one pydantic schema per constructor (never evaluated): sizes are
integers (not floats, booleans or strings) from 1 to 2^63 - 1, the int64 range of the cost model.
``name`` (default: the file's stem) must be a string: a name that YAML reads as another type
(``.inf``, ``1e3`` with a dot, ``yes``, ``null``) is rejected, not coerced, since the coerced
text would differ from what was written (``.inf`` -> ``inf``); quote it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StrictBool, ValidationError

from loopnest.datafile import field_path
from loopnest.names import did_you_mean
from loopnest.workload import layers
from loopnest.workload.problem import Problem

MAX_SIZE = 2**63 - 1

_Size = Annotated[int, Strict(), Field(ge=1, le=MAX_SIZE)]
_Pad = Annotated[int, Strict(), Field(ge=0, le=MAX_SIZE)]


def _pair(v: Any) -> Any:
    """An int means the same value for height and width."""
    if isinstance(v, list) and len(v) != 2:
        raise ValueError(f"a list of {len(v)} items, not 2")
    return (v, v) if isinstance(v, int) and not isinstance(v, bool) else v


def _padding(v: Any) -> Any:
    """An int pads every side; [h, w] pads top and bottom by h, left and right by w (as layers._pads)."""
    if isinstance(v, list) and len(v) not in (2, 4):
        raise ValueError(f"a list of {len(v)} items, not 2 or 4")
    if isinstance(v, int) and not isinstance(v, bool):
        return (v,) * 4
    return (v[0], v[1], v[0], v[1]) if isinstance(v, list) and len(v) == 2 else v


SIZE = "an integer from 1 to 2^63 - 1"
PAIR = f"{SIZE}, or a list [h, w] of them"
Size = Annotated[_Size, Field(description=SIZE)]
Pair = Annotated[tuple[_Size, _Size], BeforeValidator(_pair), Field(description=PAIR)]
Padding = Annotated[tuple[_Pad, _Pad, _Pad, _Pad], BeforeValidator(_padding),
                    Field(description="an integer >= 0, a list [h, w] or [top, left, bottom, right] of them")]
Name = Annotated[str, Strict(), Field(min_length=1, description="a non-empty string; quote a name that YAML reads "
                                      "as a number, a boolean or null (name: '.inf')")]


class _Spec(BaseModel):
    """Fields every layer type takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Name
    N: Size = 1
    bits: Annotated[_Size, Field(description="bits per word, " + SIZE)] = layers.DEFAULT_BITS


class Conv2d(_Spec):
    type: Literal["conv2d"]
    C: Size
    M: Size
    H: Size
    W: Size
    R: Size
    S: Size | None = None
    stride: Pair = (1, 1)
    dilation: Pair = (1, 1)
    padding: Padding = (0, 0, 0, 0)
    groups: Size = 1


class Pointwise(_Spec):
    type: Literal["pointwise"]
    C: Size
    M: Size
    H: Size
    W: Size
    stride: Size = 1
    groups: Size = 1


class Depthwise(_Spec):
    type: Literal["depthwise"]
    C: Size
    H: Size
    W: Size
    R: Size
    multiplier: Size = 1
    stride: Pair = (1, 1)
    padding: Padding = (0, 0, 0, 0)
    dilation: Pair = (1, 1)


class Fc(_Spec):
    type: Literal["fc"]
    C: Size
    M: Size
    input_shape: Annotated[tuple[_Size, ...], Field(description=f"a list of sizes, each {SIZE}")] | None = None


class Matmul(_Spec):
    type: Literal["matmul"]
    P: Size
    M: Size
    C: Size
    static: Annotated[StrictBool, Field(description="true or false")] = True


_Dim = Annotated[str, Strict(), Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class _EinsumTensor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Name
    role: Annotated[Literal["inputs", "weights", "outputs"], Field(description="inputs, weights or outputs")]
    indices: Annotated[list[dict[_Dim, _Size]], Field(min_length=1, description="one {dim: coefficient} per axis")]
    static: StrictBool = False


class Einsum(_Spec):
    """Any loop nest (kind einsum): dimension sizes and tensors with affine indices."""

    type: Literal["einsum"]
    dims: Annotated[dict[_Dim, _Size], Field(min_length=1, description=f"{{name: size}}, each size {SIZE}")]
    tensors: Annotated[list[_EinsumTensor], Field(min_length=3, max_length=3, description="three tensors: "
                                                   "{name, role, indices, static}, one per role")]


SPECS: dict[str, tuple[type[_Spec], Callable[..., Problem]]] = {

    "conv2d": (Conv2d, layers.conv2d), "pointwise": (Pointwise, layers.pointwise),
    "depthwise": (Depthwise, layers.depthwise), "fc": (Fc, layers.fc), "matmul": (Matmul, layers.matmul),
    "einsum": (Einsum, layers.einsum),
}


class _Head(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Annotated[Literal[tuple(SPECS)], Field(description=", ".join(SPECS))]  # type: ignore[valid-type]


class LayerRefError(ValueError):
    """A layer reference that names no layer."""


def parse_layer_spec(data: object, source: str = "<layer>") -> Problem:
    """A layer from plain data ``{"layer": {type: ..., ...}}``; errors name ``source`` and the field."""
    if not isinstance(data, dict) or set(data) != {"layer"} or not isinstance(data["layer"], dict):
        raise LayerRefError(f"{source}: expected one top-level key 'layer' holding a mapping")
    return build_layer(data["layer"], Path(source).stem, source, ("layer",), data)


def build_layer(spec: dict, default_name: str, source: str, at: tuple, data: object) -> Problem:
    """The layer a spec mapping describes; ``at`` is its location in the file's ``data`` (for
    field paths in errors: ``layer`` or ``network.layers[2]``)."""
    spec = {"name": default_name, **spec}
    try:
        kind = _Head.model_validate(spec).type
        model, build = SPECS[kind]
        checked = model.model_validate(spec)
    except ValidationError as e:
        raise LayerRefError(f"{source}: {_describe(e, spec, at, data)}") from None
    args = {k: getattr(checked, k) for k in checked.model_fields_set - {"type", "name"}}
    if "tensors" in args:
        args["tensors"] = [t.model_dump() for t in args["tensors"]]
    try:
        return build(checked.name, **args)
    except ValueError as e:  # LayerError and Problem's checks: relations between fields
        raise LayerRefError(f"{source}: {field_path(at, data)}: {e}") from None


def _describe(exc: ValidationError, spec: dict, at: tuple, data: object) -> str:
    """The first error as 'field layer.X: what is wrong (got V); allowed: what the field takes'."""
    err = exc.errors(include_url=False)[0]
    loc = (*at, *err["loc"])
    kind = spec.get("type")
    model = SPECS[kind][0] if isinstance(kind, str) and kind in SPECS else _Head
    field = model.model_fields.get(str(err["loc"][0])) if err["loc"] else None
    where = f"field {field_path(loc, data)}"
    if err["type"] == "extra_forbidden":
        allowed = [f for f in model.model_fields if f != "type"]
        return f"{where}: unknown for {kind}; allowed: {', '.join(allowed)}"
    allowed = f"; allowed: {field.description}" if field is not None and field.description else ""
    if err["type"] == "missing" and len(err["loc"]) == 1:
        return f"{where}: required field is missing{allowed}"
    return f"{where}: {err['msg'].removeprefix('Value error, ')} (got {err['input']!r}){allowed}"


def load_layer(ref: str, batch: int = 1) -> Problem:
    """The layer named by ``ref`` at ``batch``: ``MODEL:LAYER`` (MODEL a zoo name, an .onnx file or a
    YAML network), or a YAML file holding one layer (a ``layer:`` spec or a one-layer network)."""
    from loopnest.workload import WorkloadError, load_network

    path = Path(ref)
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            net = load_network(ref, batch)
        except WorkloadError as e:
            raise LayerRefError(str(e)) from None
        if len(net.layers) == 1:
            return net.layers[0]
        names = [p.name for p in net.layers]
        raise LayerRefError(f"{ref}: the network has {len(names)} layers; name one as {ref}:LAYER "
                            f"(layers: {', '.join(names[:12])}{' ...' if len(names) > 12 else ''})")
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
