"""The mapper from Python, with the command line's inputs and defaults: ``loopnest.map_network``.

``loopnest evaluate MODEL --arch ARCH [options]`` is ``map_network(MODEL, ARCH, **options)``
followed by ``.to_dict()`` (what ``--json`` prints): names, files and objects are accepted
wherever the command takes a name or a file, and every default is the command's (mode ``auto``,
the architecture's own dataflow, all CPUs).
"""

from __future__ import annotations

from pathlib import Path

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import Constraints
from loopnest.search.mapper import AUTO, REMAINDER_FOLDS
from loopnest.search.network import NetworkResult
from loopnest.workload.network import Network

ARCH_DATAFLOW = "arch"  # the dataflow argument's default: the architecture's own hint (as the CLI)


def map_network(model: str | Path | Network, arch: str | Path | Architecture, *, batch: int = 1,
                dataflow: str | None = ARCH_DATAFLOW, constraints: str | Path | Constraints | None = None,
                objective: str = "energy", mode: str = AUTO, seed: int = 0, jobs: int | None = None,
                table: str | None = None, precision: str | None = None,
                layer_timeout_s: float | None = None, remainder_folds: bool = REMAINDER_FOLDS) -> NetworkResult:
    """The best mapping of every MAC layer of ``model`` on ``arch``, as ``loopnest evaluate``.

    ``model``: a zoo name, an .onnx or YAML network file, or a ``Network``. ``arch``: a preset
    name, a YAML spec or an ``Architecture`` (``table`` then re-resolves names and files only).
    ``dataflow``: a preset (ws, os, rs, ...), ``"arch"`` (default: the architecture's hint) or
    None / ``"none"`` (unconstrained). ``constraints``: a YAML file or ``Constraints``, met with
    the dataflow's. ``precision``: ``"weights=4,inputs=8"`` or a per-layer file. ``remainder_folds``:
    ``--remainder-folds``. Errors are the
    loaders' one-line ``ValueError`` subclasses (WorkloadError, ArchSpecError, ConstraintError, ...).
    """
    from loopnest.search import network as search

    network = _prepared(model, batch, precision)
    if not isinstance(arch, Architecture):
        from loopnest.arch import load_arch

        arch = load_arch(arch, table=table)
    dataflow = resolve_dataflow(arch.dataflow if dataflow == ARCH_DATAFLOW else dataflow)
    if constraints is not None and not isinstance(constraints, Constraints):
        from loopnest.mapping.constraints import load_constraints

        constraints = load_constraints(constraints)
    return search.map_network(network, arch, dataflow, constraints, objective, mode, seed, jobs,
                              layer_timeout_s=layer_timeout_s, remainder_folds=remainder_folds)


def map_crossbar_network(model: str | Path | Network, arch: str | Path | Architecture, *, batch: int = 1,
                         objective: str = "energy", precision: str | None = None) -> dict:
    """Every layer of ``model`` on a PIM architecture's crossbars, as ``loopnest evaluate`` on
    the crossbar route (what its ``--json`` prints, less the schema version): inputs as
    :func:`map_network`; ``objective`` energy, cycles or edp. ``map_network`` maps a PIM
    architecture as loop nests (``--mapper loopnest``)."""
    from loopnest.search.crossbar import map_network_crossbar

    network = _prepared(model, batch, precision)
    if not isinstance(arch, Architecture):
        from loopnest.arch import load_arch

        arch = load_arch(arch)
    return {"batch": network.batch, **map_network_crossbar(network, arch, objective)}


def resolve_dataflow(name: str | None) -> str | None:
    """A dataflow preset's name in lower case, or None for none (``None`` or ``"none"``); an
    unknown name is a ValueError that lists the valid ones (what ``--dataflow`` accepts)."""
    from loopnest.mapping.dataflows import DATAFLOWS
    from loopnest.names import did_you_mean

    if name is None or name.lower() == "none":
        return None
    if name.lower() not in DATAFLOWS:
        raise ValueError(f"unknown dataflow {name!r}{did_you_mean(name, [*DATAFLOWS, 'none'])}; "
                         f"valid: {', '.join(DATAFLOWS)}, none")
    return name.lower()


def _prepared(model: str | Path | Network, batch: int, precision: str | None) -> Network:
    """``model`` as a network at ``batch``, at ``precision`` when one is given."""
    if isinstance(model, Network):
        network = model.with_batch(batch) if batch != 1 else model
    else:
        from loopnest.workload import load_network

        network = load_network(model, batch)
    if precision is not None:
        from loopnest.workload.precision import apply_precision, load_precision

        default, per_layer = load_precision(precision)
        network = apply_precision(network, default, per_layer)
    return network
