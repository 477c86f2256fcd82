"""Dequantized pixels and logit space (Dinh et al. 2017, section 4.1)."""

import tensorflow as tf
from tensorflow_probability.python.internal import assert_util

from tfp_realnvp.bijectors import _one_pass

__all__ = ['LogitTransform']


class LogitTransform(_one_pass.OnePassBijector):
  """Between logit space and dequantized pixel values.

  `inverse` is the paper's logit transform of pixels `x` with `L =
  2**num_bits` levels; `forward`, the generative direction, undoes it:

  ```none
  inverse:  p = alpha + (1 - 2 * alpha) * x / L,   y = logit(p)
  forward:  x = (sigmoid(y) - alpha) * L / (1 - 2 * alpha)
  log|dx/dy| = log(sigmoid(y)) + log(sigmoid(-y)) - log((1 - 2 * alpha) / L)
  ```

  `alpha` keeps `p` away from 0 and 1, where the logit is unbounded. The
  bijector's image, and so the support of a flow that ends in it, is the
  open interval `(lower, upper)` with `lower = -alpha * L / (1 - 2 * alpha)`
  and `upper = (1 - alpha) * L / (1 - 2 * alpha)`: about (-14.2, 270.2) for
  8 bits and alpha 0.05. It contains the pixel cube `[0, L)`, so
  `-log_prob(pixels + uniform_noise) / (D * ln 2)` is the paper's bits/dim;
  the density puts a little mass outside the cube, so this is an upper
  bound on the code length of the 8-bit data. With `validate_args`, values
  outside the closed support raise (`forward` in floating point can round
  to its ends).

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import bijectors

  logit = bijectors.LogitTransform(num_bits=8)
  pixels = tf.cast(tf.random.uniform([2, 4, 4, 1], 0, 256, tf.int32),
                   tf.float32)
  y = logit.inverse(pixels + tf.random.uniform(tf.shape(pixels)))
  x_again = logit.forward(y)  # in [0, 256)
  log_det = logit.inverse_log_det_jacobian(pixels + 0.5, event_ndims=3)
  ```
  """

  def __init__(self, num_bits=8, alpha=0.05, validate_args=False,
               dtype=tf.float32, name='logit_transform'):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      if not 0. < alpha < 0.5:
        raise ValueError(f'`alpha` must lie in (0, 0.5); got {alpha}.')
      if int(num_bits) != num_bits or num_bits < 1:
        raise ValueError(f'`num_bits` must be a positive integer; got '
                         f'{num_bits}.')
      self._num_bits = int(num_bits)
      self._alpha = alpha
      super().__init__(
          forward_min_event_ndims=0,
          validate_args=validate_args,
          parameters=parameters,
          dtype=dtype,
          name=name)

  @classmethod
  def _parameter_properties(cls, dtype):
    return dict()

  @property
  def num_bits(self):
    return self._num_bits

  @property
  def num_levels(self):
    return 2. ** self._num_bits

  @property
  def alpha(self):
    return self._alpha

  @property
  def support(self):
    """`(lower, upper)`: the open interval of values `forward` reaches."""
    width = self.num_levels / (1. - 2. * self._alpha)
    return -self._alpha * width, (1. - self._alpha) * width

  def _log_slope(self, dtype):
    return tf.math.log(
        tf.constant((1. - 2. * self._alpha) / self.num_levels, dtype))

  def _checked(self, x):
    if not self.validate_args:
      return x
    lower, upper = self.support
    message = (f'{self.name} expects values in its support ({lower:g}, '
               f'{upper:g}), which holds the dequantized pixel values '
               f'[0, {self.num_levels:g}).')
    with tf.control_dependencies([
        # Closed: float rounding of `forward` reaches the ends.
        assert_util.assert_greater_equal(x, tf.constant(lower, x.dtype),
                                         message=message),
        assert_util.assert_less_equal(x, tf.constant(upper, x.dtype),
                                      message=message)]):
      return tf.identity(x)

  def _p(self, x):
    return self._alpha + (1. - 2. * self._alpha) * self._checked(x) / (
        self.num_levels)

  def _inverse_and_log_det(self, x):
    p = self._p(x)
    log_p, log_q = tf.math.log(p), tf.math.log1p(-p)
    return log_p - log_q, self._log_slope(x.dtype) - log_p - log_q

  def _forward_and_log_det(self, y):
    x = (tf.sigmoid(y) - self._alpha) * self.num_levels / (
        1. - 2. * self._alpha)
    # Where the sigmoid saturates, round-off could land a hair outside.
    lower, upper = self.support
    x = tf.clip_by_value(x, tf.constant(lower, y.dtype),
                         tf.constant(upper, y.dtype))
    # dx/dy = sigmoid(y) * sigmoid(-y) / slope, in log space for stability.
    return x, (tf.math.log_sigmoid(y) + tf.math.log_sigmoid(-y) -
               self._log_slope(y.dtype))
