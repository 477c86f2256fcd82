"""Images held in .npz files: the embedded MNIST subset and users' own files."""

from importlib import resources
import io
import zipfile

import numpy as np
import tensorflow as tf

from tfp_realnvp import storage

# Real MNIST digits shipped inside the package (package data; its README
# beside it says where they came from), so a checkout, an installed wheel and
# Bazel's runfiles all train and test offline.
EMBEDDED_MNIST = resources.files(__package__).joinpath('mnist_train4500.npz')
EMBEDDED_MNIST_VALIDATION = 500
# Fixed for good: changing it would move images between train and validation.
_SPLIT_SEED = 0
_EXPECTED = 'an "images" uint8 array of shape [N, H, W, C]'


def read_npz(path):
  """Returns (images, labels or None) from `path` (any TensorFlow
  filesystem), validated."""
  path = storage.check_filesystem(path, '.npz file')
  if not tf.io.gfile.exists(path) or tf.io.gfile.isdir(path):
    raise FileNotFoundError(f'{path} is not a file; expected a .npz with '
                            f'{_EXPECTED}')
  content = io.BytesIO(storage.read_bytes(path))
  if not zipfile.is_zipfile(content):  # .npz files are zip archives
    raise ValueError(f'{path} is not a .npz archive; expected one with '
                     f'{_EXPECTED}')
  content.seek(0)
  with np.load(content) as npz:
    if 'images' not in npz:
      raise ValueError(f'{path} has arrays {sorted(npz)} but no "images"; '
                       f'expected {_EXPECTED}')
    images = npz['images']
    labels = npz['labels'] if 'labels' in npz else None
  if images.dtype != np.uint8 or images.ndim != 4:
    raise ValueError(f'{path}: "images" is {images.dtype} of shape '
                     f'{images.shape}; expected {_EXPECTED}')
  if labels is not None and labels.shape != images.shape[:1]:
    raise ValueError(f'{path}: "labels" has shape {labels.shape}; expected '
                     f'one label per image, shape {images.shape[:1]}')
  return images, labels


def load_npz(path, split, with_labels=False, num_validation=None):
  """A dataset of the images (and int64 labels) of one split of `path`.

  'train' and 'validation' come from a fixed permutation, the last
  `num_validation` images (default: 10%) being validation; 'all' is every
  image in file order.
  """
  images, labels = read_npz(path)
  if with_labels and labels is None:
    raise ValueError(f'{path} has no "labels" array, so with_labels=True '
                     'cannot be served')
  n = len(images)
  if split == 'all':
    index = np.arange(n)
  else:
    num_train = n - (num_validation or -(-n // 10))
    order = np.random.default_rng(_SPLIT_SEED).permutation(n)
    index = order[:num_train] if split == 'train' else order[num_train:]
  if not index.size:
    raise ValueError(f'split {split!r} of {path} is empty ({n} images); '
                     "use split='all'")
  if with_labels:
    return tf.data.Dataset.from_tensor_slices(
        (images[index], labels[index].astype(np.int64)))
  return tf.data.Dataset.from_tensor_slices(images[index])


def load_embedded_mnist(split, with_labels=False):
  """`load_npz` of the embedded MNIST subset: 4,000 train, 500 validation."""
  # A real file for tf.io.gfile, even if the package were imported from a zip.
  with resources.as_file(EMBEDDED_MNIST) as path:
    return load_npz(str(path), split, with_labels,
                    num_validation=EMBEDDED_MNIST_VALIDATION)
