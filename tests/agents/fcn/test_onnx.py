"""ONNX export: the file scores as the torch model does, refuses another grid, runs without torch.

Skipped where the ``onnx`` extra (onnxruntime and onnx) is not installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from agents import registry
from agents.fcn.inference import GraspScorer
from agents.fcn.onnx import OnnxScorer, export_onnx, read_onnx_card
from agents.fcn.scoring import InferenceConfig, make_scorer
from agents.policies.fcn import FCNAgent
from grasp_env.errors import ConfigError
from grasp_env.geometry import ImageGeometry
from grasp_env.grasp_grid import GraspGrid

from ..conftest import clutter_scene

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def onnx_path(model, grid, tmp_path_factory):
    return export_onnx(tmp_path_factory.mktemp("onnx") / "model.onnx", model, grid)


def test_onnx_scores_equal_the_torch_model(model, grid, onnx_path):
    scene = clutter_scene(5)
    want = GraspScorer(model, grid).score(scene)
    got = OnnxScorer.from_file(onnx_path, grid).score(scene)
    assert got.shape == (20, 40, 40, 3)
    assert got.dtype == np.float32
    assert np.abs(got - want).max() < 1e-4
    in_memory = make_scorer(model, grid, InferenceConfig(backend="onnx"))
    assert in_memory.backend == "onnx"
    assert np.abs(in_memory.score(scene) - want).max() < 1e-4


def test_the_card_travels_in_the_metadata(grid, onnx_path):
    card = read_onnx_card(onnx_path)
    assert card["format"] == "grasp-value-model"
    assert card["rotations"] == 20
    assert card["widths"] == [0.03, 0.05, 0.07]
    assert card["input_channels"] == ["height", "valid"]
    assert card["parameter_count"] == 445_673


@pytest.mark.parametrize(
    ("other", "field"),
    [
        (GraspGrid(widths=(0.03, 0.05, 0.09)), "widths"),
        (GraspGrid(rotations=16), "rotations"),
        (GraspGrid(image=ImageGeometry(rows=120, cols=120)), "image_rows"),
    ],
)
def test_a_file_for_another_grid_is_refused_naming_both(onnx_path, other, field):
    with pytest.raises(ConfigError, match=f"made for {field} = .* serve {field} = "):
        OnnxScorer.from_file(onnx_path, other)
    with pytest.raises(ConfigError, match=field):
        registry.make("fcn", other, np.random.default_rng(0), checkpoint=str(onnx_path))


def test_a_file_whose_input_shape_differs_is_refused(grid, onnx_path, tmp_path):
    import onnx

    proto = onnx.load(str(onnx_path))
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    dims[1].dim_value, dims[2].dim_value = 100, 100
    bad = tmp_path / "bad.onnx"
    onnx.save(proto, str(bad))
    with pytest.raises(
        ConfigError, match=r"expected input shape \(rotations, 110, 110, 2\).*got .*100, 100, 2"
    ):
        OnnxScorer.from_file(bad, grid)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="expected an ONNX model"):
        OnnxScorer.from_file(junk, grid)


def test_the_fcn_agent_acts_from_the_file_as_from_the_model(model, grid, onnx_path):
    from_file = registry.make("fcn", grid, np.random.default_rng(0), checkpoint=str(onnx_path))
    by_option = registry.make("fcn", grid, np.random.default_rng(0), onnx=str(onnx_path))
    torch_agent = FCNAgent(model, "application", grid, np.random.default_rng(0))
    for seed in (0, 1):
        scene = clutter_scene(seed)
        action = from_file.act(scene)
        decision = from_file.last_decision
        assert action.shape == (4,)
        assert action.dtype == np.float32
        np.testing.assert_array_equal(action, grid.index_to_action(decision.index))
        values = torch_agent.scorer.score(scene)
        # the best grasp (ties aside): the torch model values it as its maximum
        assert decision.value == pytest.approx(float(values.max()), abs=1e-4)
        assert values[decision.index] == pytest.approx(float(values.max()), abs=1e-4)
        assert by_option.decide(scene).index == decision.index
    assert type(from_file.scorer).__name__ == "OnnxScorer"
    with pytest.raises(ConfigError, match="got both"):
        registry.make("fcn", grid, None, checkpoint="a.pt", onnx=str(onnx_path))


def test_an_agent_from_the_file_does_not_import_torch(onnx_path):
    code = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from agents import registry
        from grasp_env.grasp_grid import GraspGrid
        rng = np.random.default_rng(0)
        agent = registry.make("fcn", GraspGrid(), rng, checkpoint={str(onnx_path)!r})
        height = np.full((110, 110), 0.02, np.float32)
        obs = {{"height": height, "valid": np.ones((110, 110), np.uint8)}}
        assert agent.act(obs).shape == (4,)
        print("torch" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_auto_picks_onnx_where_it_fits(monkeypatch):
    from agents.fcn import scoring

    assert scoring.resolve_backend(InferenceConfig()) == "onnx"
    assert scoring.resolve_backend(InferenceConfig(precision="bfloat16")) == "torch"
    assert scoring.resolve_backend(InferenceConfig(backend="torch")) == "torch"
    monkeypatch.setattr(scoring, "onnx_available", lambda: False)
    assert scoring.resolve_backend(InferenceConfig()) == "torch"
    with pytest.raises(ConfigError, match="onnx backend runs float32 on the CPU"):
        InferenceConfig(backend="onnx", precision="bfloat16")
    with pytest.raises(ConfigError, match="backend must be one of"):
        InferenceConfig(backend="tensorrt")


@pytest.mark.parametrize("workers", [1, 2])
def test_an_evaluation_with_a_file_for_another_grid_is_refused_before_it_runs(
    monkeypatch, onnx_path, workers
):
    from agents import evaluation
    from grasp_env.config import EnvConfig

    monkeypatch.setattr(evaluation, "make_eval_env", lambda spec: pytest.fail("env built"))
    spec = evaluation.EnvSpec(config=EnvConfig(grid=GraspGrid(rotations=16)), m=3)
    agent = evaluation.AgentSpec("fcn", {"checkpoint": str(onnx_path)})
    with pytest.raises(ConfigError, match=r"made for rotations = 20.*serve rotations = 16"):
        evaluation.evaluate_bins(spec, agent, n=1, runs=2, seed=0, workers=workers)
