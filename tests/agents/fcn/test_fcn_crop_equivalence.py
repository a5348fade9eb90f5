"""The FCN's cell (r, i, j, k) is the network on the training crop of that index's action."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.fcn.crop import crop_attempts, crop_window
from agents.fcn.inference import GraspScorer, InferenceConfig
from agents.fcn.model import ModelConfig, build_model, fuse_for_inference, parameter_count
from agents.fcn.observation import encode
from grasp_env.errors import ConfigError
from grasp_env.geometry import HeightImage
from grasp_env.grasp_grid import GraspGrid

from ..conftest import clutter_scene

SCENES = 3


@pytest.fixture(scope="module")
def scored(model, grid):
    scorer = GraspScorer(model, grid)
    scenes = [clutter_scene(seed) for seed in range(SCENES)]
    return scenes, [scorer.logits(s) for s in scenes]


def test_parameter_count_and_shapes(model, grid):
    assert parameter_count(model) == 445_673
    assert model.config.window_px == grid.window_px == 32
    with torch.no_grad():
        assert model(torch.zeros(2, 2, 32, 32)).shape == (2, 3, 1, 1)
        assert model(torch.zeros(1, 2, 110, 110)).shape == (1, 3, 40, 40)
    assert GraspScorer(model, grid).score(clutter_scene(0)).shape == (20, 40, 40, 3)


def test_fused_model_equals_eval_model(model):
    x = torch.from_numpy(np.stack([encode(**clutter_scene(7), geometry=GraspGrid().image)]))
    x = x.permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        torch.testing.assert_close(fuse_for_inference(model)(x), model(x), atol=1e-5, rtol=1e-5)


@settings(max_examples=150, deadline=None)
@given(
    scene=st.integers(0, SCENES - 1),
    r=st.integers(0, 19),
    i=st.integers(0, 39),
    j=st.integers(0, 39),
    k=st.integers(0, 2),
)
def test_cell_equals_network_on_training_crop(scored, model, grid, scene, r, i, j, k):
    scenes, logits = scored
    obs = scenes[scene]
    action = grid.index_to_action((r, i, j, k))
    crop = crop_attempts(obs["height"][None], obs["valid"][None], action[None], grid.image, 32)
    with torch.no_grad():
        expected = model(torch.from_numpy(crop))[0, k, 0, 0].item()
    assert logits[scene][r, i, j, k] == pytest.approx(expected, abs=1e-4, rel=1e-4)


def test_turned_image_window_is_the_crop_pixel_for_pixel(grid):
    obs = clutter_scene(11)
    enc = encode(obs["height"], obs["valid"], grid.image)
    model = build_model(ModelConfig(), torch.Generator().manual_seed(0))
    turned = GraspScorer(model, grid).turned_images(HeightImage(obs["height"], obs["valid"]))
    rng = np.random.default_rng(0)
    for _ in range(200):
        r, i, j = (int(rng.integers(n)) for n in grid.shape[:3])
        x, y, a, _ = grid.index_to_action((r, i, j, 0))
        crop = crop_window(enc, grid.image, x, y, a, 32)
        window = turned[r, 2 * i : 2 * i + 32, 2 * j : 2 * j + 32].transpose(2, 0, 1)
        # float32 actions and cv2's float32 sampling: ~1e-5 of the height range
        np.testing.assert_allclose(crop, window, atol=1e-4)


def test_crop_at_a_plus_pi_is_the_crop_turned_by_180_degrees(grid):
    obs = clutter_scene(5)
    enc = encode(obs["height"], obs["valid"], grid.image)
    for x, y, a in [(0.01, -0.02, 0.3), (-0.03, 0.04, -1.2), (0.0, 0.0, 0.0)]:
        crop = crop_window(enc, grid.image, x, y, a, 32)
        turned = crop_window(enc, grid.image, x, y, a + np.pi, 32)
        np.testing.assert_allclose(turned, crop[:, ::-1, ::-1], atol=1e-4)


def test_bfloat16_scores_are_close(model, grid, scored):
    scenes, logits = scored
    values = GraspScorer(model, grid, InferenceConfig(precision="bfloat16")).score(scenes[0])
    exact = 1 / (1 + np.exp(-logits[0]))
    assert np.abs(values - exact).max() < 0.05


def test_scorer_refuses_a_model_for_another_grid(model):
    with pytest.raises(ConfigError, match="widths 2, got 3"):
        GraspScorer(model, GraspGrid(widths=(0.03, 0.06)))
    with pytest.raises(ConfigError, match="window_px 40, got 32"):
        GraspScorer(model, GraspGrid(window_px=40))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_scores_match_cpu(model, grid, scored):
    scenes, logits = scored
    cuda = GraspScorer(model, grid, InferenceConfig(device="cuda")).logits(scenes[0])
    np.testing.assert_allclose(cuda, logits[0], atol=2e-3)
