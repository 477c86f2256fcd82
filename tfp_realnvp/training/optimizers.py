"""Adam whose update is TensorFlow's fused kernel."""

import tensorflow as tf
import tf_keras

__all__ = ['FusedAdam']


class FusedAdam(tf_keras.optimizers.Adam):
  """`tf_keras.optimizers.Adam`, each variable updated by one fused op.

  The arithmetic is Adam's, as Keras does it:

  ```none
  m <- m + (1 - beta_1) (g - m)
  v <- v + (1 - beta_2) (g^2 - v)
  w <- w - lr sqrt(1 - beta_2^t) / (1 - beta_1^t) m / (sqrt(v) + epsilon)
  ```

  but it runs as TensorFlow's `ResourceApplyAdam` kernel, not as about
  twenty graph ops per variable. With the few hundred variables of a deep
  Real NVP, those ops were half the training step's graph and half its
  tracing time (10 of 21 s for the small benchmark model). Slots and
  checkpoints are Adam's, so either restores the other's checkpoints.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import training

  w = tf.Variable([1., 2.])
  optimizer = training.FusedAdam(1e-3, global_clipnorm=100.)
  optimizer.apply_gradients([(tf.constant([1., -1.]), w)])
  # Adam's first step moves each weight by the learning rate.
  assert abs(float(w[0]) - (1. - 1e-3)) < 1e-6
  ```
  """

  def __init__(self, learning_rate=0.001, **kwargs):
    if kwargs.get('amsgrad') or kwargs.get('adaptive_epsilon'):
      raise ValueError('FusedAdam supports neither amsgrad nor '
                       'adaptive_epsilon; use tf_keras.optimizers.Adam.')
    super().__init__(learning_rate, **kwargs)
    self._step_constants = None  # {(dtype, device): ...} inside a step
    self._global_norm = None  # The caller's, inside a step.

  def apply_gradients(self, grads_and_vars, *args, global_norm=None,
                      **kwargs):
    """Adam's `apply_gradients`; `global_norm`, if given, is the gradients'
    `tf.linalg.global_norm`, which a caller that has computed it already
    (say, to test the gradients for overflow) passes so that clipping by
    `global_clipnorm` does not compute it again (an op per variable)."""
    # The step's hyperparameters, made once per dtype and device instead of
    # once per variable: 10 fewer graph ops per variable, a tenth of the
    # CIFAR-10 model's traced ops.
    self._step_constants = self._no_dependency({})  # Not checkpointed.
    self._global_norm = global_norm
    try:
      return super().apply_gradients(grads_and_vars, *args, **kwargs)
    finally:
      self._step_constants = self._global_norm = None

  def _clip_gradients(self, grads):
    if (self._global_norm is not None and self.global_clipnorm and
        self.global_clipnorm > 0):
      return tf.clip_by_global_norm(grads, self.global_clipnorm,
                                    use_norm=self._global_norm)[0]
    return super()._clip_gradients(grads)

  def _hyperparameters(self, dtype, device):
    cache = self._step_constants
    if cache is not None and (dtype, device) in cache:
      return cache[dtype, device]
    step = tf.cast(self.iterations + 1, dtype)
    beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
    constants = dict(
        beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
        lr=tf.cast(self.learning_rate, dtype), beta1=beta_1, beta2=beta_2,
        epsilon=tf.cast(self.epsilon, dtype))
    if cache is not None:
      cache[dtype, device] = constants
    return constants

  def update_step(self, gradient, variable):
    if isinstance(gradient, tf.IndexedSlices):  # No fused sparse kernel.
      return super().update_step(gradient, variable)
    index = self._index_dict[self._var_key(variable)]
    return tf.raw_ops.ResourceApplyAdam(
        var=variable.handle, m=self._momentums[index].handle,
        v=self._velocities[index].handle, grad=gradient,
        **self._hyperparameters(variable.dtype, variable.device))
