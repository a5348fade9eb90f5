"""The model board: each checkpoint put once, read back as the model, dropped once no one needs it.

On a local Ray of two CPUs (``local_ray``, tests/conftest.py); without Ray the tests skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from agents.fcn.checkpoint import save_checkpoint
from agents.fcn.model import build_model
from agents.learning import load_config
from agents.learning.ray_board import BoardCheckpoints, ModelBoard, Publisher
from agents.learning.rounds import RoundSchedule
from agents.learning.rundir import CHECKPOINTS, Latest, checkpoint_name, write_latest

from ..conftest import SMALL


@pytest.fixture
def published(local_ray, tmp_path: Path, write_config):
    """A run directory with versions 1-3 and a board they were published to at a count."""
    config = load_config(write_config(tmp_path))
    (tmp_path / CHECKPOINTS).mkdir()
    for version in (1, 2, 3):
        model = build_model(SMALL, torch.Generator().manual_seed(version))
        save_checkpoint(tmp_path / CHECKPOINTS / checkpoint_name(version), model, config.env.grid)
    write_latest(tmp_path, Latest(3, checkpoint_name(3), 35, {}))
    board = local_ray.remote(num_cpus=0)(ModelBoard).remote()
    publisher = Publisher(local_ray, board, tmp_path, config)
    yield config, board, publisher
    local_ray.kill(board)


def test_a_published_version_reads_back_as_its_model(local_ray, published):
    config, board, publisher = published
    publisher.publish_new(committed=0)
    checkpoints = BoardCheckpoints(local_ray, board, config.env.grid)
    assert checkpoints.latest() == 3
    got = checkpoints.read(2)
    want = build_model(SMALL, torch.Generator().manual_seed(2)).state_dict()
    assert all(torch.equal(got.state_dict()[k], want[k]) for k in want)


def test_versions_below_the_first_uncommitted_attempts_model_are_dropped(local_ray, published):
    config, board, publisher = published
    committed = 45
    assert RoundSchedule.of(config).acting_version(committed) == 3
    publisher.publish_new(committed)
    checkpoints = BoardCheckpoints(local_ray, board, config.env.grid)
    assert sorted(publisher.refs) == [3]
    with pytest.raises(FileNotFoundError, match="model version 2 is no longer on the board"):
        checkpoints.read(2)
    assert checkpoints.read(3) is not None


def test_the_actors_learn_that_the_trainer_is_gone(local_ray, published):
    config, board, publisher = published
    checkpoints = BoardCheckpoints(local_ray, board, config.env.grid)
    assert checkpoints.trainer_alive()
    publisher.trainer_gone()
    assert not checkpoints.trainer_alive()
