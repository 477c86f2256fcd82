"""LSUN from LMDB directories laid out as the official release's."""

import hashlib
import io
import logging
import math
import sys

import lmdb
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from tfp_realnvp import data
from tfp_realnvp import training
from tfp_realnvp.data import lsun
from tfp_realnvp.data import transforms
from tests import tiny

VALIDATION_PHOTOS = ('chelsea.webp', 'coffee.jpg', 'grass.png')


def _key(*parts):
  """A 40-hex-character id, as LSUN's keys are."""
  return hashlib.sha1('/'.join(parts).encode()).hexdigest().encode()


def _encoded(photo, image_format):
  image = Image.open(photo).convert('RGB')
  image.thumbnail((160, 160))  # Faster than the release's ~256 px.
  out = io.BytesIO()
  image.save(out, image_format, quality=90)
  return out.getvalue()


def _write_lmdb(path, entries):
  with lmdb.open(str(path), map_size=1 << 26) as env, env.begin(
      write=True) as txn:
    for key, value in entries.items():
      txn.put(key, value)


@pytest.fixture
def lmdbs(tmp_path, photos):
  """bedroom_{train,val}_lmdb of the photos; returns (data_dir, train
  entries, validation entries, the corrupt key)."""
  train = {_key(p.name, f): _encoded(p, f)
           for p in sorted(photos.iterdir()) for f in ('WEBP', 'JPEG')}
  jpeg = next(v for v in train.values() if v.startswith(b'\xff\xd8'))
  corrupt = _key('corrupt')
  train[corrupt] = jpeg[:20] + bytes(range(256)) * 8
  validation = {_key('val', name): _encoded(photos / name, 'WEBP')
                for name in VALIDATION_PHOTOS}
  _write_lmdb(tmp_path / 'bedroom_train_lmdb', train)
  _write_lmdb(tmp_path / 'bedroom_val_lmdb', validation)
  return tmp_path, train, validation, corrupt


def _images(dataset):
  return np.stack(list(dataset.as_numpy_iterator()))


def test_splits_yield_64x64_uint8_images(lmdbs):
  data_dir, train, validation, _ = lmdbs
  train_images = _images(data.load('lsun_bedroom', 'train', data_dir, seed=0))
  validation_images = _images(data.load('lsun_bedroom', 'validation',
                                        data_dir))

  assert train_images.dtype == validation_images.dtype == np.uint8
  # The corrupt value's place is taken by the next one.
  assert train_images.shape == (len(train), 64, 64, 3)
  # The paper's geometry: shorter side 96, a central 64x64 crop to validate,
  # in key order.
  expected = [transforms.resize_and_crop(
      np.asarray(Image.open(io.BytesIO(validation[key]))), 96, 64)
              for key in sorted(validation)]
  np.testing.assert_array_equal(validation_images, expected)


def test_corrupt_values_are_replaced_and_reported(lmdbs, caplog):
  data_dir, train, validation, corrupt = lmdbs
  with caplog.at_level(logging.WARNING):
    n = len(_images(data.load('lsun_bedroom', 'train', data_dir)))
  report = lsun.lmdb_report(data_dir, 'bedroom')

  train_dir = lsun.lmdb_dir(data_dir, 'bedroom', 'train')
  assert list(report.skipped) == [f'{corrupt.decode()} in {train_dir}']
  assert report.num_images == n - 1 + len(validation) == len(train) - 1 + 3
  assert corrupt.decode() in caplog.text


def test_strict_raises_naming_the_corrupt_key(lmdbs):
  data_dir, _, _, corrupt = lmdbs
  with pytest.raises(ValueError, match=corrupt.decode()):
    data.load('lsun_bedroom', 'train', data_dir, strict=True)


def test_training_images_and_batches_are_determined_by_the_seed(lmdbs):
  data_dir = lmdbs[0]

  def batches(seed):
    images = data.load('lsun_bedroom', 'train', data_dir, seed=seed)
    return _images(data.pipeline(images, 4, training=True, seed=seed,
                                 flip=data.flips('lsun_bedroom')))

  np.testing.assert_array_equal(batches(1), batches(1))
  assert not np.array_equal(batches(1), batches(2))


def test_a_missing_split_names_its_directory(lmdbs):
  data_dir = lmdbs[0]
  tf.io.gfile.rmtree(str(data_dir / 'bedroom_val_lmdb'))
  with pytest.raises(FileNotFoundError, match='bedroom_val_lmdb'):
    data.load('lsun_bedroom', 'validation', data_dir)


def test_without_data_the_error_tells_the_lmdb_layout(tmp_path):
  with pytest.raises(FileNotFoundError) as error:
    data.load('lsun_tower', 'train', tmp_path)
  assert all(name in str(error.value) for name in (
      f'{tmp_path}/lsun/tower', '<data_dir>/tower_train_lmdb/data.mdb',
      '<data_dir>/tower_val_lmdb/data.mdb'))


def test_lmdb_on_a_remote_filesystem_fails_saying_it_must_be_local(lmdbs):
  local = lmdbs[0] / 'bedroom_train_lmdb' / 'data.mdb'
  remote = 'ram://lsun/bedroom_train_lmdb/data.mdb'
  tf.io.gfile.makedirs('ram://lsun/bedroom_train_lmdb')
  tf.io.gfile.copy(str(local), remote, overwrite=True)
  try:
    with pytest.raises(ValueError, match='lmdb package.*local'):
      data.load('lsun_bedroom', 'train', 'ram://lsun')
  finally:
    tf.io.gfile.remove(remote)


def test_without_the_lmdb_package_the_error_names_the_extra(lmdbs,
                                                              monkeypatch):
  monkeypatch.setitem(sys.modules, 'lmdb', None)  # import lmdb fails
  with pytest.raises(ImportError, match=r"tfp_realnvp\[lmdb\]"):
    data.load('lsun_bedroom', 'train', lmdbs[0])


@pytest.mark.slow
def test_train_and_evaluate_a_tiny_model(lmdbs, tmp_path):
  data_dir, _, validation, _ = lmdbs
  model_dir = str(tmp_path / 'run')
  result = training.train(
      'lsun_bedroom', model_dir, data_dir, **tiny.MODEL, steps_per_epoch=2,
      batch_size=4, epochs=1, verbose=0)
  evaluation = training.evaluate(model_dir)

  assert result.step == 2 and math.isfinite(result.bits_per_dim)
  assert evaluation.num_images == len(validation)
  assert math.isfinite(evaluation.bits_per_dim) and evaluation.bits_per_dim > 0
