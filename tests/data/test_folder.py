import logging
import shutil
import time

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from tfp_realnvp import data
from tfp_realnvp.data import folder
from tfp_realnvp.data import transforms

SPLITS = ('train', 'validation')


def _images(dataset):
  return list(dataset.as_numpy_iterator())


def _load_all(name, data_dir, **kwargs):
  return [image for split in SPLITS
          for image in _images(data.load(name, split, data_dir, **kwargs))]


@pytest.fixture
def messy(tmp_path, photos):
  """The photos plus odd good files and bad ones; returns (dir, bad paths)."""
  shutil.copytree(photos, tmp_path, dirs_exist_ok=True)
  jpeg = (photos / 'rocket.jpg').read_bytes()
  photo = Image.open(photos / 'coffee.jpg')
  nested = tmp_path / 'more' / 'deeper'
  nested.mkdir(parents=True)
  photo.convert('L').save(nested / 'gray.png')
  photo.resize((300, 40)).save(tmp_path / 'wide.jpg')
  photo.resize((10, 12)).save(nested / 'tiny.png')
  (tmp_path / 'notes.txt').write_text('not an image, not listed')
  bad = [tmp_path / 'corrupt.jpg', tmp_path / 'truncated.jpg',
         nested / 'empty.png']
  bad[0].write_bytes(jpeg[:20] + bytes(range(256)) * 8)
  bad[1].write_bytes(jpeg[:len(jpeg) // 2])
  bad[2].write_bytes(b'')
  return tmp_path, bad


def test_photos_load_as_square_rgb(photos):
  images = _load_all('folder', photos)
  assert len(images) == len(list(photos.iterdir()))
  assert all(i.shape == data.image_shape('folder') for i in images)
  assert all(i.dtype == np.uint8 for i in images)
  assert data.folder_report(photos) == data.FolderReport(len(images), {})


def test_image_size_overrides_the_default(photos):
  shape = data.image_shape('folder', image_size=24)
  images = _images(data.load('folder', 'train', photos, image_size=24))
  assert shape == (24, 24, 3) and all(i.shape == shape for i in images)


def test_splits_are_disjoint_and_stable(photos):
  first, again = ([_images(data.load('folder', s, photos, seed=0))
                    for s in SPLITS] for _ in range(2))
  keys = [{image.tobytes() for image in split} for split in first]
  assert all(first) and not keys[0] & keys[1]
  for one, other in zip(first, again):
    np.testing.assert_array_equal(one, other)


def test_train_crops_are_seeded(photos):
  load = lambda seed: np.stack(_images(
      data.load('folder', 'train', photos, seed=seed)))
  np.testing.assert_array_equal(load(1), load(1))
  assert not np.array_equal(load(1), load(2))


def test_bad_files_are_replaced_and_reported(messy, caplog, photos):
  folder, bad = messy
  report = data.folder_report(folder)
  with caplog.at_level(logging.WARNING):
    images = _load_all('folder', folder, seed=0)

  assert set(report.skipped) == set(map(str, bad))
  assert report.num_images == len(list(photos.iterdir())) + 3
  # Each bad file's place holds another image: the splits keep their length.
  assert len(images) == report.num_images + len(bad)
  assert all(i.shape == (64, 64, 3) for i in images)
  assert all(str(path) in caplog.text for path in bad)

  # Every other file keeps its place (and crop): repaired, only the bad
  # files' places change.
  for path in bad:
    shutil.copy(photos / 'coffee.jpg', path)
  repaired = _load_all('folder', folder, seed=0)
  changed = [not np.array_equal(a, b) for a, b in zip(images, repaired)]
  assert len(repaired) == len(images) and sum(changed) == len(bad)


def test_indexed_images_replace_a_bad_item_by_the_next_good_one():
  pixels = {name: np.full([3, 5, 3], value, np.uint8)
            for value, name in enumerate('abcd')}
  read = []

  def decode(name):
    read.append(name)
    if name not in pixels:
      raise ValueError(f'cannot decode image {name}')
    return pixels[name]

  items = ['a', 'bad', 'b', 'worse', 'c', 'd', 'last bad']
  images = folder.indexed_images(items, decode, 3, 3, training=False,
                                 seed=None, source='the test items')
  values = [int(i[0, 0, 0]) for i in images.as_numpy_iterator()]
  assert values == [0, 1, 1, 2, 2, 3, 0]  # the last wraps around to 'a'
  read.clear()
  np.testing.assert_array_equal(
      tf.data.experimental.at(images, 4), np.full([3, 3, 3], 2))
  assert read == ['c']  # random access: reads its own item only

  none = folder.indexed_images(['bad'], decode, 3, 3, training=False,
                               seed=None, source='the test items')
  with pytest.raises(tf.errors.OpError, match='none of the 1 images of the '
                     'test items decodes'):
    list(none)


def test_grayscale_becomes_rgb(tmp_path, photos):
  for name in ('a', 'b', 'c'):
    Image.open(photos / 'chelsea.webp').convert('L').save(
        tmp_path / f'{name}.png')
  images = _images(data.load('folder', 'train', tmp_path))
  assert images and all(i.shape == (64, 64, 3) for i in images)
  assert all((i == i[..., :1]).all() for i in images)


def test_strict_raises_naming_the_bad_file(messy):
  folder, bad = messy
  with pytest.raises(ValueError) as error:
    data.load('folder', 'train', folder, strict=True)
  assert any(str(path) in str(error.value) for path in bad)


@pytest.mark.parametrize('case', ['missing', 'empty', 'no-images'])
def test_no_images_fails_fast(tmp_path, case):
  folder = tmp_path / 'missing' if case == 'missing' else tmp_path
  if case == 'no-images':
    (folder / 'notes.txt').write_text('not an image')
  start = time.monotonic()
  with pytest.raises((FileNotFoundError, ValueError), match=str(folder)):
    data.load('folder', 'train', folder)
  assert time.monotonic() - start < 5


def test_lsun_reads_a_folder_with_lsun_geometry(photos):
  validation = _images(data.load('lsun_tower', 'validation', photos))
  train = _images(data.load('lsun_tower', 'train', photos, seed=0))
  photo = np.asarray(Image.open(photos / 'grass.png').convert('RGB'))

  assert all(i.shape == data.image_shape('lsun_tower') for i in train)
  assert len(train) + len(validation) == len(list(photos.iterdir()))
  # grass.png is the folder's validation image: a central 64 crop at 96.
  np.testing.assert_array_equal(
      validation, [transforms.resize_and_crop(photo, 96, 64).numpy()])
