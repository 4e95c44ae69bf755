"""benchmarks/peers/nndataflow_layers.py and nndataflow_rs16.yaml, without nn-dataflow installed:
nn-dataflow 2.1's AlexNet (nn_dataflow/nns/alex_net.py: two towers per layer, conv layers with the
padding in the input side, FC layers as convolutions over the whole input map) is the same work as
loopnest's zoo AlexNet, and the design's YAML holds nn_dataflow_search.py's example numbers."""

import sys
from pathlib import Path

import pytest

from loopnest.arch import load_arch
from loopnest.workload import load_network

PEERS = Path(__file__).resolve().parents[1] / "benchmarks" / "peers"
sys.path.insert(0, str(PEERS))

from nndataflow_layers import ALEXNET_TOWERS, mismatches, towers_counts, zoo_counts


def test_zoo_alexnet_is_nndataflows_work():
    assert mismatches(load_network("alexnet", 1).layers) == []


def test_tower_counts_by_hand():
    towers = {t.name: t for t in ALEXNET_TOWERS}
    # ConvLayer(3, 48, 55, 11, 4): input side 11 + 54 * 4 = 227.
    assert towers["conv1_a"].counts() == {"macs": 48 * 3 * 55 * 55 * 121, "weights": 48 * 3 * 121,
                                          "inputs": 3 * 227 * 227, "outputs": 48 * 55 * 55}
    # ConvLayer(48, 128, 27, 5): 5 + 26 = 31, the zoo's 27 + 2 x 2 padding.
    assert towers["conv2_a"].counts()["inputs"] == 48 * 31 * 31
    # FCLayer(256, 4096, 6): the 6 x 6 map of 256 channels = the zoo fc6's 9216 inputs.
    assert towers["fc1"].counts() == {"macs": 9216 * 4096, "weights": 9216 * 4096, "inputs": 9216, "outputs": 4096}


def test_shared_and_split_inputs():
    # conv3's towers both read all 256 channels (13 + 2 padding = 15): counted once.
    assert towers_counts("conv3")["inputs"] == 256 * 15 * 15
    # conv4's towers read disjoint halves: 2 x 192 x 15 x 15.
    assert towers_counts("conv4")["inputs"] == 2 * 192 * 15 * 15


def test_a_different_layer_is_reported():
    conv1 = load_network("alexnet", 1).layers[0].with_dims(M=48)
    assert zoo_counts(conv1)["outputs"] == 48 * 55 * 55
    lines = mismatches([conv1])
    assert [ln.split()[1] for ln in lines] == ["macs", "weights", "outputs"]


def test_design_numbers():
    arch = load_arch(PEERS / "nndataflow_rs16.yaml")
    dram, gbuf, rf = arch.levels
    assert gbuf.capacity_words == 131072 // 2 and rf.capacity_words == 512 // 2   # bytes of 16-bit words
    assert (gbuf.fanout.x, gbuf.fanout.y, gbuf.fanout.energy_pj) == (16, 16, 2)
    assert dram.energy_pj["read"] == 200 and gbuf.energy_pj["read"] == 6 and rf.energy_pj["read"] == 1
    assert gbuf.energy_pj["write"] == 0 and rf.energy_pj["write"] == 0   # fills charged at the level above only
    assert arch.compute.energy_pj == 1


def test_nndataflows_conv5_schedule_overflows_the_rf():
    """nn-dataflow's schedule of conv5_a (its JSON: input channels outermost at DRAM, the buffer
    bypassed, R 3 x 5 output channels on the array's rows, 26 output channels in each PE's RF) holds
    1 word per output channel in the RF (its footprint of an output row); loopnest holds the row:
    written for the zoo layer (4 x 32 output channels, the nearest divisors), the RF needs
    32 x 13 = 416 output words of 256, so loopnest's search cannot pick it (docs/peers.md)."""
    from loopnest.mapping.io import parse_mapping
    from loopnest.model.result import evaluate

    arch = load_arch(PEERS / "nndataflow_rs16.yaml")
    conv5 = next(p for p in load_network("alexnet", 1).layers if p.name == "conv5")
    mapping = parse_mapping({"mapping": [
        {"level": "DRAM", "temporal": {"G": 2, "C": 192}, "order": ["G", "C"]},
        {"level": "GlobalBuffer", "keep": [], "spatial": {"x": {"P": 13}, "y": {"R": 3, "M": 4}}},
        {"level": "RF", "temporal": {"M": 32, "Q": 13, "S": 3}, "order": ["Q", "M", "S"]}]}, arch)
    r = evaluate(conv5, arch, mapping, check_capacity=False).to_dict()
    rf = r["levels"][2]
    assert rf["tile_words"] == {"inputs": 3 + 12, "weights": 32 * 3, "outputs": 32 * 13}
    assert not rf["capacity_ok"]
    # Every tensor crosses DRAM once, as in nn-dataflow's schedule: (86,400 + 442,368 + 43,264) x 200.
    assert r["energy_by_level_pj"]["DRAM"] == pytest.approx((86400 + 442368 + 43264) * 200)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
