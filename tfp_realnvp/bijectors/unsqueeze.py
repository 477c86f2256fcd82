"""The paper's squeeze (2x2xc to 1x1x4c, section 3.6), generative side up."""

import tensorflow as tf
from tensorflow_probability.python.bijectors import bijector

from tfp_realnvp.bijectors import _shapes

__all__ = ['Unsqueeze']


class Unsqueeze(bijector.Bijector):
  """Depth-to-space on images `[..., H, W, 4C] -> [..., 2H, 2W, C]`.

  Its `inverse` is the paper's squeeze: each 2x2xC subsquare of the image
  becomes a 1x1x4C column (the layout of `tf.nn.space_to_depth`). As in
  TFP's `Glow`, whose squeeze is `Invert(Expand())`, the bijector is named
  for its generative (`forward`) direction. It only permutes entries, so its
  log-det is 0 and both directions are exact.

  #### Example

  ```python
  Unsqueeze().forward(tf.zeros([5, 4, 4, 12])).shape  # [5, 8, 8, 3]
  Unsqueeze().inverse(tf.zeros([5, 8, 8, 3])).shape   # [5, 4, 4, 12]
  ```
  """

  def __init__(self, validate_args=False, name='unsqueeze'):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      super().__init__(
          forward_min_event_ndims=3,
          is_constant_jacobian=True,
          validate_args=validate_args,
          parameters=parameters,
          name=name)

  @classmethod
  def _parameter_properties(cls, dtype):
    return dict()

  def _squeezed(self, shape):
    """[H, W, C] -> [H/2, W/2, 4C] as Python ints (None if unknown)."""
    h, w, c = shape
    if (h is not None and h % 2) or (w is not None and w % 2):
      raise ValueError(
          f'{self.name}: squeezing needs an even height and width; got an '
          f'event shape of [{h}, {w}, {c}].')
    return [None if h is None else h // 2, None if w is None else w // 2,
            None if c is None else c * 4]

  def _unsqueezed(self, shape):
    h, w, c = shape
    if c is not None and c % 4:
      raise ValueError(
          f'{self.name} needs a number of channels divisible by 4; got an '
          f'event shape of [{h}, {w}, {c}].')
    return [None if h is None else h * 2, None if w is None else w * 2,
            None if c is None else c // 4]

  def _forward(self, x):
    _shapes.check_event_shape(x, [None] * 3, self.name)
    self._unsqueezed(x.shape[-3:])
    return _shapes.map_over_batch(lambda t: tf.nn.depth_to_space(t, 2), x, 3)

  def _inverse(self, y):
    _shapes.check_event_shape(y, [None] * 3, self.name)
    self._squeezed(y.shape[-3:])
    return _shapes.map_over_batch(lambda t: tf.nn.space_to_depth(t, 2), y, 3)

  def _forward_log_det_jacobian(self, x):
    return tf.zeros([], dtype=x.dtype)

  def _forward_event_shape(self, input_shape):
    return tf.TensorShape(input_shape[:-3].as_list() +
                          self._unsqueezed(input_shape[-3:].as_list()))

  def _inverse_event_shape(self, output_shape):
    return tf.TensorShape(output_shape[:-3].as_list() +
                          self._squeezed(output_shape[-3:].as_list()))

  def _forward_event_shape_tensor(self, input_shape):
    return tf.concat([input_shape[:-3], input_shape[-3:-1] * 2,
                      input_shape[-1:] // 4], axis=0)

  def _inverse_event_shape_tensor(self, output_shape):
    return tf.concat([output_shape[:-3], output_shape[-3:-1] // 2,
                      output_shape[-1:] * 4], axis=0)
