"""SB3 baselines: exact attempt budgets, repeatable runs, an agent that acts and is evaluated."""

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from agents.evaluation import AgentSpec, EnvSpec, evaluate_bins
from grasp_env.env import metric_action_space
from grasp_env.errors import ConfigError

sb3 = pytest.importorskip("agents.baselines.sb3", exc_type=ImportError)

TINY = sb3.PPOConfig(
    n_steps=8, batch_size=4, n_epochs=2, features_dim=8, channels=(4, 4), net_arch=(8,)
)
TWIN = sb3.TrainEnvSpec(objects=5)


def train(algo, attempts, out_dir, seed=3):
    return sb3.train_sb3(
        algo, attempts=attempts, seed=seed, out_dir=out_dir, env_spec=TWIN, ppo=TINY
    )


@pytest.fixture(scope="module")
def grid_model(tmp_path_factory):
    """ppo_grid on 16 attempts: two whole rollouts of 8."""
    return train("ppo_grid", 16, tmp_path_factory.mktemp("grid"))


@pytest.fixture(scope="module")
def box_model(tmp_path_factory):
    """ppo_box on 12 attempts: one whole rollout of 8, and 4 more."""
    return train("ppo_box", 12, tmp_path_factory.mktemp("box"))


def test_a_budget_that_n_steps_divides_is_run_and_learned_from_in_full(grid_model):
    model = sb3.PPO.load(grid_model, device="cpu")
    assert model.num_timesteps == 16
    assert model._n_updates == 2 * TINY.n_epochs
    assert json.loads(grid_model.with_suffix(".json").read_text())["learned_from"] == 16


def test_a_budget_that_n_steps_does_not_divide_stops_exactly_on_it(box_model):
    model = sb3.PPO.load(box_model, device="cpu")
    assert model.num_timesteps == 12
    assert model._n_updates == 1 * TINY.n_epochs
    assert json.loads(box_model.with_suffix(".json").read_text())["learned_from"] == 8


def test_two_runs_with_the_same_seed_give_the_same_weights(tmp_path):
    runs = [train("ppo_grid", 24, tmp_path / f"run{k}") for k in range(2)]
    first, second = (zipfile.ZipFile(path).read("policy.pth") for path in runs)
    assert first == second


def test_the_card_names_the_run(grid_model):
    card = json.loads(grid_model.with_suffix(".json").read_text())
    assert card["algo"] == "ppo_grid"
    assert (card["attempts"], card["seed"]) == (16, 3)
    assert card["env"]["config"]["mode"] == "train"
    assert card["stable_baselines3"] == sb3.stable_baselines3.__version__


def test_the_grid_agent_acts_on_a_grid_grasp(grid_model, grid):
    agent = sb3.make_sb3_agent(
        grid, np.random.default_rng(0), model=str(grid_model), algo="ppo_grid"
    )
    observation = {
        "height": np.full((110, 110), 0.02, np.float32),
        "valid": np.ones((110, 110), np.uint8),
    }
    action = agent.act(observation)
    decision = agent.last_decision
    assert decision is not None
    assert decision.index is not None
    np.testing.assert_array_equal(action, grid.index_to_action(decision.index))
    assert decision.seconds > 0


def test_the_box_agent_acts_within_the_metric_bounds(box_model, grid):
    agent = sb3.make_sb3_agent(grid, np.random.default_rng(0), model=str(box_model), algo="ppo_box")
    observation = {
        "height": np.zeros((110, 110), np.float32),
        "valid": np.ones((110, 110), np.uint8),
    }
    action = agent.act(observation)
    assert action.dtype == np.float32
    assert metric_action_space(grid).contains(action)
    assert agent.last_decision.index is None


def test_the_agent_is_deterministic(box_model, grid):
    agent = sb3.make_sb3_agent(grid, np.random.default_rng(0), model=str(box_model), algo="ppo_box")
    observation = {
        "height": np.zeros((110, 110), np.float32),
        "valid": np.ones((110, 110), np.uint8),
    }
    first = agent.act(observation)
    agent.reset(np.random.default_rng(1))
    np.testing.assert_array_equal(agent.act(observation), first)


def test_evaluate_bins_builds_the_agent_by_import_path(grid_model):
    spec = AgentSpec(sb3.SB3_AGENT, {"model": str(grid_model), "algo": "ppo_grid"})
    result = evaluate_bins(EnvSpec(m=3), spec, n=1, runs=1, seed=0, max_attempts=3, workers=1)
    assert result.runs == 1
    assert 1 <= result.attempts <= 3


def test_a_model_of_the_other_action_space_is_refused(grid_model, grid):
    with pytest.raises(ConfigError, match="action space"):
        sb3.make_sb3_agent(grid, np.random.default_rng(0), model=str(grid_model), algo="ppo_box")


def test_a_missing_model_file_is_refused(tmp_path, grid):
    with pytest.raises(ConfigError, match="no file"):
        sb3.make_sb3_agent(
            grid, np.random.default_rng(0), model=str(tmp_path / "x.zip"), algo="ppo_grid"
        )


def test_an_unknown_algorithm_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="ppo_box"):
        sb3.train_sb3("dqn", attempts=10, seed=0, out_dir=tmp_path)


@pytest.mark.parametrize("attempts", [0, -5])
def test_attempts_below_one_are_refused(tmp_path, attempts):
    with pytest.raises(ConfigError, match="attempts >= 1"):
        sb3.train_sb3("ppo_grid", attempts=attempts, seed=0, out_dir=tmp_path)


def test_a_saved_model_is_never_overwritten(grid_model):
    with pytest.raises(FileExistsError, match="never overwritten"):
        train("ppo_grid", 16, grid_model.parent)


def test_a_baseline_learns_in_the_training_mode_only():
    from grasp_env.config import EnvConfig

    with pytest.raises(ConfigError, match="mode 'train'"):
        sb3.TrainEnvSpec(config=EnvConfig(mode="apply"))


def test_without_stable_baselines3_the_error_names_the_baselines_extra():
    code = "import sys; sys.modules['stable_baselines3'] = None\nimport agents.baselines.sb3"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    assert "DependencyNotInstalled" in result.stderr
    assert "pip install grasp-toolkit[baselines]" in result.stderr
