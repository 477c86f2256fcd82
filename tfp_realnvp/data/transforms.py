"""Per-image geometry: the crops and resizes of the paper's datasets."""

import tensorflow as tf

# Dinh et al. (2017), sec. 4.1: the 148x148 box of each CelebA face.
CELEBA_BOX = (40, 15, 148, 148)  # top, left, height, width


def random_seeds(seed):
  """An endless dataset of stateless-op seeds of shape [2].

  Fresh values each epoch, yet the same sequence for the same `seed`, which
  stateless random ops need for deterministic augmentation.
  """
  return tf.data.Dataset.random(
      seed=seed, rerandomize_each_iteration=True).batch(2)


def _to_uint8(image):
  return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def celeba_crop(image, size=64):
  """Crops the paper's 148x148 CelebA face box and shrinks it to `size`."""
  top, left, height, width = CELEBA_BOX
  box = tf.image.crop_to_bounding_box(image, top, left, height, width)
  return _to_uint8(tf.image.resize(box, [size, size], method='area'))


def resize_and_crop(image, short_side, size, seed=None):
  """Resizes an RGB image so its shorter side is `short_side`, then crops.

  The `size`-square crop is central when `seed` is None, else random (a
  stateless op, so a given seed always picks the same window).
  """
  hw = tf.cast(tf.shape(image)[:2], tf.float32)
  scale = short_side / tf.reduce_min(hw)
  # max() keeps rounding from leaving the shorter side a pixel too small.
  new_hw = tf.maximum(tf.cast(tf.round(hw * scale), tf.int32), short_side)
  image = _to_uint8(
      tf.image.resize(image, new_hw, method='bilinear', antialias=True))
  if seed is None:
    return tf.image.resize_with_crop_or_pad(image, size, size)
  return tf.image.stateless_random_crop(image, [size, size, 3], seed)


def resize_and_crop_images(images, short_side, size, training, seed=None):
  """Maps `resize_and_crop` over a dataset: random crops if `training`."""
  if not training:
    return images.map(lambda image: resize_and_crop(image, short_side, size),
                      num_parallel_calls=tf.data.AUTOTUNE)
  return tf.data.Dataset.zip(images, random_seeds(seed)).map(
      lambda image, s: resize_and_crop(image, short_side, size, s),
      num_parallel_calls=tf.data.AUTOTUNE)
