"""Density models (workload/density.py): hand-derived hypergeometric occupancies, N:M and fixed
densities, and the --density text and per-layer YAML forms with their one-line errors."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from cli_helpers import run_cli

from loopnest.workload.density import (
    Density,
    DensityError,
    apply_to_layer,
    load_density,
    parse_densities,
    read_density_file,
)
from loopnest.workload.layers import fc


def test_uniform_empty_tile_is_hypergeometric_by_hand():
    """T = 16 values, 4 nonzeros (d = 0.25): a tile of 4 is empty with C(12,4)/C(16,4) = 495/1820;
    a tile of 2 with (12/16)(11/15) = 132/240; a tile of 13 always holds one (only 12 zeros)."""
    d = Density.uniform(0.25)
    p = d.p_nonempty(np.array([0, 1, 2, 4, 12, 13, 16]), 16)
    assert p == pytest.approx([0.0, 0.25, 1 - 132 / 240, 1 - 495 / 1820, 1 - 1 / comb(16, 4), 1.0, 1.0], rel=1e-12)


def test_uniform_occupancy_pmf_and_mean_by_hand():
    """T = 10, 3 nonzeros, tile 2: P(0) = C(7,2)/C(10,2) = 21/45, P(1) = 3*7/45 = 21/45,
    P(2) = C(3,2)/45 = 3/45; the mean is t * d = 0.6."""
    d = Density.uniform(0.3)
    pmf = d.occupancy_pmf(2, 10)
    assert pmf == pytest.approx([21 / 45, 21 / 45, 3 / 45], rel=1e-12)
    assert (pmf * np.arange(3)).sum() == pytest.approx(d.expected(2), rel=1e-12)
    assert d.p_nonempty(np.array([2]), 10)[0] == pytest.approx(1 - 21 / 45, rel=1e-12)


def test_structured_n_of_m_by_hand():
    """2:4: one value is nonzero with 2/4; a pair inside a block is empty with C(2,2)/C(4,2) = 1/6;
    three or more values of a block always hold a nonzero."""
    d = Density.structured(2, 4)
    assert d.value == 0.5
    assert d.p_nonempty(np.array([1, 2, 3, 4, 64]), 1000) == pytest.approx([0.5, 5 / 6, 1, 1, 1], rel=1e-12)
    assert list(d.worst_occupancy(np.array([1, 4, 5, 8]))) == [1, 2, 4, 4]
    # 7:8: one zero per block, so any two values of a block hold a nonzero (tiles of 2..M and beyond)
    assert Density.structured(7, 8).p_nonempty(np.array([1, 2, 5, 8, 9]), 800) == pytest.approx([7 / 8, 1, 1, 1, 1], rel=1e-12)


def test_fixed_density_is_nonempty_with_its_share():
    """Sparseloop's fixed_structured: each tile holds exactly t * d nonzeros."""
    d = Density.fixed(0.25)
    assert list(d.p_nonempty(np.array([1, 2, 4, 8]), 16)) == [0.25, 0.5, 1.0, 1.0]


def rle_entries_of(x: np.ndarray, run_bits: int) -> int:
    """Run-length code ``x`` (nonzero flags) as Eyeriss' RLC does (Chen et al., JSSC 2017): each
    entry is a run of at most 2**run_bits - 1 zeros and one value; a longer run is cut by an
    entry whose value is an explicit zero. Trailing zeros are not coded. Returns the entries."""
    entries, run = 0, 0
    for nz in x:
        if not nz and run == 2 ** run_bits - 1:  # the run is full: this zero is the entry's value
            entries, run = entries + 1, 0
        elif nz:
            entries, run = entries + 1, 0
        else:
            run += 1
    return entries


def test_rle_entries_by_hand_and_by_encoding():
    """2-bit runs (R = 4), d = 1/2: after a nonzero, the run reaches 4 zeros with (1/2)**4 = 1/16,
    8 with 1/256, ...: 1/15 filler entries per nonzero, so (1/2)(1 + 1/15) = 8/15 entries per
    position; all zeros: one entry per 4 positions; 5-bit runs (Eyeriss) at d = 0.3: 0.3 / (1 -
    0.7**32); 2:4 never has a run of 32. The formula against the encoder on random vectors."""
    assert Density.uniform(0.5).rle_entries(2) == pytest.approx(8 / 15, rel=1e-12)
    assert Density.uniform(0.0).rle_entries(2) == 0.25
    assert Density.uniform(0.3).rle_entries(5) == pytest.approx(0.3 / (1 - 0.7**32), rel=1e-12)
    assert Density.structured(2, 4).rle_entries(5) == 0.5 and Density().rle_entries(5) == 1.0
    assert rle_entries_of(np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 2) == 4  # 1 | 000,0 | 000,0 | 1
    rng = np.random.default_rng(3)
    n, draws = 4096, 60
    for d, bits in ((0.1, 2), (0.25, 3), (0.5, 2)):
        got = np.array([rle_entries_of(rng.random(n) < d, bits) for _ in range(draws)]) / n
        # independent zeros, as the formula assumes; trailing zeros shave at most one run's fillers
        err = got.std(ddof=1) / np.sqrt(draws)
        assert abs(got.mean() - Density.uniform(d).rle_entries(bits)) <= 5 * err + 2 / n, (d, bits)


def test_parse_text_form():
    got = parse_densities("weights=0.45, i=2:4,outputs=1")
    assert got["weights"] == Density.uniform(0.45)
    assert got["inputs"] == Density.structured(2, 4)
    assert got["outputs"].is_dense


@pytest.mark.parametrize(("text", "words"), [
    ("weights=1.5", "weights: expected a number in [0, 1]"), ("weights=-0.1", "expected a number in [0, 1]"),
    ("psums=0.3", "no tensor 'psums'; tensors are inputs, weights, outputs"), ("weights=3:2", "N:M"),
    ("weights=0.2,weights=0.3", "given twice"), ("weights", "expected tensor=density"), ("weights=nan", "[0, 1]")])
def test_bad_text_is_one_line(text, words):
    with pytest.raises(DensityError) as e:
        parse_densities(text)
    assert words in str(e.value) and "\n" not in str(e.value)


def _write(tmp_path, text: str) -> str:
    p = tmp_path / "densities.yaml"
    p.write_text(text)
    return str(p)


def test_density_file_in_the_agreed_format(tmp_path):
    path = _write(tmp_path, "source: measured on 100 images\nlayers:\n"
                            "  conv1: {weights: 0.45, inputs: 1.0, outputs: 0.52}\n  fc1: {weights: 0.3}\n")
    spec = read_density_file(path)
    assert spec.source == "measured on 100 images"
    assert spec.layers["conv1"]["outputs"] == Density.uniform(0.52)
    assert spec.layers["fc1"] == {"weights": Density.uniform(0.3)}
    layer = apply_to_layer(fc("fc1", C=4, M=4), _only(spec, "fc1"))
    assert layer.tensor("weights").density == Density.uniform(0.3)
    assert layer.tensor("inputs").density is None  # omitted: dense


def _only(spec, name):
    from dataclasses import replace
    return replace(spec, layers={name: spec.layers[name]})


@pytest.mark.parametrize(("text", "words"), [
    ("layers:\n  conv1: {weights: 1.2}\n", "layers.conv1.weights: expected a number in [0, 1]"),
    ("layers:\n  conv1: {psums: 0.2}\n", "layers.conv1.psums: no tensor 'psums'; tensors are inputs, weights, outputs"),
    ("layers:\n  conv1: 0.5\n", "layers.conv1: expected a mapping of tensor: density"),
    ("source: x\nlayer: {}\n", "layers: expected a mapping"),
    ("source: x\nlayers: {}\nextra: 1\n", "extra: unknown field; allowed fields are source, layers"),
])
def test_bad_density_file_is_one_line_naming_file_and_field(tmp_path, text, words):
    path = _write(tmp_path, text)
    with pytest.raises(DensityError) as e:
        read_density_file(path)
    assert str(e.value).startswith(path) and words in str(e.value) and "\n" not in str(e.value)


def test_unknown_layer_names_file_field_and_layers(tmp_path):
    path = _write(tmp_path, "source: x\nlayers:\n  fc9: {weights: 0.3}\n")
    with pytest.raises(DensityError) as e:
        apply_to_layer(fc("fc1", C=4, M=4), load_density(path))
    assert str(e.value) == f"{path}: layers.fc9: no such layer in the layer (it is 'fc1'); layers are fc1"


def test_shape_key_separates_densities():
    """Layers at different densities are never solved once for both (the mapper's cache key)."""
    layer = fc("f", C=4, M=4)
    keys = {apply_to_layer(layer, load_density(s)).shape_key() for s in ("weights=1", "weights=0.5", "weights=1:2", "weights=2:4")}
    assert len(keys) == 4  # 1:2 and 2:4 differ in their blocks
    assert apply_to_layer(layer, load_density("weights=1")).shape_key() == layer.shape_key()


@pytest.mark.parametrize(("value", "words"), [("weights=2", "--density: density 'weights=2': weights: expected a number in [0, 1]"),
                                              ("conv1=0.5", "no tensor 'conv1'")])
def test_cli_bad_density_is_one_line(value, words):
    r = run_cli("model", "--arch", "simple-ws", "--layer", "alexnet:conv1", "--mapping", "x.yaml", "--density", value)
    assert r.returncode != 0 and words in r.stderr and "Traceback" not in r.stderr
    assert len([line for line in r.stderr.splitlines() if line.strip()]) == 1
