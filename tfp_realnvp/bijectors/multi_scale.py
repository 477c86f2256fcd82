"""Real NVP's multi-scale architecture: build one scale, recurse (section 3.6)."""

import tensorflow as tf
from tensorflow_probability.python.bijectors import invert

from tfp_realnvp import networks
from tfp_realnvp.bijectors import _shapes
from tfp_realnvp.bijectors import affine_coupling
from tfp_realnvp.bijectors import batch_normalization
from tfp_realnvp.bijectors import factor_out as factor_out_lib
from tfp_realnvp.bijectors import flow
from tfp_realnvp.bijectors import logit
from tfp_realnvp.bijectors import unsqueeze

__all__ = ['Scale', 'MultiScaleRealNVP', 'multi_scale_real_nvp',
           'vector_real_nvp']


class Scale(flow.Flow):
  """One scale of the multi-scale architecture, in the authors' order.

  In the paper's direction (`inverse`, from the first step):

  ```none
  checkerboard couplings, squeeze, channel couplings, unsqueeze,
  squeeze (diagonal sites first), factor out: the coarser scales take the
  first half (the h + w even sites), the second half is this scale's
  latent; unsqueeze (diagonal sites first)
  ```

  or, at the last scale, checkerboard couplings alone. Each coupling may be
  followed by its batch normalization. The latent is laid out like the
  scale's input, `[H, W, C]`; `split_latent` and `merge_latent` take it
  apart by the same steps. As everywhere in TFP, `inverse` runs this list
  from the first step (scoring) and `forward` from the last (generation);
  the generative side of each squeeze is an `Unsqueeze`.

  #### Example

  ```python
  import tfp_realnvp
  from tfp_realnvp import bijectors

  flow = bijectors.multi_scale_real_nvp(tfp_realnvp.Architecture(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4))
  finest = flow.scales[0]  # a Scale
  assert len(finest.checkerboard) == 6  # 3 couplings, each with a batch norm
  assert finest.coarser.coarser is None  # 2 scales
  ```
  """

  def __init__(self, checkerboard, channel=(), coarser=None,
               validate_args=False, name='scale'):
    self._checkerboard = list(checkerboard)
    self._channel = list(channel)
    self._coarser = coarser
    steps = list(self._checkerboard)
    if coarser is not None:
      self._factor_out = factor_out_lib.FactorOut(coarser, event_ndims=3)
      self._layout = invert.Invert(unsqueeze.Unsqueeze(diagonal_first=True))
      steps += [unsqueeze.Unsqueeze(), *self._channel,
                invert.Invert(unsqueeze.Unsqueeze()),
                unsqueeze.Unsqueeze(diagonal_first=True), self._factor_out,
                self._layout]
    super().__init__(steps, validate_args=validate_args, name=name)

  @property
  def checkerboard(self):
    """The checkerboard couplings (with their batch norms), in order."""
    return self._checkerboard

  @property
  def channel(self):
    """The channel-wise couplings (with their batch norms), in order."""
    return self._channel

  @property
  def coarser(self):
    """The next coarser `Scale`, or None at the last scale."""
    return self._coarser

  def split_latent(self, z):
    """`[this scale's latent, the coarser scales' latent]`."""
    rest, latent = self._factor_out.split(self._layout.forward(z))
    return [latent, rest]

  def merge_latent(self, part, rest):
    """Inverse of `split_latent`."""
    return self._layout.inverse(tf.concat([rest, part], axis=-1))


class MultiScaleRealNVP(flow.Flow):
  """The paper's flow on images: logit transform, then the scales.

  `inverse` maps dequantized pixels to the latent (scoring), `forward` the
  latent to pixels (generation); the latent has the image's shape. Its parts
  are named: `logit`, the `LogitTransform`; `scales`, finest first, each a
  `Scale` with its `checkerboard` and `channel` couplings.

  #### Example

  ```python
  import tensorflow as tf
  import tensorflow_probability as tfp
  import tfp_realnvp
  from tfp_realnvp import bijectors

  tfd = tfp.distributions
  flow = bijectors.multi_scale_real_nvp(tfp_realnvp.Architecture(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4))
  dist = tfd.TransformedDistribution(
      tfd.Sample(tfd.Normal(0., 1.), [8, 8, 1]), flow)
  pixels = tf.cast(tf.random.uniform([2, 8, 8, 1], 0, 256, tf.int32),
                   tf.float32)
  x = pixels + tf.random.uniform(pixels.shape)  # dequantized
  dist.log_prob(x)
  dist.log_prob(x, bijector_kwargs={'training': True})  # batch statistics
  names = [c.name for c in flow.scales[0].checkerboard]
  ```
  """

  def __init__(self, logit_transform, finest_scale, event_shape,
               validate_args=False, name='real_nvp'):
    self._event_shape = [int(d) for d in event_shape]
    self._logit = logit_transform
    self._scales = [finest_scale]
    while self._scales[-1].coarser is not None:
      self._scales.append(self._scales[-1].coarser)
    super().__init__([logit_transform, finest_scale],
                     validate_args=validate_args, name=name)

  @property
  def event_shape(self):
    """`[H, W, C]` of the images (and of the latent)."""
    return self._event_shape

  @property
  def logit(self):
    return self._logit

  # Inputs of another shape would otherwise fail deep inside a network.
  def _forward(self, z, **kwargs):
    _shapes.check_event_shape(z, self._event_shape, self.name)
    return super()._forward(z, **kwargs)

  def _inverse(self, x, **kwargs):
    _shapes.check_event_shape(x, self._event_shape, self.name)
    return super()._inverse(x, **kwargs)

  def _forward_log_det_jacobian(self, z, event_ndims, **kwargs):
    _shapes.check_event_shape(z, self._event_shape, self.name)
    return super()._forward_log_det_jacobian(z, event_ndims, **kwargs)

  def _inverse_log_det_jacobian(self, x, event_ndims, **kwargs):
    _shapes.check_event_shape(x, self._event_shape, self.name)
    return super()._inverse_log_det_jacobian(x, event_ndims, **kwargs)

  @property
  def scales(self):
    return self._scales

  def split_latent(self, z):
    """A latent `[..., H, W, C]` as the parts each scale factored out.

    Returns one tensor per scale, finest first; the last is the last
    scale's whole output.
    """
    parts = []
    for scale in self._scales[:-1]:
      part, z = scale.split_latent(z)
      parts.append(part)
    return parts + [z]

  def merge_latent(self, parts):
    """Inverse of `split_latent`."""
    z = parts[-1]
    for scale, part in zip(reversed(self._scales[:-1]),
                           reversed(parts[:-1])):
      z = scale.merge_latent(part, z)
    return z


class _Builder:
  """Builds the couplings of one architecture; names them by position."""

  def __init__(self, architecture, dtype, validate_args):
    self.architecture = architecture
    self.dtype = dtype
    self.validate_args = validate_args

  def couplings(self, name, masks, channels, network):
    """Couplings with `masks`, each followed by its batch norm if so
    configured; `network(mask, name)` builds each s,t network."""
    steps = []
    for i, mask in enumerate(masks):
      steps.append(affine_coupling.AffineCoupling(
          mask, network(mask, f'{name}_{i}_resnet'), event_ndims=3,
          validate_args=self.validate_args, dtype=self.dtype,
          name=f'{name}_{i}'))
      if self.architecture.batch_norm:
        steps.append(batch_normalization.BatchNormalization(
            channels, event_ndims=3, mask=mask, dtype=self.dtype,
            validate_args=self.validate_args, name=f'{name}_{i}_batch_norm'))
    return steps

  def resnet(self, channels, num_filters, name, **kwargs):
    a = self.architecture
    return networks.ResNet(
        channels, a.num_res_blocks, num_filters, num_classes=a.num_classes,
        batch_norm=a.batch_norm, name=name, dtype=a.network_dtype or self.dtype,
        **kwargs)

  def checkerboard(self, shape, num_couplings, num_filters):
    """The network sees the whole masked event, and the mask; its scalar
    starts at 0, so the coupling starts additive."""
    height, width, channels = shape
    masks = [affine_coupling.checkerboard_mask(height, width, parity=i % 2)
             for i in range(num_couplings)]
    return self.couplings(
        'checkerboard', masks, channels,
        lambda mask, name: self.resnet(channels, num_filters, name, mask=mask,
                                       initial_scale=0.))

  def channel(self, channels, num_couplings, num_filters):
    """The network sees the conditioning half of the channels; it is twice
    as wide as the scale's checkerboard networks, its scalar starts at 1."""
    masks = [affine_coupling.channel_mask(channels, parity=i % 2)
             for i in range(num_couplings)]
    return self.couplings(
        'channel', masks, channels,
        lambda mask, name: self.resnet(channels // 2, 2 * num_filters, name,
                                       initial_scale=1.))

  def scale(self, index, shape, num_filters):
    """Scale `index` (0: finest) on `[H, W, C]` events, and the coarser ones."""
    if index == self.architecture.num_scales - 1:
      return Scale(self.checkerboard(shape, 4, num_filters),
                   validate_args=self.validate_args, name=f'scale{index}')
    height, width, channels = shape
    coarser = self.scale(index + 1, [height // 2, width // 2, 2 * channels],
                         2 * num_filters)
    return Scale(self.checkerboard(shape, 3, num_filters),
                 self.channel(4 * channels, 3, num_filters),
                 coarser, validate_args=self.validate_args,
                 name=f'scale{index}')


def multi_scale_real_nvp(architecture, dtype=tf.float32, validate_args=False,
                         name='real_nvp'):
  """The paper's multi-scale flow on images, as an `Architecture` states it.

  Returns a `MultiScaleRealNVP` whose `inverse` maps dequantized pixels to
  the latent through the logit transform and every scale.

  #### Example

  ```python
  import tensorflow as tf
  import tfp_realnvp
  from tfp_realnvp import bijectors

  flow = bijectors.multi_scale_real_nvp(tfp_realnvp.Architecture(
      [8, 8, 1], num_scales=1, num_res_blocks=0, num_filters=4))
  x = tf.random.uniform([2, 8, 8, 1], 0., 256.)
  z = flow.inverse(x)  # the latent, shaped like the image
  log_det = flow.inverse_log_det_jacobian(x, event_ndims=3)  # shape [2]
  ```
  """
  a = architecture
  builder = _Builder(a, dtype, validate_args)
  return MultiScaleRealNVP(
      logit.LogitTransform(a.num_bits, validate_args=validate_args,
                           dtype=dtype),
      builder.scale(0, list(a.event_shape), a.num_filters), a.event_shape,
      validate_args=validate_args, name=name)


def vector_real_nvp(event_size,
                    num_couplings=4,
                    hidden_units=(64, 64),
                    batch_norm=False,
                    num_classes=None,
                    dtype=tf.float32,
                    validate_args=False,
                    name='real_nvp_vector'):
  """Couplings with alternating half masks and MLP networks, on vectors.

  `num_classes` makes it class-conditional, as in `multi_scale_real_nvp`.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import bijectors

  flow = bijectors.vector_real_nvp(4, num_couplings=2, hidden_units=(8,))
  y = flow.forward(tf.random.normal([3, 4]))  # generative
  z = flow.inverse(tf.identity(y))
  ```
  """
  event_size = int(event_size)
  if event_size < 2:
    raise ValueError(f'A coupling needs at least 2 dimensions; got '
                     f'event_size={event_size}.')
  steps = []
  for i in range(num_couplings):
    mask = affine_coupling.half_mask(event_size, parity=i % 2)
    num_conditioning = int(mask.sum())
    steps.append(affine_coupling.AffineCoupling(
        mask,
        networks.MLP(num_conditioning, event_size - num_conditioning,
                     hidden_units, num_classes, name=f'coupling_{i}_mlp',
                     dtype=dtype),
        validate_args=validate_args, dtype=dtype, name=f'coupling_{i}'))
    if batch_norm:
      steps.append(batch_normalization.BatchNormalization(
          event_size, event_ndims=1, dtype=dtype, validate_args=validate_args,
          name=f'coupling_{i}_batch_norm'))
  return flow.Flow(steps, validate_args=validate_args, name=name)

