"""SCALE-Sim side by side: loopnest's systolic cycles against SCALE-Sim's on the GEMMs of
``loopnest.validation.scalesim.RUNS`` and the ResNet-50 convolutions of ``CONV_RUNS`` (WS, OS, IS;
shapes that divide the array). The convolutions take minutes each in SCALE-Sim (``--gemm-only``
skips them).

SCALE-Sim runs in its own virtual environment (its pins clash with ours: it needs numpy < 2):

    python -m venv /tmp/ss-venv && /tmp/ss-venv/bin/pip install scalesim==3.0.0 "numpy<2"
    PYTHONPATH=src python benchmarks/peer_scalesim.py --python /tmp/ss-venv/bin/python

For each run it writes SCALE-Sim's config (the array, the dataflow, a bandwidth of 1000 words per
cycle so nothing stalls), a GEMM topology and a layout file, runs ``python -m scalesim.scale``,
reads ``Total Cycles`` from COMPUTE_REPORT.csv, and prints SCALE-Sim's figure (which must equal
the one stored in RUNS), ours and the ratio. Last line: ``RESULT runs=... stored_match=...
max_rel_error=...``.

``--network AlexNet --dataflow ws`` instead runs SCALE-Sim's own topology of a network of
``NETS`` (half an hour for AlexNet WS on an idle core) and prints each layer's cycles, theirs and
ours (the im2col GEMM on SCALE-Sim's mapping, partial folds padded), and the totals. With
``--compute-only`` SCALE-Sim runs its compute system alone (``COMPUTE_ONLY``: its operand and
demand matrices, no memory simulation), each distinct layer shape once: its Total Cycles where
nothing stalls, as at this config's bandwidth. AlexNet WS, OS and IS come out at the full runs'
figures (per layer for WS: ``LAYER_CYCLES``), in under a minute for AlexNet WS; its demand
matrices grow by concatenation fold after fold, so a layer with many folds still takes minutes.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import tempfile
from pathlib import Path

from loopnest.validation.scalesim import CONV_RUNS, NETS, RUNS, ConvRun, Run, cycles, im2col

CONFIG = """[general]
run_name = {name}

[run_presets]
InterfaceBandwidth = USER
UseRamulatorTrace = False

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
ifmapsramszkB = 6144
filtersramszkB = 6144
ofmapsramszkB = 2048
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Bandwidth = 1000
Dataflow = {dataflow}
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[layout]
IfmapCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterCustomLayout = False
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40
"""


def scalesim_cycles(python: str, run: Run | ConvRun, work: Path) -> int:
    """SCALE-Sim's Total Cycles for ``run`` (one layer), run in ``work``."""
    gemm = isinstance(run, Run)
    shape = (run.m, run.n, run.k) if gemm else (run.p, run.c, run.m, run.r)
    name = f"{run.dataflow}_{run.rows}x{run.cols}_" + "_".join(map(str, shape))
    d = work / name
    d.mkdir()
    (d / "run.cfg").write_text(CONFIG.format(name=name, rows=run.rows, cols=run.cols, dataflow=run.dataflow))
    if gemm:
        (d / "topo.csv").write_text(f"Layer, M, N, K,\ng, {run.m}, {run.n}, {run.k},\n")
    else:  # IFMAP height, width, filter height, width, channels, filters, stride (unpadded)
        h = run.p + run.r - 1
        (d / "topo.csv").write_text("Layer, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                                    f"Num Filter, Strides,\ng, {h}, {h}, {run.r}, {run.r}, {run.c}, {run.m}, 1,\n")
    ones = ", ".join(["1"] * 24)  # layout factors: unused without a custom layout, but read
    (d / "layout.csv").write_text("Layer, " + ", ".join(f"f{i}" for i in range(24)) + f",\ng, {ones},\n")
    subprocess.run([python, "-m", "scalesim.scale", "-t", "topo.csv", "-l", "layout.csv", "-c", "run.cfg",
                    "-p", "out", "-i", "gemm" if gemm else "conv", "-s", "N"], cwd=d, check=True, capture_output=True,
                   timeout=3600)
    report = next((d / "out").rglob("COMPUTE_REPORT.csv"))
    rows = list(csv.reader(report.open()))
    header = [h.strip() for h in rows[0]]
    return int(rows[1][header.index("Total Cycles")].strip())


def network_cycles(python: str, network: str, dataflow: str, work: Path) -> list[int]:
    """SCALE-Sim's Total Cycles of each layer of ``NETS[network]`` (conv mode, 32 x 32)."""
    _network_files(network, dataflow, work)
    subprocess.run([python, "-m", "scalesim.scale", "-t", "topo.csv", "-l", "layout.csv", "-c", "run.cfg",
                    "-p", "out", "-i", "conv", "-s", "N"], cwd=work, check=True, capture_output=True, timeout=36000)
    rows = list(csv.reader(next((work / "out").rglob("COMPUTE_REPORT.csv")).open()))
    col = [h.strip() for h in rows[0]].index("Total Cycles")
    return [int(r[col].strip()) for r in rows[1:] if r and r[0].strip()]


# Run in SCALE-Sim's Python: its own parsing, operand matrices and compute system (single_layer_sim.run's
# steps 1.1 to 1.4) for each layer, printing the demand matrices' rows less one, which is the Total Cycles its
# memory system reports when nothing stalls (double_buffered_scratchpad.service_memory_requests: the last
# ofmap line is serviced at cycle rows - 1 plus the stalls). The memory simulation, a Python loop per cycle,
# is what makes a whole network take hours; this skips it.
COMPUTE_ONLY = """
import sys
from scalesim.scale_sim import scalesim
from scalesim.single_layer_sim import single_layer_sim
s = scalesim(save_disk_space=True, verbose=False, config="run.cfg", topology="topo.csv", layout="layout.csv",
             input_type_gemm=False)
for i in range(s.topo.get_num_layers()):
    layer = single_layer_sim()
    layer.set_params(layer_id=i, config_obj=s.config, topology_obj=s.topo, layout_obj=s.layout, verbose=False)
    _, ifmap = layer.op_mat_obj.get_ifmap_matrix()
    _, filt = layer.op_mat_obj.get_filter_matrix()
    _, ofmap = layer.op_mat_obj.get_ofmap_matrix()
    extra = {}
    if layer.dataflow == "ws":
        extra = dict(sparsity_ratio_N=layer.sparsity_ratio_N, sparsity_ratio_M=layer.sparsity_ratio_M,
                     ifmap_op_mat_original=layer.op_mat_obj.ifmap_addr_matrix_original,
                     sparsity_filter_array=layer.op_mat_obj.sparse_filter_array)
    layer.compute_system.set_params(config_obj=s.config, ifmap_op_mat=ifmap, filter_op_mat=filt, ofmap_op_mat=ofmap, **extra)
    layer.compute_system.get_prefetch_matrices()
    print(layer.compute_system.get_demand_matrices()[2].shape[0] - 1, flush=True)
"""


def network_compute_cycles(python: str, network: str, dataflow: str, work: Path) -> list[int]:
    """SCALE-Sim's cycles of each layer of ``NETS[network]`` from its compute system alone (its
    Total Cycles where nothing stalls, ``COMPUTE_ONLY``), each distinct layer shape run once."""
    shape = lambda x: (x.h, x.w, x.r, x.s, x.c, x.filters, x.stride)
    distinct = list({shape(x): x for x in NETS[network]}.values())
    _network_files(network, dataflow, work, distinct)
    out = subprocess.run([python, "-c", COMPUTE_ONLY], cwd=work, check=True, capture_output=True, text=True,
                         timeout=36000)
    by_shape = dict(zip(map(shape, distinct), map(int, out.stdout.split())))
    return [by_shape[shape(x)] for x in NETS[network]]


def _network_files(network: str, dataflow: str, work: Path, layers: list | None = None) -> None:
    """SCALE-Sim's config, conv topology and layout of ``layers`` (default ``NETS[network]``), 32 x 32,
    in ``work``."""
    layers = NETS[network] if layers is None else layers
    work.mkdir()
    (work / "run.cfg").write_text(CONFIG.format(name=network, rows=32, cols=32, dataflow=dataflow))
    (work / "topo.csv").write_text("Layer, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                                   "Strides,\n" + "".join(f"{x.name}, {x.h}, {x.w}, {x.r}, {x.s}, {x.c}, {x.filters}, "
                                                          f"{x.stride},\n" for x in layers))
    ones = ", ".join(["1"] * 24)
    (work / "layout.csv").write_text("Layer, " + ", ".join(f"f{i}" for i in range(24)) + ",\n"
                                     + "".join(f"{x.name}, {ones},\n" for x in layers))


def compare_network(python: str, network: str, dataflow: str, compute_only: bool = False) -> None:
    print(f"{'layer':10} {'SCALE-Sim':>10} {'loopnest':>10} {'error':>9}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        run = network_compute_cycles if compute_only else network_cycles
        theirs = run(python, network, dataflow, Path(tmp) / network)
    ours = [cycles(im2col(layer, dataflow)) for layer in NETS[network]]
    for layer, t, o in zip(NETS[network], theirs, ours):
        worst = max(worst, abs(o - t) / t)
        print(f"{layer.name:10} {t:>10,} {o:>10,.0f} {(o - t) / t:>9.2%}")
    print(f"{'total':10} {sum(theirs):>10,} {sum(ours):>10,.0f} {(sum(ours) - sum(theirs)) / sum(theirs):>9.4%}")
    print(f"RESULT network={network} dataflow={dataflow} compute_only={int(compute_only)} layers={len(ours)} "
          f"total_scalesim={sum(theirs)} "
          f"total_loopnest={sum(ours):.0f} max_layer_rel_error={worst:.5f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", required=True, help="the Python of SCALE-Sim's virtual environment")
    ap.add_argument("--gemm-only", action="store_true", help="skip the convolutions (minutes each)")
    ap.add_argument("--network", choices=sorted(NETS), help="run this whole network instead (SCALE-Sim's topology)")
    ap.add_argument("--dataflow", choices=("ws", "os", "is"), default="ws", help="with --network")
    ap.add_argument("--compute-only", action="store_true",
                    help="with --network: SCALE-Sim's compute system alone (its cycles where nothing stalls; minutes, not hours)")
    args = ap.parse_args()
    if args.network:
        compare_network(args.python, args.network, args.dataflow, args.compute_only)
        return
    runs = RUNS if args.gemm_only else RUNS + CONV_RUNS
    worst, matched = 0.0, 0
    print(f"{'run':48} {'SCALE-Sim':>10} {'stored':>8} {'loopnest':>9} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for run in runs:
            theirs, ours = scalesim_cycles(args.python, run, Path(tmp)), cycles(run)
            matched += theirs == run.cycles
            worst = max(worst, abs(ours - theirs) / theirs)
            print(f"{run.name:48} {theirs:>10,} {run.cycles:>8,} {ours:>9,.0f} {ours / theirs:>7.4f}")
    print(f"RESULT runs={len(runs)} stored_match={matched} max_rel_error={worst:.5f}")


if __name__ == "__main__":
    main()
