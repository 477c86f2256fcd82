"""Tiny-model training under MirroredStrategy vs one device; prints JSON.

A separate process: the two logical CPUs must be set up before TensorFlow
initializes its devices.
"""

import json

import numpy as np
import tensorflow as tf
import tf_keras

from tfp_realnvp import config
from tfp_realnvp.training import model as model_lib

SHAPE = (8, 8, 1)
GLOBAL_BATCH = 16


def build(strategy, batch_norm, optimizer, weights=None):
  with strategy.scope():
    model = model_lib.FlowModel(config.Architecture(
        SHAPE, num_scales=1, num_res_blocks=1, num_filters=4,
        batch_norm=batch_norm))
    model.compile(optimizer, run_eagerly=True)  # Eager: tracing is slower.
    model(tf.zeros([1, *SHAPE]))  # Builds the coupling networks.
    if weights is not None:
      model.set_weights(weights)
  return model


def train(strategy, batch_norm, optimizer, weights, x):
  model = build(strategy, batch_norm, optimizer, weights)
  history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(
      GLOBAL_BATCH), epochs=1, verbose=0)
  return model, history.history['loss'][0]


def main():
  cpu = tf.config.list_physical_devices('CPU')[0]
  tf.config.set_logical_device_configuration(
      cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
  mirrored = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
  single = tf.distribute.get_strategy()
  x = tf.random.stateless_uniform([4 * GLOBAL_BATCH, *SHAPE], [1, 2], 0., 256.)
  result = {'replicas': mirrored.num_replicas_in_sync}

  # One SGD step of rate 1 changes the weights by minus the gradient.
  reference = build(single, False, tf_keras.optimizers.SGD(1.))
  weights = reference.get_weights()
  before = [v.numpy() for v in reference.trainable_variables]
  steps = {}
  for name, strategy in [('single', single), ('mirrored', mirrored)]:
    model, _ = train(strategy, False, tf_keras.optimizers.SGD(1.), weights,
                     x[:GLOBAL_BATCH])
    steps[name] = [v.numpy() - b
                   for v, b in zip(model.trainable_variables, before)]
  result['max_gradient_difference'] = max(
      float(np.max(np.abs(a - b)))
      for a, b in zip(steps['single'], steps['mirrored']))
  result['max_gradient'] = max(float(np.max(np.abs(a)))
                               for a in steps['single'])

  # With batch norm each replica normalizes by its own half of the batch.
  weights = build(single, True, tf_keras.optimizers.Adam(1e-2)).get_weights()
  for name, strategy in [('single', single), ('mirrored', mirrored)]:
    _, result[f'{name}_loss'] = train(
        strategy, True, tf_keras.optimizers.Adam(1e-2), weights, x)
  print(json.dumps(result))


if __name__ == '__main__':
  main()
