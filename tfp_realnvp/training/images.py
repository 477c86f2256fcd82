"""Grids of images as PNG files."""

import math
import os
import posixpath

import tensorflow as tf

from tfp_realnvp import latent
from tfp_realnvp import storage

__all__ = ['grid', 'encode_png', 'write_png']


def grid(images, columns=None):
  """Float pixels [N, H, W, C] tiled into one uint8 image, rows first.

  Values are clipped to [0, 255] and floored, the inverse of dequantization.
  `columns` defaults to a square grid; missing cells stay black.
  """
  images = latent.to_uint8(images)
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
  """Writes `grid(images, columns)` to `path` (a string, any TensorFlow
  filesystem) as PNG; returns the path."""
  path = storage.check_filesystem(path, 'PNG file')
  parent = (posixpath if storage.scheme(path) else os.path).dirname(path)
  if parent:
    tf.io.gfile.makedirs(parent)
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(encode_png(images, columns))
  return path
