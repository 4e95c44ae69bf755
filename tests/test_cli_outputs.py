"""Output options on a plain install: reports and figures need nothing beyond `pip install loopnest`,
and every output option is checked before any search starts (issue 11, items 1 and 2)."""

import sys
import tomllib
from pathlib import Path

import pytest

from cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
SEARCHES = (("loopnest.search.network", "map_network"), ("loopnest.analysis.runs", "best_records"),
            ("loopnest.analysis.eyexam", "run_eyexam"), ("loopnest.analysis.dataflow_compare", "compare_dataflows"))


def _one_clean_error(r, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "SEARCH STARTED" not in r.stderr + r.stdout, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_plotting_packages_are_core_dependencies_and_the_plot_extra_still_exists():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {d.split(">")[0].split("=")[0].strip() for d in meta["dependencies"]}
    assert {"plotly", "matplotlib"} <= core
    assert "plot" in meta["optional-dependencies"]  # `pip install 'loopnest[plot]'` keeps working


def test_import_loopnest_and_the_cli_do_not_import_the_plotting_packages():
    import subprocess

    code = "import sys, loopnest, loopnest.cli; print(sorted(m for m in ('plotly', 'matplotlib') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


@pytest.mark.parametrize("args, option", [
    (["evaluate", "lenet5", "--arch", "eyeriss", "--report", "{tmp}/x.html"], "--report"),
    (["evaluate", "lenet5", "--arch", "eyeriss", "--plot", "{tmp}/x.png"], "--plot"),
    (["roofline", "lenet5", "--arch", "eyeriss", "--plot", "{tmp}/x.png"], "--plot"),
    (["eyexam", "alexnet:conv3", "--arch", "eyeriss", "--plot", "{tmp}/x.png"], "--plot"),
    (["compare-dataflows", "lenet5", "--report", "{tmp}/x.html"], "--report"),
])
def test_missing_plot_packages_fail_before_the_search_with_the_install_hint(tmp_path, args, option):
    # before: a traceback after the whole search (ReportError / ModuleNotFoundError), and the hint
    # printed as "pip install 'loopnest'" because rich took "[plot]" for markup
    r = run_cli(*(a.format(tmp=tmp_path) for a in args), hide=("plotly", "matplotlib"), forbid=SEARCHES)
    _one_clean_error(r, option, "pip install 'loopnest[plot]'")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name, why", [("x.txt", "written as .html"), ("afile/x.html", "afile is a file, not a folder"),
                                       ("afile/sub/x.html", "cannot create files in")])
def test_bad_report_paths_fail_before_the_search(tmp_path, name, why):
    (tmp_path / "afile").write_text("a file, not a folder")
    r = run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--report", str(tmp_path / name), forbid=SEARCHES)
    _one_clean_error(r, "--report", why)


def test_bad_plot_suffix_and_a_folder_as_path_fail_before_the_search(tmp_path):
    _one_clean_error(run_cli("roofline", "lenet5", "--plot", str(tmp_path / "x.jpg"), forbid=SEARCHES), "--plot", ".png")
    _one_clean_error(run_cli("eyexam", "alexnet:conv3", "--plot", str(tmp_path), forbid=SEARCHES), "--plot")


def test_a_mappings_folder_that_cannot_be_made_fails_before_the_search(tmp_path):
    (tmp_path / "afile").write_text("a file, not a folder")
    _one_clean_error(run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--mappings", str(tmp_path / "afile"), forbid=SEARCHES),
                     "--mappings", "is a file")
    _one_clean_error(run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--mappings", str(tmp_path / "afile" / "best"),
                             forbid=SEARCHES), "--mappings", "cannot create files in")


def test_onnx_install_hint_keeps_its_extra(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"not really onnx")
    r = run_cli("workload", "stats", str(model), hide=("onnx",))
    assert r.returncode != 0 and "pip install 'loopnest[onnx]'" in r.stderr, r.stderr


def test_evaluate_writes_report_and_figures_on_a_plain_install(tmp_path):
    r = run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--report", str(tmp_path / "r.html"),
                "--plot", str(tmp_path / "p.png"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "r.html").stat().st_size > 1e6  # plotly.js inlined: opens offline
    pngs = sorted(p.name for p in tmp_path.glob("p*.png"))
    assert "p.png" in pngs and len(pngs) >= 3, pngs
    assert all((tmp_path / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
