"""Measured densities: the fraction of non-zero values in each MAC layer's weights, input
activations and output activations, recorded by running a network on a batch of real inputs.

* A torch module (:func:`torch_densities`): forward hooks on its ``nn.Conv2d`` and ``nn.Linear``
  submodules. Layer names are the module paths, which are the names the torch importer gives
  those layers (checked: a module called twice, or a functional conv/linear/matmul, makes the
  names differ and is rejected).
* An ONNX file (:func:`onnx_densities`): onnx's own reference evaluator
  (``onnx.reference.ReferenceEvaluator``, no onnxruntime) with every intermediate result kept.
  The layers are the Conv, Gemm and MatMul nodes the ONNX importer turns into loop nests, named
  as it names them (:func:`loopnest.workload.onnx_import.named_nodes`).

What is counted, per layer:

* ``weights``: the weight tensor as the forward pass uses it (a pruning mask multiplied in);
  the bias is not counted. For a product of two activations (attention) it is the second operand.
* ``inputs``: the tensor the layer reads (so after the previous layer's ReLU: a ReLU's zeros
  show up as the next layer's input density). Padding zeros are not counted.
* ``outputs``: the layer's own result, bias added, *before* any nonlinearity (ReLU is a separate
  step in both torch and ONNX).

Each density is non-zeros over elements summed over the whole batch: with every sample of the
same shape, the mean over the samples of each sample's density.

The result is written as YAML (:meth:`Densities.save`)::

    source: <model>, <data>, <number of inputs>
    layers:
      conv1: {weights: 0.45, inputs: 1.0, outputs: 0.52}
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from loopnest.codesign import CodesignError

BATCH = 256  # inputs per forward pass
COUNTED = "non-zeros / elements over the batch; outputs before the nonlinearity (ReLU zeros show in the next layer's inputs)"
ONNX_LAYERS = ("Conv", "Gemm", "MatMul")  # the float MAC operators whose densities are recorded


@dataclass(frozen=True)
class LayerDensity:
    """Fractions (0..1) of non-zero weights, input and output activations of one MAC layer."""

    weights: float
    inputs: float
    outputs: float

    def __post_init__(self) -> None:
        for k in ("weights", "inputs", "outputs"):
            v = getattr(self, k)
            if not 0.0 <= v <= 1.0:
                raise CodesignError(f"density of {k}: a fraction in [0, 1], got {v}")


@dataclass(frozen=True)
class Densities:
    """Per-layer measured densities and a free-text ``source`` saying where they come from."""

    source: str
    layers: dict[str, LayerDensity]

    def to_dict(self) -> dict:
        return {"source": self.source,
                "layers": {n: {"weights": d.weights, "inputs": d.inputs, "outputs": d.outputs} for n, d in self.layers.items()}}

    def save(self, path: str | Path) -> None:
        """Write the YAML of the module docstring (yaml.safe_dump, layers in network order)."""
        import yaml

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None))


class _Counter:
    """Non-zero and total element counts of each layer's weights, inputs and outputs."""

    def __init__(self) -> None:
        self.counts: dict[str, np.ndarray] = {}  # name -> [nz_w, n_w, nz_in, n_in, nz_out, n_out]

    def add(self, name: str, weights, inputs, outputs) -> None:
        row = self.counts.setdefault(name, np.zeros(6, np.int64))
        for i, t in enumerate((weights, inputs, outputs)):
            if t is not None:
                row[2 * i] += int(np.count_nonzero(np.asarray(t)))
                row[2 * i + 1] += int(np.asarray(t).size)

    def result(self, order) -> dict[str, LayerDensity]:
        out = {}
        for name in order:
            c = self.counts[name]
            out[name] = LayerDensity(*(float(c[2 * i] / c[2 * i + 1]) if c[2 * i + 1] else 1.0 for i in range(3)))
        return out


def _array(x) -> np.ndarray:
    x = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    if x.ndim < 2 or not len(x):
        raise CodesignError(f"inputs: a batch (at least one sample along the first axis), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise CodesignError(f"inputs: a real numeric array, got dtype {x.dtype}")
    return x.astype(np.float32)


def torch_densities(module, x, batch: int = BATCH) -> dict[str, LayerDensity]:
    """Densities of each Conv2d/Linear layer of a torch ``module`` over the inputs ``x`` (a numpy
    array or tensor, samples along the first axis), in the importer's layer order."""
    import torch

    from loopnest.codesign.accuracy import mac_layers
    from loopnest.workload import WorkloadError
    from loopnest.workload.torch_import import import_torch

    x = _array(x)
    layers = mac_layers(module)
    try:
        names = [p.name for p in import_torch(module, torch.as_tensor(x[:1])).layers]
    except WorkloadError as e:
        raise CodesignError(str(e)) from None
    if sorted(names) != sorted(layers):
        other = sorted(set(names) ^ set(layers))
        raise CodesignError(f"{type(module).__name__}: measured densities need each MAC layer to be a Conv2d or Linear "
                            f"module called once; these layers differ between the module and its import: {', '.join(other)}")
    counter = _Counter()

    def hook(name):
        def record(m, args, out):
            counter.add(name, None, args[0], out)
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in layers.items()]
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            for i in range(0, len(x), batch):
                module(torch.as_tensor(x[i:i + batch]))
            for n, m in layers.items():
                counter.add(n, m.weight.detach(), None, None)
    finally:
        for h in handles:
            h.remove()
        module.train(was_training)
    return counter.result(names)


def _onnx_targets(model, path: Path) -> list[tuple[object, str]]:
    """(node, importer name) of each MAC layer of the ONNX ``model`` read from ``path``."""
    from loopnest.workload import WorkloadError
    from loopnest.workload.onnx_import import import_onnx, named_nodes

    try:
        layers = {p.name for p in import_onnx(path).layers}
    except WorkloadError as e:
        raise CodesignError(str(e)) from None
    consts = {i.name: tuple(i.dims) for i in model.graph.initializer}
    inputs = {vi.name for vi in model.graph.input if vi.name not in consts}
    targets = []
    for nd, name in named_nodes(model.graph, consts, set(inputs)):
        if name in layers:
            if nd.op_type not in ONNX_LAYERS:
                raise CodesignError(f"{path.name}: node {name!r} ({nd.op_type}): measured densities read float "
                                    f"{', '.join(ONNX_LAYERS)} layers only")
            targets.append((nd, name))
    return targets


def prune_onnx(model, targets, sparsity: float) -> None:
    """Magnitude-prune, in place, the constant weight (second operand) of each target layer of
    the ONNX ``model``: floor(sparsity x n) smallest magnitudes set to zero, as
    :func:`loopnest.codesign.pruning.magnitude_masks` does per layer."""
    import torch
    from onnx import numpy_helper

    from loopnest.codesign.pruning import _keep, check_sparsity

    check_sparsity(sparsity)
    inits = {i.name: i for i in model.graph.initializer}
    for nd, _ in targets:
        init = inits.get(nd.input[1])
        if init is None:
            continue  # a product of two activations has no weights to prune
        w = numpy_helper.to_array(init)
        keep = _keep(torch.from_numpy(np.abs(w).ravel()), sparsity).numpy().reshape(w.shape)
        init.CopyFrom(numpy_helper.from_array(np.where(keep, w, np.zeros_like(w)), init.name))


def onnx_densities(path: str | Path, x, prune_sparsity: float | None = None) -> dict[str, LayerDensity]:
    """Densities of each Conv/Gemm/MatMul layer of the ONNX file ``path`` over the inputs ``x``
    (samples along the first axis; the graph's one input), by onnx's reference evaluator.
    ``prune_sparsity``: magnitude-prune each layer's weights first (:func:`prune_onnx`)."""
    try:
        import onnx
        from onnx.reference import ReferenceEvaluator
    except ImportError:
        raise CodesignError("measuring an ONNX model needs the onnx package (pip install 'loopnest[onnx]')") from None
    path = Path(path)
    x = _array(x)
    targets = _onnx_targets(onnx.load(str(path), load_external_data=False), path)
    model = onnx.load(str(path))
    if prune_sparsity is not None:
        prune_onnx(model, targets, prune_sparsity)
    consts = {i.name for i in model.graph.initializer}
    graph_inputs = [vi for vi in model.graph.input if vi.name not in consts]
    if len(graph_inputs) != 1:
        raise CodesignError(f"{path.name}: measured densities feed one input batch; the graph has "
                            f"{len(graph_inputs)} inputs ({', '.join(vi.name for vi in graph_inputs)})")
    feed = graph_inputs[0]
    dims = [d.dim_value if d.dim_value > 0 else None for d in feed.type.tensor_type.shape.dim]
    if len(dims) != x.ndim or any(d is not None and d != s for d, s in zip(dims[1:], x.shape[1:])):
        want = " x ".join("?" if d is None else str(d) for d in dims)
        raise CodesignError(f"{path.name}: input {feed.name!r} has shape {want}; the data's shape is "
                            f"{' x '.join(map(str, x.shape))}")
    step = dims[0] or BATCH
    if dims[0] and len(x) % step:
        raise CodesignError(f"{path.name}: input {feed.name!r} takes batches of {step}; {len(x)} inputs is not a multiple")
    session = ReferenceEvaluator(model)
    counter = _Counter()
    for i in range(0, len(x), step):
        values = session.run(None, {feed.name: x[i:i + step]}, intermediate=True)
        for nd, name in targets:
            counter.add(name, values[nd.input[1]], values[nd.input[0]], values[nd.output[0]])
    return counter.result([name for _, name in targets])


def load_inputs(path: str | Path) -> np.ndarray:
    """A numpy batch from a ``.npy`` file (no pickles), through loopnest's bounded file reader."""
    from loopnest.datafile import read_bytes

    raw = read_bytes(path, what="numpy batch")
    try:
        x = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise CodesignError(f"{Path(path).name}: not a numpy .npy array ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    return _array(x)


def measure(model: str, data: str = "digits", prune_sparsity: float | None = None) -> Densities:
    """Densities of ``model`` (a shipped digits CNN's name, or an ``.onnx`` file) over ``data``
    ("digits": the digits test split; or a ``.npy`` file), its weights first magnitude-pruned per
    layer at ``prune_sparsity`` where given; ``source`` says all of it."""
    from loopnest.codesign.pruning import check_sparsity

    if prune_sparsity is not None:
        check_sparsity(prune_sparsity)
    if data == "digits":
        from loopnest.codesign.data import load_digits

        x, what = load_digits().test.x, "the digits test split"
    else:
        x, what = load_inputs(data), Path(data).name
    pruned = "" if prune_sparsity is None else f", weights magnitude-pruned per layer at sparsity {prune_sparsity:g}"
    if model.lower().endswith(".onnx"):
        layers = onnx_densities(model, x, prune_sparsity)
        return Densities(f"{Path(model).name}{pruned}, run by onnx.reference.ReferenceEvaluator on {len(x)} inputs of "
                         f"{what}; {COUNTED}", layers)
    from loopnest.codesign.models import check_model, trained_digits
    from loopnest.codesign.pruning import baked, magnitude_masks, masked

    name = check_model(model)
    module = trained_digits(name)
    if prune_sparsity is not None:
        module = baked(masked(module, magnitude_masks(module, prune_sparsity, "layer")))
    return module_densities(module, f"{name} (shipped trained weights){pruned}", x, what)


def module_densities(module, label: str, x, what: str) -> Densities:
    """Measured densities of a torch ``module`` (``label`` says which, e.g. how it was pruned)
    over the inputs ``x`` (``what`` names them), with the ``source`` text :func:`measure` writes."""
    return Densities(f"{label}, run by the torch forward pass on {len(x)} inputs of {what}; {COUNTED}",
                     torch_densities(module, x))
