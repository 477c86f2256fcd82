import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp import bijectors
from tests import flow_testing


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
  y = bn.forward(x)
  np.testing.assert_array_equal(bn.moving_mean.numpy(), mean_before)
  expected = (x - mean_before) / np.sqrt(bn.moving_variance.numpy() + 1e-4)
  np.testing.assert_allclose(y, expected, rtol=1e-12)
  np.testing.assert_allclose(
      bn.forward_log_det_jacobian(x, event_ndims=3),
      flow_testing.brute_force_log_det(bn.forward, x), rtol=1e-6)
  np.testing.assert_allclose(bn.inverse(tf.identity(y)), x, rtol=1e-12)
  np.testing.assert_allclose(
      bn.inverse_log_det_jacobian(tf.identity(y), event_ndims=3),
      -bn.forward_log_det_jacobian(x, event_ndims=3), rtol=1e-12)


def test_training_mode_uses_batch_statistics_and_updates_averages():
  bn = _bn(momentum=0.9)
  x = _images(seed=2)
  old_mean = bn.moving_mean.numpy().copy()
  old_var = bn.moving_variance.numpy().copy()
  y = bn.forward(x, training=True)
  batch_mean = x.numpy().mean(axis=(0, 1, 2))
  batch_var = x.numpy().var(axis=(0, 1, 2))
  np.testing.assert_allclose(y.numpy().mean(axis=(0, 1, 2)), 0., atol=1e-12)
  np.testing.assert_allclose(
      y, (x - batch_mean) / np.sqrt(batch_var + 1e-4), rtol=1e-10)
  np.testing.assert_allclose(
      bn.moving_mean, 0.9 * old_mean + 0.1 * batch_mean, rtol=1e-12)
  np.testing.assert_allclose(
      bn.moving_variance, 0.9 * old_var + 0.1 * batch_var, rtol=1e-12)
  # The paper's log-det: the batch statistics enter as constants.
  ldj = bn.forward_log_det_jacobian(tf.identity(x), event_ndims=3,
                                    training=True)
  np.testing.assert_allclose(
      ldj, np.full([16], -0.5 * 4 * 5 * np.log(batch_var + 1e-4).sum()),
      rtol=1e-10)


def test_training_mode_statistics_converge_to_inference_mode():
  """After enough batches from one distribution, both modes score alike."""
  bn = _bn(momentum=0.5)
  for seed in range(40):
    bn.forward(_images(seed=seed), training=True)
  x = _images(seed=99)
  np.testing.assert_allclose(
      bn.forward_log_det_jacobian(x, event_ndims=3, training=True),
      bn.forward_log_det_jacobian(tf.identity(x), event_ndims=3),
      rtol=0.05)


def test_vectors():
  bn = bijectors.BatchNormalization(4, event_ndims=1, dtype=tf.float64)
  flow_testing.perturb(bn)
  x = tf.random.stateless_normal([5, 4], seed=[4, 4], dtype=tf.float64)
  np.testing.assert_allclose(
      bn.forward_log_det_jacobian(x, event_ndims=1),
      flow_testing.brute_force_log_det(bn.forward, x), rtol=1e-8)


def test_wrong_channel_count_is_named():
  with pytest.raises(ValueError, match='3 channels'):
    _bn().forward(tf.zeros([2, 4, 4, 5], tf.float64))
