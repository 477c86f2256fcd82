"""Real NVP distributions: a standard-normal base pushed through the flow."""

import math

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_realnvp import config as config_lib
from tfp_realnvp.bijectors import multi_scale

tfd = tfp.distributions

__all__ = ['real_nvp_distribution', 'real_nvp_vector_distribution',
           'bits_per_dim']


def _standard_normal(event_shape, dtype):
  return tfd.Sample(tfd.Normal(tf.zeros([], dtype), tf.ones([], dtype)),
                    sample_shape=list(event_shape))


def real_nvp_distribution(architecture,
                          dtype=tf.float32,
                          validate_args=False,
                          name=None,
                          **fields):
  """Real NVP over images of 8-bit (`num_bits`) pixels.

  `architecture` is an `Architecture`, or the event shape `[H, W, C]` with
  the other fields of `Architecture` as keyword arguments.

  Score dequantized pixels (`uint8 + uniform noise`, in `[0, 256)`): then
  `bits_per_dim(dist.log_prob(x), event_shape)` is bits/dim as the paper
  reports it. Batch normalization uses its running averages unless the call
  passes `bijector_kwargs={'training': True}`.

  The support is the image of the logit transform's `forward`,
  `(lower, upper)^D` with `(lower, upper) = dist.bijector.logit.support`
  (about (-14.2, 270.2) for 8 bits): samples lie there, and with
  `validate_args` values outside it raise InvalidArgumentError naming it.
  It holds the pixel cube `[0, 256)^D`.

  #### Example

  A small model on 8x8 gray images (the paper's CIFAR-10 model is
  `real_nvp_distribution([32, 32, 3], num_scales=2, num_res_blocks=8,
  num_filters=64)`):

  ```python
  import tensorflow as tf
  import tfp_realnvp

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=1, num_res_blocks=0, num_filters=4)
  images = tf.random.uniform([2, 8, 8, 1], 0, 256, tf.int32)
  x = tf.cast(images, tf.float32) + tf.random.uniform(images.shape)  # dequantized
  loss = -tf.reduce_mean(dist.log_prob(x, bijector_kwargs={'training': True}))
  bits = tfp_realnvp.bits_per_dim(dist.log_prob(x), [8, 8, 1])  # shape [2]
  samples = dist.sample(3, seed=1)  # [3, 8, 8, 1], in the support
  ```
  """
  if not isinstance(architecture, config_lib.Architecture):
    architecture = config_lib.Architecture(architecture, **fields)
  elif fields:
    raise TypeError(f'Give the fields {sorted(fields)} in the Architecture.')
  bijector = multi_scale.multi_scale_real_nvp(
      architecture, dtype=dtype, validate_args=validate_args)
  return tfd.TransformedDistribution(
      _standard_normal(architecture.event_shape, dtype), bijector,
      validate_args=validate_args, name=name)


def real_nvp_vector_distribution(event_size,
                                 num_couplings=4,
                                 hidden_units=(64, 64),
                                 batch_norm=False,
                                 num_classes=None,
                                 dtype=tf.float32,
                                 validate_args=False,
                                 name=None):
  """Real NVP over vectors in R^event_size, with MLP couplings.

  With `num_classes` the density is class-conditional: pass
  `bijector_kwargs={'conditional_input': one_hot}` to every call.

  #### Example

  ```python
  import tensorflow as tf
  import tfp_realnvp

  dist = tfp_realnvp.real_nvp_vector_distribution(2, num_couplings=8)
  log_prob = dist.log_prob(tf.constant([[0.5, -1.]]))  # shape [1]
  points = dist.sample(5, seed=1)  # [5, 2]

  labelled = tfp_realnvp.real_nvp_vector_distribution(2, num_classes=3)
  one_hot = tf.one_hot([2], 3)
  labelled.log_prob(tf.constant([[0.5, -1.]]),
                    bijector_kwargs={'conditional_input': one_hot})
  ```
  """
  bijector = multi_scale.vector_real_nvp(
      event_size, num_couplings=num_couplings, hidden_units=hidden_units,
      batch_norm=batch_norm, num_classes=num_classes, dtype=dtype,
      validate_args=validate_args)
  return tfd.TransformedDistribution(
      _standard_normal([event_size], dtype), bijector,
      validate_args=validate_args, name=name)


def bits_per_dim(log_prob, event_shape):
  """`-log_prob / (D ln 2)`: bits per dimension of a density on pixel values.

  With `D` the number of dimensions of `event_shape`:

  ```none
  bits_per_dim = -log_prob / (D ln 2)
  ```

  For `real_nvp_distribution`, evaluated at dequantized 8-bit pixels, this
  is the paper's bits/dim.

  #### Example

  ```python
  import math
  import tfp_realnvp

  # A uniform density on [0, 256)^D has 8 bits per dimension.
  event_shape = [4, 4, 3]
  log_prob = -math.prod(event_shape) * math.log(256.)
  assert abs(tfp_realnvp.bits_per_dim(log_prob, event_shape) - 8.) < 1e-12
  ```
  """
  num_dims = math.prod(int(d) for d in event_shape)
  return -log_prob / (num_dims * math.log(2.))
