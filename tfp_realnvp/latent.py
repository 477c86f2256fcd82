"""The latent space: encode, decode, temperature, manifolds, per-scale latents.

The latent `z` of an image has the image's shape; the flow's
`split_latent` splits it into what each scale factored out (finest first).
"""

import math

import tensorflow as tf

from tfp_realnvp import networks

__all__ = ['encode', 'decode', 'to_uint8', 'sample', 'manifold',
           'resample_scales', 'check_temperature']


def to_uint8(pixels):
  """Float pixels to 8-bit values: floor, clipped to [0, 255].

  The floor undoes dequantization (`x + u`, `u` in [0, 1)); the clip catches
  the logit transform's inverse, which reaches slightly past [0, 256).
  NaN or infinite pixels raise InvalidArgumentError: no 8-bit value is right.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import latent

  pixels = latent.to_uint8(tf.constant([-0.2, 3.7, 255.9, 256.1]))
  assert pixels.dtype == tf.uint8 and list(pixels) == [0, 3, 255, 255]
  ```
  """
  pixels = tf.debugging.assert_all_finite(
      pixels, 'pixels must be finite to become 8-bit values')
  return tf.cast(tf.clip_by_value(tf.floor(pixels), 0., 255.), tf.uint8)


def encode(dist, images, **bijector_kwargs):
  """Latents of 8-bit images, scored at the bin centre (`x + 0.5`).

  #### Example

  ```python
  import tensorflow as tf
  import tfp_realnvp
  from tfp_realnvp import latent

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  images = tf.random.uniform([2, 8, 8, 1], 0, 256, tf.int32)
  z = latent.encode(dist, images)  # [2, 8, 8, 1]
  ```
  """
  pixels = tf.cast(images, dist.dtype) + 0.5
  return dist.bijector.inverse(pixels, **bijector_kwargs)


def decode(dist, z, **bijector_kwargs):
  """8-bit images from latents; `decode(dist, encode(dist, x)) == x`.

  A latent with NaN or infinite values raises InvalidArgumentError.

  #### Example

  ```python
  import tensorflow as tf
  import tfp_realnvp
  from tfp_realnvp import latent

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  images = tf.random.uniform([2, 8, 8, 1], 0, 256, tf.int32)
  again = latent.decode(dist, latent.encode(dist, images))
  assert tf.reduce_all(tf.cast(again, tf.int32) == images)
  ```
  """
  z = tf.debugging.assert_all_finite(
      tf.convert_to_tensor(z, dist.dtype), 'decode: z must be finite')
  return to_uint8(dist.bijector.forward(z, **bijector_kwargs))


def check_temperature(temperature):
  """`temperature`, if it is a finite number > 0; otherwise an error.

  A Python number raises ValueError; a tensor, InvalidArgumentError when it
  is evaluated.

  #### Example

  ```python
  from tfp_realnvp import latent

  assert latent.check_temperature(0.7) == 0.7
  try:
    latent.check_temperature(0.)
  except ValueError as e:
    assert 'temperature' in str(e)
  ```
  """
  message = 'temperature must be a finite number > 0'
  if tf.is_tensor(temperature):
    with tf.control_dependencies(
        [tf.debugging.assert_positive(temperature, message)]):
      return tf.debugging.assert_all_finite(temperature, message)
  if not (isinstance(temperature, (int, float)) and
          math.isfinite(temperature) and temperature > 0):
    raise ValueError(f'{message}; got {temperature!r}.')
  return temperature


def sample(dist, num, temperature=1., seed=0, batch_statistics=False,
           **bijector_kwargs):
  """`num` float images, `bijector.forward(z)`, `z ~ N(0, temperature^2 I)`.

  A temperature below 1 trades diversity for cleaner images. The latents
  come from a stateless RNG: the same seed gives the same latents, so samples
  of successive checkpoints compare.

  With `batch_statistics`, the batch norms inside the couplings' s,t
  networks normalize with the statistics of this batch of samples (their
  running averages untouched), as the authors' sampler does (its decoder
  runs the networks with `train=True`); the batch norms between couplings
  keep their running averages. The images are then not independent draws
  of `dist`, whose `log_prob` and `sample` use the running averages: each
  depends on the others in its batch. A batch conditioned on one class
  loses the class: its bias in the networks' features is the same for
  every sample, and the batch norms subtract the batch's mean.

  #### Example

  ```python
  import tensorflow as tf
  import tfp_realnvp
  from tfp_realnvp import latent

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  images = latent.sample(dist, 4, temperature=0.7, seed=3)  # [4, 8, 8, 1]
  assert tf.reduce_all(latent.sample(dist, 4, temperature=0.7, seed=3)
                       == images)  # the same latents
  ```
  """
  temperature = check_temperature(temperature)
  shape = [num, *dist.event_shape]
  z = temperature * tf.random.stateless_normal(shape, seed=[seed, 0],
                                               dtype=dist.dtype)
  if not batch_statistics:
    return dist.bijector.forward(z, **bijector_kwargs)
  with networks.frozen_averages():
    return dist.bijector.forward(z, training=True, **bijector_kwargs)


def manifold(z1, z2, z3, z4, size=8):
  """The paper's manifold of four latents (eq. 19, Figure 7).

  ```none
  z = cos(phi) * (cos(phi') z1 + sin(phi') z2)
    + sin(phi) * (cos(phi') z3 + sin(phi') z4)
  ```

  with `phi` and `phi'` on a `size` x `size` grid over [0, pi/2]. The mixing
  weights of the four latents have unit norm, so independent standard-normal
  latents mix into a standard-normal latent. Returns `[size, size, ...]`.

  #### Example

  ```python
  import tensorflow as tf
  import tfp_realnvp
  from tfp_realnvp import latent

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  images = tf.random.uniform([4, 8, 8, 1], 0, 256, tf.int32)
  z = latent.encode(dist, images)
  grid = latent.manifold(z[0], z[1], z[2], z[3], size=3)  # [3, 3, 8, 8, 1]
  pictures = latent.decode(dist, tf.reshape(grid, [9, 8, 8, 1]))
  ```
  """
  angles = tf.linspace(0., math.pi / 2., size)
  phi, phi_prime = tf.meshgrid(angles, angles, indexing='ij')
  weights = tf.stack([tf.cos(phi) * tf.cos(phi_prime),
                      tf.cos(phi) * tf.sin(phi_prime),
                      tf.sin(phi) * tf.cos(phi_prime),
                      tf.sin(phi) * tf.sin(phi_prime)], axis=-1)
  latents = tf.stack([z1, z2, z3, z4])
  weights = tf.cast(weights, latents.dtype)
  return tf.tensordot(weights, latents, axes=[[-1], [0]])


def resample_scales(dist, images, keep, temperature=1., seed=None):
  """Keeps the `keep` coarsest scales' latents of images; resamples the rest.

  This shows what each scale encodes (the paper's appendix): the finer
  scales' latents are drawn anew from N(0, temperature^2). With `keep` equal
  to the number of scales, the images come back exactly (at bin centres).
  Returns float pixels.

  #### Example

  ```python
  import tensorflow as tf
  import tfp_realnvp
  from tfp_realnvp import latent

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  images = tf.random.uniform([2, 8, 8, 1], 0, 256, tf.int32)
  coarse_kept = latent.resample_scales(dist, images, keep=1, seed=0)
  same = latent.resample_scales(dist, images, keep=2)
  assert tf.reduce_all(latent.to_uint8(same) == tf.cast(images, tf.uint8))
  ```
  """
  temperature = check_temperature(temperature)
  flow = dist.bijector
  scales = len(flow.scales)
  if not 0 <= keep <= scales:
    raise ValueError(f'keep must lie in [0, {scales}]; got {keep}.')
  parts = flow.split_latent(encode(dist, images))
  seeds = tf.random.split(
      tf.constant([0, 0] if seed is None else [seed, 0], tf.int32),
      len(parts))
  resampled = [
      temperature * tf.random.stateless_normal(tf.shape(part), seed=s,
                                               dtype=part.dtype)
      for part, s in zip(parts[:scales - keep], seeds)]
  z = flow.merge_latent(resampled + parts[scales - keep:])
  return flow.forward(z)
