"""Real NVP distributions: a standard-normal base pushed through the flow."""

import math

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_realnvp.bijectors import real_nvp

tfd = tfp.distributions

__all__ = ['real_nvp_distribution', 'real_nvp_vector_distribution',
           'bits_per_dim']


def _standard_normal(event_shape, dtype):
  return tfd.Sample(tfd.Normal(tf.zeros([], dtype), tf.ones([], dtype)),
                    sample_shape=list(event_shape))


def real_nvp_distribution(event_shape,
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
  """Real NVP over images: support `[0, 2**num_bits)^D`, D = H * W * C.

  Score dequantized pixels (`uint8 + uniform noise`): then
  `bits_per_dim(dist.log_prob(x), event_shape)` is bits/dim as the paper
  reports it. Batch normalization uses its running averages unless the call
  passes `bijector_kwargs={'training': True}`.

  Values outside the support (NaN, infinite, negative, >= 2**num_bits) raise
  InvalidArgumentError naming the support if `validate_args`; otherwise they
  are not checked: NaN and inf give NaN, and other outside values give
  numbers that are not densities.

  ```python
  dist = real_nvp_distribution([32, 32, 3], num_res_blocks=4, num_filters=32)
  x = tf.cast(images, tf.float32) + tf.random.uniform(images.shape)
  loss = -tf.reduce_mean(dist.log_prob(x, bijector_kwargs={'training': True}))
  samples = dist.sample(16)   # float pixels in [0, 256)
  ```

  See `multi_scale_real_nvp` for the arguments.
  """
  bijector = real_nvp.multi_scale_real_nvp(
      event_shape, num_scales=num_scales, num_res_blocks=num_res_blocks,
      num_filters=num_filters, batch_norm=batch_norm, num_bits=num_bits,
      num_classes=num_classes, dtype=dtype, network_dtype=network_dtype, validate_args=validate_args,
      name=name)
  return tfd.TransformedDistribution(
      _standard_normal(bijector.event_shape, dtype), bijector,
      validate_args=validate_args, name=name)


def real_nvp_vector_distribution(event_size,
                                 num_couplings=4,
                                 hidden_units=(64, 64),
                                 batch_norm=False,
                                 num_classes=None,
                                 dtype=tf.float32,
                                 validate_args=False,
                                 name='real_nvp_vector'):
  """Real NVP over vectors in R^event_size, with MLP couplings.

  ```python
  dist = real_nvp_vector_distribution(2, num_couplings=8)
  dist.log_prob(tf.constant([[0.5, -1.]]))
  ```

  With `num_classes` the density is class-conditional: pass
  `bijector_kwargs={'conditional_input': one_hot}` to every call.
  """
  bijector = real_nvp.vector_real_nvp(
      event_size, num_couplings=num_couplings, hidden_units=hidden_units,
      batch_norm=batch_norm, num_classes=num_classes, dtype=dtype,
      validate_args=validate_args, name=name)
  return tfd.TransformedDistribution(
      _standard_normal([event_size], dtype), bijector,
      validate_args=validate_args, name=name)


def bits_per_dim(log_prob, event_shape):
  """`-log_prob / (D ln 2)`: bits per dimension of a density on pixel values.

  For a density on `[0, 256)^D` (as `real_nvp_distribution`'s), evaluated at
  dequantized 8-bit pixels, this is the paper's bits/dim.
  """
  num_dims = math.prod(int(d) for d in event_shape)
  return -log_prob / (num_dims * math.log(2.))
