"""Batch normalization as a bijector, with running averages (section 3.7)."""

import tensorflow as tf

from tfp_realnvp.bijectors import _one_pass

__all__ = ['BatchNormalization']


class BatchNormalization(_one_pass.OnePassBijector):
  """Per-channel normalization whose effect enters the log-det.

  As in `tfb.BatchNormalization`, `forward` is the generative direction
  (de-normalization) and `inverse` the paper's normalization:

  ```none
  forward:  x = z * sqrt(var + eps) + mean
  inverse:  z = (x - mean) / sqrt(var + eps)
  log|det dx/dz| = 1/2 * sum_{event} log(var + eps)
  ```

  with one `mean`, `var` per channel (the last axis), broadcast over the
  other event dimensions, so an `[H, W, C]` event adds
  `-H * W / 2 * sum_c log(var_c + eps)`.

  With a `mask` (as a coupling's: 1 where the coupling passes its input
  through), only the entries where the mask is 0 are normalized, and the
  statistics are those of `x * (1 - mask)` over the batch and every
  position, zeros included: the authors' `bn_out` after each coupling
  (tensorflow/models, research/real_nvp). The log-det then counts only the
  normalized entries.

  `training=False` (the default, as for Keras layers) uses the running
  averages in both directions, so the bijector is a fixed affine map with an
  exact inverse. `training=True`, passed through `bijector_kwargs`, makes
  `inverse` normalize with the statistics of the batch being scored and
  update the running averages (`avg <- momentum * avg + (1 - momentum) *
  batch`); as in the paper, the log-det treats those statistics as constants
  of the batch. `forward` (generation) always uses the running averages:
  there is no data batch whose statistics it could use. This is
  `tfb.BatchNormalization` with a `training` keyword argument instead of a
  constructor flag, so one flow serves training and evaluation.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import bijectors

  bn = bijectors.BatchNormalization(num_channels=3)
  x = tf.random.normal([16, 4, 4, 3], mean=5.)
  z = bn.inverse(x, training=True)   # batch statistics, updates averages
  z = bn.inverse(x)                  # running averages
  x_again = bn.forward(z)            # generation: running averages
  ```
  """

  def __init__(self,
               num_channels,
               event_ndims=3,
               mask=None,
               momentum=0.9,
               epsilon=1e-4,
               validate_args=False,
               dtype=tf.float32,
               name='batch_normalization'):
    """Builds the bijector.

    Args:
      num_channels: size of the last axis, normalized separately.
      event_ndims: rank of the events (3 for images, 1 for vectors).
      mask: None, or 0s and 1s broadcastable to the event shape: only the
        entries where it is 0 are normalized.
      momentum: running averages keep this fraction of their value per batch
        (0.9 is the paper's decay of 0.1).
      epsilon: added to the variance.
      validate_args: Python `bool`, check inputs at run time.
      dtype: float dtype of the events and statistics.
      name: name scope.
    """
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      self._num_channels = int(num_channels)
      self._event_ndims = int(event_ndims)
      self._changed = None if mask is None else tf.constant(1. - mask, dtype)
      self._momentum = momentum
      self._epsilon = epsilon
      # ON_READ/MEAN: under tf.distribute each replica updates its own copy
      # and reads see their mean, as for Keras' batch normalization.
      averages = dict(
          trainable=False, synchronization=tf.VariableSynchronization.ON_READ,
          aggregation=tf.VariableAggregation.MEAN)
      self.moving_mean = tf.Variable(
          tf.zeros([self._num_channels], dtype), name='moving_mean', **averages)
      self.moving_variance = tf.Variable(
          tf.ones([self._num_channels], dtype), name='moving_variance',
          **averages)
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
  def kwarg_names(self):
    return frozenset({'training'})

  def _check_channels(self, x):
    if x.shape.rank is not None and (
        x.shape.rank < self._event_ndims or
        x.shape[-1] not in (None, self._num_channels)):
      raise ValueError(
          f'{self.name} expects events of rank {self._event_ndims} with '
          f'{self._num_channels} channels last; got shape {x.shape}.')

  def _changed_per_channel(self, x):
    """Entries of one event that a channel's statistics normalize, e.g. H*W."""
    event = tf.ones(tf.shape(x)[-self._event_ndims:], x.dtype)
    if self._changed is not None:
      event *= self._changed
    return tf.reduce_sum(event, axis=range(self._event_ndims - 1))

  def _normalization_log_det(self, x, variance):
    """log|det dz/dx| of normalizing with `variance`, per event."""
    per_event = -0.5 * tf.reduce_sum(self._changed_per_channel(x) *
                                     tf.math.log(variance + self._epsilon))
    return tf.fill(tf.shape(x)[:-self._event_ndims], per_event)

  def _batch_statistics(self, x):
    if self._changed is not None:
      x = x * self._changed
    mean, variance = tf.nn.moments(x, axes=list(range(x.shape.rank - 1)))
    m = tf.constant(self._momentum, x.dtype)  # tf.cast would round via float32
    self.moving_mean.assign(m * self.moving_mean + (1. - m) * mean)
    self.moving_variance.assign(m * self.moving_variance + (1. - m) * variance)
    return mean, variance

  def _inverse_and_log_det(self, x, training=False):
    self._check_channels(x)
    if training:
      mean, variance = self._batch_statistics(x)
    else:
      mean, variance = self.moving_mean, self.moving_variance
    z = (x - mean) * tf.math.rsqrt(variance + self._epsilon)
    if self._changed is not None:
      z = tf.where(self._changed > 0., z, x)
    return z, self._normalization_log_det(x, variance)

  def _forward_and_log_det(self, z, training=False):
    del training  # Generation has no data batch: always the running averages.
    self._check_channels(z)
    variance = self.moving_variance
    x = z * tf.sqrt(variance + self._epsilon) + self.moving_mean
    if self._changed is not None:
      x = tf.where(self._changed > 0., x, z)
    return x, -self._normalization_log_det(z, variance)
