"""The coupling networks' convolution: the same values and gradients in
every precision (half precision's gradients come from XLA)."""

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


@pytest.mark.parametrize('dtype, rtol', [(tf.float32, 1e-6),
                                         (tf.bfloat16, 2e-2),
                                         (tf.float16, 2e-3)])
@pytest.mark.parametrize('function', [False, True])
def test_conv2d_values_and_gradients_match_float32(dtype, rtol, function):
  conv = tf.function(networks.conv2d) if function else networks.conv2d
  got = conv_and_gradients(dtype, conv)
  expected = conv_and_gradients(tf.float32, reference)
  for g, e in zip(got, expected):
    np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * np.abs(e).max())


def test_half_precision_gradients_are_compiled():
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
  assert compiled, 'expected an XLA-compiled call for the gradients'


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
