import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from tfp_realnvp import bijectors
from tests import bijector_checks
from tests import flow_testing

tfb = tfp.bijectors


def _bn(**kwargs):
  bn = bijectors.BatchNormalization(3, dtype=tf.float64, **kwargs)
  return flow_testing.perturb(bn, seed=1)


def _images(seed=0, loc=2., scale=3.):
  return loc + scale * tf.random.stateless_normal(
      [16, 4, 5, 3], seed=[seed, 0], dtype=tf.float64)


def test_inference_mode_is_default_and_exact():
  bn = _bn()
  x = _images()
  mean_before = bn.moving_mean.numpy().copy()
  z = bn.inverse(x)
  np.testing.assert_array_equal(bn.moving_mean.numpy(), mean_before)
  expected = (x - mean_before) / np.sqrt(bn.moving_variance.numpy() + 1e-4)
  np.testing.assert_allclose(z, expected, rtol=1e-12)
  bijector_checks.assert_log_det_is_brute_force(bn, z, event_ndims=3)
  np.testing.assert_allclose(bn.forward(tf.identity(z)), x, rtol=1e-12)


@bijector_checks.REGIMES
def test_bijective_and_finite(regime):
  bn = _bn()
  bijector_checks.assert_bijective_and_finite(
      bn, _images(1), _images(2), event_ndims=3, regime=regime, rtol=1e-10)


def test_sample_shapes_and_batch_shape():
  bijector_checks.assert_sample_shapes(_bn(), _images()[0], 3)


def test_training_mode_uses_batch_statistics_and_updates_averages():
  bn = _bn(momentum=0.9)
  x = _images(seed=2)
  old_mean = bn.moving_mean.numpy().copy()
  old_var = bn.moving_variance.numpy().copy()
  z = bn.inverse(x, training=True)
  batch_mean = x.numpy().mean(axis=(0, 1, 2))
  batch_var = x.numpy().var(axis=(0, 1, 2))
  np.testing.assert_allclose(z.numpy().mean(axis=(0, 1, 2)), 0., atol=1e-12)
  np.testing.assert_allclose(
      z, (x - batch_mean) / np.sqrt(batch_var + 1e-4), rtol=1e-10)
  np.testing.assert_allclose(
      bn.moving_mean, 0.9 * old_mean + 0.1 * batch_mean, rtol=1e-12)
  np.testing.assert_allclose(
      bn.moving_variance, 0.9 * old_var + 0.1 * batch_var, rtol=1e-12)
  # The paper's log-det: the batch statistics enter as constants.
  ildj = bn.inverse_log_det_jacobian(tf.identity(x), event_ndims=3,
                                     training=True)
  np.testing.assert_allclose(
      ildj, np.full([16], -0.5 * 4 * 5 * np.log(batch_var + 1e-4).sum()),
      rtol=1e-10)


@pytest.mark.parametrize('training', [False, True])
def test_agrees_with_tfp_batch_normalization(training):
  ours = _bn()
  layer = tf_keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-4,
                                             dtype=tf.float64)
  layer.build([None, 4, 5, 3])
  layer.moving_mean.assign(ours.moving_mean)
  layer.moving_variance.assign(ours.moving_variance)
  theirs = tfb.BatchNormalization(layer, training=training)
  x = _images(3)
  # Generation uses the running averages in both, before any update.
  np.testing.assert_allclose(ours.forward(tf.identity(x), training=training),
                             theirs.forward(tf.identity(x)), rtol=1e-6)
  np.testing.assert_allclose(
      ours.forward_log_det_jacobian(tf.identity(x), 3, training=training),
      theirs.forward_log_det_jacobian(tf.identity(x), 3), rtol=1e-6)
  np.testing.assert_allclose(ours.inverse(x, training=training),
                             theirs.inverse(tf.identity(x)), rtol=1e-6)
  # One update each (a new tensor below recomputes, and updates, again).
  np.testing.assert_allclose(ours.moving_mean, layer.moving_mean, rtol=1e-6)
  np.testing.assert_allclose(ours.moving_variance, layer.moving_variance,
                             rtol=1e-6)
  np.testing.assert_allclose(
      ours.inverse_log_det_jacobian(tf.identity(x), 3, training=training),
      theirs.inverse_log_det_jacobian(tf.identity(x), 3), rtol=1e-6)


def test_training_mode_statistics_converge_to_inference_mode():
  """After enough batches from one distribution, both modes score alike."""
  bn = _bn(momentum=0.5)
  for seed in range(40):
    bn.inverse(_images(seed=seed), training=True)
  x = _images(seed=99)
  np.testing.assert_allclose(
      bn.inverse_log_det_jacobian(x, event_ndims=3, training=True),
      bn.inverse_log_det_jacobian(tf.identity(x), event_ndims=3),
      rtol=0.05)


def test_vectors():
  bn = flow_testing.perturb(
      bijectors.BatchNormalization(4, event_ndims=1, dtype=tf.float64))
  x = tf.random.stateless_normal([5, 4], seed=[4, 4], dtype=tf.float64)
  bijector_checks.assert_log_det_is_brute_force(bn, x, event_ndims=1)


def test_wrong_channel_count_is_named():
  with pytest.raises(ValueError, match='3 channels'):
    _bn().inverse(tf.zeros([2, 4, 4, 5], tf.float64))
