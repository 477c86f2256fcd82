import numpy as np
import tensorflow as tf

from tfp_realnvp import bijectors
from tfp_realnvp import networks
from tests import flow_testing


def _factor_out():
  inner = bijectors.AffineCoupling(
      bijectors.checkerboard_mask(4, 4),
      networks.ResNet(2, num_blocks=1, num_filters=4, dtype=tf.float64),
      event_ndims=3, dtype=tf.float64)
  return flow_testing.perturb(bijectors.FactorOut(inner), scale=0.3), inner


def test_first_half_is_kept_and_the_rest_transformed():
  factor_out, inner = _factor_out()
  x = tf.random.stateless_normal([2, 4, 4, 4], seed=[1, 2], dtype=tf.float64)
  y = factor_out.forward(x)
  np.testing.assert_array_equal(y[..., :2], x[..., :2])
  np.testing.assert_allclose(y[..., 2:], inner.forward(x[..., 2:]), rtol=1e-12)


def test_log_det_and_inverse_are_exact():
  factor_out, _ = _factor_out()
  x = tf.random.stateless_normal([3, 4, 4, 4], seed=[3, 4], dtype=tf.float64)
  fldj = factor_out.forward_log_det_jacobian(x, event_ndims=3)
  np.testing.assert_allclose(
      fldj, flow_testing.brute_force_log_det(factor_out.forward, x), rtol=1e-6)
  assert np.abs(fldj).min() > 1e-3
  y = factor_out.forward(x)
  np.testing.assert_allclose(factor_out.inverse(tf.identity(y)), x, atol=1e-12)
