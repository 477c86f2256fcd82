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

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import training

  image = training.grid(tf.fill([5, 4, 4, 1], 100.7))  # 2 rows of 3 cells
  assert image.shape == (8, 12, 1) and image[0, 0, 0] == 100
  assert image[7, 11, 0] == 0  # the missing sixth cell
  ```
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
  """The PNG bytes of `grid(images, columns)`.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import training

  png = training.encode_png(tf.zeros([4, 8, 8, 3]), columns=4)
  assert png[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
  ```
  """
  return tf.image.encode_png(grid(images, columns)).numpy()


def write_png(path, images, columns=None):
  """Writes `grid(images, columns)` to `path` as PNG; returns the path.

  `path` is a string on any TensorFlow filesystem.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import training

  path = training.write_png('ram://docs/samples.png', tf.zeros([4, 8, 8, 1]))
  assert tf.io.gfile.exists(path)
  ```
  """
  path = storage.check_filesystem(path, 'PNG file')
  parent = (posixpath if storage.scheme(path) else os.path).dirname(path)
  if parent:
    tf.io.gfile.makedirs(parent)
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(encode_png(images, columns))
  return path
