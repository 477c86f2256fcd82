"""LSUN straight from its official LMDB files.

A category's data_dir holds the unzipped `<category>_train_lmdb/` and
`<category>_val_lmdb/`, LMDB environments (data.mdb, lock.mdb) whose keys are
40-hex-character image ids and whose values are encoded images (webp, some
JPEG). The lmdb package reads local directories only.
"""

import functools
import weakref

import tensorflow as tf

from tfp_realnvp import storage
from tfp_realnvp.data import folder

_SPLITS = {'train': 'train', 'validation': 'val'}
# py-lmdb opens an environment once per process: every reader of a path
# (each epoch's dataset) shares one, closed when the last is gone.
_ENVIRONMENTS = weakref.WeakValueDictionary()


def lmdb_dir(data_dir, category, split):
  """`data_dir/<category>_<train|val>_lmdb`, LSUN's name for a split."""
  return storage.join(data_dir, f'{category}_{_SPLITS[split]}_lmdb')


def layout(category):
  """What data_dir must hold for `category`, for error messages."""
  return (f'{lmdb_dir("<data_dir>", category, "train")}/data.mdb and '
          f'{lmdb_dir("<data_dir>", category, "validation")}/data.mdb (the '
          f'unzipped {category}_train_lmdb.zip and {category}_val_lmdb.zip)')


def has_lmdb(data_dir, category):
  """Whether `data_dir` holds an LMDB of either split of `category`."""
  data_dir = storage.check_filesystem(data_dir, 'LSUN data_dir')
  return any(tf.io.gfile.exists(storage.join(lmdb_dir(data_dir, category, s),
                                             'data.mdb')) for s in _SPLITS)


def _open(path):
  path = storage.check_local(path, 'LSUN LMDB', 'the lmdb package')
  if not tf.io.gfile.exists(storage.join(path, 'data.mdb')):
    raise FileNotFoundError(f'{path}/data.mdb does not exist; expected an '
                            'LMDB directory (data.mdb, lock.mdb)')
  try:
    import lmdb  # pylint: disable=g-import-not-at-top
  except ImportError as e:  # An extra: only LSUN's LMDB files need it.
    raise ImportError(f'reading {path} needs the lmdb package: pip install '
                      "'tfp_realnvp[lmdb]'") from e
  env = _ENVIRONMENTS.get(path)
  if env is None:
    # Read-only and without the lock file: the release's directories may be
    # on read-only storage, and nothing writes to them.
    env = _ENVIRONMENTS[path] = lmdb.open(path, readonly=True, lock=False)
  return env


@functools.lru_cache(maxsize=4)
def _keys(path, length, mtime):
  """The keys of the LMDB `path` in order; cached while data.mdb keeps its
  `length` and `mtime`, so that each epoch's load neither rereads nor
  copies them (LSUN bedroom's 3,033,042 keys: ~250 MB of Python bytes)."""
  with _open(path).begin() as txn:
    return tuple(txn.cursor().iternext(keys=True, values=False))


def _entries(path):
  """(key, encoded image) of every entry of the LMDB `path`, in key order."""
  with _open(path).begin() as txn:
    yield from txn.cursor()


def _name(key, path):
  return f'{key.decode(errors="replace")} in {path}'


def _decode_entry(entry, path):
  key, value = entry
  return folder.decode(value, _name(key, path))


def lmdb_report(data_dir, category):
  """Decodes every image of both splits; tells which ones load_lmdb skips.

  The skipped images are keyed '<key> in <lmdb dir>'. It needs the `lmdb`
  extra (`pip install 'tfp_realnvp[lmdb]'`).

  #### Example

  ```python
  import os
  import tempfile
  import lmdb
  import tensorflow as tf
  from tfp_realnvp import data

  png = tf.io.encode_png(tf.zeros([8, 8, 3], tf.uint8)).numpy()
  with tempfile.TemporaryDirectory() as data_dir:
    for split in ('train', 'val'):  # as LSUN's zip files unpack
      path = os.path.join(data_dir, f'tower_{split}_lmdb')
      with lmdb.open(path, map_size=1 << 20) as env, env.begin(
          write=True) as txn:
        txn.put(b'good', png)
        txn.put(b'bad', png[:20])
    report = data.lmdb_report(data_dir, 'tower')
  assert report.num_images == 2 and len(report.skipped) == 2
  ```
  """
  num_images, skipped = 0, {}
  for split in _SPLITS:
    path = lmdb_dir(data_dir, category, split)
    bad = {_name(entry[0], path): str(error) for entry, error in
           folder.errors(_entries(path), lambda e: _decode_entry(e, path))}
    num_images += _open(path).stat()['entries'] - len(bad)
    skipped.update(bad)
  return folder.FolderReport(num_images, skipped)


def load_lmdb(data_dir, category, split, short_side, size, strict=False,
              seed=None):
  """Images of one split of LSUN `category`, resized and cropped to `size`.

  As `folder.load_folder`: a value that does not decode is replaced by the
  next one that does, with a logged warning, or, if `strict`, the first one
  raises ValueError (a decoding pass over the split up front); training
  crops are random, seeded by `seed`, validation crops central. Read by key,
  so that data.pipeline shuffles by index and skips without reading.
  """
  path = lmdb_dir(data_dir, category, split)
  env = _open(path)  # Kept open by the dataset, which reads from it.
  stat = tf.io.gfile.stat(storage.join(path, 'data.mdb'))
  keys = _keys(path, stat.length, stat.mtime_nsec)
  if not keys:
    raise ValueError(f'split {split!r} of LSUN {category}: {path} is empty')
  if strict:
    first_bad = next(
        folder.errors(_entries(path), lambda e: _decode_entry(e, path)), None)
    if first_bad:
      raise first_bad[1]

  def decode(key):
    with env.begin() as txn:
      return _decode_entry((key, txn.get(key)), path)

  return folder.indexed_images(keys, decode, short_side, size,
                               training=split == 'train', seed=seed,
                               source=path)
