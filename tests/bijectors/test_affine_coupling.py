import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp import bijectors
from tfp_realnvp import networks
from tests import flow_testing


def _coupling(mask, channels, dtype=tf.float64, seed=0):
  net = networks.ResNet(channels, num_blocks=1, num_filters=8, dtype=dtype)
  coupling = bijectors.AffineCoupling(mask, net, event_ndims=3, dtype=dtype)
  return flow_testing.perturb(coupling, seed=seed, scale=0.3)


MASKS = [
    ('checkerboard0', lambda: bijectors.checkerboard_mask(8, 8, parity=0)),
    ('checkerboard1', lambda: bijectors.checkerboard_mask(8, 8, parity=1)),
    ('channel0', lambda: bijectors.channel_mask(4, parity=0)),
    ('channel1', lambda: bijectors.channel_mask(4, parity=1)),
]


@pytest.mark.parametrize('name,make_mask', MASKS)
def test_log_det_matches_brute_force_jacobian(name, make_mask):
  coupling = _coupling(make_mask(), channels=4)
  x = tf.random.stateless_normal([3, 8, 8, 4], seed=[1, 2], dtype=tf.float64)
  expected = flow_testing.brute_force_log_det(coupling.forward, x)
  fldj = coupling.forward_log_det_jacobian(tf.identity(x), event_ndims=3)
  np.testing.assert_allclose(fldj, expected, rtol=1e-6)
  assert np.abs(fldj).min() > 1e-3  # the weights really are non-identity
  y = coupling.forward(x)
  ildj = coupling.inverse_log_det_jacobian(tf.identity(y), event_ndims=3)
  np.testing.assert_allclose(ildj, -fldj, rtol=1e-6)


@pytest.mark.parametrize('name,make_mask', MASKS)
def test_masked_half_passes_through(name, make_mask):
  mask = make_mask()
  coupling = _coupling(mask, channels=4)
  x = tf.random.stateless_normal([2, 8, 8, 4], seed=[3, 4], dtype=tf.float64)
  y = coupling.forward(x)
  b = np.broadcast_to(mask, x.shape[1:]).astype(bool)
  np.testing.assert_array_equal(y.numpy()[:, b], x.numpy()[:, b])
  assert np.abs(y.numpy()[:, ~b] - x.numpy()[:, ~b]).max() > 1e-3


def test_inverse_recomputes_exactly_float32():
  coupling = _coupling(bijectors.checkerboard_mask(32, 32), 3, tf.float32)
  x = tf.random.stateless_normal([4, 32, 32, 3], seed=[5, 6])
  y = coupling.forward(x)
  # tf.identity defeats the bijector cache, so the inverse really runs.
  x_again = coupling.inverse(tf.identity(y))
  assert np.abs(x_again - x).max() <= 1e-5
  assert np.abs(y - x).max() > 1e-2


def test_vector_coupling_with_half_mask():
  net = networks.MLP(5, hidden_units=[16], dtype=tf.float64)
  coupling = flow_testing.perturb(bijectors.AffineCoupling(
      bijectors.half_mask(5, parity=1), net, dtype=tf.float64), scale=0.5)
  assert coupling.forward_min_event_ndims == 1
  x = tf.random.stateless_normal([6, 5], seed=[7, 8], dtype=tf.float64)
  expected = flow_testing.brute_force_log_det(coupling.forward, x)
  np.testing.assert_allclose(
      coupling.forward_log_det_jacobian(x, event_ndims=1), expected, rtol=1e-6)
  np.testing.assert_allclose(
      coupling.inverse(tf.identity(coupling.forward(x))), x, atol=1e-12)


def test_half_mask_splits_odd_sizes():
  np.testing.assert_array_equal(bijectors.half_mask(5, 0), [1, 1, 0, 0, 0])
  np.testing.assert_array_equal(bijectors.half_mask(5, 1), [0, 0, 1, 1, 1])


def test_masks_are_complementary_checkerboards():
  a = bijectors.checkerboard_mask(4, 6, 0)[..., 0]
  b = bijectors.checkerboard_mask(4, 6, 1)[..., 0]
  np.testing.assert_array_equal(a + b, np.ones([4, 6]))
  assert a[0, 0] == 1 and a[0, 1] == 0 and a[1, 0] == 0 and a[1, 1] == 1


def test_condition_kwargs_reach_the_network():
  seen = []

  def shift_and_log_scale(x, label):
    seen.append(label)
    return tf.zeros_like(x), tf.ones_like(x) * label

  coupling = bijectors.AffineCoupling(bijectors.half_mask(2), shift_and_log_scale)
  y = coupling.forward(tf.zeros([1, 2]), label=3.)
  np.testing.assert_allclose(y, [[0., 3.]])
  assert seen == [3.]


def test_rejects_bad_masks():
  net = networks.MLP(2)
  with pytest.raises(ValueError, match='0s and 1s'):
    bijectors.AffineCoupling(np.array([0.5, 1.]), net)
  with pytest.raises(ValueError, match='both'):
    bijectors.AffineCoupling(np.ones([2]), net)
  with pytest.raises(ValueError, match='even number'):
    bijectors.channel_mask(3)
