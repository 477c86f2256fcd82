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
  result.update(moving_averages(single, mirrored, x))
  print(json.dumps(result))


def moving_averages(single, mirrored, x):
  """Batch norm's moving averages after 4 steps under MirroredStrategy vs
  the strategy's rule, computed on one device.

  The rule: the averages are ON_READ variables, so each replica updates its
  own copy from its own half of each batch, and reading them across replicas
  (as saving does) gives the mean of the copies. A learning rate of 0 keeps
  the weights, so the rule is computed from the same weights at each step.
  """
  sgd = lambda: tf_keras.optimizers.SGD(0.)
  weights = build(single, True, sgd()).get_weights()
  model, _ = train(mirrored, True, sgd(), weights, x)
  actual = [v.numpy() for v in model.distribution.non_trainable_variables]
  replicas = [build(single, True, sgd(), weights) for _ in range(2)]
  whole = build(single, True, sgd(), weights)  # One device, whole batches.
  half = GLOBAL_BATCH // 2
  for step in range(len(x) // GLOBAL_BATCH):
    batch = x[step * GLOBAL_BATCH:(step + 1) * GLOBAL_BATCH]
    for index, replica in enumerate(replicas):
      replica.negative_log_likelihood(batch[index * half:(index + 1) * half],
                                      training=True)
    whole.negative_log_likelihood(batch, training=True)
  expected = [np.mean([r.distribution.non_trainable_variables[i].numpy()
                       for r in replicas], axis=0)
              for i in range(len(actual))]
  initial = [v.numpy() for v in build(
      single, True, sgd(), weights).distribution.non_trainable_variables]
  largest = lambda a, b: max(float(np.max(np.abs(u - v)))
                             for u, v in zip(a, b))
  return {
      'num_averages': len(actual),
      'max_average_difference': largest(actual, expected),
      'max_average_change': largest(expected, initial),
      'whole_batch_average_difference': largest(
          [v.numpy() for v in whole.distribution.non_trainable_variables],
          expected)}


if __name__ == '__main__':
  main()
