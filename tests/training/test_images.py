"""Sample grids as PNG, and temperature sampling."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp.training import images


def test_grid_tiles_rows_first_and_pads_with_black():
  values = np.arange(5, dtype=np.float32)[:, None, None, None] * np.ones(
      [5, 2, 3, 1], np.float32)
  grid = images.grid(tf.constant(values)).numpy()
  assert grid.dtype == np.uint8 and grid.shape == (4, 9, 1)  # 2 rows, 3 cols
  cells = grid[..., 0].reshape(2, 2, 3, 3).transpose(0, 2, 1, 3)
  np.testing.assert_array_equal(cells[..., 0, 0], [[0, 1, 2], [3, 4, 0]])


def test_grid_clips_and_floors_float_pixels():
  pixels = tf.constant([-3., 3.7, 255.9, 300.])[None, None, :, None]
  np.testing.assert_array_equal(images.grid(pixels).numpy().ravel(),
                                [0, 3, 255, 255])


def test_png_decodes_to_the_grid(tmp_path):
  pixels = tf.random.stateless_uniform([6, 4, 5, 3], [1, 2], 0., 256.)
  path = images.write_png(tmp_path / 'sub' / 'grid.png', pixels, columns=2)
  decoded = tf.image.decode_png(tf.io.read_file(path)).numpy()
  assert decoded.shape == (12, 10, 3)
  np.testing.assert_array_equal(decoded, images.grid(pixels, 2).numpy())
