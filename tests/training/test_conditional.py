"""Class-conditional training on the embedded MNIST labels."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp import config
from tfp_realnvp import training
from tfp_realnvp.training import presets
from tests import tiny

TINY = dict(tiny.MODEL, batch_size=16, epochs=1)


def test_conditional_model_scores_each_image_under_its_label():
  model = training.FlowModel(config.Architecture(
      (4, 4, 1), num_scales=1, num_res_blocks=1, num_filters=4,
      num_classes=10))
  x = tf.random.stateless_uniform([3, 4, 4, 1], seed=[1, 1], maxval=256.)
  for net in model.distribution.bijector.submodules:
    if hasattr(net, 'condition') and net.condition.num_classes:
      net.condition.embedding.assign(tf.random.stateless_normal(
          net.condition.embedding.shape, seed=[2, 2]))
  for net in model.distribution.bijector.submodules:
    if hasattr(net, 'conv_out'):
      net.conv_out.g.assign(0.5 * tf.random.stateless_normal(
          net.conv_out.g.shape, seed=[3, 3]))
      net.scale.assign(1.)  # Checkerboard couplings start additive.
  bits_3 = model((x, tf.constant([3, 3, 3])))
  bits_5 = model((x, tf.constant([5, 5, 5])))
  assert bits_3.shape == [3]
  assert np.abs(bits_3 - bits_5).min() > 1e-4
  mixed = model((x, tf.constant([3, 5, 3])))
  np.testing.assert_allclose(mixed, [bits_3[0], bits_5[1], bits_3[2]],
                             rtol=1e-5)


def test_conditional_needs_labels():
  with pytest.raises(ValueError, match='mnist'):
    presets.make_config('cifar10', conditional=True)


@pytest.mark.slow
def test_train_evaluate_and_sample_a_label(tmp_path):
  result = training.train('mnist', tmp_path, steps_per_epoch=3, verbose=0,
                          conditional=True, **TINY)
  assert np.isfinite(result.bits_per_dim)
  assert presets.Config.load(tmp_path).architecture.num_classes == 10
  evaluation = training.evaluate(tmp_path)
  assert np.isfinite(evaluation.bits_per_dim)
  out = training.sample(tmp_path, tmp_path / 'threes.png', num=4, label=3)
  threes = tf.image.decode_png(tf.io.read_file(out))
  assert threes.shape == [56, 56, 1]
  # One label draws the distribution's own samples: batch statistics would
  # subtract the class bias that all the samples share.
  own = training.sample(tmp_path, tmp_path / 'own.png', num=4, label=3,
                        batch_statistics=False)
  np.testing.assert_array_equal(threes,
                                tf.image.decode_png(tf.io.read_file(own)))
  with pytest.raises(ValueError, match='batch_statistics with a label'):
    training.sample(tmp_path, tmp_path / 'x.png', num=4, label=3,
                    batch_statistics=True)
  with pytest.raises(ValueError, match='conditional'):
    training.train('mnist', tmp_path, verbose=0, **TINY)


@pytest.mark.slow
def test_unconditional_model_refuses_a_label(tmp_path):
  training.train('mnist', tmp_path, steps_per_epoch=1, verbose=0, **TINY)
  with pytest.raises(ValueError, match='--conditional'):
    training.sample(tmp_path, tmp_path / 's.png', num=4, label=3)
