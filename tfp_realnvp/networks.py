"""The s and t networks of the couplings, as `tf_keras` layers.

TFP tracks `tf.Variable`s; `tf_keras` (Keras 2) layers create them, Keras 3
layers do not, so these are `tf_keras` layers: `dist.trainable_variables`
then lists every weight.
"""

import tensorflow as tf
import tf_keras

__all__ = ['conv2d', 'WeightNormConv2D', 'ResNet', 'MLP']

_HALF_PRECISION = (tf.bfloat16, tf.float16)


def conv2d(x, kernel):
  """Stride-1 'same' convolution; in half precision, with XLA gradients.

  TensorFlow's CPU kernels for the gradients of bfloat16 and float16
  convolutions are generic code, 4-18 GFLOP/s on a 2-core AVX2 machine
  where the float32 ones run at 110-170; XLA's run at 100-125 there. So in
  half precision the gradients run as an XLA-compiled function, and the
  forward pass stays TensorFlow's (oneDNN), which is fast in every dtype.
  """
  if x.dtype in _HALF_PRECISION:
    # A tensor, not a (Keras autocast) variable: custom_gradient gives
    # gradients to its inputs, and the caller's tape reaches the variable.
    return _conv2d_with_xla_gradients(x, tf.cast(kernel, x.dtype))
  return tf.nn.conv2d(x, kernel, strides=1, padding='SAME')


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

  The kernel is `g * v / ||v||`, the norm taken per output channel (Salimans
  and Kingma 2016), which decouples each filter's length `g` (the 'scale
  parameters' the paper's L2 penalty acts on) from its direction `v`.
  """

  def __init__(self, filters, kernel_size=3, **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.kernel_size = kernel_size

  def build(self, input_shape):
    in_channels = int(input_shape[-1])
    k = self.kernel_size
    self.v = self.add_weight(
        name='v', shape=[k, k, in_channels, self.filters],
        initializer=tf_keras.initializers.HeNormal())
    # g = ||v|| at the start, so the layer starts as a plain He-initialised
    # convolution.
    self.g = self.add_weight(
        name='g', shape=[self.filters],
        initializer=tf_keras.initializers.Constant(1.))
    self.g.assign(tf.norm(tf.reshape(self.v, [-1, self.filters]), axis=0))
    self.bias = self.add_weight(name='bias', shape=[self.filters],
                                initializer='zeros')
    super().build(input_shape)

  def call(self, x):
    kernel = self.g * tf.math.l2_normalize(self.v, axis=[0, 1, 2])
    return conv2d(x, kernel) + self.bias


class ResNet(tf_keras.layers.Layer):
  """Deep residual network computing `(shift, log_scale)` for a coupling.

  ```none
  h = conv(x)
  h = h + conv(relu(conv(relu(h))))      # num_blocks times
  shift, log_scale = split(conv_out(relu(h)))
  log_scale = scale * tanh(log_scale)    # bounded, with a learned scale
  ```

  Every convolution is 3x3 and weight-normalized but the output one, which
  starts at zero so the coupling starts as the identity.

  With `num_classes`, the network is class-conditional: `call(x,
  conditional_input=one_hot)` adds a learned per-class bias to the first
  feature maps (`one_hot` is `[N, num_classes]`, one row per image).
  """

  def __init__(self, channels, num_blocks=4, num_filters=32, num_classes=None,
               **kwargs):
    super().__init__(**kwargs)
    self.channels = channels
    self.condition = _Condition(num_classes, num_filters, self.dtype_policy)
    self.conv_in = WeightNormConv2D(num_filters, name='conv_in',
                                    dtype=self.dtype_policy)
    self.blocks = [
        [WeightNormConv2D(num_filters, name=f'block{i}_conv{j}',
                          dtype=self.dtype_policy) for j in range(2)]
        for i in range(num_blocks)]
    # In mixed precision the output layer and the tanh scale compute in the
    # weights' dtype (as Keras advises for a model's last layer): a bfloat16
    # shift moves z in steps of 2^-8 of its size, which cost 0.15 bits/dim
    # on MNIST.
    self.conv_out = _Conv2D(
        2 * channels, 3, padding='same', kernel_initializer='zeros',
        name='conv_out', dtype=self.dtype_policy.variable_dtype)
    # Create the weights now, so they exist before the first call.
    self.build(tf.TensorShape([None, None, None, channels]))

  def build(self, input_shape):
    features = tf.TensorShape([None, None, None, self.conv_in.filters])
    self.conv_in.build(input_shape)
    self.condition.build()
    for conv_a, conv_b in self.blocks:
      conv_a.build(features)
      conv_b.build(features)
    self.conv_out.build(features)
    self.scale = self.add_weight(name='scale', shape=[self.channels],
                                 initializer='ones',
                                 experimental_autocast=False)
    super().build(input_shape)

  def call(self, x, conditional_input=None):
    h = self.condition(self.conv_in(x), conditional_input)
    for conv_a, conv_b in self.blocks:
      h += conv_b(tf.nn.relu(conv_a(tf.nn.relu(h))))
    shift, log_scale = tf.split(self.conv_out(tf.nn.relu(h)), 2, axis=-1)
    return shift, self.scale * tf.tanh(log_scale)


class _Conv2D(tf_keras.layers.Conv2D):
  """`tf_keras.layers.Conv2D` (stride 1, 'same') through `conv2d`."""

  def convolution_op(self, inputs, kernel):
    return conv2d(inputs, kernel)


class MLP(tf_keras.layers.Layer):
  """Fully connected `(shift, log_scale)` network for vector couplings."""

  def __init__(self, event_size, hidden_units=(64, 64), num_classes=None,
               **kwargs):
    super().__init__(**kwargs)
    self.event_size = event_size
    self.condition = _Condition(num_classes, hidden_units[0],
                                self.dtype_policy)
    self.hidden = [
        tf_keras.layers.Dense(units, activation='relu', name=f'dense{i}',
                              dtype=self.dtype_policy)
        for i, units in enumerate(hidden_units)]
    self.out = tf_keras.layers.Dense(
        2 * event_size, kernel_initializer='zeros', name='dense_out',
        dtype=self.dtype_policy)
    self.build(tf.TensorShape([None, event_size]))

  def build(self, input_shape):
    self.condition.build()
    shape = input_shape
    for layer in self.hidden:
      layer.build(shape)
      shape = tf.TensorShape([None, layer.units])
    self.out.build(shape)
    self.scale = self.add_weight(name='scale', shape=[self.event_size],
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
