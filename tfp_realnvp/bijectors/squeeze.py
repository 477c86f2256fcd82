"""Squeeze: 2x2xc subsquares to 1x1x4c (Dinh et al. 2017, section 3.6)."""

import tensorflow as tf
from tensorflow_probability.python.bijectors import bijector

from tfp_realnvp.bijectors import _shapes

__all__ = ['Squeeze']


class Squeeze(bijector.Bijector):
  """Space-to-depth on images `[..., H, W, C] -> [..., H/2, W/2, 4C]`.

  Each 2x2xC subsquare becomes a 1x1x4C column (the layout of
  `tf.nn.space_to_depth`). It only permutes entries, so its log-det is 0 and
  the inverse (`tf.nn.depth_to_space`) is exact. `tfb.Invert(Squeeze())`
  unsqueezes.

  #### Example

  ```python
  Squeeze().forward(tf.zeros([5, 8, 8, 3])).shape  # [5, 4, 4, 12]
  ```
  """

  def __init__(self, factor=2, validate_args=False, name='squeeze'):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      if int(factor) != factor or factor < 2:
        raise ValueError(f'`factor` must be an integer >= 2; got {factor}.')
      self._factor = int(factor)
      super().__init__(
          forward_min_event_ndims=3,
          is_constant_jacobian=True,
          validate_args=validate_args,
          parameters=parameters,
          name=name)

  @property
  def factor(self):
    return self._factor

  def _squeezed(self, shape):
    """[H, W, C] -> [H/f, W/f, C*f*f] as Python ints, or an error."""
    h, w, c = shape
    f = self._factor
    if (h is not None and h % f) or (w is not None and w % f):
      raise ValueError(
          f'{self.name} needs height and width divisible by {f}; got an '
          f'event shape of [{h}, {w}, {c}].')
    return [None if h is None else h // f, None if w is None else w // f,
            None if c is None else c * f * f]

  def _unsqueezed(self, shape):
    h, w, c = shape
    f = self._factor
    if c is not None and c % (f * f):
      raise ValueError(
          f'Inverting {self.name} needs channels divisible by {f * f}; got an '
          f'event shape of [{h}, {w}, {c}].')
    return [None if h is None else h * f, None if w is None else w * f,
            None if c is None else c // (f * f)]

  def _forward(self, x):
    _shapes.check_event_shape(x, [None] * 3, self.name)
    self._squeezed(x.shape[-3:])
    return _shapes.map_over_batch(
        lambda flat: tf.nn.space_to_depth(flat, self._factor), x, 3)

  def _inverse(self, y):
    _shapes.check_event_shape(y, [None] * 3, self.name)
    self._unsqueezed(y.shape[-3:])
    return _shapes.map_over_batch(
        lambda flat: tf.nn.depth_to_space(flat, self._factor), y, 3)

  def _forward_log_det_jacobian(self, x):
    return tf.zeros([], dtype=x.dtype)

  def _forward_event_shape(self, input_shape):
    return tf.TensorShape(input_shape[:-3].as_list() +
                          self._squeezed(input_shape[-3:].as_list()))

  def _inverse_event_shape(self, output_shape):
    return tf.TensorShape(output_shape[:-3].as_list() +
                          self._unsqueezed(output_shape[-3:].as_list()))

  def _forward_event_shape_tensor(self, input_shape):
    f = self._factor
    return tf.concat([input_shape[:-3], input_shape[-3:-1] // f,
                      input_shape[-1:] * f * f], axis=0)

  def _inverse_event_shape_tensor(self, output_shape):
    f = self._factor
    return tf.concat([output_shape[:-3], output_shape[-3:-1] * f,
                      output_shape[-1:] // (f * f)], axis=0)
