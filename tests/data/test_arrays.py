import os

import numpy as np
import pytest

from tfp_realnvp import data
from tfp_realnvp.data import arrays
from tfp_realnvp.data import transforms

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))


def _images(dataset):
  return np.stack(list(dataset.as_numpy_iterator()))


def _keys(images):
  return {image.tobytes() for image in images}


def test_embedded_mnist_splits_are_disjoint_and_cover_the_file():
  train = _images(data.load('mnist', 'train'))
  validation = _images(data.load('mnist', 'validation'))
  everything = np.load(arrays.EMBEDDED_MNIST)['images']

  assert len(train) == 4000 and len(validation) == 500
  assert train.shape[1:] == validation.shape[1:] == data.image_shape('mnist')
  assert train.dtype == np.uint8
  assert not _keys(train) & _keys(validation)
  assert _keys(train) | _keys(validation) == _keys(everything)


def test_held_back_digits_are_outside_the_embedded_file():
  path = os.path.join(ROOT, 'testdata', 'mnist_heldback500.npz')
  pairs = list(data.load('npz', 'all', path, with_labels=True)
               .as_numpy_iterator())
  images = np.stack([image for image, _ in pairs])
  labels = np.array([label for _, label in pairs])
  assert images.shape == (500, *data.image_shape('mnist'))
  assert len(_keys(images)) == 500
  assert not _keys(images) & _keys(np.load(arrays.EMBEDDED_MNIST)['images'])
  np.testing.assert_array_equal(np.bincount(labels), [50] * 10)


def test_embedded_mnist_split_is_fixed():
  first, again = (_images(data.load('mnist', 'validation')) for _ in range(2))
  np.testing.assert_array_equal(first, again)


def test_embedded_mnist_labels():
  pairs = list(data.load('mnist', 'train', with_labels=True).take(100))
  labels = np.array([label for _, label in pairs])
  assert labels.dtype == np.int64 and set(labels) <= set(range(10))
  assert len(set(labels)) > 1


@pytest.fixture
def npz(tmp_path):
  rng = np.random.default_rng(0)
  path = tmp_path / 'images.npz'
  np.savez(path, images=rng.integers(0, 256, [50, 8, 6, 3], dtype=np.uint8),
           labels=rng.integers(0, 5, [50]))
  return path


def test_npz_splits(npz):
  everything = np.load(npz)['images']
  train = _images(data.load('npz', 'train', npz))
  validation = _images(data.load('npz', 'validation', npz))

  assert data.image_shape('npz', npz) == everything.shape[1:]
  assert len(validation) == len(everything) // 10
  assert not _keys(train) & _keys(validation)
  assert _keys(train) | _keys(validation) == _keys(everything)
  np.testing.assert_array_equal(_images(data.load('npz', 'all', npz)),
                                everything)


def test_npz_labels_follow_their_images(npz):
  stored = np.load(npz)
  label_of = {image.tobytes(): label
              for image, label in zip(stored['images'], stored['labels'])}
  for image, label in data.load('npz', 'train', npz, with_labels=True):
    assert label_of[image.numpy().tobytes()] == label


def test_npz_image_size_crops_squares_in_the_middle(npz):
  stored = np.load(npz)
  # 8x6 images, which two squeezes cannot halve, made 4x4.
  assert data.image_shape('npz', npz, image_size=4) == (4, 4, 3)
  everything = _images(data.load('npz', 'all', npz, image_size=4))
  np.testing.assert_array_equal(everything, [
      transforms.resize_and_crop(image, 4, 4) for image in stored['images']])
  pairs = list(data.load('npz', 'train', npz, image_size=4, with_labels=True))
  label_of = {image.tobytes(): label for image, label in
              zip(everything, stored['labels'])}
  assert len(pairs) == 45
  for image, label in pairs:
    assert image.shape == (4, 4, 3)
    assert label_of[image.numpy().tobytes()] == label


@pytest.mark.parametrize('arrays_in_file, expected', [
    ({'pictures': np.zeros([2, 4, 4, 1], np.uint8)}, '"images"'),
    ({'images': np.zeros([2, 4, 4, 1], np.float32)}, 'uint8'),
    ({'images': np.zeros([2, 4, 4], np.uint8)}, r'\[N, H, W, C\]'),
    ({'images': np.zeros([2, 4, 4, 1], np.uint8),
      'labels': np.zeros([3])}, 'one label per image'),
], ids=['missing-key', 'dtype', 'rank', 'labels'])
def test_npz_validation(tmp_path, arrays_in_file, expected):
  path = tmp_path / 'bad.npz'
  np.savez(path, **arrays_in_file)
  with pytest.raises(ValueError, match=expected):
    data.load('npz', 'all', path)


def test_npz_errors(tmp_path, npz):
  with pytest.raises(FileNotFoundError, match='missing.npz'):
    data.load('npz', 'train', tmp_path / 'missing.npz')
  single = tmp_path / 'single.npy'
  np.save(single, np.zeros([10, 4, 4, 1], np.uint8))
  with pytest.raises(ValueError, match='single.npy is not a .npz archive'):
    data.load('npz', 'train', single)
  with pytest.raises(ValueError, match='data_dir'):
    data.load('npz', 'train')
  unlabelled = tmp_path / 'unlabelled.npz'
  np.savez(unlabelled, images=np.zeros([10, 4, 4, 1], np.uint8))
  with pytest.raises(ValueError, match='labels'):
    data.load('npz', 'train', unlabelled, with_labels=True)
