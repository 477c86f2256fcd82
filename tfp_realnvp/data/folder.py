"""Folders of image files: users' photos, or LSUN exported from its LMDBs.

Also the decoding, and reading by index, that lsun.py shares."""

import dataclasses
import io
import logging
import os
import zlib

import numpy as np
from PIL import Image
import tensorflow as tf

from tfp_realnvp import storage
from tfp_realnvp.data import transforms

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp', '.bmp', '.gif')
VALIDATION_PERCENT = 5
_EXPECTED = f'a directory of image files ({", ".join(IMAGE_EXTENSIONS)})'
_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class FolderReport:
  """What an image folder (or an LSUN LMDB, `lsun.lmdb_report`) holds.

  `folder_report` and `lmdb_report` return one.

  #### Example

  ```python
  from tfp_realnvp import data

  report = data.FolderReport(
      num_images=2, skipped={'photos/c.png': 'cannot decode image'})
  print(f'{report.num_images} images, {len(report.skipped)} skipped')
  ```
  """
  num_images: int  # files (LMDB values) that decode
  skipped: dict  # path (LMDB key and file) -> why it cannot be decoded


def _root(data_dir):
  """`data_dir` as a string without a trailing separator."""
  root = storage.check_filesystem(data_dir, 'image folder')
  return root.rstrip('/') or '/'


def _walk_images(root):
  """The image files under the directory `root`, at any depth."""
  for directory, _, names in tf.io.gfile.walk(root):
    for name in names:
      if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
        yield storage.join(directory, name)


def is_image_folder(data_dir):
  """Whether `data_dir` holds at least one image file (at any depth)."""
  root = _root(data_dir)
  return tf.io.gfile.isdir(root) and next(_walk_images(root), None) is not None


def list_images(data_dir):
  """The image files under `data_dir` (any TensorFlow filesystem), sorted;
  raises if there are none."""
  root = _root(data_dir)
  if not tf.io.gfile.isdir(root):
    raise FileNotFoundError(f'{root} is not a directory; expected {_EXPECTED}')
  paths = sorted(_walk_images(root))
  if not paths:
    raise FileNotFoundError(f'{root} holds no image files; expected '
                            f'{_EXPECTED}')
  return paths


def _in_validation(path, root):
  # A hash of the name rather than a random draw, so that adding or removing
  # files never moves the others between splits.
  name = path[len(root):].lstrip('/').replace(os.sep, '/').encode()
  return zlib.crc32(name) % 100 < VALIDATION_PERCENT


def decode(content, name):
  """The encoded image `content` as RGB uint8 [H, W, 3] (grayscale etc.
  converted); ValueError naming `name` if it does not decode."""
  try:
    with Image.open(io.BytesIO(content)) as image:
      return np.asarray(image.convert('RGB'))
  except Exception as e:  # Bad files raise anything from OSError to SyntaxError.
    raise ValueError(f'cannot decode image {name}: {type(e).__name__}: {e}'
                     ) from e


def _decode(path):
  """The image in the file `path`."""
  path = os.fsdecode(path)
  try:
    content = storage.read_bytes(path)
  except tf.errors.OpError as e:  # Gone or unreadable since it was listed.
    raise ValueError(f'cannot read image {path}: {e}') from e
  return decode(content, path)


def errors(items, decode_item):
  """Yields (item, ValueError) for each of `items` that `decode_item`
  rejects."""
  for item in items:
    try:
      decode_item(item)
    except ValueError as e:
      yield item, e


def folder_report(data_dir):
  """Decodes every image under `data_dir`; tells which ones load() skips.

  #### Example

  ```python
  import os
  import tempfile
  import tensorflow as tf
  from tfp_realnvp import data

  with tempfile.TemporaryDirectory() as folder:
    png = tf.io.encode_png(tf.zeros([8, 8, 3], tf.uint8)).numpy()
    with open(os.path.join(folder, 'good.png'), 'wb') as f:
      f.write(png)
    with open(os.path.join(folder, 'bad.png'), 'wb') as f:
      f.write(png[:20])  # cut short
    report = data.folder_report(folder)
  assert report.num_images == 1 and list(report.skipped) == [
      os.path.join(folder, 'bad.png')]
  ```
  """
  paths = list_images(data_dir)
  skipped = {path: str(error) for path, error in errors(paths, _decode)}
  return FolderReport(len(paths) - len(skipped), skipped)


def indexed_images(items, decode_item, short_side, size, training, seed,
                   source):
  """A dataset with random access (see data.pipeline): element i is
  `decode_item(items[i])` resized to `short_side` and cropped to `size`.

  An item that does not decode (ValueError) is replaced by the next one that
  does (wrapping around), with a logged warning: the dataset keeps its
  length and every other item its place, so a shuffle by index and a resumed
  run's skip are the same with or without bad files. Training crops are
  random, a function of (`seed`, i) (None: a seed drawn now); others
  central.
  """
  n = len(items)

  def read(index):
    for i in range(index, index + n):
      try:
        return decode_item(items[i % n])
      except ValueError as e:
        _log.warning('replacing a bad image by the next one (see the data '
                     'report): %s', e)
    raise ValueError(f'none of the {n} images of {source} decodes')

  key = np.random.SeedSequence(seed).generate_state(2).astype(np.int64)

  def image(index):
    decoded = tf.ensure_shape(tf.numpy_function(read, [index], tf.uint8),
                              [None, None, 3])
    crop_seed = tf.random.experimental.stateless_fold_in(key, index) if (
        training) else None
    return transforms.resize_and_crop(decoded, short_side, size, crop_seed)

  return tf.data.Dataset.range(n).map(image,
                                      num_parallel_calls=tf.data.AUTOTUNE)


def load_folder(data_dir, split, short_side, size, strict=False, seed=None):
  """Images of one split of `data_dir`, resized and cropped to `size`.

  A file that does not decode is replaced by the next one that does, with a
  logged warning (`indexed_images`), or, if `strict`, the first one raises
  ValueError (which costs a decoding pass over the split up front).
  """
  root = _root(data_dir)
  validation = split == 'validation'
  paths = [p for p in list_images(root) if _in_validation(p, root) == validation]
  if not paths:
    raise ValueError(f'split {split!r} of {root} is empty: the name hash puts '
                     f'~{VALIDATION_PERCENT}% of the files in validation')
  first_bad = next(errors(paths, _decode), None) if strict else None
  if first_bad:
    raise first_bad[1]
  return indexed_images(paths, _decode, short_side, size,
                        training=not validation, seed=seed,
                        source=f'split {split!r} of {root}')
