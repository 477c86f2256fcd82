"""The s,t networks of the couplings, as `tf_keras` layers.

`ResNet` is the network of the authors' code (tensorflow/models,
research/real_nvp: `resnet` and the input stage of `masked_conv_aff_coupling`
and `conv_ch_aff_coupling`); `MLP` serves vector flows.

TFP tracks `tf.Variable`s; `tf_keras` (Keras 2) layers create them, Keras 3
layers do not, so these are `tf_keras` layers: `dist.trainable_variables`
then lists every weight.
"""

import contextlib
import functools
import math
import threading

import tensorflow as tf
import tf_keras

__all__ = ['conv2d', 'half_precision_gradients', 'cpuinfo', 'WeightNormConv2D', 'ResNet', 'MLP', 'frozen_averages']

_HALF_PRECISION = (tf.bfloat16, tf.float16)
# tf.math.l2_normalize's default.
_L2_EPSILON = 1e-12


def conv2d(x, kernel):
  """Stride-1 'same' convolution, with the fastest gradients for its dtype.

  In float32, and in half precision on a GPU or on a CPU with native
  half-precision units (`avx512_bf16` or `amx_bf16` for bfloat16,
  `avx512_fp16` or `amx_fp16` for float16), TensorFlow's own kernels
  (cuDNN, oneDNN) compute it all. On other CPUs TensorFlow's half-precision
  convolution gradients are generic code, 4-18 GFLOP/s on a 2-core AVX2
  machine where the float32 ones run at 110-170 and XLA's at 100-125: there
  the gradients run as an XLA-compiled function (`half_precision_gradients`
  says which). On a 2-core AMD EPYC with `avx512_bf16`, oneDNN's bfloat16
  gradients of a 64x32x32x64 input and 3x3x64x64 kernel ran at 462 GFLOP/s
  against XLA's 154 (docs/performance.md).

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import networks

  x = tf.random.normal([2, 8, 8, 3], dtype=tf.bfloat16)
  kernel = tf.random.normal([3, 3, 3, 5], dtype=tf.bfloat16)
  y = networks.conv2d(x, kernel)  # [2, 8, 8, 5], bfloat16
  ```
  """
  kernel = tf.cast(kernel, x.dtype)
  if (x.dtype in _HALF_PRECISION
      and half_precision_gradients(x.dtype) == 'xla'):
    # A tensor, not a (Keras autocast) variable: custom_gradient gives
    # gradients to its inputs, and the caller's tape reaches the variable.
    return _conv2d_with_xla_gradients(x, kernel)
  return tf.nn.conv2d(x, kernel, strides=1, padding='SAME')


# CPU flags (Linux's /proc/cpuinfo names) of native half-precision units.
_NATIVE_HALF_UNITS = {
    tf.bfloat16: ('avx512_bf16', 'amx_bf16'),
    tf.float16: ('avx512_fp16', 'amx_fp16'),
}


@functools.lru_cache(maxsize=None)
def half_precision_gradients(dtype):
  """Who computes `conv2d`'s gradients in `dtype`: 'native' or 'xla'.

  'native' (TensorFlow's kernels) on a GPU and on CPUs whose flags name
  native units for `dtype`; 'xla' on other CPUs, and where the flags cannot
  be read.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import networks

  way = networks.half_precision_gradients(tf.bfloat16)  # 'native' or 'xla'
  assert way in ('native', 'xla')
  ```
  """
  if tf.config.list_logical_devices('GPU'):
    return 'native'
  flags = _cpu_flags()
  units = _NATIVE_HALF_UNITS.get(tf.as_dtype(dtype), ())
  return 'native' if flags.intersection(units) else 'xla'


@functools.lru_cache(maxsize=None)
def cpuinfo():
  """Linux's `/proc/cpuinfo`: the CPU's model and feature flags ('' elsewhere).

  #### Example

  ```python
  from tfp_realnvp import networks

  has_bf16_units = 'avx512_bf16' in networks.cpuinfo().split()
  ```
  """
  try:
    with open('/proc/cpuinfo') as f:
      return f.read()
  except OSError:
    return ''


def _cpu_flags():
  return frozenset(cpuinfo().split())


@tf.custom_gradient
def _conv2d_with_xla_gradients(x, kernel):
  def gradients(dy):
    return _conv2d_gradients(x, kernel, dy)
  return tf.nn.conv2d(x, kernel, strides=1, padding='SAME'), gradients


@tf.function(jit_compile=True)
def _conv2d_gradients(x, kernel, dy):
  strides = [1, 1, 1, 1]
  dx = tf.raw_ops.Conv2DBackpropInput(
      input_sizes=tf.shape(x), filter=kernel, out_backprop=dy,
      strides=strides, padding='SAME')
  dkernel = tf.raw_ops.Conv2DBackpropFilter(
      input=x, filter_sizes=tf.shape(kernel), out_backprop=dy,
      strides=strides, padding='SAME')
  return dx, dkernel


class WeightNormConv2D(tf_keras.layers.Layer):
  """A 'same'-padded convolution with weight normalization.

  The kernel is `v / ||v||`, the norm taken per output channel (Salimans and
  Kingma 2016), times a learned gain `g` per output channel if `use_gain`
  (the 'scale parameters' the paper's L2 penalty acts on). As in the
  authors' `conv_layer`: `v ~ U(-a, a)` with `a = sqrt(2 / fan_in_channels)`,
  `g` starts at `a * sqrt(fan_in / 12)` (= `kernel_size / sqrt(6)`), the
  bias at 0.

  ```none
  y = conv2d(x, g * v / ||v||) + bias
  ```

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import networks

  conv = networks.WeightNormConv2D(5)
  y = conv(tf.random.normal([2, 8, 8, 3]))  # [2, 8, 8, 5]
  ```
  """

  def __init__(self, filters, kernel_size=3, use_bias=True, use_gain=True,
               **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.kernel_size = kernel_size
    self.use_bias = use_bias
    self.use_gain = use_gain

  def build(self, input_shape):
    in_channels = int(input_shape[-1])
    k = self.kernel_size
    limit = math.sqrt(2. / in_channels)
    self.v = self.add_weight(
        name='v', shape=[k, k, in_channels, self.filters],
        initializer=tf_keras.initializers.RandomUniform(-limit, limit))
    if self.use_gain:
      self.g = self.add_weight(
          name='g', shape=[self.filters],
          initializer=tf_keras.initializers.Constant(
              limit * math.sqrt(k * k * in_channels / 12.)))
    if self.use_bias:
      self.bias = self.add_weight(name='bias', shape=[self.filters],
                                  initializer='zeros')
    super().build(input_shape)

  def call(self, x):
    gain = (tf.convert_to_tensor(self.g),) if self.use_gain else ()
    y = conv2d(x, _weight_norm(tf.convert_to_tensor(self.v), *gain))
    # bias_add, not +: its gradient is one op, not a broadcast's five.
    return tf.nn.bias_add(y, self.bias) if self.use_bias else y


@tf.custom_gradient
def _weight_norm(v, *gain):
  """`tf.math.l2_normalize(v, axis=[0, 1, 2])`, times `gain[0]` if given.

  Its gradient written out, not derived by TensorFlow: 2,000 fewer ops (of
  26,000) in the traced training step of the paper's CIFAR-10 model, whose
  tracing and start-up time go with the number of ops.
  """
  square_sum = tf.reduce_sum(tf.square(v), axis=[0, 1, 2])
  inv_norm = tf.math.rsqrt(tf.maximum(square_sum, _L2_EPSILON))
  direction = v * inv_norm
  scale = inv_norm * gain[0] if gain else inv_norm

  def gradients(d_kernel):
    d_gain = tf.reduce_sum(d_kernel * direction, axis=[0, 1, 2])
    # As tf.maximum's gradient: none through the norm where it was clamped.
    radial = tf.where(square_sum >= _L2_EPSILON, d_gain, 0.)
    d_v = scale * (d_kernel - direction * radial)
    return (d_v, d_gain) if gain else d_v

  return direction * gain[0] if gain else direction, gradients


# Set where batch norms must leave their running averages as they are
# (per thread: tf.distribute runs each replica's step in a thread of its
# own).
_frozen = threading.local()


@contextlib.contextmanager
def frozen_averages():
  """A context in which batch norms use batch statistics, averages untouched.

  Batch norms called with `training=True` in it normalize with the batch's
  statistics but do not update their running averages.

  `latent.sample(..., batch_statistics=True)` draws in it, as the authors'
  sampler does; a tf.function traced in it keeps no update ops.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import networks

  net = networks.MLP(2, 2, hidden_units=(8,))
  x = tf.random.normal([4, 2])
  net(x, training=True)
  before = [w.numpy() for w in net.non_trainable_weights]
  with networks.frozen_averages():
    net(x, training=True)  # batch statistics, averages kept
  assert all((b == w.numpy()).all()
             for b, w in zip(before, net.non_trainable_weights))
  ```
  """
  frozen = getattr(_frozen, 'active', False)
  _frozen.active = True
  try:
    yield
  finally:
    _frozen.active = frozen


def _recompute(fn, x):
  """`fn(x)`, its activations recomputed when the gradient is taken.

  `tf.recompute_grad` keeps only `x` and runs `fn` again in the backward
  pass; batch norms update their running averages on the first run only
  (a recomputation sees the first run's batch: updating again would count
  it twice).
  """
  runs = []

  def run(x):
    again = bool(runs)
    runs.append(None)
    with frozen_averages() if again else contextlib.nullcontext():
      return fn(x)

  return tf.recompute_grad(run)(x)


class _BatchNorm(tf_keras.layers.BatchNormalization):
  """The authors' `batch_norm(scale=False)`: a learned shift, no gain; or,
  with `enabled=False`, the identity."""

  def __init__(self, enabled, **kwargs):
    super().__init__(momentum=0.9, epsilon=1e-4, scale=False, **kwargs)
    self.enabled = enabled

  def build(self, input_shape):
    if self.enabled:
      super().build(input_shape)
    else:
      self.built = True

  def call(self, x, training=None):
    return super().call(x, training=training) if self.enabled else x

  def add_update(self, updates):
    if not getattr(_frozen, 'active', False):
      super().add_update(updates)


class ResNet(tf_keras.layers.Layer):
  """The s,t network of a coupling, `(shift, log_scale)` from its input.

  For a checkerboard coupling the input is the masked event `b * x` and the
  network is given `mask` (`b`); for a channel-wise coupling it is the
  conditioning half of the channels. With `C` = `channels`:

  ```none
  h = BN(x)                      # no gain; batch statistics in training
  h = 2 * h                      # checkerboard only
  h = relu(concat([h, -h] + [b]))          # [b]: checkerboard only
  h = conv3x3(h)                 # weight-normed, no gain
  out = skip_in(h)               # 1x1
  for each block:                # pre-activation residual blocks
    h = h + conv3x3_g(relu(BN(conv3x3(relu(BN(h))))))
    out = out + skip_k(h)        # 1x1
  shift, raw = split(conv1x1_g(relu(BN(out))), 2 C channels)
  log_scale = scale * tanh(raw)  # one learned scalar
  ```

  Every batch norm follows the `training` keyword argument, which a `Flow`
  routes to it: batch statistics (and an update of the running averages,
  momentum 0.9, except inside `frozen_averages()`) when True, the running
  averages otherwise. With
  `batch_norm=False` there is none (and the block's first convolution gets
  a bias, as in the authors' code).
  `initial_scale` is the scalar's start: the authors' code starts it at 0
  for checkerboard couplings (which start as additive couplings) and at 1
  for channel couplings. `regularized_weights` are what the paper's L2
  penalty acts on: the gains `g`, and the scalar of a checkerboard coupling.

  With `num_classes`, the network is class-conditional: `call(x,
  conditional_input=one_hot)` adds a learned per-class bias to the first
  feature maps (`one_hot` is `[N, num_classes]`, one row per image).

  With `recompute_gradients` (an attribute, which may be changed between
  calls) a call keeps none of the network's activations for the gradient:
  the backward pass runs the network again (one more forward pass, for
  about half the training memory of the paper's CIFAR-10 model;
  docs/performance.md). The values, gradients and running averages are
  those of the plain network.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import bijectors
  from tfp_realnvp import networks

  mask = bijectors.checkerboard_mask(8, 8)
  net = networks.ResNet(channels=3, num_blocks=1, num_filters=4, mask=mask)
  shift, log_scale = net(mask * tf.random.normal([2, 8, 8, 3]),
                         training=True)  # each [2, 8, 8, 3]
  ```
  """

  def __init__(self, channels, num_blocks=4, num_filters=32, mask=None,
               initial_scale=0., num_classes=None, batch_norm=True,
               recompute_gradients=False, **kwargs):
    super().__init__(**kwargs)
    self.channels = channels
    self.recompute_gradients = recompute_gradients
    self.mask = None if mask is None else tf.constant(mask, self.dtype)
    policy = self.dtype_policy
    self.bn_in = _BatchNorm(batch_norm, name='bn_in', dtype=policy)
    self.conv_in = WeightNormConv2D(num_filters, 3, use_gain=False,
                                    name='conv_in', dtype=policy)
    self.condition = _Condition(num_classes, num_filters, policy)
    self.skip_in = WeightNormConv2D(num_filters, 1, name='skip_in',
                                    dtype=policy)
    self.blocks = [_ResidualBlock(num_filters, batch_norm, name=f'block{i}',
                                  dtype=policy)
                   for i in range(num_blocks)]
    self.skips = [WeightNormConv2D(num_filters, 1, name=f'skip{i}',
                                   dtype=policy) for i in range(num_blocks)]
    self.bn_out = _BatchNorm(batch_norm, name='bn_out', dtype=policy)
    # In mixed precision the output layer and the tanh scale compute in the
    # weights' dtype (as Keras advises for a model's last layer): a bfloat16
    # shift moves z in steps of 2^-8 of its size, which cost 0.15 bits/dim
    # on MNIST.
    self.conv_out = WeightNormConv2D(2 * channels, 1, name='conv_out',
                                     dtype=policy.variable_dtype)
    self.initial_scale = initial_scale
    # Create the weights now, so they exist before the first call.
    self.build(tf.TensorShape([None, None, None, channels]))

  def build(self, input_shape):
    features = tf.TensorShape([None, None, None, self.conv_in.filters])
    self.bn_in.build(input_shape)
    extra = 0 if self.mask is None else 1
    self.conv_in.build(input_shape[:-1].concatenate([2 * self.channels +
                                                     extra]))
    self.condition.build()
    self.skip_in.build(features)
    for block, skip in zip(self.blocks, self.skips):
      block.build(features)
      skip.build(features)
    self.bn_out.build(features)
    self.conv_out.build(features)
    self.scale = self.add_weight(
        name='scale', shape=[],
        initializer=tf_keras.initializers.Constant(self.initial_scale),
        experimental_autocast=False)
    super().build(input_shape)

  @property
  def regularized_weights(self):
    gains = [conv.g for conv in (self.skip_in, *self.skips, self.conv_out,
                                 *(b.conv_b for b in self.blocks))]
    return gains + ([self.scale] if self.mask is not None else [])

  def call(self, x, training=None, conditional_input=None):
    def network(x):
      return self._shift_and_log_scale(x, training, conditional_input)
    return _recompute(network, x) if self.recompute_gradients else network(x)

  def _shift_and_log_scale(self, x, training, conditional_input):
    h = self.bn_in(x, training=training)
    parts = [h, -h]
    if self.mask is not None:
      if self.bn_in.enabled:
        h = 2. * h
      mask = tf.broadcast_to(tf.cast(self.mask, h.dtype),
                             tf.concat([tf.shape(h)[:-1], [1]], axis=0))
      parts = [h, -h, mask]
    h = self.conv_in(tf.nn.relu(tf.concat(parts, axis=-1)))
    h = self.condition(h, conditional_input)
    out = self.skip_in(h)
    for block, skip in zip(self.blocks, self.skips):
      h = block(h, training=training)
      out += skip(h)
    out = tf.nn.relu(self.bn_out(out, training=training))
    shift, raw = tf.split(self.conv_out(out), 2, axis=-1)
    return shift, self.scale * tf.tanh(raw)


class _ResidualBlock(tf_keras.layers.Layer):
  """`h + conv_b(relu(BN(conv_a(relu(BN(h))))))`, 3x3 convolutions."""

  def __init__(self, filters, batch_norm, **kwargs):
    super().__init__(**kwargs)
    policy = self.dtype_policy
    self.bn_a = _BatchNorm(batch_norm, name='bn_a', dtype=policy)
    self.conv_a = WeightNormConv2D(filters, 3, use_bias=not batch_norm,
                                   use_gain=False, name='conv_a',
                                   dtype=policy)
    self.bn_b = _BatchNorm(batch_norm, name='bn_b', dtype=policy)
    self.conv_b = WeightNormConv2D(filters, 3, name='conv_b', dtype=policy)

  def build(self, input_shape):
    for layer in (self.bn_a, self.conv_a, self.bn_b, self.conv_b):
      layer.build(input_shape)
    super().build(input_shape)

  def call(self, h, training=None):
    a = self.conv_a(tf.nn.relu(self.bn_a(h, training=training)))
    return h + self.conv_b(tf.nn.relu(self.bn_b(a, training=training)))


class MLP(tf_keras.layers.Layer):
  """Fully connected `(shift, log_scale)` network for vector couplings.

  Maps the `input_size` conditioning entries to a shift and log-scale for
  each of the `output_size` others, as `tfb.RealNVP`'s networks do.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import networks

  net = networks.MLP(2, 3, hidden_units=(8,))
  shift, log_scale = net(tf.random.normal([5, 2]))  # each [5, 3]
  ```
  """

  def __init__(self, input_size, output_size, hidden_units=(64, 64),
               num_classes=None, **kwargs):
    super().__init__(**kwargs)
    self.input_size = input_size
    self.output_size = output_size
    self.condition = _Condition(num_classes, hidden_units[0],
                                self.dtype_policy)
    self.hidden = [
        tf_keras.layers.Dense(units, activation='relu', name=f'dense{i}',
                              dtype=self.dtype_policy)
        for i, units in enumerate(hidden_units)]
    self.out = tf_keras.layers.Dense(
        2 * output_size, kernel_initializer='zeros', name='dense_out',
        dtype=self.dtype_policy)
    self.build(tf.TensorShape([None, input_size]))

  def build(self, input_shape):
    self.condition.build()
    shape = input_shape
    for layer in self.hidden:
      layer.build(shape)
      shape = tf.TensorShape([None, layer.units])
    self.out.build(shape)
    self.scale = self.add_weight(name='scale', shape=[self.output_size],
                                 initializer='ones')
    super().build(input_shape)

  def call(self, x, conditional_input=None):
    h = x
    for i, layer in enumerate(self.hidden):
      h = layer(h)
      if i == 0:
        h = self.condition(h, conditional_input)
    shift, log_scale = tf.split(self.out(h), 2, axis=-1)
    return shift, self.scale * tf.tanh(log_scale)


class _Condition(tf_keras.layers.Layer):
  """Adds a learned bias per class to features; the identity if unconditional.

  Features are `[N, ..., units]`, the conditioning input `[N, num_classes]`
  (one-hot, or any per-example weights over classes).
  """

  def __init__(self, num_classes, units, dtype):
    super().__init__(name='condition', dtype=dtype)
    self.num_classes = num_classes
    self.units = units

  def build(self, input_shape=None):
    if self.num_classes:
      self.embedding = self.add_weight(
          name='embedding', shape=[self.num_classes, self.units],
          initializer='zeros')
    super().build(input_shape)

  def call(self, features, conditional_input):
    if not self.num_classes:
      if conditional_input is not None:
        raise ValueError('This network is not conditional; build it with '
                         '`num_classes` to pass a conditional_input.')
      return features
    if conditional_input is None:
      raise ValueError(
          f'This model is class-conditional: pass bijector_kwargs='
          f"{{'conditional_input': one_hot}} with one_hot of shape "
          f'[batch, {self.num_classes}].')
    bias = tf.matmul(tf.cast(conditional_input, features.dtype),
                     self.embedding)
    # One bias vector per example, broadcast over its spatial positions.
    extra_dims = features.shape.rank - 2
    return features + tf.reshape(
        bias, tf.concat([tf.shape(bias)[:1], [1] * extra_dims,
                         [self.units]], axis=0))
