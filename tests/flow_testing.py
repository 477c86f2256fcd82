"""Helpers for the flow tests: non-identity weights, dequantized pixels."""

import numpy as np
import tensorflow as tf
import tf_keras

from tfp_realnvp import bijectors
from tfp_realnvp import networks


def perturb(module, seed=0, scale=0.1):
  """Moves a flow away from the identity it is initialised at.

  The couplings' output layers start at zero and batch norm's averages at
  (0, 1); both would hide errors. Every network's output layer, every learned
  tanh scale and every running average gets random values.
  """
  rng = np.random.default_rng(seed)
  for layer in _submodules(module, tf_keras.layers.Layer):
    if isinstance(layer, (networks.ResNet, networks.MLP)):
      out = layer.conv_out if isinstance(layer, networks.ResNet) else layer.out
      for w in out.weights:
        w.assign(rng.normal(0., scale, w.shape).astype(w.dtype.as_numpy_dtype))
      layer.scale.assign(rng.uniform(0.5, 1.5, layer.scale.shape))
  for bn in _submodules(module, bijectors.BatchNormalization):
    bn.moving_mean.assign(rng.normal(0., 0.3, bn.moving_mean.shape))
    bn.moving_variance.assign(rng.uniform(0.6, 1.5, bn.moving_variance.shape))
  return module


def _submodules(module, cls):
  found = [m for m in module.submodules if isinstance(m, cls)]
  return found + ([module] if isinstance(module, cls) else [])


def random_pixels(shape, seed=0, dtype=tf.float32):
  """Dequantized pixels in [0, 256): uint8 values plus uniform noise."""
  rng = np.random.default_rng(seed)
  x = rng.integers(0, 256, shape) + rng.uniform(0., 1., shape)
  return tf.constant(x, dtype)
