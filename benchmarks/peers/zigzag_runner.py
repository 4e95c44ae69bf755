"""Run ZigZag (PyPI zigzag-dse) on a list of layers; print one JSON document on stdout.

Executed by the peer venv's python (see setup_zigzag.sh), never imported by loopnest.
Input, JSON on stdin::

    {"core": "tpu_like" | "eyeriss_like", "bits": 8, "lpf_limit": 6,
     "layers": [{"name": str, "dims": {"N","G","M","C","P","Q","R","S": int},
                 "stride": [h, w], "dilation": [h, w],
                 "spatial": {"D1": ["K", k], "D2": ["C", c]}}]}      # "spatial" optional

Every layer is a grouped convolution (an FC layer is a 1x1 conv on a 1x1 map), handed to ZigZag
as a workload entry (not ONNX) so both tools see the same shapes: no padding entry, so the input
extent counts padding as data, the loopnest convention. All operands (and partial sums) get
``bits`` bits. ZigZag's hardware YAML files are used unmodified from the installed package.
A layer's ``spatial`` entry replaces the core's spatial mapping for that layer (a mapping entry
named after the layer, which ZigZag picks before the default one).

Search: ZigZag's own pipeline for ``opt="energy"`` (the stages of zigzag.api minus plotting
and file dumps): fixed spatial mapping from the mapping file, LOMA temporal search
(exhaustive over loop-prime-factor orderings, ``lpf_limit`` factors), minimal energy kept.
Each layer runs alone and is timed (wall and CPU seconds, the parsing included).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import yaml
import zigzag
from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
from zigzag.stages.main import MainStage
from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
from zigzag.stages.mapping.temporal_mapping_generator_stage import TemporalMappingGeneratorStage
from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage
from zigzag.stages.parser.workload_parser import WorkloadParserStage
from zigzag.stages.results.reduce_stages import MinimalEnergyStage, SumStage
from zigzag.stages.workload_iterator import WorkloadStage

INPUTS = Path(zigzag.__file__).parent / "inputs"
HERE = Path(__file__).resolve().parent
# Hardware: the package's own files. Mapping: tpu_like ships one (spatial D1: K 32, D2: C 32);
# eyeriss_like ships none, ours fixes D1: K 14, D2: C 12 (the 14 x 12 array).
CORES = {
    "tpu_like": (INPUTS / "hardware/tpu_like.yaml", INPUTS / "mapping/tpu_like.yaml"),
    "eyeriss_like": (INPUTS / "hardware/eyeriss_like.yaml", HERE / "zigzag_eyeriss_like_mapping.yaml"),
}
CONV = "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]"
# loopnest dimension -> ZigZag loop dimension
DIMS = {"N": "B", "M": "K", "G": "G", "Q": "OX", "P": "OY", "C": "C", "S": "FX", "R": "FY"}
EVALUATED = [0]  # cost-model evaluations of the layer being searched


class CountingCostModelStage(CostModelStage):
    """ZigZag's cost-model stage, counting the mappings it evaluates."""

    def run(self):
        EVALUATED[0] += 1
        yield from super().run()


def zigzag_layer(layer: dict, bits: int) -> dict:
    """One loopnest conv/fc layer as a ZigZag workload entry."""
    d = layer["dims"]
    sh, sw = layer.get("stride", (1, 1))
    dh, dw = layer.get("dilation", (1, 1))
    return {
        "id": 0,
        "name": layer["name"],
        "operator_type": "Conv",
        "equation": CONV,
        "dimension_relations": [f"ix={sw}*ox+{dw}*fx", f"iy={sh}*oy+{dh}*fy"],
        "loop_dims": list(DIMS.values()),
        "loop_sizes": [int(d.get(k, 1)) for k in DIMS],
        "operand_precision": {"I": bits, "W": bits, "O": bits, "O_final": bits},
        "operand_source": {"I": 0},
    }


def mapping_file(layer: dict, core_mapping: Path, dump: str) -> Path:
    """The core's mapping file, or a copy with the layer's own spatial mapping put first."""
    if "spatial" not in layer:
        return core_mapping
    entries = yaml.safe_load(core_mapping.read_text())
    links = next(e for e in entries if e["name"] == "default")["memory_operand_links"]
    spatial = {oa: [f"{dim}, {int(f)}"] for oa, (dim, f) in layer["spatial"].items()}
    path = Path(dump) / "mapping.yaml"
    path.write_text(yaml.safe_dump([{"name": layer["name"], "spatial_mapping": spatial,
                                     "memory_operand_links": links}] + entries))
    return path


def run_layer(layer: dict, hardware: Path, core_mapping: Path, bits: int, lpf_limit: int, dump: str) -> dict:
    """Search one layer; return its best (minimal energy) point, the mapping found and the time taken."""
    EVALUATED[0] = 0
    mapping = mapping_file(layer, core_mapping, dump)
    stages = [WorkloadParserStage, AcceleratorParserStage, SumStage, WorkloadStage, MinimalEnergyStage,
              SpatialMappingGeneratorStage, MinimalEnergyStage, TemporalMappingGeneratorStage,
              CountingCostModelStage]
    main = MainStage(stages, accelerator=str(hardware), workload=[zigzag_layer(layer, bits)],
                     mapping=str(mapping), dump_folder=dump, pickle_filename=f"{dump}/cmes.pickle",
                     loma_lpf_limit=lpf_limit, loma_show_progress_bar=False, nb_mappings_generated=1,
                     enable_mix_spatial_mapping_generation=False,
                     access_same_data_considered_as_no_access=True, temporal_mapping_type="uneven")
    wall, cpu = time.perf_counter(), time.process_time()
    answers = main.run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    (cme, _), = answers[0][1]
    return {"name": layer["name"], "wall_s": wall, "cpu_s": cpu, "evaluated": EVALUATED[0], **describe(cme)}


def describe(cme) -> dict:
    """Energy (pJ), latency (cycles), per-level accesses and the mapping of one ZigZag result."""
    hierarchy = cme.accelerator.mem_hierarchy_dict
    links = cme.layer.memory_operand_links
    out = {"energy_pj": float(cme.energy_total), "mac_energy_pj": float(cme.mac_energy),
           "latency_cycles": float(cme.latency_total2), "ideal_cycles": float(cme.ideal_cycle),
           "levels": {}, "order_outer_to_inner": []}
    for op, loops_per_level in cme.temporal_mapping.mapping_dic_origin.items():
        names = [lv.name for lv in hierarchy[links.layer_to_mem_op(op)]]
        access = cme.memory_word_access[op]
        out["levels"][str(op)] = [
            {"memory": name,
             "temporal_inner_to_outer": [[str(dim), float(size)] for dim, size in loops],
             "accesses": {str(k): int(v) for k, v in access[i].data.items()} if i < len(access) else {},
             "energy_pj": float(cme.mem_energy_breakdown[op][i]) if i < len(access) else 0.0}
            for i, (name, loops) in enumerate(zip(names, loops_per_level))]
        if not out["order_outer_to_inner"]:
            flat = [[str(dim), float(size)] for loops in loops_per_level for dim, size in loops]
            out["order_outer_to_inner"] = flat[::-1]
    for key, sm in (("spatial", cme.spatial_mapping), ("spatial_int", cme.spatial_mapping_int)):
        loops = next(iter(sm.mapping_dict_origin.values()))  # every operand sees the same unrolling
        out[key] = {str(dim): float(f) for level in loops for dim, f in level}
    return out


def main() -> None:
    request = json.load(sys.stdin)
    core = request["core"]
    if core not in CORES:
        sys.exit(f"zigzag_runner: unknown core {core!r}; allowed: {sorted(CORES)}")
    hardware, mapping = CORES[core]
    bits, lpf = int(request.get("bits", 8)), int(request.get("lpf_limit", 6))
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    results = []
    with tempfile.TemporaryDirectory() as dump:
        for layer in request["layers"]:
            results.append(run_layer(layer, hardware, mapping, bits, lpf, dump))
            print(f"zigzag {core} {layer['name']}: {results[-1]['energy_pj']:.4g} pJ "
                  f"in {results[-1]['wall_s']:.2f} s", file=sys.stderr, flush=True)
    json.dump({"tool": "zigzag-dse", "version": version("zigzag-dse"), "core": core, "bits": bits,
               "lpf_limit": lpf, "engine": "loma", "hardware": str(hardware), "mapping": str(mapping),
               "cpu_count": os.cpu_count(), "layers": results}, sys.stdout)


if __name__ == "__main__":
    main()
