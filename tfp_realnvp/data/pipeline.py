"""Batches of model inputs from a dataset of uint8 images."""

import numpy as np
import tensorflow as tf

from tfp_realnvp.data import transforms

SHUFFLE_BUFFER = 10_000  # images; ~120 MB at 64x64x3
_INDEX_BATCH = 1024  # positions permuted at once (one op for many: 36x faster)
# x + u with u just below 1 rounds to 256 in float32 for x = 255.
_BELOW_256 = np.nextafter(np.float32(256), np.float32(0))


def pipeline(images, batch_size, training, seed=None, flip=False,
             dequantize=True, drop_remainder=None, skip=0):
  """Shuffled (if `training`), batched, float32 images; prefetched.

  Args:
    images: a dataset of uint8 images, or (image, label) pairs, from load().
    batch_size: images per batch.
    training: shuffle and, if `flip`, mirror half the images at random. Not
      repeated: Keras fit() runs the epochs. Reshuffled on each iteration.
      A dataset with random access (`tf.data.experimental.at` reads any
      element: `load`'s arrays, npz files, image folders and LSUN LMDBs) is
      shuffled by index, a uniform permutation of the whole dataset; others
      (tfds's files) through a buffer of SHUFFLE_BUFFER images.
    seed: makes shuffling, flips and noise deterministic; None does not.
    flip: random horizontal flips (pass flips(name)); training only.
    dequantize: add uniform noise u ~ U[0, 1) to each pixel, giving values in
      [0, 256); if False, use the bin centres x + 0.5.
    drop_remainder: drop the last partial batch; default: `training`.
    skip: start after this many batches: the same batches, flips and noise
      as those of an iteration from the start, batch `skip` + 1 on (a run
      resumed inside an epoch). Shuffled by index, the skipped images are
      never read; through the buffer, they are read but neither batched,
      flipped nor noised.

  Returns:
    A dataset of float32 [batch, H, W, C] (with int64 [batch] labels).

  #### Example

  ```python
  from tfp_realnvp import data

  images = data.load('mnist', 'train', seed=0)  # the embedded subset
  batches = data.pipeline(images, batch_size=64, training=True, seed=0,
                          flip=data.flips('mnist'))
  x = next(iter(batches))  # [64, 28, 28, 1] float32 in [0, 256)
  ```
  """
  # Skipped before batching, and with the batches' seeds: skipping the
  # finished batches would batch, flip and noise each first.
  images = _shuffled(images, seed, skip * batch_size) if training else (
      images.skip(skip * batch_size))
  batches = images.batch(batch_size, drop_remainder=(
      training if drop_remainder is None else drop_remainder))
  flip = flip and training

  def transform(seed, batch):
    x, *labels = batch if isinstance(batch, tuple) else (batch,)
    flip_seed, noise_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 2))
    x = tf.cast(x, tf.float32)
    if flip:
      mirror = tf.random.stateless_uniform(
          [tf.shape(x)[0], 1, 1, 1], flip_seed) < 0.5
      x = tf.where(mirror, tf.reverse(x, axis=[2]), x)
    if dequantize:
      x = tf.minimum(x + tf.random.stateless_uniform(tf.shape(x), noise_seed),
                     _BELOW_256)
    else:
      x += 0.5
    return (x, *labels) if labels else x

  return tf.data.Dataset.zip(transforms.random_seeds(seed).skip(skip),
                             batches).map(
      transform, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
          tf.data.AUTOTUNE)


def _has_random_access(images):
  # tf.data tells only by trying (which reads one element): without random
  # access, an op of `images` raises one of these.
  try:
    tf.data.experimental.at(images, 0)
  except (tf.errors.UnimplementedError, tf.errors.FailedPreconditionError):
    return False
  return True


def _shuffled(images, seed, skip):
  """`images` shuffled, less the first `skip`; the first iteration is a
  function of `seed`, each later one another order."""
  n = int(images.cardinality())
  if n <= skip or not _has_random_access(images):
    return images.shuffle(SHUFFLE_BUFFER, seed=seed).skip(skip)

  def permuted(seed_pair):
    # Not the first batch's flip and noise seeds, drawn from the same pair.
    key = tf.random.experimental.stateless_fold_in(seed_pair, 1)
    return tf.data.Dataset.range(skip, n).batch(_INDEX_BATCH).map(
        lambda positions: tf.random.experimental.index_shuffle(
            positions, key, n - 1)).unbatch()

  # One permutation seed per iteration (flat_map hides the count: restated).
  indices = transforms.random_seeds(seed).take(1).flat_map(permuted).apply(
      tf.data.experimental.assert_cardinality(n - skip))
  return indices.map(lambda index: tf.data.experimental.at(images, index),
                     num_parallel_calls=tf.data.AUTOTUNE)
