"""The paper's squeeze (2x2xc to 1x1x4c, section 3.6), generative side up."""

import tensorflow as tf
from tensorflow_probability.python.bijectors import bijector

from tfp_realnvp.bijectors import _one_pass
from tfp_realnvp.bijectors import _shapes

__all__ = ['Unsqueeze']


class Unsqueeze(bijector.Bijector):
  """`[..., H, W, 4C] -> [..., 2H, 2W, C]`: 1x1x4C columns to 2x2xC squares.

  Its `inverse` is the paper's squeeze: each 2x2xC subsquare of the image
  becomes a 1x1x4C column. As in TFP's `Glow`, whose squeeze is
  `Invert(Expand())`, the bijector is named for its generative (`forward`)
  direction. It only permutes entries, so its log-det is 0 and both
  directions are exact. The channel orders are the authors' code's
  (tensorflow/models, research/real_nvp), with sub-pixel `(dh, dw)` of
  channel `c`:

  - default (`squeeze_2x2`, before the channel couplings): channel
    `4 * c + 2 * dh + dw`;
  - `diagonal_first=True` (`squeeze_2x2_ordered`, for factoring out):
    channel `k * C + c`, `k` counting the sub-pixels in the order (0, 0),
    (1, 1), (0, 1), (1, 0), so the first half of the channels holds the
    sites with `h + w` even.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import bijectors

  squares = bijectors.Unsqueeze().forward(tf.zeros([5, 4, 4, 12]))
  columns = bijectors.Unsqueeze().inverse(tf.zeros([5, 8, 8, 3]))
  assert squares.shape == [5, 8, 8, 3] and columns.shape == [5, 4, 4, 12]
  ```
  """

  _cache = _one_pass.TapeAwareCache()

  def __init__(self, diagonal_first=False, validate_args=False,
               name='unsqueeze'):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      self._diagonal_first = bool(diagonal_first)
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

  @property
  def diagonal_first(self):
    return self._diagonal_first

  # [N, H/2, W/2, C, 2, 2] (dh, dw last) or [N, H/2, W/2, 4, C] (sites
  # (0,0), (1,1), (0,1), (1,0) first) is what the channel axis unfolds to.
  def _squeeze(self, x):
    n, h, w, c = _dims(x)
    x = tf.reshape(x, [n, h // 2, 2, w // 2, 2, c])
    if self._diagonal_first:
      x = tf.reshape(tf.transpose(x, [0, 1, 3, 2, 4, 5]),
                     [n, h // 2, w // 2, 4, c])
      x = tf.gather(x, [0, 3, 1, 2], axis=3)
    else:
      x = tf.transpose(x, [0, 1, 3, 5, 2, 4])
    return tf.reshape(x, [n, h // 2, w // 2, 4 * c])

  def _unsqueeze(self, y):
    n, h, w, c4 = _dims(y)
    c = c4 // 4
    if self._diagonal_first:
      y = tf.gather(tf.reshape(y, [n, h, w, 4, c]), [0, 2, 3, 1], axis=3)
      y = tf.transpose(tf.reshape(y, [n, h, w, 2, 2, c]), [0, 1, 3, 2, 4, 5])
    else:
      y = tf.transpose(tf.reshape(y, [n, h, w, c, 2, 2]), [0, 1, 4, 2, 5, 3])
    return tf.reshape(y, [n, 2 * h, 2 * w, c])

  def _forward(self, x):
    _shapes.check_event_shape(x, [None] * 3, self.name)
    self._unsqueezed(x.shape[-3:])
    return _shapes.map_over_batch(self._unsqueeze, x, 3)

  def _inverse(self, y):
    _shapes.check_event_shape(y, [None] * 3, self.name)
    self._squeezed(y.shape[-3:])
    return _shapes.map_over_batch(self._squeeze, y, 3)

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


def _dims(x):
  """[N, H, W, C], static where known (reshape wants ints or scalars)."""
  dynamic = tf.unstack(tf.shape(x))
  return [d if d is not None else t for d, t in zip(x.shape.as_list(), dynamic)]
