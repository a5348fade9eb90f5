"""The twin as a Gymnasium vector env, under the next-step and the same-step autoreset."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import grasp_env  # noqa: F401  (registers the environments)

STEPS = 6


def grasped(info: dict) -> np.ndarray:
    """Which sub-envs executed a grasp in this step: those that report its ``cycle_time``.

    Under the same-step autoreset the grasp's info sits in ``final_info``, the reset's on top.
    """
    none = np.zeros(2, bool)
    return info.get("_cycle_time", none) | info.get("final_info", {}).get("_cycle_time", none)


def run(mode: AutoresetMode) -> tuple[list[np.ndarray], list[bool]]:
    """Step a 2-env async vector env of tiny bins.

    Returns, per step: which sub-envs grasped, and whether the observation returned equals
    the grasp's final one in both.
    """
    envs = gym.make_vec("SimBinGrasp-v0", num_envs=2, vectorization_mode="async",
                        vector_kwargs={"autoreset_mode": mode}, objects=3)  # fmt: skip
    try:
        assert envs.metadata["autoreset_mode"] == mode
        envs.reset(seed=0)
        envs.action_space.seed(0)
        masks, same_image = [], []
        for _ in range(STEPS):
            obs, _, _, _, info = envs.step(envs.action_space.sample())
            masks.append(grasped(info))
            final = info.get("final_obs")
            same_image.append(
                final is not None
                and all(np.array_equal(final[i]["height"], obs["height"][i]) for i in range(2))
            )
        return masks, same_image
    finally:
        envs.close()


@pytest.mark.timeout(120)
def test_next_step_autoreset_grasps_in_every_second_step() -> None:
    masks, _ = run(AutoresetMode.NEXT_STEP)
    # each grasp terminates its episode; the step after it only resets, ignoring the action
    assert [bool(m.all()) for m in masks] == [True, False] * (STEPS // 2)
    assert not any(m.any() for m in masks[1::2])


@pytest.mark.timeout(120)
def test_same_step_autoreset_grasps_in_every_step() -> None:
    masks, same_image = run(AutoresetMode.SAME_STEP)
    assert all(m.all() for m in masks)
    # the reset keeps the bins, so the observation is the image after the grasp: the one the
    # next grasp should be chosen on
    assert all(same_image)
