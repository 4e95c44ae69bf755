"""Precision specs: parsing, validation and application to a network's tensors."""

import pytest

from loopnest.workload import load_network
from loopnest.workload.precision import Precision, PrecisionError, apply_precision


def test_parse_roles_and_aliases():
    assert Precision.parse("weights=4,inputs=8,outputs=16") == Precision(4, 8, 16)
    assert Precision.parse("w=2, o=12") == Precision(weights=2, outputs=12)


@pytest.mark.parametrize("text", ["weights=0", "weights=33", "weights=4.5", "weights=four",
                                  "psums=8", "weights", "", "w=4,weights=8"])
def test_parse_rejects(text):
    with pytest.raises(PrecisionError):
        Precision.parse(text)


def test_apply_sets_bits_per_role_and_per_layer():
    net = load_network("lenet5")
    first = net.layers[0].name
    out = apply_precision(net, Precision(weights=4, inputs=8), {first: Precision(weights=2)})
    for layer in out.layers:
        bits = {t.role: t.bits for t in layer.tensors}
        assert bits == {"weights": 2 if layer.name == first else 4, "inputs": 8, "outputs": 16}
    # the MAC counts and shapes are untouched; only widths change
    assert [p.dims for p in out.layers] == [p.dims for p in net.layers]


def test_apply_rejects_unknown_layer():
    with pytest.raises(PrecisionError, match="no such layer"):
        apply_precision(load_network("lenet5"), Precision(weights=4), {"conv9": Precision(weights=2)})


def test_text_form_reads_back():
    for text in ("weights=4,inputs=8,outputs=16", "weights=2,accumulator=32"):
        assert str(Precision.parse(text)) == text and Precision.parse(str(Precision.parse(text))) == Precision.parse(text)
