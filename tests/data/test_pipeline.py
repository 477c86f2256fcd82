import importlib

import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp import data

# The module (data.pipeline is its function).
SHUFFLE_BUFFER = importlib.import_module(
    'tfp_realnvp.data.pipeline').SHUFFLE_BUFFER


@pytest.fixture(scope='module')
def digits():
  """256 real digits from the embedded MNIST subset."""
  return np.stack(list(data.load('mnist', 'validation').take(256)
                       .as_numpy_iterator()))


def _batches(images, **kwargs):
  return [b.numpy() for b in data.pipeline(
      tf.data.Dataset.from_tensor_slices(images), **kwargs)]


def test_dequantized_batches_are_noisy_copies(digits):
  batches = _batches(digits, batch_size=100, training=False, seed=0)
  x = np.concatenate(batches)

  assert [len(b) for b in batches] == [100, 100, 56]
  assert x.dtype == np.float32 and x.shape == digits.shape
  assert x.min() >= 0 and x.max() < 256
  np.testing.assert_array_equal(np.floor(x), digits)
  assert len(np.unique(x - digits)) > 1000


def test_noise_never_reaches_256():
  # 255 + u rounds to 256.0 in float32 for u close to 1.
  white = np.full([256, 28, 28, 1], 255, np.uint8)
  x = np.concatenate(_batches(white, batch_size=64, training=False))
  assert x.min() >= 255 and x.max() < 256


def test_bin_centres_without_dequantization(digits):
  x = np.concatenate(_batches(digits, batch_size=64, training=False,
                              dequantize=False))
  np.testing.assert_array_equal(x, digits + np.float32(0.5))
  assert x.min() >= 0.5 and x.max() <= 255.5


def test_training_shuffles_drops_remainder_and_does_not_repeat(digits):
  batches = _batches(digits, batch_size=100, training=True, seed=0)
  assert [len(b) for b in batches] == [100, 100]
  assert not np.array_equal(np.floor(batches[0]), digits[:100])


def test_seed_makes_it_deterministic(digits):
  run = lambda seed: _batches(digits, batch_size=64, training=True,
                              seed=seed, flip=True)
  np.testing.assert_array_equal(run(3), run(3))
  assert not np.array_equal(run(3)[0], run(4)[0])


@pytest.mark.parametrize('random_access', [True, False])
def test_epochs_differ_with_a_seed(digits, random_access):
  images = _source(digits, random_access)
  batches = data.pipeline(images, batch_size=256, training=True, seed=3,
                          dequantize=False)
  first, second = (next(iter(batches)).numpy() for _ in range(2))
  assert not np.array_equal(first, second)  # Another order, not only noise.


def _source(examples, random_access):
  """`examples` as a dataset with random access or without (filtered, of a
  known length as tfds's are)."""
  dataset = tf.data.Dataset.from_tensor_slices(examples)
  return dataset if random_access else dataset.filter(lambda *_: True).apply(
      tf.data.experimental.assert_cardinality(dataset.cardinality()))


def _numbered(n, read=None):
  """A dataset with random access of n [1, 1, 1] 'images' holding their
  index (exact in float32), noting each index read in `read`."""

  def note(index):
    read.append(int(index))
    return index

  def image(index):
    if read is not None:
      index = tf.numpy_function(note, [index], tf.int64)
    return tf.reshape(index, [1, 1, 1])

  return tf.data.Dataset.range(n).map(image)


def _indices(batches):
  return [int(i) for batch in batches.as_numpy_iterator()
          for i in np.floor(batch).ravel()]


def test_every_image_once_per_epoch_uniformly_over_the_whole_dataset():
  n = 3 * SHUFFLE_BUFFER
  indices = _indices(data.pipeline(_numbered(n), 64, training=True, seed=1,
                                   dequantize=False, drop_remainder=False))
  assert sorted(indices) == list(range(n))
  # A buffer's first batch comes from the first SHUFFLE_BUFFER + 63 images.
  assert max(indices[:64]) >= SHUFFLE_BUFFER + 64


def test_a_skip_reads_only_the_images_it_yields():
  n, batch_size, skip = 1000, 16, 50
  read = []
  batches = data.pipeline(_numbered(n, read), batch_size, training=True,
                          seed=2, dequantize=False, skip=skip)
  del read[:]  # (pipeline reads one image to learn it has random access)
  indices = _indices(batches)
  assert len(indices) == (n // batch_size - skip) * batch_size
  # The images after the skipped ones, no other (the last partial batch's
  # are read, then dropped).
  assert len(read) == len(set(read)) == n - skip * batch_size
  assert set(indices) <= set(read)
  assert batches.cardinality() == n // batch_size - skip  # No counting pass.


def _mirrored_and_not(flip, training=True):
  digit = np.repeat(np.asarray(data.load('mnist', 'train').take(1)
                               .get_single_element())[None], 64, axis=0)
  (x,) = _batches(digit, batch_size=64, training=training, seed=0,
                  flip=flip, dequantize=False)
  plain = (x == digit + np.float32(0.5)).all(axis=(1, 2, 3))
  mirrored = (x == digit[:, :, ::-1] + np.float32(0.5)).all(axis=(1, 2, 3))
  assert (plain | mirrored).all()
  return mirrored.sum(), plain.sum()


def test_flips_happen_for_flip_datasets():
  mirrored, plain = _mirrored_and_not(flip=data.flips('cifar10'))
  assert mirrored > 0 and plain > 0


@pytest.mark.parametrize('flip, training', [(data.flips('mnist'), True),
                                            (True, False)])
def test_no_flips_for_mnist_or_evaluation(flip, training):
  assert _mirrored_and_not(flip, training) == (0, 64)


def test_flips_table():
  assert {n for n in data.DATASET_NAMES if data.flips(n)} == {
      'cifar10', 'celeba', 'lsun_bedroom', 'lsun_tower',
      'lsun_church_outdoor', 'folder'}


def test_labels_pass_through():
  pairs = data.load('mnist', 'validation', with_labels=True)
  expected = np.array([label for _, label in pairs.as_numpy_iterator()])
  batches = list(data.pipeline(pairs, batch_size=64, training=False))
  x = np.concatenate([x for x, _ in batches])
  labels = np.concatenate([y for _, y in batches])

  assert x.dtype == np.float32 and x.shape[1:] == (28, 28, 1)
  np.testing.assert_array_equal(labels, expected)


@pytest.mark.parametrize('random_access', [True, False])
@pytest.mark.parametrize('skip', [1, 5])
def test_skip_resumes_with_the_same_batches_flips_and_noise(digits, skip,
                                                            random_access):
  # Color images, so that flips show; labels ride along.
  images = np.repeat(digits[:, :, :, :1], 3, axis=-1)
  images[:, :, :14] //= 2  # Left half darker: a flip is visible.
  pairs = _source((images, np.arange(len(images))), random_access)
  batches = lambda **kwargs: list(data.pipeline(
      pairs, batch_size=16, training=True, flip=True,
      **kwargs).as_numpy_iterator())
  whole = batches(seed=4)
  rest = batches(seed=4, skip=skip)
  assert len(rest) == len(whole) - skip == 16 - skip
  for (x, labels), (x_rest, labels_rest) in zip(whole[skip:], rest):
    np.testing.assert_array_equal(labels_rest, labels)
    np.testing.assert_array_equal(x_rest, x)
  # Not trivially so: another seed gives other batches.
  other = batches(seed=5, skip=skip)
  assert not np.array_equal(other[0][1], rest[0][1])
