"""train(): config handling and the model directory; image_size end to end."""

import math

import numpy as np
from PIL import Image
import pytest

from tfp_realnvp.data import arrays
from tfp_realnvp import training
from tfp_realnvp.training import presets


def test_resuming_with_another_architecture_fails_before_training(tmp_path):
  presets.make_config('mnist', num_filters=4).save(tmp_path)
  with pytest.raises(ValueError, match='num_filters'):
    training.train('mnist', tmp_path, num_filters=8)


def test_resuming_with_another_image_size_fails_before_training(tmp_path):
  presets.make_config('folder', image_size=32).save(tmp_path)
  with pytest.raises(ValueError, match='image_size=16'):
    training.train('folder', tmp_path, image_size=16)


@pytest.fixture
def odd_digits(tmp_path):
  """Real MNIST digits cropped to 27x27, which no squeeze can halve."""
  images = np.load(arrays.EMBEDDED_MNIST)['images'][:40, :27, :27]
  path = tmp_path / 'digits.npz'
  np.savez(path, images=images)
  return str(path)


@pytest.mark.slow
def test_image_size_is_kept_by_evaluate_and_sample(tmp_path, odd_digits):
  model_dir = str(tmp_path / 'run')
  training.train('npz', model_dir, odd_digits, image_size=16, num_scales=2,
                 num_res_blocks=1, num_filters=4, steps_per_epoch=2,
                 batch_size=4, epochs=1, verbose=0)
  model, config = training.load_model(model_dir)
  assert config.image_size == 16
  assert model.distribution.event_shape == [16, 16, 1]

  evaluation = training.evaluate(model_dir)
  assert evaluation.num_images == 4 and math.isfinite(evaluation.bits_per_dim)
  png = training.sample(model_dir, str(tmp_path / 'samples.png'), num=4)
  with Image.open(png) as samples:
    assert samples.size == (32, 32)  # 2x2 samples of 16x16
  # The file's own 27x27 images do not fit the model.
  with pytest.raises(ValueError, match=r'\(27, 27, 1\).*\(16, 16, 1\)'):
    training.evaluate(model_dir, 'npz', odd_digits)


def test_resuming_another_dataset_fails(tmp_path):
  presets.make_config('mnist').save(tmp_path)
  with pytest.raises(ValueError, match='cifar10'):
    training.train('cifar10', tmp_path)


def test_unwritable_model_dir_fails_naming_it(tmp_path):
  blocker = tmp_path / 'file'
  blocker.write_text('not a directory')
  with pytest.raises(OSError, match=str(blocker / 'run')):
    training.train('mnist', blocker / 'run')
