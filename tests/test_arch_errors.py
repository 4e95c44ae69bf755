"""Bad specs: one clear ArchSpecError naming the file, the field path and what is allowed; never an
internal exception (property-based: random malformed specs and random YAML text)."""

import copy

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopnest.arch import Architecture, ArchSpecError, load_arch, parse_arch
from loopnest.arch.loader import preset_path

GOOD = {
    "name": "t", "technology_nm": 45, "energy_table": "horowitz45",
    "levels": [
        {"name": "DRAM", "class": "dram"},
        {"name": "Buf", "capacity_words": 1024, "fanout": {"x": 4, "y": 4}},
        {"name": "RF", "class": "regfile", "capacity_words": 16},
    ],
    "compute": {"operand_bits": 16},
}


def load_bad(tmp_path, mutate):
    data = copy.deepcopy(GOOD)
    mutate(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ArchSpecError) as info:
        load_arch(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: "), message  # names the file
    return message


def test_good_spec_loads(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(yaml.safe_dump(GOOD))
    a = load_arch(str(path))
    assert a.pes == 16 and a.instances(2) == 16


def test_unknown_field_lists_the_allowed_ones(tmp_path):
    m = load_bad(tmp_path, lambda d: d["levels"][1].update(capcity_words=5))
    assert "levels[1] (Buf).capcity_words: unknown field" in m and "'capacity_words'" in m and "'class'" in m


@pytest.mark.parametrize("field, value", [("capacity_words", -5), ("capacity_words", 0), ("word_bits", 0),
                                          ("block_words", -1), ("read_bandwidth", 0)])
def test_negative_or_zero_sizes(tmp_path, field, value):
    m = load_bad(tmp_path, lambda d: d["levels"][1].update({field: value}))
    assert f"levels[1] (Buf).{field}: Input should be greater than 0" in m


def test_zero_fanout(tmp_path):
    assert "levels[1] (Buf).fanout.x: Input should be greater than 0" in load_bad(
        tmp_path, lambda d: d["levels"][1]["fanout"].update(x=0))


def test_tensor_no_level_may_hold(tmp_path):
    def drop_weights(d):
        for lv in d["levels"]:
            lv["keeps"] = ["inputs", "outputs"]
    m = load_bad(tmp_path, drop_weights)
    assert "no level may hold weights" in m and "keeps" in m


def test_outermost_must_keep_everything(tmp_path):
    m = load_bad(tmp_path, lambda d: d["levels"][0].update(keeps=["inputs"]))
    assert "levels[0] (DRAM).keeps" in m and "outermost" in m


def test_unknown_tensor_role(tmp_path):
    m = load_bad(tmp_path, lambda d: d["levels"][1].update(keeps=["psums"]))
    assert "levels[1] (Buf).keeps[0]" in m and "'inputs', 'weights' or 'outputs'" in m


def test_fanout_that_does_not_divide(tmp_path):
    def instances_not_multiple(d):
        d["levels"][1].pop("fanout")
        d["levels"][1]["instances"] = 3
        d["levels"][2]["instances"] = 10  # 10 RFs under 3 buffers
    m = load_bad(tmp_path, instances_not_multiple)
    assert "levels[2].instances" in m and "does not divide" in m


def test_mesh_that_does_not_divide(tmp_path):
    def bad_mesh(d):
        d["levels"][1].pop("fanout")
        d["levels"][2].update(instances=10, mesh_x=3)
    assert "levels[2].mesh_x: 3 does not divide the fanout of 10" in load_bad(tmp_path, bad_mesh)


def test_instances_disagreeing_with_the_fanout(tmp_path):
    m = load_bad(tmp_path, lambda d: d["levels"][2].update(instances=10))
    assert "levels[2] (RF).instances: 10 does not match the fanouts above (16)" in m


def test_instances_define_the_fanout():
    d = copy.deepcopy(GOOD)
    d["levels"][1].pop("fanout")
    d["levels"][2].update(instances=12, mesh_x=4)
    a = parse_arch(d)
    assert (a.levels[1].fanout.x, a.levels[1].fanout.y) == (4, 3) and a.pes == 12


def test_capacity_smaller_than_a_block(tmp_path):
    m = load_bad(tmp_path, lambda d: d["levels"][2].update(block_words=32))
    assert "levels[2] (RF)" in m and "capacity_words: 16 words is smaller than one block (block_words 32)" in m


def test_double_buffered_capacity_smaller_than_a_block(tmp_path):
    m = load_bad(tmp_path, lambda d: d["levels"][2].update(capacity_words=1, double_buffered=True))
    assert "double_buffered" in m


def test_missing_energy_without_a_table(tmp_path):
    m = load_bad(tmp_path, lambda d: d.pop("energy_table"))
    assert "energy_pj: missing, and no energy table is selected" in m and "horowitz45" in m


def test_missing_energy_the_table_cannot_model(tmp_path):
    m = load_bad(tmp_path, lambda d: d["compute"].update(arithmetic="fp", operand_bits=8))
    assert "compute.energy_pj: missing, and energy table 'horowitz45' does not model it" in m


def test_unknown_table(tmp_path):
    m = load_bad(tmp_path, lambda d: d.update(energy_table="nope"))
    assert "energy_table: unknown energy table 'nope'; known tables: eyeriss65, horowitz45" in m  # plain text, not a Python list


def test_partition_problems(tmp_path):
    m = load_bad(tmp_path, lambda d: d["levels"][2].update(partitions={"weights": 8}, capacity_words=None))
    assert "partitions give no capacity for kept tensors ['inputs', 'outputs']" in m
    m = load_bad(tmp_path, lambda d: d["levels"][2].update(partitions={"psum": 8}, capacity_words=None))
    assert "levels[2] (RF).partitions.psum (key)" in m


def test_expression_is_evaluated_safely(tmp_path):
    m = load_bad(tmp_path, lambda d: d["levels"][1].update(capacity_words="__import__('os').system('true')"))
    assert "levels[1] (Buf).capacity_words: only numbers and + - * / // % ** are allowed" in m


def test_not_yaml_and_not_a_mapping(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ArchSpecError, match="not valid YAML at line"):
        load_arch(str(path))
    path.write_text("- just\n- a list\n")
    with pytest.raises(ArchSpecError, match="must be a mapping"):
        load_arch(str(path))
    with pytest.raises(ArchSpecError, match="no such file and no such preset"):
        load_arch(str(tmp_path / "missing.yaml"))


def test_no_python_objects_from_yaml(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("name: !!python/object/apply:os.system ['true']\nlevels: []\n")
    with pytest.raises(ArchSpecError, match="not valid YAML"):
        load_arch(str(path))


def test_base_chain(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("base: eyeriss\nname: mine\nclock_mhz: 250\n")
    a = load_arch(str(path))
    assert a.name == "mine" and a.clock_mhz == 250 and a.pes == 168
    path.write_text("base: mine.yaml\nname: loop\n")
    with pytest.raises(ArchSpecError, match="base: chain longer"):
        load_arch(str(path))


def test_base_levels_overridden_by_name(tmp_path):
    # issue 11, item 14: one field of one level, the rest of the preset kept (before: levels given as a
    # mapping replaced the whole list and failed validation)
    path = tmp_path / "mine.yaml"
    path.write_text("base: eyeriss\nname: mine\nlevels:\n  GlobalBuffer: {capacity_words: 65536}\n"
                    "  RF: {partitions: {weights: 448}}\n")
    mine, eyeriss = load_arch(path), load_arch("eyeriss")
    assert [lv.name for lv in mine.levels] == ["DRAM", "GlobalBuffer", "RF"]
    assert mine.levels[1].capacity_words == 65536 and eyeriss.levels[1].capacity_words == 55296
    # Eyeriss JSSC 2017 spads: weights 224, inputs 12, outputs 24 words; only weights changed
    assert dict(mine.levels[2].partitions) == {"weights": 448, "inputs": 12, "outputs": 24}
    assert mine.pes == eyeriss.pes == 168 and mine.clock_mhz == eyeriss.clock_mhz
    kept = ("cls", "word_bits", "block_words", "keeps", "read_bandwidth", "write_bandwidth")
    for a, b in zip(mine.levels, eyeriss.levels):
        assert [getattr(a, k) for k in kept] == [getattr(b, k) for k in kept], a.name
    # the per-access energy follows the size from the table (a larger buffer costs more per read)
    assert mine.levels[1].energy_pj["read"] > eyeriss.levels[1].energy_pj["read"]


@pytest.mark.parametrize("body, message", [
    ("levels: {GlobalBufer: {capacity_words: 1024}}",
     "levels.GlobalBufer: the base has no such level (did you mean 'GlobalBuffer'?); its levels are DRAM, GlobalBuffer, RF"),
    ("levels: {GlobalBuffer: 1024}", "levels.GlobalBuffer: a mapping of the fields to override"),
    ("levels: {GlobalBuffer: {capcity_words: 1024}}", "capcity_words: unknown field"),
])
def test_base_levels_override_errors_name_the_file_and_the_level(tmp_path, body, message):
    path = tmp_path / "mine.yaml"
    path.write_text(f"base: eyeriss\nname: mine\n{body}\n")
    with pytest.raises(ArchSpecError) as e:
        load_arch(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value), str(e.value)


# ---- property-based: random malformed specs never crash with an internal exception ----

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.sampled_from(["1/0", "2**99", "x", "1e999", "-3", "dram", "inputs", ""]),
    st.lists(st.integers(-3, 3), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(-2, 2), max_size=2),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _mutate(data, path, op, junk):
    if not path:
        return junk if op == "replace" else data
    parent = data
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    if op == "delete":
        del parent[key]
    elif op == "replace":
        parent[key] = junk
    elif isinstance(parent[key], dict):
        parent[key]["bogus_field"] = junk
    return data


SEED = yaml.safe_load(preset_path("eyeriss").read_text())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_malformed_specs(data):
    spec = copy.deepcopy(SEED)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(spec)) if isinstance(spec, (dict, list)) else [()]
        path = data.draw(st.sampled_from(paths))
        op = data.draw(st.sampled_from(["delete", "replace", "add"]))
        spec = _mutate(spec, path, op, data.draw(JUNK))
    table = data.draw(st.sampled_from([None, "horowitz45", "eyeriss65", "bogus"]))
    try:
        assert isinstance(parse_arch(spec, source="fuzz.yaml", table=table), Architecture)
    except ArchSpecError as exc:
        assert str(exc).startswith("fuzz.yaml: ") and "\n" not in str(exc).strip()


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_random_text_files(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "spec.yaml"
    path.write_bytes(text.encode("utf-8", "replace"))
    try:
        load_arch(str(path))
    except ArchSpecError as exc:
        assert str(exc).startswith(str(path))


def test_mesh_x_disagreeing_with_the_fanout(tmp_path):
    m = load_bad(tmp_path, lambda d: d["levels"][2].update(mesh_x=2))
    assert "levels[2] (RF).mesh_x: 2 differs from the fanout x of Buf (4)" in m
