"""Factoring out half of the dimensions at each scale (section 3.6)."""

import tensorflow as tf

from tfp_realnvp.bijectors import _one_pass

__all__ = ['FactorOut']


class FactorOut(_one_pass.OnePassBijector):
  """`bijector` takes the first half of the last axis; the rest is a latent.

  ```none
  forward:  y = concat([bijector.forward(z[..., :n]), z[..., n:]], axis=-1)
  inverse:  z = concat([bijector.inverse(y[..., :n]), y[..., n:]], axis=-1)
  log|det dy/dz| = bijector.forward_log_det_jacobian(z[..., :n])
  ```

  with `n` half the size of the last axis. This is Real NVP's multi-scale
  step: in the paper's direction (`inverse`), after each scale's couplings
  half of the dimensions leave the flow as that scale's latent, and the
  coarser scales (`bijector`) transform the other half; generation
  (`forward`) runs the coarser scales and joins their output to the latent.
  The first half goes on and the second is the latent, as in the authors'
  code.
  `bijector` must keep its event shape and act on events of rank
  `event_ndims` (for images 3, split along channels); the keyword arguments
  it declares (`kwarg_names`) are passed on to it.

  #### Example

  ```python
  import tensorflow as tf
  import tensorflow_probability as tfp
  from tfp_realnvp import bijectors

  coarser = tfp.bijectors.Scale(2.)   # stands for the coarser scales
  step = bijectors.FactorOut(coarser, event_ndims=3)   # on [H, W, 2C] events
  y = step.forward(tf.ones([1, 2, 2, 4]))
  # The first two channels went through `coarser`, the last two are latent.
  assert tf.reduce_all(y[..., :2] == 2.) and tf.reduce_all(y[..., 2:] == 1.)
  ```
  """

  def __init__(self, bijector, event_ndims=None, validate_args=False,
               name='factor_out'):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      self._bijector = bijector
      if event_ndims is None:
        event_ndims = max(1, bijector.forward_min_event_ndims)
      self._event_ndims = int(event_ndims)
      super().__init__(
          forward_min_event_ndims=self._event_ndims,
          validate_args=validate_args,
          parameters=parameters,
          dtype=bijector.dtype,
          name=name)

  @classmethod
  def _parameter_properties(cls, dtype):
    return dict()

  @property
  def bijector(self):
    return self._bijector

  @property
  def kwarg_names(self):
    return getattr(self._bijector, 'kwarg_names', frozenset())

  def split(self, x):
    """`(the half that goes on, the latent half)` of `x`."""
    size = x.shape[-1]
    if size is None or size % 2:
      raise ValueError(f'{self.name} needs a known, even size of the last '
                       f'axis; got shape {x.shape}.')
    return x[..., :size // 2], x[..., size // 2:]

  def _forward_and_log_det(self, z, **kwargs):
    rest, latent = self.split(z)
    rest_y = self._bijector.forward(rest, **kwargs)
    fldj = self._bijector.forward_log_det_jacobian(
        rest, event_ndims=self._event_ndims, **kwargs)
    return tf.concat([rest_y, latent], axis=-1), fldj

  def _inverse_and_log_det(self, y, **kwargs):
    rest, latent = self.split(y)
    rest_z = self._bijector.inverse(rest, **kwargs)
    ildj = self._bijector.inverse_log_det_jacobian(
        rest, event_ndims=self._event_ndims, **kwargs)
    return tf.concat([rest_z, latent], axis=-1), ildj
