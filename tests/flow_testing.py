"""Helpers for the flow tests: non-identity weights, dequantized pixels."""

import numpy as np
import tensorflow as tf
import tf_keras

from tfp_realnvp import bijectors
from tfp_realnvp import networks


def perturb(module, seed=0, scale=0.1):
  """Moves a flow away from the identity it is initialised at.

  Checkerboard couplings start additive (their log-scale's scalar is 0),
  vector couplings at the identity, and batch norm's averages at (0, 1):
  each would hide errors. Every network's output layer (its size set by
  `scale`), every learned tanh scale and every running average, in the
  bijectors and in the networks, gets random values.
  """
  rng = np.random.default_rng(seed)

  def assign(variable, values):
    variable.assign(values.astype(variable.dtype.as_numpy_dtype))

  for layer in _submodules(module, tf_keras.layers.Layer):
    if isinstance(layer, (networks.ResNet, networks.MLP)):
      out = layer.conv_out if isinstance(layer, networks.ResNet) else layer.out
      for w in out.weights:
        assign(w, rng.normal(0., scale, w.shape))
      assign(layer.scale, rng.uniform(0.5, 1.5, layer.scale.shape))
  norms = (_submodules(module, bijectors.BatchNormalization) +
           [bn for bn in _submodules(module, tf_keras.layers.BatchNormalization)
            if bn.weights])  # not the disabled ones of batch_norm=False
  for bn in norms:
    assign(bn.moving_mean, rng.normal(0., 0.3, bn.moving_mean.shape))
    assign(bn.moving_variance, rng.uniform(0.6, 1.5, bn.moving_variance.shape))
  return module


def _submodules(module, cls):
  found = [m for m in module.submodules if isinstance(m, cls)]
  return found + ([module] if isinstance(module, cls) else [])


def random_pixels(shape, seed=0, dtype=tf.float32):
  """Dequantized pixels in [0, 256): uint8 values plus uniform noise."""
  rng = np.random.default_rng(seed)
  x = rng.integers(0, 256, shape) + rng.uniform(0., 1., shape)
  return tf.constant(x, dtype)
