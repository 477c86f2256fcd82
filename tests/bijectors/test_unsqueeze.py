import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_realnvp import bijectors
from tests import bijector_checks

tfb = tfp.bijectors


def test_squeeze_makes_each_2x2_subsquare_one_column():
  x = tf.reshape(tf.range(2 * 4 * 4 * 3, dtype=tf.float32), [2, 4, 4, 3])
  y = bijectors.Unsqueeze().inverse(x)
  assert y.shape == [2, 2, 2, 12]
  # The column at (i, j) holds exactly the 2x2x3 block at (2i, 2j).
  block = x[1, 2:4, 0:2, :].numpy().ravel()
  np.testing.assert_array_equal(np.sort(y[1, 1, 0].numpy()), np.sort(block))


def test_agrees_with_a_reshape_transpose_chain():
  h, w, c = 4, 6, 2
  # The authors' squeeze_2x2: [h/2, 2, w/2, 2, c] -> [h/2, w/2, c, 2, 2].
  squeeze = tfb.Chain([
      tfb.Reshape([h // 2, w // 2, 4 * c],
                  event_shape_in=[h // 2, w // 2, c, 2, 2]),
      tfb.Transpose(perm=[0, 2, 4, 1, 3]),
      tfb.Reshape([h // 2, 2, w // 2, 2, c], event_shape_in=[h, w, c]),
  ])
  x = tf.random.stateless_normal([3, h, w, c], seed=[1, 1], dtype=tf.float64)
  unsqueeze = bijectors.Unsqueeze()
  np.testing.assert_array_equal(unsqueeze.inverse(x), squeeze.forward(x))
  y = squeeze.forward(x)
  np.testing.assert_array_equal(unsqueeze.forward(tf.identity(y)),
                                squeeze.inverse(tf.identity(y)))
  np.testing.assert_array_equal(unsqueeze.inverse_log_det_jacobian(x, 3),
                                squeeze.forward_log_det_jacobian(x, 3))
  np.testing.assert_array_equal(unsqueeze.forward_log_det_jacobian(y, 3),
                                squeeze.inverse_log_det_jacobian(y, 3))


@bijector_checks.REGIMES
@pytest.mark.parametrize('diagonal_first', [False, True])
def test_bijective_and_finite(regime, diagonal_first):
  x = tf.random.stateless_normal([3, 2, 3, 8], seed=[1, 1])
  y = tf.random.stateless_normal([3, 4, 6, 2], seed=[2, 1])
  bijector_checks.assert_bijective_and_finite(
      bijectors.Unsqueeze(diagonal_first), x, y, event_ndims=3, regime=regime,
      rtol=0.)


def test_log_det_is_zero_by_brute_force():
  x = tf.random.stateless_normal([3, 2, 3, 8], seed=[1, 1], dtype=tf.float64)
  np.testing.assert_allclose(bijector_checks.assert_log_det_is_brute_force(
      bijectors.Unsqueeze(), x, 3), 0., atol=1e-12)


def test_sample_shapes_and_event_shapes():
  unsqueeze = bijectors.Unsqueeze()
  bijector_checks.assert_sample_shapes(unsqueeze, tf.zeros([2, 3, 8]), 3)
  assert unsqueeze.inverse_event_shape([8, 6, 3]) == [4, 3, 12]
  assert unsqueeze.forward_event_shape([4, 3, 12]) == [8, 6, 3]
  np.testing.assert_array_equal(
      unsqueeze.inverse_event_shape_tensor([8, 6, 3]), [4, 3, 12])
  np.testing.assert_array_equal(
      unsqueeze.forward_event_shape_tensor([4, 3, 12]), [8, 6, 3])


def test_bad_shapes_name_what_was_expected():
  unsqueeze = bijectors.Unsqueeze()
  with pytest.raises(ValueError, match='even height and width'):
    unsqueeze.inverse(tf.zeros([1, 5, 4, 3]))
  with pytest.raises(ValueError, match='divisible by 4'):
    unsqueeze.forward(tf.zeros([1, 2, 2, 3]))
  with pytest.raises(ValueError, match=r'rank >= 3'):
    unsqueeze.forward(tf.zeros([4, 4]))


def test_squeeze_order_is_the_authors():
  # A 1-channel 4x4 image holding 4h + w: sub-pixel (dh, dw) of channel c
  # lands at channel 4c + 2dh + dw.
  x = tf.reshape(tf.range(16.), [1, 4, 4, 1])
  squeezed = bijectors.Unsqueeze().inverse(x)[0]
  expected = [[[0, 2], [8, 10]], [[1, 3], [9, 11]],
              [[4, 6], [12, 14]], [[5, 7], [13, 15]]]
  np.testing.assert_array_equal(np.moveaxis(squeezed, -1, 0), expected)
  # With 3 channels (100c + 10h + w in one 2x2 block): channel-major.
  block = tf.constant([[[100. * c + 10 * h + w for c in range(3)]
                        for w in range(2)] for h in range(2)])[None]
  np.testing.assert_array_equal(
      bijectors.Unsqueeze().inverse(block)[0, 0, 0],
      [0, 1, 10, 11, 100, 101, 110, 111, 200, 201, 210, 211])
