"""Factoring out half of the channels at each scale (section 3.6)."""

import tensorflow as tf

from tfp_realnvp.bijectors import _one_pass

__all__ = ['FactorOut']


class FactorOut(_one_pass.OnePassBijector):
  """Keeps the first half of the channels as latents; `bijector` takes the rest.

  ```none
  y = concat([x[..., :C/2], bijector.forward(x[..., C/2:])], axis=-1)
  log|det dy/dx| = bijector.forward_log_det_jacobian(x[..., C/2:])
  ```

  This is Real NVP's multi-scale step: after each scale's couplings, half of
  the dimensions leave the flow as that scale's latent `z_i`, and the coarser
  scales (`bijector`) transform the other half. `bijector` must keep its
  event shape; keyword arguments are passed on to it.

  #### Example

  ```python
  coarser = tfb.Invert(RealNVP([...]))   # the coarser scales, data to latent
  step = FactorOut(coarser)              # on [H, W, 2C] events
  ```
  """

  def __init__(self, bijector, validate_args=False, name='factor_out'):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      self._bijector = bijector
      super().__init__(
          forward_min_event_ndims=3,
          validate_args=validate_args,
          parameters=parameters,
          dtype=bijector.dtype,
          name=name)

  @property
  def bijector(self):
    return self._bijector

  def _split(self, x):
    channels = x.shape[-1]
    if channels is None or channels % 2:
      raise ValueError(f'{self.name} needs a known, even number of channels; '
                       f'got shape {x.shape}.')
    return x[..., :channels // 2], x[..., channels // 2:]

  def _forward_and_log_det(self, x, **kwargs):
    kept, rest = self._split(x)
    rest_y = self._bijector.forward(rest, **kwargs)
    fldj = self._bijector.forward_log_det_jacobian(rest, event_ndims=3,
                                                   **kwargs)
    return tf.concat([kept, rest_y], axis=-1), fldj

  def _inverse_and_log_det(self, y, **kwargs):
    kept, rest = self._split(y)
    rest_x = self._bijector.inverse(rest, **kwargs)
    ildj = self._bijector.inverse_log_det_jacobian(rest, event_ndims=3,
                                                   **kwargs)
    return tf.concat([kept, rest_x], axis=-1), ildj
