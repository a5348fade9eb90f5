"""The moving average of the rounds' weights (agents.training.averaging)."""

from __future__ import annotations

import pytest
import torch

from agents.fcn.model import build_model
from agents.training.averaging import averaged
from tests.agents.conftest import SMALL, randomise_batch_norm


def _model(seed: int):
    return randomise_batch_norm(build_model(SMALL, torch.Generator().manual_seed(seed)), seed)


def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_the_first_average_is_a_copy_of_the_trained_model() -> None:
    trained = _model(0)
    first = averaged(None, trained, 0.8)
    assert first is not trained
    for key, value in first.state_dict().items():
        assert torch.equal(value, trained.state_dict()[key])


def test_float_weights_are_blended_and_integer_buffers_taken_from_the_trained_model() -> None:
    old, trained = _model(0), _model(1)
    old_state, trained_state = _state(old), _state(trained)
    for value in trained.state_dict().values():
        if not value.is_floating_point():
            value.fill_(7)
    new = averaged(old, trained, 0.75)
    for key, value in new.state_dict().items():
        if value.is_floating_point():
            want = 0.75 * old_state[key] + 0.25 * trained_state[key]
            torch.testing.assert_close(value, want)
        else:
            assert torch.all(value == 7)


def test_the_inputs_are_left_unchanged() -> None:
    old, trained = _model(0), _model(1)
    before = (_state(old), _state(trained))
    averaged(old, trained, 0.5)
    for model, state in zip((old, trained), before, strict=True):
        for key, value in model.state_dict().items():
            assert torch.equal(value, state[key])


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_a_decay_outside_zero_to_one_is_refused(decay: float) -> None:
    with pytest.raises(ValueError, match=rf"expected 0 <= decay < 1, got {decay}"):
        averaged(None, _model(0), decay)
