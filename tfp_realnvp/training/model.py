"""Real NVP as a Keras model, trained by `fit` on bits/dim."""

import tensorflow as tf
import tf_keras

from tfp_realnvp import distributions
from tfp_realnvp import latent
from tfp_realnvp import networks

__all__ = ['FlowModel']


class FlowModel(tf_keras.Model):
  """`model(x)` is the bits/dim of each image `x` (dequantized pixels).

  Training minimizes the mean bits/dim of the batch plus `l2` times the
  squared weight-norm gains `g` (the paper's L2 on the scale parameters), with
  batch normalization on batch statistics; evaluation and `model(x)` use the
  running averages. With `num_classes` the model is class-conditional: its
  inputs are `(x, labels)` pairs of images and integer labels. A step whose loss or gradient is not finite changes
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
               num_filters=32, l2=5e-5, num_classes=None, batch_norm=True,
               network_dtype=None, **kwargs):
    super().__init__(**kwargs)
    self.image_shape = tuple(image_shape)
    self.l2 = l2
    self.num_classes = num_classes
    self.distribution = distributions.real_nvp_distribution(
        self.image_shape, num_scales=num_scales,
        num_res_blocks=num_res_blocks, num_filters=num_filters,
        num_classes=num_classes, batch_norm=batch_norm,
        network_dtype=network_dtype)
    self.network_dtype = network_dtype
    self.nonfinite_steps = tf.Variable(0, trainable=False, dtype=tf.int64,
                                       name='nonfinite_steps')
    self.bits_per_dim = tf_keras.metrics.Mean('bits_per_dim')
    self.loss_tracker = tf_keras.metrics.Mean('loss')
    # The metrics' results are already over all replicas; fit's default
    # would sum them over the replicas.
    self.distribute_reduction_method = 'first'

  def compile(self, optimizer, **kwargs):
    # As Keras does for a mixed_float16 model: float16 gradients underflow
    # without loss scaling.
    if (self.network_dtype == 'mixed_float16' and not isinstance(
        optimizer, tf_keras.mixed_precision.LossScaleOptimizer)):
      optimizer = tf_keras.mixed_precision.LossScaleOptimizer(optimizer)
    super().compile(optimizer=optimizer, **kwargs)
    # Slots created now, not inside train_step's tf.cond (which cannot create
    # variables), and before a checkpoint restores into them.
    self.optimizer.build(self.trainable_variables)

  @property
  def metrics(self):
    return [self.loss_tracker, self.bits_per_dim]

  def condition(self, labels):
    """bijector_kwargs conditioning on integer `labels`, if conditional."""
    if not self.num_classes:
      return {}
    return {'conditional_input': tf.one_hot(labels, self.num_classes)}

  def call(self, inputs, training=False):
    x, labels = inputs if self.num_classes else (inputs, None)
    log_prob = self.distribution.log_prob(
        x, bijector_kwargs={'training': training, **self.condition(labels)})
    return distributions.bits_per_dim(log_prob, self.image_shape)

  def sample_images(self, num, temperature=1., seed=0, labels=None):
    """Float images of `latent.sample`; a conditional model draws `labels`
    (default: the classes in turn, so a grid shows one class per column)."""
    if self.num_classes and labels is None:
      labels = tf.range(num) % self.num_classes
    return latent.sample(self.distribution, num, temperature, seed,
                         **self.condition(labels))

  def _gains(self):
    return [layer.g for layer in self.distribution.bijector.submodules
            if isinstance(layer, networks.WeightNormConv2D)]

  def train_step(self, x):
    # Batch normalization updates its running averages in the forward pass;
    # a skipped step puts these copies back.
    averages = self.distribution.non_trainable_variables
    saved = [tf.identity(v) for v in averages]
    replica = tf.distribute.get_replica_context()
    scaling = isinstance(self.optimizer,
                         tf_keras.mixed_precision.LossScaleOptimizer)
    with tf.GradientTape() as tape:
      bits_per_dim = tf.reduce_mean(self(x, training=True))
      loss = bits_per_dim + self.l2 * tf.add_n(
          [tf.reduce_sum(tf.square(g)) for g in self._gains()])
      # Gradients are summed over replicas: this makes the sum the gradient
      # of the loss of the global batch.
      replica_loss = loss / replica.num_replicas_in_sync
      if scaling:
        replica_loss = self.optimizer.get_scaled_loss(replica_loss)
    gradients = tape.gradient(replica_loss, self.trainable_variables)
    if scaling:
      gradients = self.optimizer.get_unscaled_gradients(gradients)
    # Summed before the test, so that every replica makes the same decision.
    global_loss, gradients = replica.all_reduce(
        tf.distribute.ReduceOp.SUM, (loss / replica.num_replicas_in_sync,
                                     gradients))
    finite = tf.math.is_finite(global_loss)
    if not scaling:  # A LossScaleOptimizer skips overflows itself.
      finite &= tf.math.is_finite(tf.linalg.global_norm(gradients))
    replica.merge_call(self._apply_if_finite, args=(finite, gradients))

    def update_metrics():
      self.loss_tracker.update_state(loss)
      self.bits_per_dim.update_state(bits_per_dim)

    def restore_averages():
      for variable, value in zip(averages, saved):
        variable.assign(value)  # ON_READ: this replica's copy, no sync.

    tf.cond(finite, update_metrics, restore_averages)
    return {m.name: m.result() for m in self.metrics}

  def _apply_if_finite(self, strategy, finite, gradients):
    """The update, or a count of the skipped step, in cross-replica context.

    As in LossScaleOptimizer: a branch of a tf.cond in replica context cannot
    hold apply_gradients, which synchronizes the replicas.
    """
    def apply():
      strategy.extended.call_for_each_replica(
          lambda g: self.optimizer.apply_gradients(
              zip(g, self.trainable_variables),
              skip_gradients_aggregation=True),
          args=(gradients,))

    def skip():
      self.nonfinite_steps.assign_add(1)

    tf.cond(strategy.experimental_local_results(finite)[0], apply, skip)

  def test_step(self, x):
    self.bits_per_dim.update_state(self(x))
    return {self.bits_per_dim.name: self.bits_per_dim.result()}
