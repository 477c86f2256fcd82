"""Dequantized pixels to logit space (Dinh et al. 2017, section 4.1)."""

import tensorflow as tf
from tensorflow_probability.python.bijectors import bijector
from tensorflow_probability.python.internal import assert_util

__all__ = ['LogitTransform']


class LogitTransform(bijector.Bijector):
  """Maps dequantized pixels in `[0, 2**num_bits)` to logit space.

  In the paper's direction (data to latent), which is this bijector's forward:

  ```none
  p = alpha + (1 - 2 * alpha) * x / 2**num_bits
  y = logit(p) = log(p) - log(1 - p)
  log|dy/dx| = log((1 - 2 * alpha) / 2**num_bits) - log(p) - log(1 - p)
  ```

  `alpha` keeps `p` away from 0 and 1, where the logit is unbounded. With this
  bijector first in the flow, the distribution's support is the pixel cube
  `[0, 2**num_bits)^D`, so `-log_prob(pixels + uniform_noise) / (D * ln 2)` is
  bits/dim with no hand-written correction.

  #### Example

  ```python
  logit = LogitTransform(num_bits=8)
  y = logit.forward(pixels + tf.random.uniform(tf.shape(pixels)))
  ```
  """

  def __init__(self, num_bits=8, alpha=0.05, validate_args=False,
               dtype=tf.float32, name='logit_transform'):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      if not 0. < alpha < 0.5:
        raise ValueError(f'`alpha` must lie in (0, 0.5); got {alpha}.')
      self._num_bits = int(num_bits)
      self._alpha = alpha
      super().__init__(
          forward_min_event_ndims=0,
          validate_args=validate_args,
          parameters=parameters,
          dtype=dtype,
          name=name)

  @property
  def num_bits(self):
    return self._num_bits

  @property
  def num_levels(self):
    return 2. ** self._num_bits

  def _log_slope(self, dtype):
    return tf.math.log(
        tf.constant((1. - 2. * self._alpha) / self.num_levels, dtype))

  def _checked(self, x):
    if not self.validate_args:
      return x
    message = (f'{self.name} expects dequantized pixel values in '
               f'[0, {self.num_levels:g}).')
    with tf.control_dependencies([
        assert_util.assert_non_negative(x, message=message),
        assert_util.assert_less(
            x, tf.constant(self.num_levels, x.dtype), message=message)]):
      return tf.identity(x)

  def _forward(self, x):
    x = self._checked(x)
    p = self._alpha + (1. - 2. * self._alpha) * x / self.num_levels
    return tf.math.log(p) - tf.math.log1p(-p)

  def _inverse(self, y):
    return (tf.sigmoid(y) - self._alpha) * self.num_levels / (
        1. - 2. * self._alpha)

  def _inverse_log_det_jacobian(self, y):
    # dx/dy = sigmoid(y) * sigmoid(-y) / slope, in log space for stability.
    return (tf.math.log_sigmoid(y) + tf.math.log_sigmoid(-y) -
            self._log_slope(y.dtype))

  def _forward_log_det_jacobian(self, x):
    x = self._checked(x)
    p = self._alpha + (1. - 2. * self._alpha) * x / self.num_levels
    return self._log_slope(x.dtype) - tf.math.log(p) - tf.math.log1p(-p)
