"""Affine coupling with a binary mask (Dinh et al. 2017, eqs. 6-9)."""

import numpy as np
import tensorflow as tf

from tfp_realnvp.bijectors import _one_pass
from tfp_realnvp.bijectors import _shapes

__all__ = ['AffineCoupling', 'checkerboard_mask', 'channel_mask', 'half_mask']


def checkerboard_mask(height, width, parity=0):
  """Spatial checkerboard mask of shape [height, width, 1].

  `b[i, j] = 1` where `(i + j + parity)` is even: `parity` 0 and 1 are the
  two complementary boards.
  """
  i, j = np.meshgrid(np.arange(height), np.arange(width), indexing='ij')
  return ((i + j + parity) % 2 == 0).astype(np.float32)[..., np.newaxis]


def channel_mask(channels, parity=0):
  """Channel-wise mask of shape [channels]: the first half is 1 for parity 0."""
  if channels % 2:
    raise ValueError(f'A channel mask needs an even number of channels; '
                     f'got {channels}.')
  first = np.arange(channels) < channels // 2
  return (first if parity == 0 else ~first).astype(np.float32)


def half_mask(event_size, parity=0):
  """Mask of shape [event_size] for vectors: the first half is 1 for parity 0.

  With an odd size the conditioning half is the smaller one.
  """
  first = np.arange(event_size) < event_size // 2
  return (first if parity == 0 else ~first).astype(np.float32)


class AffineCoupling(_one_pass.OnePassBijector):
  """Real NVP's affine coupling layer with a binary mask `b`.

  In the paper's direction (data to latent), which is this bijector's forward:

  ```none
  y = b * x + (1 - b) * (x * exp(s(b * x)) + t(b * x))
  log|det dy/dx| = sum((1 - b) * s(b * x))
  x = b * y + (1 - b) * (y - t(b * y)) * exp(-s(b * y))
  ```

  `b * y == b * x`, so the inverse calls the network on the same input as the
  forward and is exactly as cheap. The Jacobian is triangular.

  `shift_and_log_scale_fn(masked_x, **condition_kwargs)` returns
  `(log_scale, shift)`, each shaped like its input; for images it is called on
  a rank-4 batch `[N, H, W, C]` (all batch dimensions folded into `N`), for
  vectors on `[N, D]`. Keyword arguments given to `forward`/`inverse` (TFP's
  `bijector_kwargs`) go to the network, which is how conditional models
  receive their conditioning input.

  The mask's rank is the event rank: `checkerboard_mask(h, w)` ([h, w, 1]) and
  `channel_mask(c)` ([c]) broadcast against [h, w, c] images, so pass
  `event_ndims=3` with either; `half_mask(d)` serves rank-1 events.

  #### Example

  ```python
  net = tfp_realnvp.networks.ResNet(channels=3, num_blocks=2, num_filters=32)
  coupling = AffineCoupling(checkerboard_mask(32, 32, parity=0), net,
                            event_ndims=3)
  y = coupling.forward(images)  # [batch, 32, 32, 3]
  ```
  """

  def __init__(self,
               mask,
               shift_and_log_scale_fn,
               event_ndims=None,
               validate_args=False,
               dtype=tf.float32,
               name='affine_coupling'):
    """Builds the coupling.

    Args:
      mask: array of 0s and 1s broadcastable to the event shape; 1 marks the
        dimensions that pass through unchanged and condition the others.
      shift_and_log_scale_fn: callable `(masked_x, **kwargs) -> (log_scale,
        shift)`; a `tf_keras` layer so its variables are tracked.
      event_ndims: rank of the events; defaults to the mask's rank.
      validate_args: Python `bool`, check inputs at run time.
      dtype: float dtype of the events.
      name: name scope.
    """
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      mask = np.asarray(mask)
      if not np.all((mask == 0) | (mask == 1)):
        raise ValueError('`mask` must hold only 0s and 1s.')
      if mask.all() or not mask.any():
        raise ValueError('`mask` must hold both 0s and 1s, or the coupling '
                         'is not invertible-and-learnable.')
      self._event_ndims = mask.ndim if event_ndims is None else event_ndims
      self._mask = tf.constant(mask, dtype=dtype)
      self._shift_and_log_scale_fn = shift_and_log_scale_fn
      super().__init__(
          forward_min_event_ndims=self._event_ndims,
          is_constant_jacobian=False,
          validate_args=validate_args,
          parameters=parameters,
          dtype=dtype,
          name=name)

  @property
  def mask(self):
    return self._mask

  @property
  def shift_and_log_scale_fn(self):
    return self._shift_and_log_scale_fn

  def _log_scale_and_shift(self, x, condition_kwargs):
    """s and t at the masked input, zero where the mask passes x through."""
    if self._mask.shape.rank > x.shape.rank:
      raise ValueError(f'{self.name} expects inputs of rank >= '
                       f'{self._mask.shape.rank}; got shape {x.shape}.')
    masked = x * self._mask
    log_scale, shift = _shapes.map_over_batch(
        lambda flat: self._shift_and_log_scale_fn(flat, **condition_kwargs),
        masked, self._event_ndims, nonempty=True)
    # A network may compute in lower precision; the affine map does not.
    keep = 1. - self._mask
    return (tf.cast(log_scale, x.dtype) * keep,
            tf.cast(shift, x.dtype) * keep)

  def _log_det(self, log_scale):
    return tf.reduce_sum(log_scale, axis=range(-self._event_ndims, 0))

  def _forward_and_log_det(self, x, **condition_kwargs):
    log_scale, shift = self._log_scale_and_shift(x, condition_kwargs)
    return x * tf.exp(log_scale) + shift, self._log_det(log_scale)

  def _inverse_and_log_det(self, y, **condition_kwargs):
    log_scale, shift = self._log_scale_and_shift(y, condition_kwargs)
    return (y - shift) * tf.exp(-log_scale), -self._log_det(log_scale)
