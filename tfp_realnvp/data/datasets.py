"""The paper's datasets and users' own images, as datasets of uint8 images."""

import tensorflow as tf
import tensorflow_datasets as tfds

from tfp_realnvp import storage
from tfp_realnvp.data import arrays
from tfp_realnvp.data import folder
from tfp_realnvp.data import lsun
from tfp_realnvp.data import transforms

_LSUN = ('lsun_bedroom', 'lsun_tower', 'lsun_church_outdoor')
# The datasets `load` and bin/train's --dataset know.
DATASET_NAMES = ('mnist', 'cifar10', 'imagenet32', 'imagenet64', 'celeba',
                 *_LSUN, 'folder', 'npz')

# name: (tfds name, the split serving as validation). ImageNet is van den
# Oord et al.'s (2016) downsampled ImageNet, the density-estimation set the
# paper used (imagenet_resized is a classification set, resized otherwise).
_TFDS = {
    'mnist': ('mnist', 'test'),
    'cifar10': ('cifar10', 'test'),
    'imagenet32': ('downsampled_imagenet/32x32', 'validation'),
    'imagenet64': ('downsampled_imagenet/64x64', 'validation'),
    'celeba': ('celeb_a', 'validation'),
    'lsun_bedroom': ('lsun/bedroom', 'validation'),
    'lsun_tower': ('lsun/tower', 'validation'),
    'lsun_church_outdoor': ('lsun/church_outdoor', 'validation'),
}
_SIZE = 64  # of imagenet64, celeba, lsun_* and, by default, folder
_SHAPES = {'mnist': (28, 28, 1), 'cifar10': (32, 32, 3),
           'imagenet32': (32, 32, 3)}
# Dinh et al. (2017), sec. 4.1: LSUN images are downscaled so the shorter side
# is 96 pixels, then a 64x64 crop is taken.
_LSUN_SHORT_SIDE = 96
# The schemes tensorflow_datasets (etils.epath) reads besides local paths.
_TFDS_SCHEMES = ('gs', 's3', 'az')
_FLIPS = ('cifar10', 'celeba', *_LSUN, 'folder')
_WITH_LABELS = ('mnist', 'npz')
_SIZED = ('folder', 'npz')  # the datasets whose image_size can be set


def _check_args(name, image_size=None):
  if name not in DATASET_NAMES:
    raise ValueError(f'unknown dataset {name!r}; expected one of '
                     f'{DATASET_NAMES}')
  if image_size is None:
    return
  if name not in _SIZED:
    raise ValueError(f'image_size applies to the datasets {_SIZED}, not '
                     f'{name!r}')
  if isinstance(image_size, bool) or not isinstance(image_size, int) or (
      image_size < 1):
    raise ValueError('image_size must be a positive integer, the side of the '
                     f'square images; got {image_size!r}')


def flips(name):
  """Whether the paper augments `name` with random horizontal flips.

  #### Example

  ```python
  from tfp_realnvp import data

  assert data.flips('cifar10') and not data.flips('mnist')
  ```
  """
  _check_args(name)
  return name in _FLIPS


def image_shape(name, data_dir=None, image_size=None):
  """The (height, width, channels) of the images load() yields for `name`.

  #### Example

  ```python
  from tfp_realnvp import data

  assert data.image_shape('mnist') == (28, 28, 1)
  assert data.image_shape('celeba') == (64, 64, 3)
  assert data.image_shape('folder', image_size=32) == (32, 32, 3)
  ```
  """
  _check_args(name, image_size)
  if name == 'npz':
    shape = arrays.read_npz(_required_path(name, data_dir))[0].shape[1:]
    return tuple(shape) if image_size is None else (image_size,) * 2 + shape[2:]
  if name == 'folder':
    return (image_size or _SIZE,) * 2 + (3,)
  return _SHAPES.get(name, (_SIZE, _SIZE, 3))


def _required_path(name, data_dir):
  if data_dir is None:
    kind = 'a .npz file' if name == 'npz' else 'a directory of images'
    raise ValueError(f'dataset {name!r} needs data_dir: {kind}')
  return data_dir


def load(name, split, data_dir=None, download=False, image_size=None,
         strict=False, with_labels=False, seed=None):
  """A dataset of single uint8 images [H, W, C] of shape image_shape(name).

  Args:
    name: one of DATASET_NAMES.
    split: 'train' or 'validation'; for 'npz' also 'all' (the whole file in
      order).
    data_dir: a tfds data directory (None: tfds's default; for 'mnist', the
      embedded 4,500-digit subset), a directory of images for 'folder', or
      the file for 'npz'. For lsun_*, instead of a tfds directory: the
      directory holding LSUN's `<category>_train_lmdb/` and
      `<category>_val_lmdb/` (read first if there), or a directory of the
      exported images.
    download: let tfds download and prepare missing data (needs network).
    image_size: side of the square images of 'folder' (default 64) and of
      'npz' (default: the file's size), whose images are then resized to
      this shorter side and cropped to a square (centrally, for 'npz').
    strict: for image folders and LSUN LMDBs, raise ValueError on the first
      bad file (value) instead of skipping it.
    with_labels: yield (image, int64 label) pairs; 'mnist' and 'npz' only.
    seed: for shuffling tfds files and random training crops (lsun_*,
      folder); None is nondeterministic.

  #### Example

  ```python
  from tfp_realnvp import data

  # The embedded MNIST subset: no download.
  images = data.load('mnist', 'validation')
  batches = data.pipeline(images, batch_size=16, training=False)
  first = next(iter(batches))  # [16, 28, 28, 1] float32, dequantized
  ```
  """
  _check_args(name, image_size)
  splits = ('train', 'validation', 'all') if name == 'npz' else (
      'train', 'validation')
  if split not in splits:
    raise ValueError(f'split {split!r} of {name!r}; expected one of {splits}')
  if with_labels and name not in _WITH_LABELS:
    raise ValueError(f'{name!r} has no labels; only {_WITH_LABELS} do')
  if name == 'npz':
    examples = arrays.load_npz(_required_path(name, data_dir), split,
                               with_labels)
    return examples if image_size is None else _squared(examples, image_size)
  if name == 'mnist' and data_dir is None:
    return arrays.load_embedded_mnist(split, with_labels)
  size = image_shape(name, image_size=image_size)[0]
  if name == 'folder':
    return folder.load_folder(_required_path(name, data_dir), split,
                              short_side=size, size=size, strict=strict,
                              seed=seed)
  if name in _LSUN and data_dir is not None and lsun.has_lmdb(
      data_dir, _category(name)):
    return lsun.load_lmdb(data_dir, _category(name), split, _LSUN_SHORT_SIDE,
                          size, strict=strict, seed=seed)
  return _load_tfds(name, split, data_dir, download, with_labels, seed, size,
                    strict)


def _category(lsun_name):
  return lsun_name[len('lsun_'):]


def _squared(examples, size):
  """Images, or (image, label) pairs, with `size`-square central crops."""

  def square(image, *label):
    image = transforms.resize_and_crop(image, size, size)
    return (image, *label) if label else image

  return examples.map(square, num_parallel_calls=tf.data.AUTOTUNE)


def _not_prepared(name, builder):
  tfds_name = _TFDS[name][0]
  message = (f'dataset {name!r}: tfds dataset {tfds_name!r} is not prepared '
             f'in {builder.data_dir}. Run with download=True (--download) on '
             'a machine with network access, or copy a prepared tfds '
             f'directory there (<data_dir>/{tfds_name}/<version>/).')
  if name in _LSUN:
    message += (' Or pass as data_dir (--data_dir) the directory of LSUN\'s '
                f'official LMDB files: {lsun.layout(_category(name))}; or a '
                'folder of their images exported (.webp/.jpg/.png).')
  return FileNotFoundError(message)


def _load_tfds(name, split, data_dir, download, with_labels, seed, size,
               strict):
  tfds_name, validation_split = _TFDS[name]
  data_dir = storage.as_str(data_dir)
  if storage.scheme(data_dir) not in (None, *_TFDS_SCHEMES):
    # LSUN exported to a folder is read through tf.io.gfile, any scheme.
    if name in _LSUN and folder.is_image_folder(data_dir):
      return folder.load_folder(data_dir, split, _LSUN_SHORT_SIDE, size,
                                strict=strict, seed=seed)
    storage.check_local(data_dir, f'dataset {name!r}: tfds data_dir',
                        'tensorflow_datasets (local, gs://, s3://, az:// '
                        'only)')
  builder = tfds.builder(tfds_name, data_dir=data_dir)
  # Checked before anything that may reach for the network: offline, tfds
  # would retry for minutes before failing.
  if not builder.is_prepared():
    if name in _LSUN and data_dir and folder.is_image_folder(data_dir):
      return folder.load_folder(data_dir, split, _LSUN_SHORT_SIDE, size,
                                strict=strict, seed=seed)
    if not download:
      raise _not_prepared(name, builder)
    builder.download_and_prepare()
  training = split == 'train'
  examples = builder.as_dataset(
      split='train' if training else validation_split, shuffle_files=training,
      read_config=tfds.ReadConfig(shuffle_seed=seed))
  if with_labels:  # Only mnist, whose images need no preprocessing.
    return examples.map(lambda ex: (ex['image'], ex['label']))
  images = examples.map(lambda ex: ex['image'])
  if name == 'celeba':
    return images.map(transforms.celeba_crop,
                      num_parallel_calls=tf.data.AUTOTUNE)
  if name in ('imagenet32', 'imagenet64'):
    # Already square at `size` when prepared (tfds declares any size): this
    # guarantees it.
    return transforms.resize_and_crop_images(images, size, size, False)
  if name in _LSUN:
    return transforms.resize_and_crop_images(
        images, _LSUN_SHORT_SIDE, size, training, seed)
  return images
