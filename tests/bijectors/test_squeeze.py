import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp import bijectors
from tests import flow_testing


def test_each_2x2_subsquare_becomes_one_column():
  x = tf.reshape(tf.range(2 * 4 * 4 * 3, dtype=tf.float32), [2, 4, 4, 3])
  y = bijectors.Squeeze().forward(x)
  assert y.shape == [2, 2, 2, 12]
  # The column at (i, j) holds exactly the 2x2x3 block at (2i, 2j).
  block = x[1, 2:4, 0:2, :].numpy().ravel()
  np.testing.assert_array_equal(np.sort(y[1, 1, 0].numpy()), np.sort(block))


def test_round_trip_and_zero_log_det():
  squeeze = bijectors.Squeeze()
  x = tf.random.stateless_normal([3, 4, 6, 2], seed=[1, 1], dtype=tf.float64)
  np.testing.assert_array_equal(squeeze.inverse(tf.identity(squeeze.forward(x))), x)
  np.testing.assert_allclose(
      flow_testing.brute_force_log_det(squeeze.forward, x), np.zeros(3),
      atol=1e-12)
  np.testing.assert_allclose(
      squeeze.forward_log_det_jacobian(x, event_ndims=3), 0.)


def test_shapes_with_sample_and_batch_dimensions():
  squeeze = bijectors.Squeeze()
  assert squeeze.forward_event_shape([8, 6, 3]) == [4, 3, 12]
  assert squeeze.inverse_event_shape([4, 3, 12]) == [8, 6, 3]
  np.testing.assert_array_equal(
      squeeze.forward_event_shape_tensor([8, 6, 3]), [4, 3, 12])
  np.testing.assert_array_equal(
      squeeze.inverse_event_shape_tensor([4, 3, 12]), [8, 6, 3])
  y = squeeze.forward(tf.zeros([2, 5, 8, 6, 3]))
  assert y.shape == [2, 5, 4, 3, 12]


def test_bad_shapes_name_what_was_expected():
  squeeze = bijectors.Squeeze()
  with pytest.raises(ValueError, match='divisible by 2'):
    squeeze.forward(tf.zeros([1, 5, 4, 3]))
  with pytest.raises(ValueError, match='divisible by 4'):
    squeeze.inverse(tf.zeros([1, 2, 2, 3]))
  with pytest.raises(ValueError, match=r'rank >= 3'):
    squeeze.forward(tf.zeros([4, 4]))
