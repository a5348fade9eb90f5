"""Object set files: the YAML format of your own objects, read and checked without pybullet."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grasp_env.errors import ConfigError
from grasp_env.object_sets import (
    ENTRY_KEYS,
    PACKAGED_OBJECT_SETS,
    ObjectSetError,
    anchored,
    load_object_set,
    object_set_label,
    object_set_path,
    parse_object_set,
    read_object_set,
)

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def parts(tmp_path: Path) -> Path:
    """A folder with a YAML file's two URDFs (their content is the twin's business)."""
    (tmp_path / "parts").mkdir()
    for name in ("bracket", "nut"):
        (tmp_path / "parts" / f"{name}.urdf").write_text("<robot/>")
    return tmp_path


def write_set(folder: Path, data: object, name: str = "my_parts.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_an_entry_with_only_a_urdf_gets_the_defaults(parts):
    listed = load_object_set(write_set(parts, {"objects": [{"urdf": "parts/nut.urdf"}]}))
    (entry,) = listed.entries
    assert entry.path == parts / "parts" / "nut.urdf"
    assert (entry.scale, entry.mass, entry.friction, entry.weight) == (1.0, None, None, 1.0)


def test_every_field_is_read(parts):
    entry = {"urdf": "parts/nut.urdf", "scale": 2, "mass": 0.05, "friction": 0.8, "weight": 3}
    data = {"objects": [entry]}
    (entry,) = load_object_set(write_set(parts, data)).entries
    assert (entry.scale, entry.mass, entry.friction, entry.weight) == (2.0, 0.05, 0.8, 3.0)


def test_the_weights_are_the_mix(parts):
    data = {"objects": [{"urdf": "parts/nut.urdf", "weight": 3}, {"urdf": "parts/bracket.urdf"}]}
    assert load_object_set(write_set(parts, data)).probabilities.tolist() == [0.75, 0.25]


def test_a_pybullet_data_urdf_lies_in_pybullet_data():
    pybullet_data = pytest.importorskip("pybullet_data")
    listed = parse_object_set(
        {"objects": [{"urdf": "pybullet_data/duck_vhacd.urdf"}]}, Path("/nowhere/set.yaml")
    )
    assert listed.entries[0].path == Path(pybullet_data.getDataPath()) / "duck_vhacd.urdf"


def test_the_packaged_set_is_found_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = object_set_path("pybullet")
    assert path is not None
    assert path.name == PACKAGED_OBJECT_SETS["pybullet"]
    assert object_set_path("configs/objects_pybullet.yaml") == path


def test_a_built_in_name_names_no_file():
    assert read_object_set("cylinders") is None
    assert object_set_path("spheres") is None


def test_a_relative_path_is_anchored_to_a_folder_and_names_stay(tmp_path):
    assert anchored("parts.yaml", tmp_path) == str(tmp_path / "parts.yaml")
    assert anchored("/abs/parts.yml", tmp_path) == "/abs/parts.yml"
    assert anchored("pybullet", tmp_path) == "pybullet"
    assert anchored("cubes", tmp_path) == "cubes"


def test_a_record_names_a_file_set_by_its_file_name():
    assert object_set_label("/home/me/cell/parts/my_parts.yaml") == "my_parts.yaml"
    assert object_set_label("cubes") == "cubes"


def test_a_missing_yaml_file_is_named():
    with pytest.raises(ObjectSetError, match=r"^configs/nope\.yaml: expected a YAML file"):
        read_object_set("configs/nope.yaml")


BAD_FILES = [
    ("objects:\n  - urdf: [\n", r"my_parts\.yaml: expected valid YAML"),
    ("- urdf: parts/nut.urdf\n", r"my_parts\.yaml: expected a mapping with the one key 'objects'"),
    ("objects: []\n", r"my_parts\.yaml: expected 'objects' to be a non-empty list of mappings"),
    ("objects:\n  urdf: parts/nut.urdf\n", r"expected 'objects' to be a non-empty list"),
    ("objects: [parts/nut.urdf]\n", r"my_parts\.yaml, objects\[0\]: expected a mapping"),
    (
        "objects:\n  - urdf: parts/nut.urdf\n    colour: red\n",
        r"objects\[0\]\.colour: expected one",
    ),
    ("objects:\n  - urdf: parts/nut.urdf\n  - scale: 2\n", r"objects\[1\]\.urdf: expected the pa"),
    ("objects:\n  - urdf: parts/x.urdf\n", r"objects\[0\]\.urdf: expected an existing URDF file"),
    ("objects:\n  - urdf: parts/nut.urdf\n    scale: 0\n", r"objects\[0\]\.scale: expected a num"),
    ("objects:\n  - urdf: parts/nut.urdf\n    mass: -1\n", r"objects\[0\]\.mass: expected a numb"),
    ("objects:\n  - urdf: parts/nut.urdf\n    weight: 0\n", r"objects\[0\]\.weight: expected a n"),
    ("objects:\n  - urdf: parts/nut.urdf\n    friction: -0.1\n", r"objects\[0\]\.friction: exp"),
    ("objects:\n  - urdf: parts/nut.urdf\n    mass: heavy\n", r"\.mass: expected a number > 0"),
    ("objects:\n  - urdf: parts/nut.urdf\n    scale: .nan\n", r"\.scale: expected a number > 0"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_file_names_the_file_the_entry_and_the_field(parts, text, message):
    path = parts / "my_parts.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_object_set(path)
    assert str(info.value).startswith(str(path))


def test_an_error_travels_between_processes_unchanged():
    error = ObjectSetError(Path("my_parts.yaml"), "a number > 0", "-1", 2, "scale")
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.source, again.index, again.field) == (
        "my_parts.yaml, objects[2].scale: expected a number > 0, got -1",
        Path("my_parts.yaml"),
        2,
        "scale",
    )


def test_a_friction_of_zero_is_allowed(parts):
    data = {"objects": [{"urdf": "parts/nut.urdf", "friction": 0}]}
    assert load_object_set(write_set(parts, data)).entries[0].friction == 0.0


def test_the_readme_documents_exactly_the_keys_of_an_entry():
    section = README.read_text().split("## Your own objects", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None
    (entry,) = yaml.safe_load(block.group(1))["objects"]
    assert tuple(entry) == ENTRY_KEYS


VALID = {
    "urdf": st.sampled_from(["parts/nut.urdf", "parts/bracket.urdf"]),
    "scale": st.floats(0.01, 10.0),
    "mass": st.floats(1e-4, 5.0),
    "friction": st.floats(0.0, 2.0),
    "weight": st.floats(0.01, 100.0) | st.integers(1, 100),
}
INVALID = {
    "urdf": st.sampled_from(["parts/missing.urdf", "", 3, None]),
    "scale": st.sampled_from([0, -1.0, float("inf"), "big", True, None]),
    "mass": st.sampled_from([0.0, -0.5, float("nan"), "1 kg", False]),
    "friction": st.sampled_from([-0.01, -3, float("-inf"), "slippery"]),
    "weight": st.sampled_from([0, -2, float("nan"), "2", None]),
}


@st.composite
def entries(draw: st.DrawFn) -> tuple[dict, str | None]:
    """An entry and its first bad field in the parser's order (None when it is valid)."""
    optional = draw(st.lists(st.sampled_from(ENTRY_KEYS[1:]), unique=True))
    keys = ["urdf", *sorted(optional, key=ENTRY_KEYS.index)]
    bad = draw(st.sets(st.sampled_from(keys), max_size=2))
    entry = {k: draw(INVALID[k] if k in bad else VALID[k]) for k in keys}
    numeric_bad = [k for k in keys[1:] if k in bad]
    first = numeric_bad[0] if numeric_bad else ("urdf" if "urdf" in bad else None)
    return entry, first


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=st.lists(entries(), min_size=1, max_size=4))
def test_a_file_parses_exactly_when_every_field_fits(parts, drawn):
    data = {"objects": [entry for entry, _ in drawn]}
    source = parts / "random.yaml"
    bad = [(i, first) for i, (_, first) in enumerate(drawn) if first is not None]
    if not bad:
        listed = parse_object_set(data, source)
        assert len(listed.entries) == len(drawn)
        assert listed.probabilities.sum() == pytest.approx(1.0)
        return
    index, field = bad[0]
    with pytest.raises(ObjectSetError) as info:
        parse_object_set(data, source)
    assert (info.value.index, info.value.field) == (index, field)
    assert str(info.value).startswith(f"{source}, objects[{index}].{field}: expected ")
