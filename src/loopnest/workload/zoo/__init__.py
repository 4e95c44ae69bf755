"""The model zoo: built-in networks by name, described as plain tables (no torch needed)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from loopnest.workload.network import Network
from loopnest.workload.zoo import cnn, compact, digits, tpu, transformer

MODELS: dict[str, tuple[Callable[..., Network], str]] = {
    "lenet5": (cnn.lenet5, "LeNet-5, 28x28 (padded to 32x32)"),
    "alexnet": (cnn.alexnet, "AlexNet, 227x227, grouped conv2/4/5 (Eyeriss version)"),
    "vgg16": (cnn.vgg16, "VGG-16, 224x224"),
    "googlenet": (cnn.googlenet, "GoogLeNet (Inception v1), 224x224"),
    "resnet50": (cnn.resnet50, "ResNet-50 v1, 224x224"),
    "resnet152": (cnn.resnet152, "ResNet-152 v1, 224x224 (deep and thin)"),
    "wide_resnet50_2": (cnn.wide_resnet50_2, "Wide ResNet-50-2, 224x224 (wide and shallow)"),
    "mobilenet_v1": (cnn.mobilenet_v1, "MobileNet-v1 1.0, 224x224"),
    **{f"mobilenet_v1_x{str(w).replace('.', '_')}": (partial(cnn.mobilenet_v1, width=w), f"MobileNet-v1 {w}, 224x224")
       for w in (0.75, 0.5, 0.25)},
    "mobilenet_v2": (cnn.mobilenet_v2, "MobileNet-v2 1.0, 224x224"),
    "squeezenet1_0": (cnn.squeezenet1_0, "SqueezeNet 1.0, 224x224"),
    "squeezenet1_1": (cnn.squeezenet1_1, "SqueezeNet 1.1, 224x224"),
    "squeezenext23": (compact.squeezenext23, "1.0-SqNxt-23 (SqueezeNext), 227x227"),
    "shufflenet_v2_x1_0": (compact.shufflenet_v2, "ShuffleNet-v2 1.0x, 224x224 (split, concat, shuffle)"),
    "diracdeltanet": (compact.diracdeltanet, "DiracDeltaNet (Synetgy), 224x224: shifts and 1x1 convs, 4-bit"),
    "bert_base_128": (partial(transformer.bert_base_layer, 128), "BERT-base encoder layer, 128 tokens"),
    "bert_base_512": (partial(transformer.bert_base_layer, 512), "BERT-base encoder layer, 512 tokens"),
    "gpt2_prefill_1024": (partial(transformer.gpt2_block, 1024, False), "GPT-2 small block, prefill of 1024 tokens"),
    "gpt2_decode_1024": (partial(transformer.gpt2_block, 1024, True), "GPT-2 small block, 1 token, 1023 cached"),
    **{f"tpu_{n}": (partial(tpu.build, n), f"TPU v1 paper's {n.upper()} stand-in, 8-bit (Table 1 batch {b}: --batch {b})")
       for n, b in tpu.BATCH.items()},
    **{n: (partial(digits.build, n), f"{d.description}, 16x16 (trained: loopnest codesign)")
       for n, d in digits.DIGITS_CNNS.items()},
}


def _key(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(".", "")


def list_models() -> list[str]:
    """Names of the built-in networks."""
    return list(MODELS)


def find_model(name: str) -> str | None:
    """The zoo name matching ``name`` ignoring case, '-', '_' and '.' (ResNet-50 -> resnet50)."""
    return next((m for m in MODELS if _key(m) == _key(name)), None)


def build(name: str, batch: int = 1) -> Network:
    """Build a zoo network by its exact name at the given batch size."""
    return MODELS[name][0](batch=batch)
