"""train() up to its first step: config handling and the model directory."""

import pytest

from tfp_realnvp import training
from tfp_realnvp.training import presets


def test_resuming_with_another_architecture_fails_before_training(tmp_path):
  presets.make_config('mnist', num_filters=4).save(tmp_path)
  with pytest.raises(ValueError, match='num_filters'):
    training.train('mnist', tmp_path, num_filters=8)


def test_resuming_another_dataset_fails(tmp_path):
  presets.make_config('mnist').save(tmp_path)
  with pytest.raises(ValueError, match='cifar10'):
    training.train('cifar10', tmp_path)


def test_unwritable_model_dir_fails_naming_it(tmp_path):
  blocker = tmp_path / 'file'
  blocker.write_text('not a directory')
  with pytest.raises(OSError, match=str(blocker / 'run')):
    training.train('mnist', blocker / 'run')
