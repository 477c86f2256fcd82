import pytest
import tensorflow as tf

from tfp_realnvp import training
from tfp_realnvp.training import figures


@pytest.mark.slow
def test_latent_figures_of_a_trained_model(tmp_path):
  training.train('mnist', tmp_path / 'model', steps_per_epoch=2, verbose=0,
                 num_scales=2, num_res_blocks=1, num_filters=4, batch_size=8,
                 epochs=1)
  manifold, scales, temperature = figures.latent_figures(
      tmp_path / 'model', tmp_path / 'figures', size=5)
  shape = lambda p: tf.image.decode_png(tf.io.read_file(p)).shape.as_list()
  assert shape(manifold) == [5 * 28, 5 * 28, 1]
  # One row per number of kept scales, 0 to 2; the last row is the images.
  assert shape(scales) == [3 * 28, 5 * 28, 1]
  assert shape(temperature) == [3 * 28, 5 * 28, 1]

