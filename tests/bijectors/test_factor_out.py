import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp import bijectors
from tfp_realnvp import networks
from tests import bijector_checks
from tests import flow_testing


def _factor_out(dtype=tf.float64):
  inner = bijectors.AffineCoupling(
      bijectors.checkerboard_mask(4, 4),
      networks.ResNet(2, num_blocks=1, num_filters=4,
                      mask=bijectors.checkerboard_mask(4, 4), dtype=dtype),
      event_ndims=3, dtype=dtype)
  return flow_testing.perturb(bijectors.FactorOut(inner), scale=0.3), inner


def _x(shape, seed=1, dtype=tf.float64):
  return tf.random.stateless_normal(shape, seed=[seed, 2], dtype=dtype)


def test_first_half_goes_to_the_bijector_and_the_rest_is_the_latent():
  factor_out, inner = _factor_out()
  z = _x([2, 4, 4, 4])
  x = factor_out.forward(z)
  np.testing.assert_array_equal(x[..., 2:], z[..., 2:])
  np.testing.assert_allclose(x[..., :2], inner.forward(z[..., :2]),
                             rtol=1e-12)


def test_log_det_matches_brute_force_jacobian():
  factor_out, _ = _factor_out()
  fldj = bijector_checks.assert_log_det_is_brute_force(
      factor_out, _x([3, 4, 4, 4], 3), event_ndims=3)
  assert np.abs(fldj).min() > 1e-3


@bijector_checks.REGIMES
def test_bijective_and_finite(regime):
  factor_out, _ = _factor_out(tf.float32)
  bijector_checks.assert_bijective_and_finite(
      factor_out, _x([2, 4, 4, 4], 4, tf.float32),
      _x([2, 4, 4, 4], 5, tf.float32), event_ndims=3, regime=regime,
      rtol=1e-4, atol=1e-5)


def test_sample_shapes_and_batch_shape():
  factor_out, _ = _factor_out()
  bijector_checks.assert_sample_shapes(factor_out, _x([4, 4, 4]), 3)


def test_any_event_rank():
  coupling = flow_testing.perturb(bijectors.AffineCoupling(
      bijectors.half_mask(3),
      networks.MLP(1, 2, hidden_units=[8], dtype=tf.float64),
      dtype=tf.float64),
                                  scale=0.5)
  factor_out = bijectors.FactorOut(coupling)
  assert factor_out.forward_min_event_ndims == 1
  bijector_checks.assert_log_det_is_brute_force(factor_out, _x([4, 6]), 1)
  with pytest.raises(ValueError, match='even size'):
    factor_out.forward(_x([4, 5]))
