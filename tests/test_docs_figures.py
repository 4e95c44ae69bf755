"""Every figure of README.md and docs/ is made by docs/make_figures.py from a documented command
(issue 11, item 5); the quick mode runs every one of those commands on small workloads."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("make_figures", ROOT / "docs" / "make_figures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_image_in_the_docs_is_made_by_the_script_and_none_is_orphaned():
    made = {name for name, *_ in _script().FIGURES}
    docs = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    referenced = {Path(m).name for d in docs for m in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", d.read_text())}
    assert referenced == made
    assert {p.name for p in (ROOT / "docs" / "img").iterdir()} == made


def test_the_docs_give_the_command_each_figure_is_made_with():
    docs = "".join(d.read_text() for d in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
    for name, args, *_ in _script().FIGURES:
        assert "loopnest " + " ".join(args) in docs, name


def test_quick_mode_makes_every_figure(tmp_path):
    made = _script().main(["--quick", "--out", str(tmp_path)])
    assert sorted(p.name for p in made) == sorted({name for name, *_ in _script().FIGURES})
    for p in made:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_only_makes_the_named_figure(tmp_path, capsys):
    made = _script().main(["--quick", "--only", "eyexam_alexnet_conv3.png", "--out", str(tmp_path)])
    assert [p.name for p in made] == ["eyexam_alexnet_conv3.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["eyexam_alexnet_conv3.png"]
