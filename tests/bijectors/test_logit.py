import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp import bijectors
from tests import flow_testing


def test_matches_the_formula_and_brute_force_jacobian():
  logit = bijectors.LogitTransform(dtype=tf.float64)
  x = flow_testing.random_pixels([4, 3, 3, 2], dtype=tf.float64)
  p = 0.05 + 0.9 * x.numpy() / 256.
  np.testing.assert_allclose(logit.forward(x), np.log(p / (1 - p)), rtol=1e-12)
  np.testing.assert_allclose(
      logit.forward_log_det_jacobian(x, event_ndims=3),
      flow_testing.brute_force_log_det(logit.forward, x), rtol=1e-8)
  y = logit.forward(x)
  np.testing.assert_allclose(
      logit.inverse_log_det_jacobian(tf.identity(y), event_ndims=3),
      -logit.forward_log_det_jacobian(x, event_ndims=3), rtol=1e-10)


def test_round_trip_over_the_whole_pixel_range_float32():
  logit = bijectors.LogitTransform()
  x = tf.constant(np.linspace(0., 255.999, 10001), tf.float32)
  assert np.abs(logit.inverse(tf.identity(logit.forward(x))) - x).max() < 1e-4


@pytest.mark.parametrize('num_bits', [5, 8])
def test_num_bits_sets_the_support(num_bits):
  logit = bijectors.LogitTransform(num_bits=num_bits, validate_args=True)
  top = 2. ** num_bits
  logit.forward(tf.constant([0., top - 1e-3]))
  with pytest.raises(tf.errors.InvalidArgumentError, match=f'{top:g}'):
    logit.forward(tf.constant([top]))
  with pytest.raises(tf.errors.InvalidArgumentError, match='dequantized'):
    logit.forward(tf.constant([-1.]))
