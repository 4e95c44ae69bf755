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

from loopnest.arch import load_arch
from loopnest.search.network import map_network
from loopnest.search.summary import to_dict
from loopnest.workload import load_network
from loopnest.workload.network import Network, Node

SOURCE = "Eyeriss chip (Chen et al., JSSC 2017, quoted by Sze et al., CICC 2017 tutorial): AlexNet CONV1-5, batch 4"
PRINTED = {"macs": "2.66e9", "buffer_MB": "208.5", "dram_MB": "15.4", "runtime_ms": "115.3", "dram_per_mac": "0.005"}
CHIP = {k: float(v) for k, v in PRINTED.items()}  # as printed in the source
BATCH = 4
BYTES_PER_WORD = 2


def alexnet_on_eyeriss(mode: str = "exact", jobs: int | None = None) -> dict:
    """Our per-layer and total figures for the chip's workload, and the ratios ours / chip."""
    arch = load_arch("eyeriss")
    net = load_network("alexnet", batch=BATCH)
    convs = tuple(Node(n.name, n.op, ("image",), n.shape) for n in net.nodes if n.is_layer and n.op.kind == "conv")
    sub = Network(f"{net.name} CONV1-5", BATCH, convs, {"image": (3, 227, 227)})  # only the loop nests matter here
    data = to_dict(map_network(sub, arch, "rs", mode=mode, jobs=jobs))
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
    return {"source": SOURCE, "mode": mode, "layers": rows, "ours": ours, "chip": CHIP,
            "ratio": {k: ours[k] / CHIP[k] for k in CHIP}, "unmapped": data["unmapped"]}


def cases(mode: str = "exact") -> list[dict]:
    """Non-exact validation cases: {name, source, metric, expected (chip), got (ours)}."""
    res = alexnet_on_eyeriss(mode)
    units = {"macs": "MACs", "buffer_MB": "MB", "dram_MB": "MB", "runtime_ms": "ms", "dram_per_mac": "words/MAC"}
    return [{"name": f"AlexNet CONV1-5 batch 4: {k}", "key": k, "source": SOURCE, "metric": units[k],
             "expected": CHIP[k], "got": res["ours"][k]} for k in CHIP]

