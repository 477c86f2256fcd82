"""The coupling networks' convolution: the same values and gradients in
every precision, by either way of computing half precision's gradients
(TensorFlow's kernels or XLA), and weight normalization's written-out
gradient the same as TensorFlow's derivation."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tfp_realnvp import networks


def conv_and_gradients(dtype, conv):
  x = tf.random.stateless_normal([2, 6, 5, 3], [1, 0])
  kernel = tf.random.stateless_normal([3, 3, 3, 4], [2, 0])
  weights = tf.random.stateless_normal([2, 6, 5, 4], [3, 0])
  x, kernel = tf.cast(x, dtype), tf.cast(kernel, dtype)
  with tf.GradientTape() as tape:
    tape.watch([x, kernel])
    y = conv(x, kernel)
    loss = tf.reduce_sum(tf.cast(y, tf.float32) * weights)
  return [tf.cast(t, tf.float64).numpy()
          for t in [y, *tape.gradient(loss, [x, kernel])]]


def reference(x, kernel):
  return tf.nn.conv2d(x, kernel, strides=1, padding='SAME')


@pytest.fixture(params=['native', 'xla'])
def half_gradients(request, monkeypatch):
  """Each way of computing half-precision gradients, whatever the CPU."""
  monkeypatch.setattr(networks, 'half_precision_gradients',
                      lambda dtype: request.param)
  return request.param


@pytest.mark.parametrize('dtype, rtol', [(tf.float32, 1e-6),
                                         (tf.bfloat16, 2e-2),
                                         (tf.float16, 2e-3)])
@pytest.mark.parametrize('function', [False, True])
def test_conv2d_values_and_gradients_match_float32(dtype, rtol, function,
                                                   half_gradients):
  del half_gradients
  conv = tf.function(networks.conv2d) if function else networks.conv2d
  got = conv_and_gradients(dtype, conv)
  expected = conv_and_gradients(tf.float32, reference)
  for g, e in zip(got, expected):
    np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * np.abs(e).max())


@pytest.mark.parametrize('flags, dtype, expected', [
    ({'avx2', 'fma'}, tf.bfloat16, 'xla'),
    ({'avx512f', 'avx512_bf16'}, tf.bfloat16, 'native'),
    ({'avx512f', 'avx512_bf16'}, tf.float16, 'xla'),
    ({'amx_bf16', 'amx_tile'}, tf.bfloat16, 'native'),
    ({'amx_fp16'}, tf.float16, 'native'),
    (frozenset(), tf.bfloat16, 'xla'),  # /proc/cpuinfo unreadable
])
def test_half_precision_gradients_native_where_the_cpu_has_the_units(
    monkeypatch, flags, dtype, expected):
  monkeypatch.setattr(networks, '_cpu_flags', lambda: frozenset(flags))
  monkeypatch.setattr(tf.config, 'list_logical_devices', lambda kind: [])
  assert networks.half_precision_gradients.__wrapped__(dtype) == expected


def _weight_norm_and_gradients(weight_norm, gain):
  v = tf.random.stateless_normal([3, 3, 2, 4], [5, 0])
  v = tf.concat([v[..., :3], 1e-8 * v[..., 3:]], -1)  # Norm clamped to 1e-6.
  g = tf.random.stateless_normal([4], [6, 0])
  weights = tf.random.stateless_normal([3, 3, 2, 4], [7, 0])
  inputs = [v, g] if gain else [v]
  with tf.GradientTape() as tape:
    tape.watch(inputs)
    loss = tf.reduce_sum(weight_norm(*inputs) * weights)
  return [t.numpy() for t in [loss, *tape.gradient(loss, inputs)]]


def _derived_weight_norm(v, *gain):
  kernel = tf.math.l2_normalize(v, axis=[0, 1, 2])
  return kernel * gain[0] if gain else kernel


@pytest.mark.parametrize('gain', [False, True])
@pytest.mark.parametrize('function', [False, True])
def test_weight_norm_gradients_are_tensorflows_own(gain, function):
  weight_norm = networks._weight_norm
  if function:
    weight_norm = tf.function(weight_norm)
  got = _weight_norm_and_gradients(weight_norm, gain)
  expected = _weight_norm_and_gradients(_derived_weight_norm, gain)
  np.testing.assert_allclose(got[0], expected[0], rtol=1e-6)
  for g, e in zip(got[1:], expected[1:]):
    # Per output channel: the clamped one's gradient is 1e6 times the rest.
    for c in range(e.shape[-1]):
      np.testing.assert_allclose(g[..., c], e[..., c], rtol=1e-6,
                                 atol=1e-6 * np.abs(e[..., c]).max())
  assert np.abs(got[1]).max() > 0


def test_half_precision_gradients_are_compiled_only_on_the_xla_way(
    half_gradients):
  x, kernel = tf.zeros([1, 4, 4, 2], tf.bfloat16), tf.zeros([3, 3, 2, 2],
                                                            tf.bfloat16)

  @tf.function
  def gradients():
    with tf.GradientTape() as tape:
      tape.watch(kernel)
      y = networks.conv2d(x, kernel)
    return tape.gradient(y, kernel)

  graph = gradients.get_concrete_function().graph
  compiled = [op for op in graph.get_operations()
              if op.node_def.attr['_XlaMustCompile'].b]
  assert bool(compiled) == (half_gradients == 'xla')


def test_mixed_bfloat16_resnet_gradients_reach_every_weight():
  tf_keras.mixed_precision.set_global_policy('mixed_bfloat16')
  try:
    net = networks.ResNet(2, num_blocks=1, num_filters=4)
  finally:
    tf_keras.mixed_precision.set_global_policy('float32')
  x = tf.random.stateless_normal([2, 4, 4, 2], [0, 0])
  with tf.GradientTape() as tape:
    shift, log_scale = net(x, training=True)
    loss = tf.reduce_sum(tf.cast(log_scale + shift, tf.float32))
  gradients = tape.gradient(loss, net.trainable_variables)
  assert all(g is not None and g.dtype == tf.float32 for g in gradients)
  # The output convolution computes in float32: its direction gets a
  # gradient through the float32 shift.
  kernel_gradient, = [g for g, v in zip(gradients, net.trainable_variables)
                      if v is net.conv_out.v]
  assert np.abs(kernel_gradient).max() > 0


def _copy_of(net, **changes):
  """A ResNet like `net`, with its weights and running averages."""
  config = dict(channels=net.channels, num_blocks=len(net.blocks),
                num_filters=net.conv_in.filters,
                num_classes=net.condition.num_classes,
                recompute_gradients=net.recompute_gradients)
  config.update(changes)
  copy = networks.ResNet(**config)
  copy.set_weights(net.get_weights())
  return copy


def _step(net, x, conditional_input, function):
  def run():
    with tf.GradientTape() as tape:
      tape.watch(x)
      shift, log_scale = net(x, training=True,
                             conditional_input=conditional_input)
      loss = tf.reduce_sum(shift * tf.sin(x) + log_scale * tf.cos(x))
    return [shift, log_scale,
            *tape.gradient(loss, [x, *net.trainable_variables])]
  return [t.numpy() for t in (tf.function(run) if function else run)()]


@pytest.mark.parametrize('function', [False, True])
def test_recomputed_gradients_and_running_averages_are_the_plain_networks(
    function):
  plain = networks.ResNet(4, num_blocks=2, num_filters=8, num_classes=3)
  recomputed = _copy_of(plain, recompute_gradients=True)
  x = tf.random.stateless_normal([3, 6, 6, 4], [4, 0])
  labels = tf.one_hot([0, 2, 1], 3)
  for got, expected in zip(_step(recomputed, x, labels, function),
                           _step(plain, x, labels, function)):
    np.testing.assert_allclose(got, expected, rtol=1e-5,
                               atol=1e-5 * np.abs(expected).max())
  # Moved once, by the one batch (not again when the gradient ran the
  # network a second time).
  for got, expected in zip(recomputed.non_trainable_weights,
                           plain.non_trainable_weights):
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5,
                               atol=1e-6 * np.abs(expected.numpy()).max())
  assert any(np.abs(v.numpy()).max() > 0
             for v in recomputed.non_trainable_weights
             if 'moving_mean' in v.name)


def test_recomputed_network_runs_again_in_the_backward_pass():
  def convolutions(recompute_gradients):
    net = networks.ResNet(2, num_blocks=1, num_filters=4,
                          recompute_gradients=recompute_gradients)
    x = tf.zeros([1, 4, 4, 2])

    @tf.function
    def gradients():
      with tf.GradientTape() as tape:
        shift, log_scale = net(x, training=True)
      return tape.gradient([shift, log_scale], net.trainable_variables)

    graph = gradients.get_concrete_function().graph
    return sum(op.type == 'Conv2D' for op in graph.get_operations())

  # conv_in, skip_in, two in the block, skip0, conv_out: 6 forward.
  assert convolutions(False) == 6
  assert convolutions(True) == 12


@pytest.mark.parametrize('function', [False, True])
def test_frozen_averages_normalize_with_the_batch_and_keep_the_averages(
    function):
  net = networks.ResNet(4, num_blocks=1, num_filters=8)
  updated = _copy_of(net)
  x = 3. + tf.random.stateless_normal([3, 6, 6, 4], [5, 0])
  before = [v.numpy() for v in net.non_trainable_weights]

  def frozen():
    with networks.frozen_averages():
      return net(x, training=True)

  call = tf.function(frozen) if function else frozen
  for got, expected in zip(call(), updated(x, training=True)):
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
  for got, expected in zip(net.non_trainable_weights, before):
    np.testing.assert_array_equal(got.numpy(), expected)
  # The copy's call, outside the context, moved its averages.
  assert not np.allclose(updated.bn_in.moving_mean.numpy(),
                         net.bn_in.moving_mean.numpy())
  # Outside the context again, the network updates as before.
  net(x, training=True)
  np.testing.assert_allclose(net.bn_in.moving_mean.numpy(),
                             updated.bn_in.moving_mean.numpy(), rtol=1e-6)
