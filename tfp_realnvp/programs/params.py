"""Trainable parameters of each preset's model, beside the authors' count.

  bin/params                    # every dataset's preset
  bin/params --datasets=cifar10

Each model is built (the count is of `dist.trainable_variables`); the
authors' count is their code's (tensorflow/models, research/real_nvp)
counted layer by layer from its source: `authors_parameter_count`. For the
CIFAR-10 configuration it is 19,609,545, what building their `encoder`
gives.
"""

from absl import flags
import numpy as np

from tfp_realnvp import data
from tfp_realnvp import distributions
from tfp_realnvp.programs import _cli
from tfp_realnvp.training import presets

# folder and npz images have the shape of the user's files.
_COUNTED = sorted(set(presets.PRESETS) - {'folder', 'npz'})
flags.DEFINE_list('datasets', _COUNTED, 'Datasets whose presets to count.')
flags.register_validator(
    'datasets', lambda names: names and set(names) <= set(_COUNTED),
    f'expected names of {", ".join(_COUNTED)}')
FLAGS = flags.FLAGS


def _resnet(dim_in, dim, dim_out, blocks):
  """The authors' `resnet` with skips and batch norm: conv 3x3 in (bias),
  1x1 skip (bias, gain), per block 2 batch-norm shifts, 3x3 (no bias), 3x3
  (bias, gain), 1x1 skip; batch-norm shift, 1x1 out (bias, gain)."""
  return (9 * dim_in * dim + dim * dim + 4 * dim +
          blocks * (19 * dim * dim + 6 * dim) + dim * dim_out + 2 * dim_out)


def authors_parameter_count(architecture):
  """Trainable parameters of the authors' model of `architecture`.

  Each coupling: the input batch norm's shift, the resnet, one scalar. A
  checkerboard coupling on C channels sees `[x, -x, mask]` (2C + 1) at the
  scale's width; a channel coupling sees C of its 2C at twice the width.
  """
  a = architecture
  _, _, channels = a.event_shape
  total = 0
  for scale in range(a.num_scales):
    width = a.num_filters * 2 ** scale
    last = scale == a.num_scales - 1
    checkerboard = _resnet(2 * channels + 1, width, 2 * channels,
                           a.num_res_blocks) + channels + 1
    total += (4 if last else 3) * checkerboard
    if not last:
      half = 2 * channels
      total += 3 * (_resnet(2 * half, 2 * width, 2 * half,
                            a.num_res_blocks) + half + 1)
    channels *= 2
  return total


def main(argv):
  del argv
  print('dataset | image | scales | blocks | feature maps | ours | authors')
  for name in FLAGS.datasets:
    architecture = presets.PRESETS[name].architecture_for(
        data.image_shape(name))
    dist = distributions.real_nvp_distribution(architecture)
    ours = sum(int(np.prod(v.shape)) for v in dist.trainable_variables)
    a = architecture
    print(f'{name} | {"x".join(map(str, a.event_shape))} | {a.num_scales} | '
          f'{a.num_res_blocks} | {a.num_filters} | {ours:,} | '
          f'{authors_parameter_count(a):,}', flush=True)


def run():
  """The console script `tfp-realnvp-params`."""
  _cli.run(main)


if __name__ == '__main__':
  run()
