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


def test_energy_passes_give_every_layer_its_step_before_the_budget_runs_out():
    """Yang et al. CVPR 2017 (Fig. 4) repeat prune / restore / fine-tune over the layers sorted by
    energy until the accuracy target. a costs 0.4 points per level, b 0.3; budget 1.05 points. Pass 1:
    a 1 (0.4), b 1 (0.7); pass 2: a 2 (1.1) restored, b 2 (1.0) kept; pass 3: b 3 (1.3) restored.
    One layer at a time would spend it all on a (a 2 = 0.8, then b 1 = 1.1 restored)."""
    from loopnest.codesign.pruning import prune_to_budget

    def acc(state):
        return 0.9 - 0.004 * state.get("a", 0) - 0.003 * state.get("b", 0)

    state, _, steps = prune_to_budget(["a", "b"], [1, 2, 3], dict, acc, 0.9, 1.05, lambda m: m, passes=True)
    assert state == {"a": 1, "b": 2}
    assert [(s["pass"], s["layer"], s["level"], s["accepted"]) for s in steps] == [
        (1, "a", 1, True), (1, "b", 1, True), (2, "a", 2, False), (2, "b", 2, True), (3, "b", 3, False)]
    state, _, _ = prune_to_budget(["a", "b"], [1, 2, 3], dict, acc, 0.9, 1.05, lambda m: m)
    assert state == {"a": 2}


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


def test_structured_pruning_of_residual_blocks_as_hand_derived():
    """digits-res6: conv1 (8), res(conv2, conv3) on 8 channels, pool, conv4 (16), res(conv5, conv6),
    pool, fc. The sums tie conv1/conv3 and conv4/conv6 to their blocks' channels, so only conv2 and
    conv5 are cut: conv2 8 -> 3 and conv5 16 -> 5. By hand (16x16, pool halves, 3x3): conv2
    3*8*16*16*9 = 55,296; conv3 (C 3) 8*3*16*16*9 = 55,296; conv5 5*16*8*8*9 = 46,080; conv6 (C 5)
    16*5*8*8*9 = 46,080; the rest untouched. Zeroed filters cut away leave the output unchanged."""
    from loopnest.codesign.models import digits_module
    from loopnest.codesign.structured import module_network, prunable_layers, prune_filters

    torch.manual_seed(3)
    module = digits_module("digits-res6").eval()
    assert prunable_layers(module) == {"conv2": "conv3", "conv5": "conv6"}
    with torch.no_grad():
        module.conv2.weight[[0, 2, 4, 5, 7]] = 0  # biases are zero after He init
        module.conv5.weight[list(range(11))] = 0
    pruned = prune_filters(module, {"conv2": 3, "conv5": 5})
    layers = {p.name: p for p in module_network(pruned, "x").layers}
    assert {n: (p.dims["M"], p.dims["C"]) for n, p in layers.items()} == {
        "conv1": (8, 1), "conv2": (3, 8), "conv3": (8, 3), "conv4": (16, 8), "conv5": (5, 16), "conv6": (16, 5),
        "fc": (10, 256)}
    assert (layers["conv2"].macs, layers["conv3"].macs, layers["conv5"].macs, layers["conv6"].macs) == \
        (55296, 55296, 46080, 46080)
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(module(x), pruned(x), atol=1e-5)
    with pytest.raises(CodesignError, match="'conv1' is not a prunable layer; the prunable layers are conv2, conv5"):
        prune_filters(module, {"conv1": 4})


def test_structured_rejects_depthwise_saying_why():
    from loopnest.codesign.models import digits_module
    from loopnest.codesign.structured import prune_filters

    with pytest.raises(CodesignError, match=re.escape("digits-dws: structured pruning and NetAdapt do not handle depthwise "
                                                      "layers (a depthwise filter belongs to one input channel")):
        prune_filters(digits_module("digits-dws"), {"conv1": 4})


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


def test_lookup_table_built_once_and_reused(tmp_path, monkeypatch):
    """The paper's table is built once per platform: a second table of the same context (here in
    the same process, then from the cache file in a fresh one) searches nothing and gives the same
    numbers; another objective, or an architecture that differs in one field, searches afresh."""
    from loopnest.arch import load_arch
    from loopnest.codesign import netadapt
    from loopnest.codesign.models import digits_module
    from loopnest.codesign.netadapt import LookupTable, layer_dims
    from loopnest.codesign.structured import module_network, prunable_layers

    monkeypatch.setenv("LOOPNEST_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(netadapt, "_SHARED", {})
    arch = load_arch("eyeriss")
    torch.manual_seed(0)
    module = digits_module("digits-cnn2")
    network = module_network(module, "digits-cnn2")
    dims = layer_dims(network, {"conv1": 2, "conv2": 3}, prunable_layers(module))
    first = LookupTable(network, arch, "rs", "cycles", persist=True)
    want = first.network(dims)
    assert first.searched == 3
    first.save()
    again = LookupTable(network, arch, "rs", "cycles")
    assert again.network(dims) == want and again.searched == 0
    monkeypatch.setattr(netadapt, "_SHARED", {})  # a fresh process: only the file is left
    fresh = LookupTable(network, arch, "rs", "cycles", persist=True)
    assert fresh.network(dims) == want and fresh.searched == 0
    assert LookupTable(network, arch, "rs", "energy").context != first.context
    assert LookupTable(network, arch, "rs", "cycles", remainder_folds=True).context != first.context  # other mappings
    other = arch.model_copy(update={"technology_nm": arch.technology_nm + 1})
    assert LookupTable(network, other, "rs", "cycles").context != first.context
    fresh.path.write_text("{not json")  # a damaged cache file is ignored, not trusted
    monkeypatch.setattr(netadapt, "_SHARED", {})
    redo = LookupTable(network, arch, "rs", "cycles", persist=True)
    assert redo.network(dims) == want and redo.searched == 3


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


def test_netadapt_on_residual_blocks_cuts_only_the_free_convolutions(monkeypatch):
    """digits-res6 (untrained, a small split): one iteration proposes only conv2 and conv5 (the
    first convolution of each residual block), and the adapted module imports to the table's
    shapes. The mapper is replaced by cycles = energy = MACs (this test is about the network side;
    the table's agreement with the mapper is tested above)."""
    from loopnest.arch import load_arch
    from loopnest.codesign import netadapt
    from loopnest.codesign.data import Split, Splits, load_digits
    from loopnest.codesign.models import digits_module
    from loopnest.codesign.netadapt import Budget, NetAdaptSpec, run_netadapt

    monkeypatch.setattr(netadapt.LookupTable, "_search", lambda self, problem: (float(problem.macs), float(problem.macs)))
    monkeypatch.setattr(netadapt, "_SHARED", {})
    torch.manual_seed(0)
    d = load_digits()
    data = Splits(*(Split(s.x[:60], s.y[:60]) for s in (d.train, d.calibration, d.test)))
    spec = NetAdaptSpec(Budget.parse("latency=0.3x"), step=0.02, short_epochs=1, long_epochs=0, max_iterations=1)
    r = run_netadapt(spec, digits_module("digits-res6"), "digits-res6", data, load_arch("eyeriss"), dataflow="rs",
                     persist=False)
    assert len(r.trace) == 1 and r.trace[0]["layer"] in ("conv2", "conv5")
    assert {p["layer"] for p in r.trace[0]["proposals"]} <= {"conv2", "conv5"}
    assert r.trace[0]["cycles"] <= r.trace[0]["target"]
    dims = {p.name: (p.dims["M"], p.dims["C"]) for p in r.network.layers}
    assert dims == {lay["name"]: (lay["M"], lay["C"]) for lay in r.final["layers"]}


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
    (["prune", "digits-dws", "--method", "structured"], "do not handle depthwise layers"),
    (["netadapt", "digits-cnn2", "--budget", "power=0.5x"], "metric 'power' is not one of latency, energy"),
    (["netadapt", "digits-dws", "--budget", "latency=0.5x"], "do not handle depthwise layers"),
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


def _mapper_by_macs(monkeypatch):
    """Replace the mapper by energy = cycles = MACs per layer: the tests using it are about the
    network side (counts, files), not the cost model."""
    from types import SimpleNamespace

    import loopnest.search.network as network_module

    def fake(network, *args, **kwargs):
        layers = [SimpleNamespace(name=p.name, problem=p, result=SimpleNamespace(
            energy_pj=float(p.macs), cycles=float(p.macs), actual_macs=float(p.macs), energy_by_level_pj=lambda p=p: {"MAC": float(p.macs)},
            energy_by_tensor_pj=lambda: {"weights": 0.0, "inputs": 0.0, "outputs": 0.0})) for p in network.layers]
        return SimpleNamespace(unmapped=[], layers=layers)

    monkeypatch.setattr(network_module, "map_network", fake)


def test_prune_counts_the_macs_of_nonzero_weights_as_hand_derived(cnn2_small, monkeypatch):
    """digits-cnn2 (conv1 1->8 3x3 on 16x16, conv2 8->16 3x3 on 8x8, fc 256->10), energy-aware
    pruning with an unbounded budget: every layer reaches the last level, 15/16. Each weight is in
    P x Q MACs (one for fc), so the MACs with a non-zero weight are kept weights x P x Q:
    conv1 72 - floor(67.5) = 5 kept, x 256 = 1,280; conv2 1,152 - 1,080 = 72, x 64 = 4,608;
    fc 2,560 - 2,400 = 160, x 1 = 160; 6,048 in all, of 94,720 MACs."""
    from loopnest.arch import load_arch
    from loopnest.codesign.pruning import run_prune

    _mapper_by_macs(monkeypatch)
    module, data = cnn2_small
    study, _ = run_prune("energy", module, "digits-cnn2", data, load_arch("eyeriss"), 100.0, short_epochs=0)
    assert study["settings"]["order"] == ["conv2", "conv1", "fc"]  # by energy (= MACs here), highest first
    assert study["sparsity"] == {"conv2": 0.9375, "conv1": 0.9375, "fc": 0.9375}
    assert study["start"]["nonzero_weight_macs"] == study["start"]["macs"] == 94_720
    final = {r["name"]: r["nonzero_weight_macs"] for r in study["final"]["layers"]}
    assert final == {"conv1": 1_280, "conv2": 4_608, "fc": 160}
    assert study["final"]["nonzero_weight_macs"] == 6_048 and study["final"]["macs"] == 94_720


def test_prune_cli_writes_the_pruned_models_densities(tmp_path, cnn2_small, monkeypatch):
    """--densities writes the per-layer YAML of the densities command for the pruned model: its
    weight densities are the pruned non-zero counts (global magnitude at 15/16 of 3,784 weights:
    3,784 - floor(3,547.5) = 237 kept) over each layer's weights (72, 1,152, 2,560)."""
    import yaml
    from typer.testing import CliRunner

    from loopnest.cli import app

    _mapper_by_macs(monkeypatch)
    out = tmp_path / "d.yaml"
    run = CliRunner().invoke(app, ["codesign", "prune", "digits-cnn2", "--method", "magnitude", "--finetune-epochs", "0",
                                   "--accuracy-drop", "100", "--densities", str(out), "--json"])
    assert run.exit_code == 0, run.output
    study = json.loads(run.output)
    assert study["densities_file"] == str(out)
    nz = study["final"]["nonzero_weights"]
    assert sum(nz.values()) == 237
    written = yaml.safe_load(out.read_text())
    assert "prune --method magnitude" in written["source"]
    sizes = {"conv1": 72, "conv2": 1_152, "fc": 2_560}
    assert {n: d["weights"] for n, d in written["layers"].items()} == {n: nz[n] / sizes[n] for n in sizes}
    assert all(0 < d["inputs"] <= 1 and 0 < d["outputs"] <= 1 for d in written["layers"].values())
    bad = CliRunner().invoke(app, ["codesign", "prune", "digits-cnn2", "--method", "magnitude", "--finetune-epochs", "0",
                                   "--densities", str(tmp_path)])  # a folder: refused before any pruning
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    assert "--densities" in bad.output and "is a folder" in bad.output and len(bad.output.strip().splitlines()) == 1


def test_uniform_width_multiplier_as_hand_derived():
    """digits-cnn2 with cost = MACs: conv1 a filters (2,304 a MACs), conv2 b filters on a channels
    (576 a b), fc on 16 b inputs (160 b); 94,720 at (8, 16). Under half of it (47,360), with
    counts floor(M k / 16): k = 12 gives (6, 12) = 13,824 + 41,472 + 1,920 = 57,216 (over), k = 11
    gives (5, 11) = 11,520 + 31,680 + 1,760 = 44,960 (under): the multiplier is 11/16."""
    from loopnest.codesign.netadapt import uniform_counts

    def macs(c):
        a, b = c["conv1"], c["conv2"]
        return 2304 * a + 576 * a * b + 160 * b

    assert macs({"conv1": 8, "conv2": 16}) == 94_720
    assert uniform_counts({"conv1": 8, "conv2": 16}, macs, 47_360) == (11 / 16, {"conv1": 5, "conv2": 11})
    assert uniform_counts({"conv1": 8, "conv2": 16}, macs, 94_720) == (1.0, {"conv1": 8, "conv2": 16})
    assert uniform_counts({"conv1": 8, "conv2": 16}, macs, 2304 + 576 + 160 - 1) is None  # k = 1 is (1, 1)


def test_uniform_width_multiplier_does_not_assume_a_monotone_resource():
    """Mapped cycles can fall as filters are added (eyeriss, digits-cnn4: 2,496 cycles at 12/16 of
    the filters, 4,019 at 10/16, 5,860 at 11/16): a width that meets the limit above one that
    misses it is still found. Here only 14 and 3 filters meet it; the largest is 14."""
    from loopnest.codesign.netadapt import uniform_counts

    assert uniform_counts({"a": 16}, lambda c: 0 if c["a"] in (14, 3) else 100, 50) == (14 / 16, {"a": 14})


def test_netadapt_uniform_baseline_at_the_adapted_latency(cnn2_small, monkeypatch):
    """The baseline's latency is at most the adapted network's, its filters are floor(M k / 16),
    and it is fine-tuned for the adapted network's epochs in all (1 per iteration + 1 long)."""
    from loopnest.arch import load_arch
    from loopnest.codesign import netadapt
    from loopnest.codesign.netadapt import Budget, NetAdaptSpec, run_netadapt

    monkeypatch.setattr(netadapt.LookupTable, "_search", lambda self, problem: (float(problem.macs), float(problem.macs)))
    monkeypatch.setattr(netadapt, "_SHARED", {})
    module, data = cnn2_small
    spec = NetAdaptSpec(Budget.parse("latency=0.5x"), step=0.2, short_epochs=1, long_epochs=1)
    r = run_netadapt(spec, module, "digits-cnn2", data, load_arch("eyeriss"), dataflow="rs", persist=False, baseline=True)
    u = r.baseline
    assert r.met and u["cycles"] <= r.final["cycles"]
    k = round(u["width_multiplier"] * 16)
    assert u["filters"] == {"conv1": max(1, 8 * k // 16), "conv2": max(1, 16 * k // 16)}
    assert u["epochs"] == len(r.trace) + 1
    assert r.to_dict()["uniform_baseline"] == u


def test_netadapt_trace_is_reproducible_run_to_run(cnn2_small, monkeypatch):
    """Seeded: two runs, each with an empty lookup table, give the same trace (every proposal's
    accuracy included), the same final network and bit-identical adapted weights."""
    from loopnest.arch import load_arch
    from loopnest.codesign import netadapt
    from loopnest.codesign.netadapt import Budget, NetAdaptSpec, run_netadapt

    monkeypatch.setattr(netadapt.LookupTable, "_search", lambda self, problem: (float(problem.macs), float(problem.macs)))
    module, data = cnn2_small
    spec = NetAdaptSpec(Budget.parse("latency=0.6x"), step=0.2, short_epochs=1, long_epochs=1)
    runs = []
    for _ in range(2):
        monkeypatch.setattr(netadapt, "_SHARED", {})
        runs.append(run_netadapt(spec, module, "digits-cnn2", data, load_arch("eyeriss"), dataflow="rs", persist=False))
    a, b = runs
    assert a.trace and json.dumps([a.trace, a.final]) == json.dumps([b.trace, b.final])
    sa, sb = a.module.state_dict(), b.module.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_cli_netadapt_prints_the_uniform_baseline_row_and_plots(digits_cache, monkeypatch, tmp_path):
    """--uniform-baseline adds the `uniform` row (width, epochs, filters) to the table; --plot draws
    the trace with the final and uniform networks. The mapper is replaced by cycles = energy =
    MACs (the selection itself is tested above)."""
    pytest.importorskip("matplotlib")
    from loopnest.codesign import netadapt
    from loopnest.report.codesign import netadapt_charts

    monkeypatch.setattr(netadapt.LookupTable, "_search", lambda self, problem: (float(problem.macs), float(problem.macs)))
    monkeypatch.setattr(netadapt, "_SHARED", {})
    monkeypatch.setattr(netadapt.LookupTable, "save", lambda self: None)
    monkeypatch.setattr(netadapt, "_read_entries", lambda path: {})  # no table another test saved (real searches)
    args = ("netadapt", "digits-cnn2", "--budget", "latency=0.5x", "--step", "0.3", "--long-epochs", "0", "--uniform-baseline")
    out = _run(*args, "--plot", str(tmp_path / "t.png"))
    assert out.exit_code == 0, out.output
    assert re.search(r"^\s*uniform\s+width x0\.\d+, \d+ epochs\s", out.output, re.M), out.output
    assert (tmp_path / "t.png").stat().st_size > 0
    res = json.loads(_run(*args, "--json").stdout)
    (chart,) = netadapt_charts(res)
    line, final, uniform = chart.series
    assert line.x == [res["start"]["cycles"], *(it["cycles"] for it in res["trace"])]
    assert final.x == [res["final"]["cycles"]] and uniform.x == [res["uniform_baseline"]["cycles"]]
    bad = _run(*args, "--plot", str(tmp_path / "t.txt"))
    assert bad.exit_code != 0 and "--plot" in bad.output and len(bad.output.strip().splitlines()) == 1


def test_prune_reports_each_layers_energy_by_level_and_tensor(cnn2_small):
    """With the real mapper (eyeriss, rs): each layer's energy before and after pruning comes
    split by level (storage, networks, MACs: the parts add up to the layer's energy) and by data
    type (storage and network energy of weights, inputs and outputs: with the MACs, the whole)."""
    from loopnest.arch import load_arch
    from loopnest.codesign.pruning import run_prune

    arch = load_arch("eyeriss")
    module, data = cnn2_small
    study, _ = run_prune("structured", module, "digits-cnn2", data, arch, 100.0, dataflow="rs", short_epochs=0)
    assert study["final"]["macs"] < study["start"]["macs"]
    for point in (study["start"], study["final"]):
        for r in point["layers"]:
            by_level, by_tensor = r["energy_by_level_pj"], r["energy_by_tensor_pj"]
            assert set(by_tensor) == {"weights", "inputs", "outputs"} and arch.compute.name in by_level
            assert sum(by_level.values()) == pytest.approx(r["energy_pj"], rel=1e-9)
            assert sum(by_tensor.values()) + by_level[arch.compute.name] == pytest.approx(r["energy_pj"], rel=1e-9)


def test_cli_prune_prints_each_layers_energy_before_and_after(digits_cache, monkeypatch):
    _mapper_by_macs(monkeypatch)  # energy = MACs, all of it in the MACs
    out = _run("prune", "digits-cnn2", "--method", "structured", "--finetune-epochs", "0", "--accuracy-drop", "100")
    assert out.exit_code == 0, out.output
    assert "Energy per layer" in out.output
    # structured to 1/4 of conv1's and conv2's filters (2 and 4): conv1 18,432 -> 4,608 MACs, so 0.250
    assert re.search(r"^\s*conv1\s+1\.843e\+04\s+4608\s+0\.250\s", out.output, re.M), out.output


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


# ----- pruned networks costed at their measured weight densities (sparse cost model) ------------

def _tiny_half_pruned():
    """One 3x3 conv, 1 -> 2 channels, on a 6x6 input (P = Q = 4): 2 x 16 x 9 = 288 MACs, 18 weights;
    its magnitude-pruned copy at s = 0.5 keeps 9 (weight density 0.5)."""
    from torch import nn

    from loopnest.codesign.pruning import baked, magnitude_masks, masked, nonzero_weights

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3))
    pruned = baked(masked(net, magnitude_masks(net, 0.5)))
    assert nonzero_weights(pruned) == {"0": 9}
    return net, pruned


def _costed(module, arch):
    from loopnest.codesign.pruning import weight_densities
    from loopnest.search.network import map_network
    from loopnest.workload.density import apply_density
    from loopnest.workload.torch_import import import_torch

    network = apply_density(import_torch(module, torch.zeros(1, 1, 6, 6), "tiny"), weight_densities(module))
    (layer,) = map_network(network, arch, None, None, "energy", "auto", 0, 1).layers
    return layer


def test_weight_densities_are_the_pruned_non_zero_fractions():
    """The spec the pruning study applies: 9 of 18 weights kept -> weights 0.5, uniform placement."""
    from loopnest.codesign.pruning import weight_densities
    from loopnest.workload.density import Density

    net, pruned = _tiny_half_pruned()
    assert weight_densities(pruned).layers == {"0": {"weights": Density.uniform(0.5)}}
    assert weight_densities(net).layers == {"0": {"weights": Density()}}  # trained weights: no zeros, dense


def test_half_pruned_layer_halves_the_mac_energy_on_a_skipping_arch():
    """By hand (docs/model.md rule 5: a MAC whose weight is zero is skipped): eyeriss-skipw skips
    MACs on weights, so at weight density 0.5 the tiny conv performs 288 x 0.5 = 144 MACs, and its
    MAC energy is 144 x the preset's pJ per MAC, half the unpruned layer's 288 x. Fails on a dense
    costing of the pruned network (288 MACs both times)."""
    from loopnest.arch import load_arch

    arch = load_arch("eyeriss-skipw")
    net, pruned = _tiny_half_pruned()
    dense, sparse = _costed(net, arch), _costed(pruned, arch)
    assert dense.problem.macs == sparse.problem.macs == 288
    assert sparse.result.actual_macs == 144 and dense.result.actual_macs == 288
    mac_pj = arch.compute.energy_pj
    assert dense.result.energy_by_level_pj()[arch.compute.name] == pytest.approx(288 * mac_pj, rel=1e-12)
    assert sparse.result.energy_by_level_pj()[arch.compute.name] == pytest.approx(144 * mac_pj, rel=1e-12)
    assert sparse.result.energy_pj < dense.result.energy_pj


def test_weight_densities_change_nothing_without_sparse_features():
    """eyeriss has no sparse feature: the half-pruned layer costs exactly what the unpruned one does
    (every sparse factor is 1, docs/model.md), energy and cycles, and all its MACs are performed."""
    from loopnest.arch import load_arch

    arch = load_arch("eyeriss")
    net, pruned = _tiny_half_pruned()
    dense, sparse = _costed(net, arch), _costed(pruned, arch)
    assert sparse.problem.tensor("weights").density.value == 0.5
    assert (sparse.result.energy_pj, sparse.result.cycles) == (dense.result.energy_pj, dense.result.cycles)
    assert sparse.result.actual_macs == 288


def test_prune_maps_each_network_at_its_weight_densities(cnn2_small, monkeypatch):
    """run_prune hands the mapper the network with each layer's weights at non-zero / weights:
    1 (the unpruned start) and, at 15/16 sparsity everywhere, 5/72, 72/1,152 and 160/2,560 (the
    counts of test_prune_counts_the_macs_of_nonzero_weights_as_hand_derived)."""
    from loopnest.arch import load_arch
    from loopnest.codesign.pruning import run_prune

    _mapper_by_macs(monkeypatch)
    import loopnest.search.network as network_module

    seen, fake = [], network_module.map_network

    def record(network, *args, **kwargs):
        seen.append({p.name: (p.tensor("weights").density.value if p.tensor("weights").density else 1.0)
                     for p in network.layers})
        return fake(network, *args, **kwargs)

    monkeypatch.setattr(network_module, "map_network", record)
    module, data = cnn2_small
    study, _ = run_prune("energy", module, "digits-cnn2", data, load_arch("eyeriss"), 100.0, short_epochs=0)
    assert seen == [{"conv1": 1.0, "conv2": 1.0, "fc": 1.0}, {"conv1": 5 / 72, "conv2": 72 / 1152, "fc": 160 / 2560}]
    assert {r["name"]: r["weight_density"] for r in study["final"]["layers"]} == seen[1]
    assert "eyeriss has no sparse feature on weights" in study["notes"][0]


def test_prune_energy_falls_only_where_the_arch_exploits_zero_weights(cnn2_small):
    """The real mapper (rs dataflow), digits-cnn2 pruned to 15/16 in every layer (energy-aware, no
    budget, no fine-tuning). On eyeriss (no sparse features) the pruned network costs exactly the
    unpruned one, energy and cycles, and performs all 94,720 MACs. On eyeriss-skipw (compressed
    weights, zero-weight MACs skipped) it costs less and performs only the MACs with a non-zero
    weight: 5 x 256 + 72 x 64 + 160 x 1 = 6,048 (hand count above)."""
    from loopnest.arch import load_arch
    from loopnest.codesign.pruning import run_prune

    module, data = cnn2_small
    plain, _ = run_prune("energy", module, "digits-cnn2", data, load_arch("eyeriss"), 100.0, dataflow="rs", short_epochs=0)
    assert plain["sparsity"] == {"conv2": 0.9375, "conv1": 0.9375, "fc": 0.9375}
    assert plain["final"]["energy_pj"] == plain["start"]["energy_pj"]
    assert plain["final"]["cycles"] == plain["start"]["cycles"]
    assert plain["final"]["actual_macs"] == plain["final"]["macs"] == 94_720
    skip, _ = run_prune("energy", module, "digits-cnn2", data, load_arch("eyeriss-skipw"), 100.0, dataflow="rs",
                        short_epochs=0)
    assert skip["final"]["energy_pj"] < skip["start"]["energy_pj"]
    assert not any("no sparse feature" in n for n in skip["notes"])
    assert skip["final"]["actual_macs"] == pytest.approx(6048, rel=1e-12)


def test_a_sweeps_shared_memo_gives_what_a_fresh_run_gives(cnn2_small):
    """prune-compare shares fine-tuned candidates and final points across budgets: the budget-2
    run after a budget-1 run with the same memo tries the same steps and ends at the same network
    as a fresh budget-2 run (fine-tuning is seeded), and fine-tunes only the candidates not seen."""
    from loopnest.arch import load_arch
    from loopnest.codesign.pruning import run_prune

    module, data = cnn2_small
    arch, memo, said = load_arch("eyeriss"), {}, []
    first, _ = run_prune("energy", module, "digits-cnn2", data, arch, 1.0, dataflow="rs", memo=memo)
    seen = sum(k[1] == "candidate" for k in memo)
    assert seen == len(first["steps"])
    shared, _ = run_prune("energy", module, "digits-cnn2", data, arch, 2.0, dataflow="rs", memo=memo, start=first["start"],
                          progress=said.append)
    fresh, _ = run_prune("energy", module, "digits-cnn2", data, arch, 2.0, dataflow="rs")
    assert shared["steps"] == fresh["steps"] and shared["sparsity"] == fresh["sparsity"]
    assert shared["final"] == fresh["final"] and shared["start"] == fresh["start"]
    tuned = sum(m.startswith("fine-tuning") for m in said)
    assert tuned == sum(k[1] == "candidate" for k in memo) - seen < len(shared["steps"])


def test_prune_candidates_stay_usable_after_the_final_is_baked(cnn2_small):
    """Regression: a memoized candidate reused after being baked once failed with "no attribute
    'weight'" (torch's remove_parametrizations edits the class a deepcopy shares). The same run
    twice with one memo: the second reuses every candidate, the accepted one included."""
    from loopnest.arch import load_arch
    from loopnest.codesign.pruning import run_prune

    module, data = cnn2_small
    memo, arch = {}, load_arch("eyeriss")
    first, _ = run_prune("magnitude", module, "digits-cnn2", data, arch, 1.0, dataflow="rs", short_epochs=0, memo=memo)
    again, _ = run_prune("magnitude", module, "digits-cnn2", data, arch, 1.0, dataflow="rs", short_epochs=0, memo=memo,
                         start=first["start"])
    assert again["steps"] == first["steps"] and again["final"] == first["final"]
