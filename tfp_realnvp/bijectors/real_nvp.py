"""The multi-scale Real NVP bijector: build one scale, recurse (section 3.6)."""

import tensorflow as tf
from tensorflow_probability.python.bijectors import invert

from tfp_realnvp import networks
from tfp_realnvp.bijectors import _one_pass
from tfp_realnvp.bijectors import _shapes
from tfp_realnvp.bijectors import affine_coupling
from tfp_realnvp.bijectors import batch_normalization
from tfp_realnvp.bijectors import factor_out
from tfp_realnvp.bijectors import logit
from tfp_realnvp.bijectors import squeeze

__all__ = [
    'RealNVP', 'multi_scale_real_nvp', 'vector_real_nvp', 'default_num_scales',
    'split_scales', 'merge_scales',
]


class RealNVP(_one_pass.OnePassBijector):
  """A Real NVP flow; `forward` generates (latent to data), `inverse` is f.

  The paper writes the flow as `f = step_n o ... o step_1`, data to latent;
  `steps` are those bijectors in that order, each with its `forward` in the
  paper's direction. As in every TFP `TransformedDistribution`, this
  bijector's `forward` maps the latent to the data (`f^-1`, sampling) and its
  `inverse` maps data to the latent (`f`, scoring):

  ```none
  inverse(x) = step_n.forward(... step_1.forward(x))
  inverse_log_det_jacobian(x) = sum_i step_i.forward_log_det_jacobian(x_i)
  ```

  One pass computes the value and the log-det together, so `log_prob` runs
  each coupling network once.

  Keyword arguments (TFP's `bijector_kwargs`) are routed by step: `training`
  goes to the batch normalizations, every other keyword (a conditioning
  input) to the couplings' networks, and all of them into nested flows.

  #### Example

  ```python
  flow = multi_scale_real_nvp([32, 32, 3], num_res_blocks=4, num_filters=32)
  dist = tfd.TransformedDistribution(
      tfd.Sample(tfd.Normal(0., 1.), [32, 32, 3]), flow)
  dist.log_prob(pixels + tf.random.uniform(pixels.shape))
  dist.log_prob(x, bijector_kwargs={'training': True})  # batch statistics
  ```
  """

  def __init__(self, steps, event_shape=None, event_ndims=None,
               validate_args=False, name='real_nvp'):
    """Composes `steps`.

    Args:
      steps: bijectors in the paper's order (data to latent).
      event_shape: optional shape of one event; inputs are checked against it.
      event_ndims: rank of the events; `len(event_shape)` when that is given.
      validate_args: Python `bool`, check inputs at run time.
      name: name scope.
    """
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      if not steps:
        raise ValueError('A RealNVP flow needs at least one step.')
      self._steps = list(steps)
      self._event_shape = None if event_shape is None else [
          int(d) for d in event_shape]
      if event_ndims is None:
        if event_shape is None:
          raise ValueError('Give `event_shape` or `event_ndims`.')
        event_ndims = len(self._event_shape)
      self._event_ndims = int(event_ndims)
      super().__init__(
          forward_min_event_ndims=self._event_ndims,
          validate_args=validate_args,
          parameters=parameters,
          dtype=self._steps[0].dtype,
          name=name)

  @property
  def steps(self):
    return self._steps

  @property
  def event_shape(self):
    return self._event_shape

  def _check(self, x):
    if self._event_shape is not None:
      _shapes.check_event_shape(x, self._event_shape, self.name)

  def _inverse_and_log_det(self, x, **kwargs):
    self._check(x)
    log_det = tf.zeros([], x.dtype)
    for step in self._steps:
      step_kwargs = _kwargs_for(step, kwargs)
      y = step.forward(x, **step_kwargs)  # First: the cache holds y weakly.
      log_det += step.forward_log_det_jacobian(
          x, event_ndims=self._event_ndims, **step_kwargs)
      x = y
    return x, log_det

  def _forward_and_log_det(self, z, **kwargs):
    self._check(z)
    log_det = tf.zeros([], z.dtype)
    for step in reversed(self._steps):
      step_kwargs = _kwargs_for(step, kwargs)
      x = step.inverse(z, **step_kwargs)
      log_det += step.inverse_log_det_jacobian(
          z, event_ndims=self._event_ndims, **step_kwargs)
      z = x
    return z, log_det


def _kwargs_for(step, kwargs):
  """The keyword arguments that `step` takes out of the flow's."""
  if isinstance(step, invert.Invert):
    return _kwargs_for(step.bijector, kwargs)
  if isinstance(step, (RealNVP, factor_out.FactorOut)):
    return kwargs
  if isinstance(step, batch_normalization.BatchNormalization):
    return {k: v for k, v in kwargs.items() if k == 'training'}
  if isinstance(step, affine_coupling.AffineCoupling):
    return {k: v for k, v in kwargs.items() if k != 'training'}
  return {}


def default_num_scales(height, width, smallest=4):
  """Scales until the last one is `smallest` pixels wide (or cannot halve)."""
  num_scales = 1
  while height % 2 == 0 and width % 2 == 0 and min(height, width) > smallest:
    height, width = height // 2, width // 2
    num_scales += 1
  return num_scales


def _couplings(name, masks, make_network, channels, event_ndims, batch_norm,
               dtype, validate_args):
  """Couplings with `masks`, each optionally followed by batch norm.

  `make_network(name)` builds each coupling's s,t network.
  """
  steps = []
  for i, mask in enumerate(masks):
    steps.append(affine_coupling.AffineCoupling(
        mask, make_network(f'{name}_{i}'), event_ndims=event_ndims,
        validate_args=validate_args, dtype=dtype, name=f'{name}_{i}'))
    if batch_norm:
      steps.append(batch_normalization.BatchNormalization(
          channels, event_ndims=event_ndims, dtype=dtype,
          validate_args=validate_args, name=f'{name}_{i}_batch_norm'))
  return steps


def _resnet_couplings(name, masks, channels, num_res_blocks, num_filters,
                      batch_norm, num_classes, dtype, network_dtype,
                      validate_args):
  """Image couplings with ResNet networks."""
  def make_network(coupling_name):
    return networks.ResNet(channels, num_res_blocks, num_filters, num_classes,
                           name=f'{coupling_name}_resnet',
                           dtype=network_dtype or dtype)
  return _couplings(name, masks, make_network, channels, 3, batch_norm, dtype,
                    validate_args)


def checkerboard(height, width, channels, num_couplings, **kwargs):
  """Couplings with alternating checkerboard masks on [H, W, C] events."""
  masks = [affine_coupling.checkerboard_mask(height, width, parity=i % 2)
           for i in range(num_couplings)]
  return _resnet_couplings('checkerboard', masks, channels, **kwargs)


def channel(channels, num_couplings, **kwargs):
  """Couplings with alternating channel-wise masks."""
  masks = [affine_coupling.channel_mask(channels, parity=i % 2)
           for i in range(num_couplings)]
  return _resnet_couplings('channel', masks, channels, **kwargs)


def _scale(shape, num_scales, num_filters, **kwargs):
  """The steps of one scale, with the coarser scales nested inside it.

  Paper order: 3 checkerboard couplings, squeeze, 3 channel-wise couplings,
  factor out half of the channels, and the rest go through the coarser scales
  with twice the feature maps. The last scale is 4 checkerboard couplings.
  The unsqueeze at the end only lays the latent out like the data, [H, W, C].
  """
  height, width, channels = shape
  if num_scales == 1:
    return checkerboard(height, width, channels, 4, num_filters=num_filters,
                        **kwargs)
  coarser = RealNVP(
      _scale([height // 2, width // 2, 2 * channels], num_scales - 1,
             2 * num_filters, **kwargs),
      event_ndims=3, name=f'scale{num_scales - 1}')
  return [
      *checkerboard(height, width, channels, 3, num_filters=num_filters,
                    **kwargs),
      squeeze.Squeeze(),
      *channel(4 * channels, 3, num_filters=num_filters, **kwargs),
      factor_out.FactorOut(invert.Invert(coarser)),
      invert.Invert(squeeze.Squeeze()),
  ]


def multi_scale_real_nvp(event_shape,
                         num_scales=None,
                         num_res_blocks=4,
                         num_filters=32,
                         batch_norm=True,
                         num_bits=8,
                         num_classes=None,
                         dtype=tf.float32,
                         network_dtype=None,
                         validate_args=False,
                         name='real_nvp'):
  """The paper's multi-scale flow on images, pixels first.

  Args:
    event_shape: `[H, W, C]` of the images.
    num_scales: number of scales; by default as many as halve the image down
      to 4x4 (`default_num_scales`).
    num_res_blocks: residual blocks in each coupling network.
    num_filters: feature maps at the finest scale; they double at each
      coarser one.
    batch_norm: follow each coupling by a `BatchNormalization` bijector.
    num_bits: bits per pixel; the data lie in `[0, 2**num_bits)`.
    num_classes: if set, a class-conditional flow: every call takes
      `conditional_input`, `[batch, num_classes]` (one-hot labels), through
      `bijector_kwargs`.
    dtype: float dtype of the flow.
    network_dtype: a `tf_keras` dtype policy for the coupling networks, e.g.
      `'mixed_bfloat16'`: convolutions in bfloat16 on float32 weights, while
      the couplings' affine maps, every log-det, the prior and the loss stay
      in `dtype`. Default: `dtype`.
    validate_args: Python `bool`, check inputs at run time.
    name: name scope.

  Returns:
    A `RealNVP` whose `inverse` maps dequantized pixels to the latent,
    through the logit transform and every scale.
  """
  height, width, channels = _image_shape(event_shape)
  if num_scales is None:
    num_scales = default_num_scales(height, width)
  halvings = 2 ** (num_scales - 1)
  if num_scales < 1 or height % halvings or width % halvings:
    raise ValueError(
        f'num_scales={num_scales} squeezes the image {num_scales - 1} times, '
        f'so height and width must be divisible by {halvings}; got an event '
        f'shape of {list(event_shape)}.')
  steps = _scale([height, width, channels], num_scales, num_filters,
                 num_res_blocks=num_res_blocks, batch_norm=batch_norm,
                 num_classes=num_classes, dtype=dtype,
                 network_dtype=network_dtype,
                 validate_args=validate_args)
  preprocess = logit.LogitTransform(num_bits, validate_args=validate_args,
                                    dtype=dtype)
  return RealNVP([preprocess, *steps], event_shape=[height, width, channels],
                 validate_args=validate_args, name=name)


def vector_real_nvp(event_size,
                    num_couplings=4,
                    hidden_units=(64, 64),
                    batch_norm=False,
                    num_classes=None,
                    dtype=tf.float32,
                    validate_args=False,
                    name='real_nvp'):
  """Couplings with alternating half masks and MLP networks, on vectors.

  `num_classes` makes it class-conditional, as in `multi_scale_real_nvp`.
  """
  event_size = int(event_size)
  if event_size < 2:
    raise ValueError(f'A coupling needs at least 2 dimensions; got '
                     f'event_size={event_size}.')
  masks = [affine_coupling.half_mask(event_size, parity=i % 2)
           for i in range(num_couplings)]

  def make_network(coupling_name):
    return networks.MLP(event_size, hidden_units, num_classes,
                        name=f'{coupling_name}_mlp', dtype=dtype)

  steps = _couplings('coupling', masks, make_network, event_size, 1,
                     batch_norm, dtype, validate_args)
  return RealNVP(steps, event_shape=[event_size], validate_args=validate_args,
                 name=name)


def split_scales(z, num_scales):
  """Splits a latent `[..., H, W, C]` into the parts each scale factored out.

  Returns `num_scales` tensors, finest first: `[..., H/2, W/2, 2C]`,
  `[..., H/4, W/4, 4C]`, ..., and the last scale's whole output.
  """
  parts = []
  for _ in range(num_scales - 1):
    z = squeeze.Squeeze().forward(z)
    half = z.shape[-1] // 2
    parts.append(z[..., :half])
    z = z[..., half:]
  return parts + [z]


def merge_scales(parts):
  """Inverse of `split_scales`: rebuilds the latent from per-scale parts."""
  z = parts[-1]
  for part in reversed(parts[:-1]):
    z = squeeze.Squeeze().inverse(tf.concat([part, z], axis=-1))
  return z


def _image_shape(event_shape):
  shape = list(event_shape)
  if len(shape) != 3 or not all(isinstance(d, int) or hasattr(d, '__index__')
                                for d in shape) or min(shape) < 1:
    raise ValueError(f'event_shape must be [height, width, channels] of '
                     f'positive integers; got {event_shape}.')
  return [int(d) for d in shape]
