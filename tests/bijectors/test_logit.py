import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp import bijectors
from tests import bijector_checks
from tests import flow_testing


def test_inverse_is_the_papers_logit_and_log_dets_are_exact():
  logit = bijectors.LogitTransform(dtype=tf.float64)
  x = flow_testing.random_pixels([4, 3, 3, 2], dtype=tf.float64)
  p = 0.05 + 0.9 * x.numpy() / 256.
  y = logit.inverse(x)
  np.testing.assert_allclose(y, np.log(p / (1 - p)), rtol=1e-12)
  bijector_checks.assert_log_det_is_brute_force(logit, y, event_ndims=3,
                                                rtol=1e-8)


@bijector_checks.REGIMES
def test_bijective_and_finite(regime):
  logit = bijectors.LogitTransform()
  y = flow_testing.random_pixels([3, 4, 4, 2], seed=1)
  z = tf.random.stateless_normal([3, 4, 4, 2], seed=[1, 1]) * 3.
  bijector_checks.assert_bijective_and_finite(
      logit, z, y, event_ndims=3, regime=regime, rtol=1e-4, atol=1e-3)


def test_sample_shapes_and_batch_shape():
  bijector_checks.assert_sample_shapes(
      bijectors.LogitTransform(),
      tf.random.stateless_normal([3, 3, 2], seed=[2, 2]), 3)


def test_round_trip_over_the_whole_pixel_range_float32():
  logit = bijectors.LogitTransform()
  x = tf.constant(np.linspace(0., 255.999, 10001), tf.float32)
  assert np.abs(logit.forward(tf.identity(logit.inverse(x))) - x).max() < 1e-4


@pytest.mark.parametrize('num_bits', [5, 8])
def test_support_is_the_image_of_forward(num_bits):
  logit = bijectors.LogitTransform(num_bits=num_bits, validate_args=True)
  lower, upper = logit.support
  top = 2. ** num_bits
  np.testing.assert_allclose([lower, upper],
                             [-0.05 * top / 0.9, 0.95 * top / 0.9])
  ends = bijectors.LogitTransform(num_bits, dtype=tf.float64).forward(
      tf.constant([-40., 40.], tf.float64))
  np.testing.assert_allclose(ends, [lower, upper], rtol=1e-12)
  logit.inverse(tf.constant([lower + 1e-3, 0., top - 1e-3, upper - 1e-3]))
  with pytest.raises(tf.errors.InvalidArgumentError, match='dequantized'):
    logit.inverse(tf.constant([upper + 1e-2]))
  with pytest.raises(tf.errors.InvalidArgumentError, match=f'{top:g}'):
    logit.inverse(tf.constant([lower - 1e-2]))
