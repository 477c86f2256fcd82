"""Maximum likelihood as a Keras model: one training step for every program.

`DistributionModel` trains any TFP distribution by `fit` (or by its
`make_train_function`, as the benchmark and the 2-D study do); `FlowModel` is
Real NVP on images, scored in bits/dim.
"""

import tensorflow as tf
from tensorflow.core.protobuf import config_pb2
from tensorflow.python.eager import context
import tf_keras

from tfp_realnvp import distributions
from tfp_realnvp import latent
from tfp_realnvp import networks
from tfp_realnvp.bijectors import flow
from tfp_realnvp.training import optimizers

__all__ = ['DistributionModel', 'FlowModel']


class DistributionModel(tf_keras.Model):
  """`model(x)` scores each example `x`: its negative log-likelihood in nats.

  Training minimizes the batch's mean negative log-likelihood in nats plus
  `penalty()`, and reports the mean score. A flow's batch normalizations
  use batch statistics in training and their running averages otherwise.
  A step whose loss or gradient is not finite changes nothing (weights,
  optimizer, running averages) and adds one to `nonfinite_steps`. Under a `tf.distribute`
  strategy the loss is the global batch's. Coupling networks in float16
  get loss scaling, as Keras gives a mixed_float16 model.

  ```none
  loss = mean(-log p(x)) + penalty()     # nats, over the global batch
  ```

  #### Example

  ```python
  import tensorflow as tf
  import tf_keras
  import tfp_realnvp
  from tfp_realnvp import training

  model = training.DistributionModel(
      tfp_realnvp.real_nvp_vector_distribution(2, hidden_units=(8,)))
  model.compile(tf_keras.optimizers.Adam(1e-3))
  points = tf.data.Dataset.from_tensor_slices(tf.random.normal([64, 2]))
  model.fit(points.batch(32), epochs=1, verbose=0)
  nll = model(tf.zeros([3, 2]))  # nats, shape [3]
  ```

  Subclasses change the score (`FlowModel`: bits/dim), what they condition
  on, and `penalty`.

  `optimize_graph=False` (the default) runs the training step without
  TensorFlow's graph optimizer (Grappler): on the paper's CIFAR-10 model
  it spent 11 s of CPU before the first step and the step ran no faster
  for it (docs/performance.md). It changes how the step's graph is
  executed, not what it computes.
  """

  def __init__(self, distribution, metric_name='nll', optimize_graph=False,
               **kwargs):
    super().__init__(**kwargs)
    self.distribution = distribution
    self.optimize_graph = optimize_graph
    self.nonfinite_steps = tf.Variable(0, trainable=False, dtype=tf.int64,
                                       name='nonfinite_steps')
    self.loss_tracker = tf_keras.metrics.Mean('loss')
    self.score_tracker = tf_keras.metrics.Mean(metric_name)
    # The metrics' results are already over all replicas; fit's default
    # would sum them over the replicas.
    self.distribute_reduction_method = 'first'

  def compile(self, optimizer, **kwargs):
    # As Keras does for a mixed_float16 model: float16 gradients underflow
    # without loss scaling.
    if self._has_float16_layers() and not isinstance(
        optimizer, tf_keras.mixed_precision.LossScaleOptimizer):
      optimizer = tf_keras.mixed_precision.LossScaleOptimizer(optimizer)
    super().compile(optimizer=optimizer, **kwargs)
    # Slots created now, not inside train_step's tf.cond (which cannot create
    # variables), and before a checkpoint restores into them.
    self.optimizer.build(self.trainable_variables)

  def _has_float16_layers(self):
    return any(isinstance(m, tf_keras.layers.Layer) and
               m.compute_dtype == 'float16'
               for m in self.distribution.submodules)

  def make_train_function(self, force=False):
    step = super().make_train_function(force)
    if self.optimize_graph or getattr(step, 'without_grappler', False):
      return step

    def train_function(iterator):
      # Grappler reads its options from the calls' (thread-local) options,
      # when the function is first instantiated: trace and run under these.
      ctx = context.context()
      saved = ctx.function_call_options
      config = config_pb2.ConfigProto.FromString(
          saved.config_proto_serialized)
      config.graph_options.rewrite_options.disable_meta_optimizer = True
      ctx.function_call_options = context.FunctionCallOptions(
          executor_type=saved.executor_type, config_proto=config)
      try:
        return step(iterator)
      finally:
        ctx.function_call_options = saved

    train_function.without_grappler = True
    # Traces (without running) as fit's step function does; not when eager.
    if hasattr(step, 'get_concrete_function'):
      train_function.get_concrete_function = step.get_concrete_function
    self.train_function = train_function
    return train_function

  @property
  def metrics(self):
    return [self.loss_tracker, self.score_tracker]

  def log_prob_kwargs(self, training, **bijector_kwargs):
    """`log_prob` keyword arguments: `bijector_kwargs`, and `training` for a
    flow that declares it (batch normalization); other distributions take
    none."""
    bijector = getattr(self.distribution, 'bijector', None)
    if 'training' in flow.kwarg_names(bijector):
      bijector_kwargs['training'] = training
    return {'bijector_kwargs': bijector_kwargs} if bijector_kwargs else {}

  def negative_log_likelihood(self, inputs, training=False):
    """Of each example, in nats."""
    return -self.distribution.log_prob(inputs,
                                       **self.log_prob_kwargs(training))

  def score(self, negative_log_likelihood):
    """What `model(x)` and the metric report; nats here."""
    return negative_log_likelihood

  def call(self, inputs, training=False):
    return self.score(self.negative_log_likelihood(inputs, training))

  def penalty(self):
    """What training adds to the mean negative log-likelihood; none here."""
    return tf.zeros([], self.distribution.dtype)

  # Its Python branches are on Python values (tf.cond where not); autograph
  # would rewrite every function and layer it calls while tracing.
  @tf.autograph.experimental.do_not_convert
  def train_step(self, inputs):
    # Batch normalization updates its running averages in the forward pass;
    # a skipped step puts these copies back.
    averages = self.distribution.non_trainable_variables
    # A read is a snapshot (a later assignment writes a new buffer); an
    # identity op per variable would add nothing but ops.
    saved = [tf.convert_to_tensor(v) for v in averages]
    replica = tf.distribute.get_replica_context()
    scaling = isinstance(self.optimizer,
                         tf_keras.mixed_precision.LossScaleOptimizer)
    with tf.GradientTape() as tape:
      nll = tf.reduce_mean(self.negative_log_likelihood(inputs, training=True))
      loss = nll + self.penalty()
      # Gradients are summed over replicas: this makes the sum the gradient
      # of the loss of the global batch.
      replica_loss = loss / replica.num_replicas_in_sync
      if scaling:
        replica_loss = self.optimizer.get_scaled_loss(replica_loss)
    gradients = tape.gradient(replica_loss, self.trainable_variables)
    if scaling:
      gradients = self.optimizer.get_unscaled_gradients(gradients)
    # Summed before the test, so that every replica makes the same decision.
    # (One replica's sum is its own: no identity op per gradient.)
    global_loss = loss
    if replica.num_replicas_in_sync > 1:
      global_loss, gradients = replica.all_reduce(
          tf.distribute.ReduceOp.SUM, (loss / replica.num_replicas_in_sync,
                                       gradients))
    finite = tf.math.is_finite(global_loss)
    norm = None
    if not scaling:  # A LossScaleOptimizer skips overflows itself.
      norm = tf.linalg.global_norm(gradients)
      finite &= tf.math.is_finite(norm)
    replica.merge_call(self._apply_if_finite, args=(finite, gradients, norm))

    def update_metrics():
      self.loss_tracker.update_state(loss)
      self.score_tracker.update_state(self.score(nll))

    def restore_averages():
      for variable, value in zip(averages, saved):
        variable.assign(value)  # ON_READ: this replica's copy, no sync.

    tf.cond(finite, update_metrics, restore_averages)
    return {m.name: m.result() for m in self.metrics}

  def _apply_if_finite(self, strategy, finite, gradients, norm):
    """The update, or a count of the skipped step, in cross-replica context.

    As in LossScaleOptimizer: a branch of a tf.cond in replica context cannot
    hold apply_gradients, which synchronizes the replicas. `norm` is the
    gradients' global norm or None; FusedAdam clips with it.
    """
    def update(gradients, norm):
      kwargs = {}
      if norm is not None and isinstance(self.optimizer, optimizers.FusedAdam):
        kwargs['global_norm'] = norm
      self.optimizer.apply_gradients(zip(gradients, self.trainable_variables),
                                     skip_gradients_aggregation=True, **kwargs)

    def apply():
      strategy.extended.call_for_each_replica(update, args=(gradients, norm))

    def skip():
      self.nonfinite_steps.assign_add(1)

    tf.cond(strategy.experimental_local_results(finite)[0], apply, skip)

  def test_step(self, inputs):
    self.score_tracker.update_state(self(inputs))
    return {self.score_tracker.name: self.score_tracker.result()}


class FlowModel(DistributionModel):
  """`model(x)` is the bits/dim of each image `x` (dequantized pixels).

  The distribution is `real_nvp_distribution(architecture)`. Training
  minimizes, as the authors' code does, the mean negative log-likelihood in
  nats per image plus `l2` times the sum of squares of the networks'
  `regularized_weights` (the weight-norm gains and the checkerboard
  couplings' log-scale scalars); the progress bar, logs and evaluation
  report bits/dim. With
  `architecture.num_classes` the model is class-conditional: its inputs are
  `(x, labels)` pairs of images and integer labels. `recompute_gradients`
  sets the coupling networks' (`networks.ResNet`): less memory in training
  for one more forward pass of each network.

  ```none
  loss = mean(-log p(x)) + l2 * sum(w^2 for w in regularized_weights)
  bits/dim = -log p(x) / (D ln 2)
  ```

  #### Example

  ```python
  import tensorflow as tf
  import tf_keras
  import tfp_realnvp
  from tfp_realnvp import training

  model = training.FlowModel(tfp_realnvp.Architecture(
      [8, 8, 1], num_scales=1, num_res_blocks=0, num_filters=4))
  model.compile(tf_keras.optimizers.Adam(1e-3, global_clipnorm=100.))
  pixels = tf.random.uniform([32, 8, 8, 1], 0, 256, tf.int32)
  images = tf.data.Dataset.from_tensor_slices(pixels).map(
      lambda x: tf.cast(x, tf.float32) + tf.random.uniform([8, 8, 1]))
  model.fit(images.batch(16), epochs=1, verbose=0)
  samples = model.distribution.sample(4)  # [4, 8, 8, 1]
  ```
  """

  def __init__(self, architecture, l2=5e-5, recompute_gradients=False,
               **kwargs):
    super().__init__(distributions.real_nvp_distribution(architecture),
                     metric_name='bits_per_dim', **kwargs)
    self.architecture = architecture
    self.l2 = l2
    for network in self.coupling_networks:
      network.recompute_gradients = recompute_gradients

  @property
  def coupling_networks(self):
    """The s,t networks (`networks.ResNet`) of the flow's couplings."""
    return [layer for layer in self.distribution.bijector.submodules
            if isinstance(layer, networks.ResNet)]

  def condition(self, labels):
    """bijector_kwargs conditioning on integer `labels`, if conditional."""
    if not self.architecture.num_classes:
      return {}
    return {'conditional_input': tf.one_hot(labels,
                                            self.architecture.num_classes)}

  def negative_log_likelihood(self, inputs, training=False):
    x, labels = inputs if self.architecture.num_classes else (inputs, None)
    return -self.distribution.log_prob(
        x, **self.log_prob_kwargs(training, **self.condition(labels)))

  def score(self, negative_log_likelihood):
    return distributions.bits_per_dim(-negative_log_likelihood,
                                      self.architecture.event_shape)

  def penalty(self):
    # l2_loss is sum(w^2) / 2 in one op, its gradient one op too (sum and
    # square: eight together).
    return 2 * self.l2 * tf.add_n([
        tf.nn.l2_loss(weight)
        for network in self.coupling_networks
        for weight in network.regularized_weights])

  def sample_images(self, num, temperature=1., seed=0, labels=None,
                    batch_statistics=False):
    """Float images of `latent.sample`; a conditional model draws `labels`
    (default: the classes in turn, so a grid shows one class per column)."""
    if self.architecture.num_classes and labels is None:
      labels = tf.range(num) % self.architecture.num_classes
    return latent.sample(self.distribution, num, temperature, seed,
                         batch_statistics, **self.condition(labels))
