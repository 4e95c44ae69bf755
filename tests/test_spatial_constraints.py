"""Spatial constraints of a fanout: ``min_usage`` (the least fraction of its instances a mapping
uses), honoured by the model (an invalid mapping), ``evaluate`` (one error line), the mapspace's
pruning (exactly the tilings that use enough) and the spec loader (one line for a bad value).
Counts are by hand."""

import numpy as np
import pytest
import yaml

from loopnest.arch import ArchSpecError, load_arch
from loopnest.arch.spec import Fanout
from loopnest.mapping.mapping import MappingError
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate
from loopnest.search.mapper import search_layer
from loopnest.workload.layers import fc
from model_helpers import arch, mapping


def test_min_instances_rounds_up_the_fraction():
    assert Fanout(x=4, y=4, min_usage=0.3).min_instances == 5  # 4.8 of 16
    assert Fanout(x=10, min_usage=0.3).min_instances == 3  # 3, although 0.3 * 10 is 3.0000000000000004 in floats
    assert Fanout(x=4, y=4, min_usage=1).min_instances == 16 and Fanout(x=4, y=4).min_instances == 1


LAYER = fc("f", C=4, M=6, N=2)


def _arch(min_usage):
    return arch("DRAM", "Buf", "RF", fanout=Fanout(x=4, y=3, reduction=True, min_usage=min_usage))


def test_a_mapping_below_min_usage_is_one_error_line():
    # 2 x 3 = 6 of the 12 instances: 0.5 of them; min_usage 0.6 needs ceil(7.2) = 8
    m = mapping({}, {"t": {"C": 2, "M": 2}, "x": {"C": 2}, "y": {"M": 3}}, {"t": {"N": 2}})
    assert evaluate(LAYER, _arch(0.5), m).utilization > 0  # exactly half: allowed
    with pytest.raises(MappingError) as info:
        evaluate(LAYER, _arch(0.6), m)
    assert str(info.value) == "level Buf: spatial 2x3 uses 6 of the fanout's 12 instances, below its min_usage 0.6 (at least 8)"


def _usage(space, rows):
    f = space.factors(rows)
    sx, sy = space.slots.index((1, 1)), space.slots.index((1, 2))
    return f[:, sx].prod(axis=1) * f[:, sy].prod(axis=1)


def test_the_mapspace_keeps_exactly_the_tilings_that_use_enough():
    """C 4 and M 6 over a 4 x 3 fanout: the spatial products a tiling can reach are the products
    of a divisor of 4 (x <= 4) and of 6 (y <= 3, also N's 2): min_usage 0.6 (8 of 12) leaves those
    of 8 and 12, the same tilings as filtering the unconstrained mapspace."""
    free, bound = Mapspace(LAYER, _arch(None)), Mapspace(LAYER, _arch(0.6))
    keep = free.keep_configs[-1]
    all_rows, kept = free.tilings(keep), bound.tilings(keep)
    assert set(_usage(free, all_rows)) == {1, 2, 3, 4, 6, 8, 12}
    want = all_rows[_usage(free, all_rows) >= 8]
    assert len(kept) and np.array_equal(np.sort(kept, axis=0), np.sort(want, axis=0))
    assert set(_usage(bound, kept)) == {8, 12}


def test_the_mapper_honours_min_usage():
    best = search_layer(LAYER, _arch(0.6))
    fx = np.prod(list(best.mapping.levels[1].spatial_x.values()) or [1])
    fy = np.prod(list(best.mapping.levels[1].spatial_y.values()) or [1])
    assert best.mode == "exact" and fx * fy >= 8
    # and the searched cost is what evaluate gives the mapping (valid under the constraint)
    assert evaluate(LAYER, _arch(0.6), best.mapping).energy_pj == pytest.approx(best.result.energy_pj)
    # C 2 x M 1 x N 2 reach 4 of 12 instances at most: min_usage 1 leaves nothing, and says why
    none = search_layer(fc("g", C=2, M=1, N=2), _arch(1))
    assert none.result is None and none.reason.endswith("(min_usage: Buf at least 12 of 12)")


@pytest.mark.parametrize("value", [0, 1.5, "all"])
def test_a_bad_min_usage_is_one_clear_line(tmp_path, value):
    spec = {"name": "t", "technology_nm": 45, "energy_table": "horowitz45", "compute": {"operand_bits": 16}, "levels": [
        {"name": "DRAM", "class": "dram"},
        {"name": "Buf", "capacity_words": 1024, "fanout": {"x": 4, "y": 4, "min_usage": value}},
        {"name": "RF", "class": "regfile", "capacity_words": 16}]}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ArchSpecError) as info:
        load_arch(str(path))
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and "min_usage" in msg and "\n" not in msg, msg
