"""Samples from a flow, and grids of images as PNG files."""

import math
from pathlib import Path

import tensorflow as tf

__all__ = ['sample', 'grid', 'encode_png', 'write_png']


def sample(distribution, num, temperature=1., seed=0):
  """`num` images: `bijector.forward(z)` with `z ~ N(0, temperature**2 I)`.

  A temperature below 1 trades diversity for cleaner images. The same seed
  gives the same latents, so samples of successive checkpoints compare.
  """
  shape = [num, *distribution.event_shape]
  z = temperature * tf.random.stateless_normal(shape, seed=[seed, 0])
  return distribution.bijector.forward(z)


def grid(images, columns=None):
  """Float pixels [N, H, W, C] tiled into one uint8 image, rows first.

  Values are clipped to [0, 255] and floored, the inverse of dequantization.
  `columns` defaults to a square grid; missing cells stay black.
  """
  images = tf.cast(tf.floor(tf.clip_by_value(images, 0., 255.)), tf.uint8)
  n, height, width, channels = images.shape
  columns = columns or math.ceil(math.sqrt(n))
  rows = math.ceil(n / columns)
  images = tf.concat(
      [images, tf.zeros([rows * columns - n, height, width, channels],
                        tf.uint8)], axis=0)
  images = tf.reshape(images, [rows, columns, height, width, channels])
  return tf.reshape(tf.transpose(images, [0, 2, 1, 3, 4]),
                    [rows * height, columns * width, channels])


def encode_png(images, columns=None):
  """The PNG bytes of `grid(images, columns)`."""
  return tf.image.encode_png(grid(images, columns)).numpy()


def write_png(path, images, columns=None):
  """Writes `grid(images, columns)` to `path` as PNG; returns the path."""
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_bytes(encode_png(images, columns))
  return path
