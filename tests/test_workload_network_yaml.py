"""Networks written in YAML (issue 11, item 14): layers plus edges, for users without ONNX;
accepted wherever a model or a layer is (docs/workload.md, Networks in YAML)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loopnest.cli import app
from loopnest.workload import WorkloadError, load_network
from loopnest.workload import layers as L
from loopnest.workload.layer_ref import LayerRefError, load_layer

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tiny_cnn.yaml"


def test_the_example_network_builds_its_layers_and_edges():
    net = load_network(EXAMPLE, batch=2)
    assert net.name == "tiny-cnn" and net.batch == 2 and dict(net.inputs) == {"image": ()}
    # hand-derived: conv1 28x28 with a 5x5 filter -> 24x24; conv2 12x12, padding 2, 5x5 -> 12x12
    assert net.layers[0] == L.conv2d("conv1", C=1, M=8, H=28, W=28, R=5).with_dims(N=2)
    assert net.layers[1].dims["P"] == 12 and net.layers[1].dims["N"] == 2
    assert net.layers[3] == L.fc("fc", C=2304, M=10).with_dims(N=2)
    assert net.layer_edges() == (("conv1", "conv2"), ("conv1", "skip"), ("conv2", "fc"), ("skip", "fc"))
    assert net.node("conv1").inputs == ("image",)


def test_without_edges_the_layers_form_a_chain(tmp_path):
    path = tmp_path / "chain.yaml"
    path.write_text("network:\n  layers:\n    - {type: fc, name: a, C: 8, M: 4}\n    - {type: fc, name: b, C: 4, M: 2}\n")
    net = load_network(path)
    assert net.name == "chain" and net.layer_edges() == (("a", "b"),) and net.node("a").inputs == ("input",)


def test_a_layer_spec_file_is_a_one_layer_network(tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text("layer: {type: conv2d, name: c, C: 4, M: 8, H: 8, W: 8, R: 3}\n")
    net = load_network(path, batch=3)
    assert net.layers == (L.conv2d("c", C=4, M=8, H=8, W=8, R=3).with_dims(N=3),)


@pytest.mark.parametrize("body, message", [
    ("network: {layers: [{type: fc, name: a, C: 8, M: 4}], edge: []}", "field network.edge: unknown (did you mean 'edges'?)"),
    ("network: {layers: []}", "field network.layers: required, a non-empty list"),
    ("network: {layers: [{type: fc, name: a, C: 8}]}", "field network.layers[0] (a).M: required field is missing"),
    ("network: {layers: [{type: fc, name: a, C: 8, M: 4}, {type: fc, name: a, C: 4, M: 2}]}",
     "the name 'a' is used twice"),
    ("network: {layers: [{type: fc, name: a, C: 8, M: 4}, {type: fc, name: b, C: 4, M: 2}], edges: [[a, bb]]}",
     "field network.edges[0]: 'bb' is not a layer of this network (did you mean 'b'?)"),
    ("network: {layers: [{type: fc, name: a, C: 8, M: 4}, {type: fc, name: b, C: 4, M: 2}], edges: [[b, a]]}",
     "field network.edges[0]: 'b' is listed after 'a'; list every producer before its consumers"),
    ("network: {layers: [{type: fc, name: a, C: 8, M: 4}], edges: [[a, a]]}",
     "field network.edges[0]: layer 'a' cannot feed itself"),
    ("network: {layers: [{type: fc, name: a, C: 8, M: 4}], edges: [[input]]}",
     "field network.edges[0]: a pair [producer, consumer]"),
    ("layers: []", "expected one top-level key 'network' (layers and edges) or 'layer'"),
])
def test_errors_name_the_file_and_the_field(tmp_path, body, message):
    path = tmp_path / "net.yaml"
    path.write_text(body + "\n")
    with pytest.raises(WorkloadError) as e:
        load_network(path)
    assert str(e.value).startswith(f"{path}: ") and message in str(e.value), str(e.value)


def test_a_layer_of_a_yaml_network_is_named_file_colon_layer():
    assert load_layer(f"{EXAMPLE}:skip") == L.pointwise("skip", C=8, M=16, H=12, W=12)
    with pytest.raises(LayerRefError, match=r"the network has 4 layers; name one as .*tiny_cnn.yaml:LAYER"):
        load_layer(str(EXAMPLE))


@pytest.mark.parametrize("args", [
    ["workload", "stats", str(EXAMPLE), "--format", "json"],
    ["evaluate", str(EXAMPLE), "--arch", "eyeriss", "--jobs", "1", "--json"],
    ["roofline", str(EXAMPLE), "--arch", "eyeriss", "--jobs", "1", "--json"],
    ["eyexam", f"{EXAMPLE}:conv2", "--arch", "eyeriss", "--json"],
])
def test_every_command_that_takes_a_model_takes_a_yaml_network(args):
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "conv2" in r.output
