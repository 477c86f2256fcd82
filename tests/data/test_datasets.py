import time

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfp_realnvp import data
from tfp_realnvp.data import transforms

TFDS_NAMES = [n for n in data.DATASET_NAMES if n not in ('folder', 'npz')]


@pytest.fixture
def data_dirs(tmp_path, photos):
  """A data_dir for each name; tfds ones are empty (mock_data ignores it)."""
  npz = tmp_path / 'images.npz'
  np.savez(npz, images=np.random.default_rng(0).integers(
      0, 256, [20, 16, 16, 3], dtype=np.uint8))
  return {**{name: tmp_path for name in TFDS_NAMES},
          'folder': photos, 'npz': npz}


@pytest.mark.parametrize('name', data.DATASET_NAMES)
@pytest.mark.parametrize('split', ['train', 'validation'])
def test_every_dataset_yields_model_ready_images(name, split, data_dirs):
  # mock_data makes download_and_prepare a no-op and serves random examples
  # (random sizes for lsun/* and downsampled_imagenet).
  with tfds.testing.mock_data(num_examples=4):
    images = data.load(name, split, data_dirs[name], download=True, seed=0)
    shape = data.image_shape(name, data_dirs[name])
    batch = next(iter(data.pipeline(images, 2, split == 'train', seed=0,
                                    flip=data.flips(name))))
    raw = list(images.as_numpy_iterator())

  assert raw and all(i.shape == shape and i.dtype == np.uint8 for i in raw)
  assert batch.shape[1:] == shape and batch.dtype == tf.float32
  assert 0 <= tf.reduce_min(batch) and tf.reduce_max(batch) < 256


def test_tfds_mnist_labels(tmp_path):
  with tfds.testing.mock_data(num_examples=3):
    pairs = list(data.load('mnist', 'train', tmp_path, download=True,
                           with_labels=True))
  assert all(i.shape == (28, 28, 1) and l.dtype == tf.int64 for i, l in pairs)


def test_celeba_load_crops_the_face_box(tmp_path):
  image = np.zeros([218, 178, 3], np.uint8)
  image[40 + 74:40 + 148, 15:15 + 148] = 255  # Lower half of the face box.

  def as_dataset(*args, **kwargs):
    return tf.data.Dataset.from_tensors({'image': image})

  with tfds.testing.mock_data(as_dataset_fn=as_dataset):
    (out,) = data.load('celeba', 'validation', tmp_path, download=True)
  assert out.shape == (64, 64, 3)
  assert (out[:32] == 0).numpy().all() and (out[32:] == 255).numpy().all()


@pytest.mark.parametrize('name, side', [('imagenet32', 32),
                                        ('imagenet64', 64)])
@pytest.mark.parametrize('split', ['train', 'validation'])
def test_imagenet_is_the_downsampled_density_estimation_set(name, side, split,
                                                            tmp_path):
  image = np.random.default_rng(0).integers(0, 256, [side + 8, side + 2, 3],
                                            dtype=np.uint8)
  requested = []

  def as_dataset(self, split, **kwargs):
    requested.append((self.name, self.builder_config.name, split))
    return tf.data.Dataset.from_tensors({'image': image})

  with tfds.testing.mock_data(as_dataset_fn=as_dataset):
    (out,) = data.load(name, split, tmp_path, download=True, seed=0)
  assert requested == [('downsampled_imagenet', f'{side}x{side}', split)]
  # Any other size is made square (both splits: a central crop).
  np.testing.assert_array_equal(
      out, transforms.resize_and_crop(image, side, side))


@pytest.mark.parametrize('resolution', ['32x32', '64x64'])
def test_downsampled_imagenet_builds_train_and_validation(resolution,
                                                          tmp_path):
  # Offline, the builder's info lists no splits until the data is prepared;
  # its split generators tell which it makes, and from which archives.
  builder = tfds.builder(f'downsampled_imagenet/{resolution}',
                         data_dir=tmp_path)
  urls = []

  class Downloads:  # The part of tfds's download manager the builder uses.

    def download(self, paths):
      urls.extend(paths)
      return [tmp_path / p.rsplit('/', 1)[-1] for p in paths]

    def iter_archive(self, path):
      return iter(())

  splits = {g.name for g in builder._split_generators(Downloads())}
  assert splits == {'train', 'validation'}
  # van den Oord et al.'s files.
  assert [u.rsplit('/', 2)[-2:] for u in urls] == [
      ['small', f'train_{resolution}.tar'], ['small', f'valid_{resolution}.tar']]


@pytest.mark.parametrize('name', TFDS_NAMES)
def test_missing_tfds_data_fails_fast_naming_the_directory(name, tmp_path):
  start = time.monotonic()
  with pytest.raises(FileNotFoundError) as error:
    data.load(name, 'train', tmp_path)
  assert time.monotonic() - start < 10
  message = str(error.value)
  assert str(tmp_path) in message and '--download' in message
  assert ('LMDB' in message) == name.startswith('lsun')


@pytest.mark.parametrize('call, match', [
    (lambda: data.load('svhn', 'train'), 'unknown dataset'),
    (lambda: data.load('mnist', 'test'), 'split'),
    (lambda: data.load('cifar10', 'all'), 'split'),
    (lambda: data.load('cifar10', 'train', with_labels=True), 'labels'),
    (lambda: data.load('celeba', 'train', image_size=32), 'image_size'),
    (lambda: data.image_shape('folder', image_size=0), 'positive integer'),
    (lambda: data.image_shape('npz', image_size='32'), 'positive integer'),
    (lambda: data.load('folder', 'train'), 'data_dir'),
    (lambda: data.image_shape('npz'), 'data_dir'),
], ids=['name', 'split', 'all', 'labels', 'image_size', 'image_size-zero',
        'image_size-str', 'folder', 'npz'])
def test_bad_arguments(call, match):
  with pytest.raises(ValueError, match=match):
    call()


def test_image_shapes():
  shapes = {n: data.image_shape(n) for n in data.DATASET_NAMES if n != 'npz'}
  assert shapes['mnist'] == (28, 28, 1)
  assert shapes['cifar10'] == shapes['imagenet32'] == (32, 32, 3)
  assert {shapes[n] for n in TFDS_NAMES[3:] + ['folder']} == {(64, 64, 3)}
