"""Tensors held whole at level 1 between layers (``resident``, the TPU v1's unified buffer, EIE's
weight SRAMs) prune the mapspace: level 1 always keeps them, and the outermost level loops over
none of their dimensions (a loop there would split the tile the model requires to be the whole
tensor, docs/model.md). The exact search over the pruned space must equal a brute force over the
unpruned one, every mapping costed with residency."""

from __future__ import annotations

import pytest
from test_search import brute_force, found, rests  # noqa: F401  (rests: the fixture of both exact paths)

from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.constraints import ConstraintError, parse_constraints
from loopnest.mapping.mapspace import Mapspace
from loopnest.search.mapper import search_layer
from loopnest.workload.layers import conv2d, fc
from loopnest.workload.problem import ROLES

E = [{"read": e, "write": e * 1.5, "update": e * 1.2} for e in (100.0, 6.0, 2.0, 1.0)]


def held(resident: tuple[str, ...] = ("inputs", "outputs"), cap: int = 40) -> Architecture:
    """TPU-like in miniature: activations held whole in Buf, weights through WBuf to a 2x1 array of RFs."""
    return Architecture(name="held", levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj=E[0]),
        Storage(name="Buf", capacity_words=cap, keeps=("inputs", "outputs"), resident=resident, energy_pj=E[1]),
        Storage(name="WBuf", capacity_words=8, keeps=("weights", "outputs"), energy_pj=E[2],
                fanout=Fanout(x=2, y=1, energy_pj=0.2, multicast=True, reduction=True)),
        Storage(name="RF", capacity_words=2, energy_pj=E[3]),
    ), compute=Compute(energy_pj=0.5))


LAYERS = [fc("f", C=2, M=4, N=2), conv2d("c", C=1, M=2, H=3, W=1, R=2, S=1)]


@pytest.mark.parametrize("layer", LAYERS, ids=["fc", "conv"])
def test_exact_equals_brute_force_over_the_unpruned_space(layer, rests):
    keys, r = found(layer, held())
    assert keys == pytest.approx(brute_force(layer, held(), enumerate_on=held(()), inner_order_free=True), rel=1e-12)
    assert r.result.count("DRAM", "inputs", "reads") == 0  # held on chip: only the weights cross


def test_the_outermost_level_loops_over_no_resident_dimension():
    # fc N=2, C=2, M=4: the inputs depend on N and C, the outputs on N and M; held whole, neither may
    # be split by a DRAM loop, so every DRAM factor is 1; without residency DRAM may split all three
    layer = fc("f", C=2, M=4, N=2)
    pruned, free = Mapspace(layer, held()), Mapspace(layer, held(()))
    s = pruned.slots.index((0, 0))
    assert all((o[:, s] == 1).all() for o in pruned.options)
    assert sorted({int(v) for o in free.options for v in o[:, s]}) == [1, 2, 4]
    both = [ROLES.index("inputs"), ROLES.index("outputs")]
    assert pruned.keep_configs[:, 1, both].all()  # Buf keeps inputs and outputs in every bypass choice
    assert len(pruned.keep_configs) < len(free.keep_configs)
    weights_only = Mapspace(layer, held(("inputs",)))  # inputs depend on N and C: M may still loop at DRAM
    ws = weights_only.slots.index((0, 0))
    dram = {d: sorted(set(o[:, ws].tolist())) for d, o in zip(weights_only.dims, weights_only.options)}
    assert dram == {"N": [1], "C": [1], "M": [1, 2, 4]}


def test_a_keep_constraint_without_the_resident_tensor_is_one_clear_error():
    with pytest.raises(ConstraintError, match=r"Buf holds \['inputs', 'outputs'\] whole between layers"):
        Mapspace(fc("f", C=2, M=4, N=2), held(), parse_constraints([{"level": "Buf", "keep": ["inputs"]}]))


def test_a_tensor_too_large_to_hold_says_so_without_costing_anything():
    # inputs 2 x 16 = 32 and outputs 2 x 8 = 16 words held whole: 48 > 40 words of Buf
    r = search_layer(fc("f", C=16, M=8, N=2), held(), None, "energy", mode="exact")
    assert r.result is None and r.evaluated == 0
    assert "Buf (40 words): the smallest tile is 48 words" in r.reason


def test_a_mapping_the_model_alone_rejects_is_named():
    # the mapspace's capacity test leaves a compressed format's metadata out (a relaxation); with
    # one 16-bit coordinate per weight (coordinate-payload, 16-bit words), C=4 x M=8 = 32 resident
    # weights take 32 words + 32 metadata words = 64 > 48: the mapspace passes them, the model
    # rejects every mapping
    arch = Architecture.model_validate({"name": "csc", "levels": [
        {"name": "DRAM", "class": "dram", "energy_pj": E[0]},
        {"name": "W", "capacity_words": 48, "keeps": ["weights"], "resident": ["weights"],
         "energy_pj": E[1], "sparse": {"formats": {"weights": "cp"}, "metadata_bits": 16}},
        {"name": "RF", "capacity_words": 64, "keeps": ["inputs", "outputs"], "energy_pj": E[3]}],
        "compute": {"energy_pj": 0.5}})
    layer = fc("f", C=4, M=8, N=1)
    r = search_layer(layer, arch, None, "energy", mode="exact")
    assert r.result is None and r.evaluated > 0
    assert r.reason.startswith(f"the model rejected all {r.evaluated:,d} mappings costed; the first: level W: tiles")
    assert "metadata included" in r.reason
