"""The Eyeriss chip's measured AlexNet figures next to ours: AlexNet CONV1-5,
batch 4, row stationary, on the ``eyeriss`` preset.

Chip figures (Sze et al., "Hardware for Machine Learning: Challenges and Opportunities", CICC 2017
tutorial: "Eyeriss Chip Spec & Measurement Results" and the benchmarking sheet):
"AlexNet: For 2.66 GMACs [...] only requires 208.5MB (buffer) and 15.4MB (DRAM)"; the sheet:
runtime 115.3 ms at batch 4 (the JSSC measurement clock, 200 MHz, is the preset's), 168 PEs,
16-bit operands, DRAM access / non-zero MAC 0.005. The seed gives network totals only, so the
per-layer rows carry our numbers alone. Bytes = 16-bit words * 2; MB = 1e6 bytes (the slide's
2.66 GMACs * 3 inputs * 2 B = 16 GB reading implies decimal units).
"""

from __future__ import annotations

from dataclasses import replace

from loopnest.arch import load_arch
from loopnest.model import evaluate
from loopnest.search.network import map_network
from loopnest.search.summary import to_dict
from loopnest.workload import load_network
from loopnest.workload.density import Density, DensitySpec, apply_density, with_densities
from loopnest.workload.network import Network, Node

SOURCE = "Eyeriss chip (Chen et al., JSSC 2017, quoted by Sze et al., CICC 2017 tutorial): AlexNet CONV1-5, batch 4"
PRINTED = {"macs": "2.66e9", "buffer_MB": "208.5", "dram_MB": "15.4", "runtime_ms": "115.3", "dram_per_mac": "0.005"}
CHIP = {k: float(v) for k, v in PRINTED.items()}  # as printed in the source
BATCH = 4
BYTES_PER_WORD = 2
# The chip's measured fraction of zeros in the ifmaps of AlexNet CONV1-5 (Chen et al., JSSC 2017, Table V)
IFMAP_ZEROS = {"conv1": 0.0001, "conv2": 0.387, "conv3": 0.725, "conv4": 0.793, "conv5": 0.776}


def chip_densities() -> DensitySpec:
    """Table V's ifmap densities (uniform random zeros); each layer's ofmap at the next layer's
    ifmap density (a ReLU output; max pooling between CONV1/2, CONV2/3 can only raise the density
    it is read with, so the ofmap zeros are if anything under-counted); CONV5's ofmap dense (not
    measured)."""
    names = list(IFMAP_ZEROS)
    layers = {n: {"inputs": Density.uniform(1 - IFMAP_ZEROS[n])} | (
        {"outputs": Density.uniform(1 - IFMAP_ZEROS[names[i + 1]])} if i + 1 < len(names) else {})
        for i, n in enumerate(names)}
    return DensitySpec({}, layers, "JSSC 2017 Table V", "Chen et al., JSSC 2017, Table V (ifmap zeros)")


def alexnet_on_eyeriss(mode: str = "exact", jobs: int | None = None, sparse: bool = False,
                       sparse_search: bool = False) -> dict:
    """Our per-layer and total figures for the chip's workload, and the ratios ours / chip. With
    ``sparse``: each layer's mapping (the same search) evaluated on the ``eyeriss-rlc`` preset
    (RLC at DRAM, zero gating) at the chip's measured densities (``chip_densities``), DRAM
    traffic in the bits of the RLC stream. The mappings stay the dense ones: the comparison
    isolates what the zeros save. With ``sparse_search`` too, the mappings are searched again
    with the sparse costs (much slower: docs/sparsity.md)."""
    arch = load_arch("eyeriss-rlc" if sparse and sparse_search else "eyeriss")
    net = load_network("alexnet", batch=BATCH)
    if sparse and sparse_search:
        net = apply_density(net, chip_densities())
    convs = tuple(Node(n.name, n.op, ("image",), n.shape) for n in net.nodes if n.is_layer and n.op.kind == "conv")
    sub = Network(f"{net.name} CONV1-5", BATCH, convs, {"image": (3, 227, 227)})  # only the loop nests matter here
    res = map_network(sub, arch, "rs", mode=mode, jobs=jobs)
    if sparse and not sparse_search:
        arch, dens = load_arch("eyeriss-rlc"), chip_densities().layers
        res = replace(res, arch=arch, layers=[lo if lo.result is None else replace(
            lo, result=evaluate(with_densities(lo.problem, dens[lo.name]), arch, lo.result.mapping)) for lo in res.layers])
    data = to_dict(res)
    if sparse:  # DRAM MB from the bits moved (RLC entries: 16-bit values and 5-bit runs)
        bits = {lo.name: lo.result.traffic_bits(0) for lo in res.layers if lo.result is not None}
        for r in data["layers"]:
            r["accesses_by_level"][arch.levels[0].name] = bits[r["name"]] / 8 / BYTES_PER_WORD
        data["totals"]["accesses_by_level"][arch.levels[0].name] = sum(bits.values()) / 8 / BYTES_PER_WORD
    glb, dram = arch.levels[1].name, arch.levels[0].name
    clock_khz = arch.clock_mhz * 1e3
    rows = [{"layer": r["name"], "macs": r["macs"], "active_pes": r["active_pes"], "utilization": r["utilization"],
             "buffer_MB": r["accesses_by_level"][glb] * BYTES_PER_WORD / 1e6,
             "dram_MB": r["accesses_by_level"][dram] * BYTES_PER_WORD / 1e6,
             "latency_ms": r["cycles"] / clock_khz, "bound": r["bound"]} for r in data["layers"]]
    tot = data["totals"]
    ours = {"macs": tot["macs"], "buffer_MB": tot["accesses_by_level"][glb] * BYTES_PER_WORD / 1e6,
            "dram_MB": tot["accesses_by_level"][dram] * BYTES_PER_WORD / 1e6,
            "runtime_ms": tot["cycles"] / clock_khz, "dram_per_mac": tot["dram_accesses_per_mac"]}
    if sparse:  # the sheet's rows per non-zero MAC: DRAM 16-bit words of the stream, energy
        ours |= {"dram_per_mac": tot["accesses_by_level"][dram] / tot["actual_macs"], "actual_macs": tot["actual_macs"],
                 "energy_per_nonzero_mac_pj": tot["energy_per_nonzero_mac_pj"]}
    return {"source": SOURCE, "mode": mode, "layers": rows, "ours": ours, "chip": CHIP,
            "ratio": {k: ours[k] / CHIP[k] for k in CHIP}, "unmapped": data["unmapped"]}


def cases(mode: str = "exact") -> list[dict]:
    """Non-exact validation cases: {name, source, metric, expected (chip), got (ours)}."""
    res = alexnet_on_eyeriss(mode)
    units = {"macs": "MACs", "buffer_MB": "MB", "dram_MB": "MB", "runtime_ms": "ms", "dram_per_mac": "words/MAC"}
    return [{"name": f"AlexNet CONV1-5 batch 4: {k}", "key": k, "source": SOURCE, "metric": units[k],
             "expected": CHIP[k], "got": res["ours"][k]} for k in CHIP]

