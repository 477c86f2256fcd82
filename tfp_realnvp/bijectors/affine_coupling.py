"""Affine coupling with a binary mask (Dinh et al. 2017, eqs. 6-9)."""

import inspect

import numpy as np
import tensorflow as tf

from tfp_realnvp.bijectors import _one_pass
from tfp_realnvp.bijectors import _shapes

__all__ = ['AffineCoupling', 'checkerboard_mask', 'channel_mask', 'half_mask']


def checkerboard_mask(height, width, parity=0):
  """Spatial checkerboard mask of shape [height, width, 1].

  `b[i, j] = 1` where `(i + j + parity)` is even: `parity` 0 and 1 are the
  two complementary boards.

  #### Example

  ```python
  from tfp_realnvp import bijectors

  mask = bijectors.checkerboard_mask(2, 2)  # [[[1], [0]], [[0], [1]]]
  assert mask.shape == (2, 2, 1) and mask[0, 0, 0] == 1 and mask[0, 1, 0] == 0
  ```
  """
  i, j = np.meshgrid(np.arange(height), np.arange(width), indexing='ij')
  return ((i + j + parity) % 2 == 0).astype(np.float32)[..., np.newaxis]


def channel_mask(channels, parity=0):
  """Channel-wise mask of shape [channels]: the first half is 1 for parity 0.

  #### Example

  ```python
  from tfp_realnvp import bijectors

  assert list(bijectors.channel_mask(4)) == [1, 1, 0, 0]
  assert list(bijectors.channel_mask(4, parity=1)) == [0, 0, 1, 1]
  ```
  """
  if channels % 2:
    raise ValueError(f'A channel mask needs an even number of channels; '
                     f'got {channels}.')
  return half_mask(channels, parity)


def half_mask(event_size, parity=0):
  """Mask of shape [event_size] for vectors: the first half is 1 for parity 0.

  With an odd size the conditioning half is the smaller one.

  #### Example

  ```python
  from tfp_realnvp import bijectors

  assert list(bijectors.half_mask(4)) == [1, 1, 0, 0]
  assert list(bijectors.half_mask(3)) == [1, 0, 0]
  ```
  """
  first = np.arange(event_size) < event_size // 2
  return (first if parity == 0 else ~first).astype(np.float32)


def call_kwarg_names(fn):
  """Keyword arguments that `fn` (a function or a Keras layer) accepts."""
  signature = inspect.signature(getattr(fn, 'call', fn))
  return frozenset(
      name for i, (name, p) in enumerate(signature.parameters.items())
      if i > 0 and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


class AffineCoupling(_one_pass.OnePassBijector):
  """Real NVP's affine coupling layer with a binary mask `b`.

  As in `tfb.RealNVP`, `forward` is the generative direction and `inverse`
  the paper's f (data to latent):

  ```none
  shift, log_scale = shift_and_log_scale_fn(b * x)
  forward:  y = b * x + (1 - b) * (x * exp(log_scale) + shift)
  inverse:  x = b * y + (1 - b) * (y - shift) * exp(-log_scale)
  log|det dy/dx| = sum((1 - b) * log_scale)
  ```

  `b * y == b * x`, so both directions call the network on the same input.
  The Jacobian is triangular. Scoring computes `(x + t') * exp(s')` with
  `(t', s') = -(shift, log_scale)`, the form of the authors' code; the
  network's last layer and `tanh` are odd, so both forms are the same model.

  What the network sees depends on the mask:

  - A mask over the last axis only (`channel_mask`, `half_mask`: a channel
    split) gives the network the conditioning entries alone, `[N, ...,
    C_b]`, and it returns `(shift, log_scale)` for the others, `[N, ...,
    C - C_b]`: with `b` the first `num_masked` entries, this is
    `tfb.RealNVP(num_masked, shift_and_log_scale_fn)`.
  - A spatial mask (`checkerboard_mask`) gives it `b * x` and it returns
    `(shift, log_scale)` shaped like its input; where `b` is 1 they are
    ignored.

  The network is called on one batch dimension (all batch dimensions folded
  into `N`). The keyword arguments its signature names (for instance
  `training` or `conditional_input`) are this bijector's `kwarg_names`: a
  `Flow` routes those of its own keyword arguments to it.

  The mask's rank is the event rank: `checkerboard_mask(h, w)` ([h, w, 1]) and
  `channel_mask(c)` ([c]) broadcast against [h, w, c] images, so pass
  `event_ndims=3` with either; `half_mask(d)` serves rank-1 events.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import bijectors
  from tfp_realnvp import networks

  mask = bijectors.checkerboard_mask(8, 8, parity=0)
  net = networks.ResNet(channels=3, num_blocks=1, num_filters=4, mask=mask)
  coupling = bijectors.AffineCoupling(mask, net, event_ndims=3)
  latents = tf.random.normal([2, 8, 8, 3])
  images = coupling.forward(latents)    # generative
  again = coupling.inverse(tf.identity(images))    # the paper's f
  log_det = coupling.inverse_log_det_jacobian(images)  # shape [2]
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
      shift_and_log_scale_fn: callable `(conditioning, **kwargs) -> (shift,
        log_scale)`, as above; a `tf_keras` layer so its variables are
        tracked.
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
      if mask.ndim == 1:  # A channel split: gather and scatter indices.
        self._conditioning = np.flatnonzero(mask)
        changed = np.flatnonzero(1 - mask)
        # Entry j of [outputs, zeros] that lands at channel i.
        self._scatter = np.argsort(np.concatenate(
            [changed, self._conditioning]))
      self._shift_and_log_scale_fn = shift_and_log_scale_fn
      self._kwarg_names = call_kwarg_names(shift_and_log_scale_fn)
      super().__init__(
          forward_min_event_ndims=self._event_ndims,
          is_constant_jacobian=False,
          validate_args=validate_args,
          parameters=parameters,
          dtype=dtype,
          name=name)

  @classmethod
  def _parameter_properties(cls, dtype):
    return dict()

  @property
  def mask(self):
    return self._mask

  @property
  def shift_and_log_scale_fn(self):
    return self._shift_and_log_scale_fn

  @property
  def kwarg_names(self):
    return self._kwarg_names

  def _shift_and_log_scale(self, x, kwargs):
    """shift and log-scale of every entry, zero where `b` is 1."""
    if self._mask.shape.rank > x.shape.rank:
      raise ValueError(f'{self.name} expects inputs of rank >= '
                       f'{self._mask.shape.rank}; got shape {x.shape}.')
    split = self._mask.shape.rank == 1
    conditioning = (tf.gather(x, self._conditioning, axis=-1) if split
                    else x * self._mask)
    shift, log_scale = _shapes.map_over_batch(
        lambda flat: self._shift_and_log_scale_fn(flat, **kwargs),
        conditioning, self._event_ndims, nonempty=True)
    # A network may compute in lower precision; the affine map does not.
    shift, log_scale = tf.cast(shift, x.dtype), tf.cast(log_scale, x.dtype)
    if split:
      zeros = tf.zeros_like(conditioning)
      return tuple(tf.gather(tf.concat([t, zeros], axis=-1), self._scatter,
                             axis=-1) for t in (shift, log_scale))
    keep = 1. - self._mask
    return shift * keep, log_scale * keep

  def _log_det(self, log_scale):
    return tf.reduce_sum(log_scale, axis=range(-self._event_ndims, 0))

  def _forward_and_log_det(self, x, **kwargs):
    shift, log_scale = self._shift_and_log_scale(x, kwargs)
    return x * tf.exp(log_scale) + shift, self._log_det(log_scale)

  def _inverse_and_log_det(self, y, **kwargs):
    shift, log_scale = self._shift_and_log_scale(y, kwargs)
    return (y - shift) * tf.exp(-log_scale), -self._log_det(log_scale)
