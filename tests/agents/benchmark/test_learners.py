"""Learning agents: one training per learner and seed, recorded, never repeated."""

from __future__ import annotations

import pytest

from agents.baselines.learners import Learned
from agents.benchmark import learners
from agents.benchmark.learners import learn_once, learner
from agents.evaluation import AgentSpec
from grasp_env.errors import ConfigError


def test_an_unknown_learner_is_refused_by_name():
    with pytest.raises(ConfigError, match="dqn"):
        learner("dqn")


def test_a_finished_training_is_read_back_not_repeated(tmp_path, monkeypatch):
    calls = []

    def fake(**kwargs):
        calls.append(kwargs["budgets"])
        return {b: Learned(AgentSpec("random", {"b": b}), b, 1.5) for b in kwargs["budgets"]}

    monkeypatch.setattr(learners, "learner", lambda name: fake)
    first = learn_once("x", {}, budgets=(10, 20), seed=0, object_set="cylinders", out_dir=tmp_path)
    again = learn_once("x", {}, budgets=(10, 20), seed=0, object_set="cylinders", out_dir=tmp_path)
    assert calls == [(10, 20)]
    assert again == first


def test_a_learned_file_is_found_after_the_folder_moved(tmp_path, monkeypatch):
    def fake(**kwargs):
        model = kwargs["out_dir"] / "run" / "model.pt"
        model.parent.mkdir(parents=True)
        model.write_bytes(b"weights")
        return {b: Learned(AgentSpec("fcn", {"checkpoint": str(model), "selection": "x"}), b, 1.0)
                for b in kwargs["budgets"]}  # fmt: skip

    monkeypatch.setattr(learners, "learner", lambda name: fake)
    learn_once("x", {}, budgets=(10,), seed=0, object_set="cylinders", out_dir=tmp_path / "a")
    (tmp_path / "a").rename(tmp_path / "b")
    again = learn_once(
        "x", {}, budgets=(10,), seed=0, object_set="cylinders", out_dir=tmp_path / "b"
    )
    assert again[10].agent.options == {
        "checkpoint": str(tmp_path / "b" / "run" / "model.pt"),
        "selection": "x",
    }
    (tmp_path / "b" / "run" / "model.pt").unlink()
    with pytest.raises(ConfigError, match=r"run/model\.pt' is missing; delete .*b to train"):
        learn_once("x", {}, budgets=(10,), seed=0, object_set="cylinders", out_dir=tmp_path / "b")


@pytest.mark.slow
def test_the_fcn_learner_gives_the_curve_model_of_each_budget(tmp_path):
    out = learners.learn_fcn(budgets=(80, 120), seed=0, object_set="cylinders", out_dir=tmp_path,
                             config="configs/learn_smoke.yaml")  # fmt: skip
    assert sorted(out) == [80, 120]
    assert out[120].agent.name == "fcn"
    assert out[120].agent.options["checkpoint"].endswith(".pt")
    assert out[80].agent.options["checkpoint"] != out[120].agent.options["checkpoint"]


def test_a_baseline_learner_trains_once_per_budget(tmp_path, monkeypatch):
    from agents.baselines import learners as registry

    calls = []

    def fake(**kwargs):
        calls.append(kwargs["attempts"])
        return Learned(AgentSpec("random"), kwargs["attempts"], 0.5)

    monkeypatch.setitem(
        registry._LEARNERS._items, "test_fake", fake
    )  # registered for this test only
    out = learner("test_fake")(budgets=(5, 10), seed=0, object_set="cylinders", out_dir=tmp_path)
    assert calls == [5, 10]
    assert sorted(out) == [5, 10]
