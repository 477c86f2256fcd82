"""Real NVP as a Keras model, trained by `fit` on bits/dim."""

import tensorflow as tf
import tf_keras

from tfp_realnvp import distributions
from tfp_realnvp import networks

__all__ = ['FlowModel']


class FlowModel(tf_keras.Model):
  """`model(x)` is the bits/dim of each image `x` (dequantized pixels).

  Training minimizes the mean bits/dim of the batch plus `l2` times the
  squared weight-norm gains `g` (the paper's L2 on the scale parameters), with
  batch normalization on batch statistics; evaluation and `model(x)` use the
  running averages. A step whose loss or gradient is not finite changes
  nothing (weights, optimizer, running averages) and adds one to
  `nonfinite_steps`.

  ```python
  model = FlowModel([28, 28, 1], num_scales=3, num_res_blocks=1)
  model.compile(tf_keras.optimizers.Adam(1e-3, global_clipnorm=100.))
  model.fit(batches, validation_data=validation_batches, epochs=8)
  samples = model.distribution.sample(16)
  ```
  """

  def __init__(self, image_shape, num_scales=None, num_res_blocks=4,
               num_filters=32, l2=5e-5, **kwargs):
    super().__init__(**kwargs)
    self.image_shape = tuple(image_shape)
    self.l2 = l2
    self.distribution = distributions.real_nvp_distribution(
        self.image_shape, num_scales=num_scales,
        num_res_blocks=num_res_blocks, num_filters=num_filters)
    self.nonfinite_steps = tf.Variable(0, trainable=False, dtype=tf.int64,
                                       name='nonfinite_steps')
    self.bits_per_dim = tf_keras.metrics.Mean('bits_per_dim')
    self.loss_tracker = tf_keras.metrics.Mean('loss')

  def compile(self, optimizer, **kwargs):
    super().compile(optimizer=optimizer, **kwargs)
    # Slots created now, not inside train_step's tf.cond (which cannot create
    # variables), and before a checkpoint restores into them.
    self.optimizer.build(self.trainable_variables)

  @property
  def metrics(self):
    return [self.loss_tracker, self.bits_per_dim]

  def call(self, x, training=False):
    log_prob = self.distribution.log_prob(
        x, bijector_kwargs={'training': training})
    return distributions.bits_per_dim(log_prob, self.image_shape)

  def _gains(self):
    return [layer.g for layer in self.distribution.bijector.submodules
            if isinstance(layer, networks.WeightNormConv2D)]

  def train_step(self, x):
    # Batch normalization updates its running averages in the forward pass;
    # a skipped step puts these copies back.
    averages = self.distribution.non_trainable_variables
    saved = [tf.identity(v) for v in averages]
    with tf.GradientTape() as tape:
      bits_per_dim = tf.reduce_mean(self(x, training=True))
      loss = bits_per_dim + self.l2 * tf.add_n(
          [tf.reduce_sum(tf.square(g)) for g in self._gains()])
    variables = self.trainable_variables
    gradients = tape.gradient(loss, variables)
    finite = tf.math.is_finite(loss) & tf.math.is_finite(
        tf.linalg.global_norm(gradients))

    def update():
      self.optimizer.apply_gradients(zip(gradients, variables))
      self.loss_tracker.update_state(loss)
      self.bits_per_dim.update_state(bits_per_dim)

    def skip():
      for variable, value in zip(averages, saved):
        variable.assign(value)
      self.nonfinite_steps.assign_add(1)

    tf.cond(finite, update, skip)
    return {m.name: m.result() for m in self.metrics}

  def test_step(self, x):
    self.bits_per_dim.update_state(self(x))
    return {self.bits_per_dim.name: self.bits_per_dim.result()}
