"""Out-of-distribution test sets for the MNIST model, built from data at hand.

  bin/ood_sets --out_dir=runs/ood_sets

Writes (any TensorFlow filesystem) one .npz per set (`images` uint8 [N, 28, 28, 1]) for
`bin/evaluate --ood_dataset=npz --ood_data_dir=<file>`:

```none
blank                     1  the all-black image
dots                    500  black, with 1 to 16 white pixels at random places
constant                256  every constant image, 0 (blank) to 255
noise                   500  uniform 8-bit noise
inverted                500  the validation digits, 255 - x
photos                  500  grayscale crops of testdata/photos (side 16-128
                             px), resized to 28x28
upside_down             500  the validation digits flipped top to bottom
rotated                 500  the validation digits rotated by 180 degrees
patches                 500  the validation digits cut into 7x7 patches,
                             shuffled
upside_down_asymmetric  204  the validation 2, 4, 5 and 7 flipped top to bottom
rotated_asymmetric      249  the validation 2, 3, 4, 5 and 7 rotated by 180
                             degrees
turned                  500  the validation digits turned a quarter, each
                             either way at random
```

The last six keep the digits' low-level statistics but not their meaning.
`upside_down_asymmetric` and `rotated_asymmetric` hold only the classes that
are not (nearly) a digit again after the transformation, chosen by their
shape: 0, 1 and 8 are about symmetric under both; 6 and 9 turn into each
other; 3 is about symmetric top to bottom. No digit is one on its side.
"""

import io
import os

from absl import flags
import numpy as np
from PIL import Image
import tensorflow as tf

from tfp_realnvp import data
from tfp_realnvp import storage
from tfp_realnvp.programs import _cli

PHOTOS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), 'testdata', 'photos')
SIZE = 28
PATCH = 7
# The digits that are no digit after the transformation (module docstring).
UPSIDE_DOWN_ASYMMETRIC = (2, 4, 5, 7)
ROTATED_ASYMMETRIC = (2, 3, 4, 5, 7)

flags.DEFINE_string('out_dir', 'runs/ood_sets', 'Where the .npz files go.')
flags.DEFINE_integer('num', 500, 'Images per random set.', lower_bound=1)
flags.DEFINE_integer('seed', 0, 'Seed of the noise, crops and shuffles.',
                     lower_bound=0)
FLAGS = flags.FLAGS


def photo_crops(num, rng):
  """`num` random square crops of the photos, grayscale, 28x28."""
  photos = [
      Image.open(io.BytesIO(storage.read_bytes(os.path.join(PHOTOS, name))))
      .convert('L') for name in sorted(tf.io.gfile.listdir(PHOTOS))]
  crops = []
  for _ in range(num):
    photo = photos[rng.integers(len(photos))]
    side = int(rng.integers(16, min(photo.size) + 1))
    left = int(rng.integers(photo.size[0] - side + 1))
    top = int(rng.integers(photo.size[1] - side + 1))
    crop = photo.crop((left, top, left + side, top + side))
    crops.append(np.asarray(crop.resize((SIZE, SIZE), Image.BILINEAR)))
  return np.stack(crops)[..., None]


def shuffled_patches(digits, rng):
  """Each digit's 7x7 patches in a random order."""
  n = SIZE // PATCH
  patches = digits.reshape(len(digits), n, PATCH, n, PATCH, 1).transpose(
      0, 1, 3, 2, 4, 5).reshape(len(digits), n * n, PATCH, PATCH, 1)
  patches = np.stack([p[rng.permutation(n * n)] for p in patches])
  return patches.reshape(len(digits), n, n, PATCH, PATCH, 1).transpose(
      0, 1, 3, 2, 4, 5).reshape(digits.shape)


def ood_sets(num, seed):
  """The sets by name, uint8 [N, 28, 28, 1] each."""
  rng = np.random.default_rng(seed)
  pairs = list(data.load('mnist', 'validation', with_labels=True)
               .as_numpy_iterator())
  digits = np.stack([image for image, _ in pairs])
  labels = np.array([label for _, label in pairs])
  constant = np.broadcast_to(
      np.arange(256, dtype=np.uint8)[:, None, None, None],
      (256, SIZE, SIZE, 1))
  dots = np.zeros((num, SIZE * SIZE), np.uint8)
  for image in dots:
    image[rng.choice(SIZE * SIZE, rng.integers(1, 17), replace=False)] = 255
  return {
      'blank': np.zeros((1, SIZE, SIZE, 1), np.uint8),
      'dots': dots.reshape(num, SIZE, SIZE, 1),
      'constant': constant,
      'noise': rng.integers(0, 256, (num, SIZE, SIZE, 1), dtype=np.uint8),
      'inverted': 255 - digits,
      'photos': photo_crops(num, rng),
      'upside_down': digits[:, ::-1],
      'rotated': digits[:, ::-1, ::-1],
      'patches': shuffled_patches(digits, rng),
      'upside_down_asymmetric':
          digits[np.isin(labels, UPSIDE_DOWN_ASYMMETRIC), ::-1],
      'rotated_asymmetric':
          digits[np.isin(labels, ROTATED_ASYMMETRIC), ::-1, ::-1],
      'turned': np.stack([np.rot90(digit, rng.choice([1, 3]))
                          for digit in digits]),
  }


def main(argv):
  del argv
  out_dir = storage.check_writable(FLAGS.out_dir, 'out_dir', directory=True)
  tf.io.gfile.makedirs(out_dir)
  for name, images in ood_sets(FLAGS.num, FLAGS.seed).items():
    content = io.BytesIO()
    np.savez(content, images=np.ascontiguousarray(images))
    path = storage.write_atomic(storage.join(out_dir, f'{name}.npz'),
                                content.getvalue())
    print(f'{path}: {len(images)} images')


if __name__ == '__main__':
  _cli.run(main)
