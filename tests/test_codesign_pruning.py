"""Pruning: magnitude masks remove exactly floor(s n) weights, structured (filter) pruning shrinks
the torch module and the loop nest consistently (hand-derived M, C and MACs), the NetAdapt lookup
table agrees with mapping the pruned network directly, a two-iteration NetAdapt run end to end,
and the commands' bad-input lines."""

import json
import re

import pytest
from codesign_helpers import digits_cache  # noqa: F401  (a fixture)

from loopnest.codesign import CodesignError

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")


# ----- magnitude pruning (Han et al., Deep Compression, ICLR 2016: smallest |w| set to zero) -----

def _two_layers():
    from torch import nn

    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2, 3))
    with torch.no_grad():  # distinct, non-zero magnitudes 1..18 and 19..24
        net[0].weight.copy_(torch.arange(1.0, 19.0).reshape(2, 1, 3, 3) * torch.tensor([1.0, -1.0]).repeat(9)[:18].reshape(2, 1, 3, 3))
        net[2].weight.copy_(torch.arange(19.0, 25.0).reshape(3, 2))
    return net


@pytest.mark.parametrize("s, conv_kept, fc_kept", [(0.0, 18, 6), (0.3, 13, 5), (0.5, 9, 3), (0.99, 1, 1)])
def test_per_layer_sparsity_leaves_exactly_the_stated_count(s, conv_kept, fc_kept):
    """18 conv weights at s: floor(18 s) go (0.3 -> 5, 0.5 -> 9, 0.99 -> 17); 6 fc weights: floor(6 s)."""
    from loopnest.codesign.pruning import magnitude_masks, masked, nonzero_weights

    net = _two_layers()
    pruned = masked(net, magnitude_masks(net, s))
    assert nonzero_weights(pruned) == {"0": conv_kept, "2": fc_kept}
    if s == 0.3:  # the five smallest magnitudes 1..5 are the ones removed
        assert torch.equal(pruned[0].weight.abs().flatten() == 0, torch.arange(1, 19) <= 5)


def test_global_sparsity_one_threshold_and_ties_by_index():
    """Global, s = 0.5 of 24 weights: the 12 smallest magnitudes (1..12, all in the conv) go."""
    from torch import nn

    from loopnest.codesign.pruning import magnitude_masks, masked, nonzero_weights

    net = _two_layers()
    assert nonzero_weights(masked(net, magnitude_masks(net, 0.5, "global"))) == {"0": 6, "2": 6}
    flat = nn.Linear(4, 2)
    with torch.no_grad():
        flat.weight.fill_(1.0)  # all tied: the lowest flat indices go first
    keep = magnitude_masks(nn.Sequential(flat), 0.375)["0"]
    assert keep.flatten().tolist() == [False, False, False, True, True, True, True, True]


def test_masked_fine_tuning_keeps_zeros():
    from loopnest.codesign.accuracy import finetune
    from loopnest.codesign.pruning import magnitude_masks, masked, nonzero_weights

    net = _two_layers()
    pruned = masked(net, magnitude_masks(net, 0.5))
    x, y = torch.rand(16, 1, 3, 3).numpy(), torch.randint(0, 3, (16,)).numpy()
    finetune(pruned, (x, y), 2, lr=0.1, batch=8)
    assert nonzero_weights(pruned) == {"0": 9, "2": 3}


@pytest.mark.parametrize("bad, message", [(1.0, r"sparsity: a fraction in \[0, 1\), got 1.0"), ({"x": 0.5}, "'x': no such")])
def test_magnitude_rejects(bad, message):
    from loopnest.codesign.pruning import magnitude_masks

    with pytest.raises(CodesignError, match=message):
        magnitude_masks(_two_layers(), bad)


def test_energy_order_highest_first():
    """Yang et al. CVPR 2017 prune the most energy-consuming layer first; ties keep network order."""
    from loopnest.codesign.pruning import energy_order

    assert energy_order({"conv1": 5.0, "conv2": 9.0, "conv3": 5.0, "fc": 1.0}) == ["conv2", "conv1", "conv3", "fc"]


def test_budget_search_restores_and_stops_per_layer():
    """Levels 1, 2, 3 of each layer; accuracy falls by 0.4 points per level of a, 1 point per level of b;
    budget 1 point: a takes 2 (0.8), a at 3 (1.2) is undone; b at 1 (1.8) is undone at once."""
    from loopnest.codesign.pruning import prune_to_budget

    def acc(state):
        return 0.9 - 0.004 * state.get("a", 0) - 0.01 * state.get("b", 0)

    state, module, steps = prune_to_budget(["a", "b"], [1, 2, 3], dict, acc, 0.9, 1.0, lambda m: m)
    assert state == {"a": 2} and module == {"a": 2}
    assert [(s["layer"], s["level"], s["accepted"]) for s in steps] == [("a", 1, True), ("a", 2, True), ("a", 3, False),
                                                                       ("b", 1, False)]


# ----- structured pruning: the module and the loop nest shrink together -------------------------

def test_structured_pruning_shrinks_the_loop_nest_as_hand_derived():
    """digits-cnn4 (16x16 input, 3x3 convs, pool after conv2 and conv4), conv2 cut 8 -> 5 and
    conv4 16 -> 10 filters. By hand, MACs = M C P Q R S: conv2 5*8*16*16*9 = 92,160; conv3 (its
    C now 5) 16*5*8*8*9 = 46,080; conv4 10*16*8*8*9 = 92,160; fc C = 10 channels * 4*4 = 160, so
    10*160 = 1,600; conv1 untouched 8*1*16*16*9 = 18,432."""
    from loopnest.codesign.models import digits_module
    from loopnest.codesign.structured import filter_counts, module_network, prune_filters

    torch.manual_seed(0)
    module = digits_module("digits-cnn4")
    pruned = prune_filters(module, {"conv2": 5, "conv4": 10})
    assert filter_counts(pruned) == {"conv1": 8, "conv2": 5, "conv3": 16, "conv4": 10}
    layers = {p.name: p for p in module_network(pruned, "x").layers}
    assert {n: (p.dims["M"], p.dims["C"]) for n, p in layers.items()} == {
        "conv1": (8, 1), "conv2": (5, 8), "conv3": (16, 5), "conv4": (10, 16), "fc": (10, 160)}
    assert {n: p.macs for n, p in layers.items()} == {"conv1": 18432, "conv2": 92160, "conv3": 46080,
                                                      "conv4": 92160, "fc": 1600}
    assert filter_counts(module)["conv2"] == 8  # the original is untouched


def test_structured_pruning_removes_the_smallest_filters_exactly():
    """Zero filters 1 and 3 of conv2 and filters 0, 5 of conv4 (the smallest L1 norms, Li et al. 2017):
    cutting them must not change the network's output at all (biases are zero after He init)."""
    from loopnest.codesign.models import digits_module
    from loopnest.codesign.structured import keep_filters, prune_filters

    torch.manual_seed(1)
    module = digits_module("digits-cnn4").eval()
    with torch.no_grad():
        module.conv2.weight[[1, 3]] = 0
        module.conv4.weight[[0, 5]] = 0
    assert keep_filters(module.conv2.weight, 6) == [0, 2, 4, 5, 6, 7]
    pruned = prune_filters(module, {"conv2": 6, "conv4": 14})
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(module(x), pruned(x), atol=1e-5)


@pytest.mark.parametrize("model, message", [
    ("digits-res6", "digits-res6: structured pruning supports the plain digits CNNs (conv and pool steps); "
                    "this one has residual blocks"),
    ("digits-dws", "this one has depthwise layers"),
])
def test_structured_rejects_residual_and_depthwise(model, message):
    from loopnest.codesign.models import digits_module
    from loopnest.codesign.structured import prune_filters

    with pytest.raises(CodesignError, match=re.escape(message)):
        prune_filters(digits_module(model), {"conv1": 4})


def test_structured_rejects_unknown_layer_and_bad_count():
    from loopnest.codesign.models import digits_module
    from loopnest.codesign.structured import prune_filters

    m = digits_module("digits-cnn2")
    with pytest.raises(CodesignError, match="'fc' is not a prunable layer; the prunable layers are conv1, conv2"):
        prune_filters(m, {"fc": 4})
    with pytest.raises(CodesignError, match="filter count: 1 to 16, got 0"):
        prune_filters(m, {"conv2": 0})


# ----- NetAdapt ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, budget", [("latency=0.6x", ("latency", 0.6, True)), ("energy = 2e6", ("energy", 2e6, False))])
def test_budget_parse(text, budget):
    from loopnest.codesign.netadapt import Budget

    assert Budget.parse(text) == Budget(*budget)


@pytest.mark.parametrize("text, message", [("power=0.5x", "metric 'power' is not one of latency, energy"),
                                           ("latency", "expected latency=0.6x"), ("energy=0x", "a positive number")])
def test_budget_rejects(text, message):
    from loopnest.codesign.netadapt import Budget

    with pytest.raises(CodesignError, match=message):
        Budget.parse(text)


def test_layer_dims_fc_follows_the_last_conv():
    """digits-cnn2: conv2 to 9 filters -> fc's C = 9 channels * 4*4 (after two 2x2 pools) = 144."""
    from loopnest.codesign.netadapt import layer_dims
    from loopnest.workload.zoo.digits import build

    dims = layer_dims(build("digits-cnn2"), {"conv1": 5, "conv2": 9}, {"conv1": "conv2", "conv2": "fc"})
    assert dims == {"conv1": (5, 1), "conv2": (9, 5), "fc": (10, 144)}


def test_lookup_table_agrees_with_direct_evaluation():
    """Table entries (layer, M, C) summed for a pruned network = map_network on the pruned module's
    own (imported) network, layer by layer, with the same architecture, dataflow and mode."""
    from loopnest.arch import load_arch
    from loopnest.codesign.models import digits_module
    from loopnest.codesign.netadapt import LookupTable, layer_dims
    from loopnest.codesign.structured import module_network, prunable_layers, prune_filters
    from loopnest.search.network import map_network

    arch = load_arch("eyeriss")
    torch.manual_seed(0)
    module = digits_module("digits-cnn2")
    network = module_network(module, "digits-cnn2")
    counts = {"conv1": 5, "conv2": 9}
    lut = LookupTable(network, arch, "rs", "cycles", "auto")
    table = lut.network(layer_dims(network, counts, prunable_layers(module)))
    direct = map_network(module_network(prune_filters(module, counts), "p"), arch, "rs", None, "cycles", "auto", 0, 1)
    assert {lo.name: (lo.result.energy_pj, lo.result.cycles) for lo in direct.layers} == \
        {n: (r["energy_pj"], r["cycles"]) for n, r in table.items()}
    lut.network(layer_dims(network, counts, prunable_layers(module)))
    assert len(lut.table) == 3 and lut.lookups == 6  # built once, reused


@pytest.fixture(scope="module")
def cnn2_small(digits_cache):
    """digits-cnn2 trained, with a 240-image train split so fine-tuning takes a fraction of a second."""
    from loopnest.codesign.data import Split, Splits
    from loopnest.codesign.models import digits_workload

    module, network, data = digits_workload("digits-cnn2")
    return module, Splits(Split(data.train.x[:240], data.train.y[:240]), data.calibration, data.test)


def _netadapt(cnn2_small, budget, **kw):
    from loopnest.arch import load_arch
    from loopnest.codesign.netadapt import Budget, NetAdaptSpec, run_netadapt

    module, data = cnn2_small
    spec = NetAdaptSpec(Budget.parse(budget), **{"short_epochs": 1, "long_epochs": 1, **kw})
    return run_netadapt(spec, module, "digits-cnn2", data, load_arch("eyeriss"), dataflow="rs")


def test_netadapt_two_iterations_end_to_end(cnn2_small):
    r = _netadapt(cnn2_small, "latency=0.3x", max_iterations=2, step=0.05)  # small steps: short walks, few mappings
    assert len(r.trace) == 2 and r.status == "iterations exhausted" and not r.met
    start = r.start["cycles"]
    assert r.trace[0]["target"] == pytest.approx(0.95 * start)  # step 0.05 of the start
    assert r.trace[1]["target"] == pytest.approx(r.trace[0]["cycles"] - 0.05 * 0.96 * start)  # decayed step
    for it in r.trace:
        assert it["cycles"] <= it["target"]
        best = max(p["accuracy_calibration"] for p in it["proposals"])
        chosen = next(p for p in it["proposals"] if p["layer"] == it["layer"])
        assert chosen["accuracy_calibration"] == best and chosen["filters"] == it["filters"]
    # the adapted module, its imported network and the table agree on every layer's shape
    dims = {p.name: (p.dims["M"], p.dims["C"]) for p in r.network.layers}
    assert dims == {lay["name"]: (lay["M"], lay["C"]) for lay in r.final["layers"]}
    assert r.final["filters"] == {"conv1": r.module.conv1.out_channels, "conv2": r.module.conv2.out_channels}
    json.dumps(r.to_dict())


def test_netadapt_already_met_and_out_of_reach(cnn2_small):
    done = _netadapt(cnn2_small, "latency=1.0x")
    assert done.status == "already met" and done.met and done.trace == [] and done.module is cnn2_small[0]
    # step 0.95: one layer alone would have to remove 95 % of the cycles, which no layer can
    far = _netadapt(cnn2_small, "energy=0.01x", step=0.95)
    assert far.status == "out of reach" and not far.met and "closest network reached" in far.notes[0]


# ----- the commands ------------------------------------------------------------------------------

def _run(*args):
    from typer.testing import CliRunner

    from loopnest.cli import app

    return CliRunner().invoke(app, ["codesign", *args])


@pytest.mark.parametrize("args, message", [
    (["prune", "digits-cnn2", "--method", "random"], "--method: 'random' is not one of magnitude, energy, structured"),
    (["prune", "digits-cnn2", "--accuracy-drop", "-1"], "--accuracy-drop: accuracy points >= 0"),
    (["prune", "digits-res6", "--method", "structured"], "this one has residual blocks"),
    (["netadapt", "digits-cnn2", "--budget", "power=0.5x"], "metric 'power' is not one of latency, energy"),
    (["netadapt", "digits-dws", "--budget", "latency=0.5x"], "this one has depthwise layers"),
    (["netadapt", "nope", "--budget", "latency=0.5x"], "unknown model 'nope'"),
])
def test_cli_bad_input_one_line(args, message):
    out = _run(*args)
    assert out.exit_code != 0 and "Traceback" not in out.output
    assert message in out.output and len(out.output.strip().splitlines()) == 1


def test_cli_netadapt_already_met_exits_zero(digits_cache):
    out = _run("netadapt", "digits-cnn2", "--budget", "latency=1x", "--json")
    assert out.exit_code == 0, out.output
    res = json.loads(out.output)
    assert res["status"] == "already met" and res["trace"] == [] and res["final"]["filters"] == {"conv1": 8, "conv2": 16}


def test_cli_netadapt_out_of_reach_exits_nonzero(digits_cache):
    out = _run("netadapt", "digits-cnn2", "--budget", "latency=1", "--step", "0.95", "--long-epochs", "0")
    assert out.exit_code == 1
    assert "budget out of reach" in out.output and "closest network reached" in out.output


def test_unstructured_pruning_keeps_the_loop_nest():
    """A masked (unstructured) module imports to the same loop nests as the dense one: same MACs
    (the dense cost model counts the zeros). Regression: the parametrized weights were not traced."""
    from loopnest.codesign.models import digits_module
    from loopnest.codesign.pruning import baked, magnitude_masks, masked, nonzero_weights
    from loopnest.codesign.structured import module_network

    torch.manual_seed(0)
    module = digits_module("digits-cnn2")
    pruned = baked(masked(module, magnitude_masks(module, 0.5)))
    assert nonzero_weights(pruned) == {"conv1": 36, "conv2": 576, "fc": 1280}  # 72, 1152, 2560 weights, half kept
    dense, sparse = module_network(module, "a"), module_network(pruned, "b")
    assert [p.macs for p in sparse.layers] == [p.macs for p in dense.layers] == [18432, 73728, 2560]


def test_cli_netadapt_and_prune_take_precision(digits_cache):
    # issue 11, item 5: every mapping command takes --precision; 8-bit values pack two to a 16-bit
    # on-chip word on eyeriss (docs/model.md, Precision), so the same network costs less energy
    base = json.loads(_run("netadapt", "digits-cnn2", "--budget", "latency=1x", "--json").output)
    low = _run("netadapt", "digits-cnn2", "--budget", "latency=1x", "--precision", "weights=8,inputs=8,outputs=8", "--json")
    assert low.exit_code == 0, low.output
    low = json.loads(low.output)
    assert low["start"]["energy_pj"] < base["start"]["energy_pj"]
    bad = _run("prune", "digits-cnn2", "--precision", "weights=99")
    assert bad.exit_code != 0 and bad.output.startswith("error: --precision:") and len(bad.output.strip().splitlines()) == 1
