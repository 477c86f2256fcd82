"""Bits/dim of a trained model on a split, with its standard error.

  bin/evaluate --model_dir runs/mnist

The last line reads `bits_per_dim=<value> stderr=<value> n=<images>`.
"""

from absl import flags

from tfp_realnvp import data
from tfp_realnvp import training
from tfp_realnvp.programs import _cli

flags.DEFINE_string('model_dir', None, 'Directory written by bin/train.',
                    required=True)
flags.DEFINE_enum('dataset', None, data.DATASET_NAMES,
                  "Dataset; default: the model's.")
flags.DEFINE_string('data_dir', None, "Data directory; default: the model's.")
flags.DEFINE_enum('split', 'validation', ['train', 'validation', 'all'],
                  "Split to score; 'all': the whole file (--dataset=npz).")
flags.DEFINE_integer('batch_size', None, "Default: the model's.",
                     lower_bound=1)
flags.DEFINE_integer('seed', 0, 'Seed of the dequantization noise.',
                     lower_bound=0)
flags.DEFINE_integer('image_size', None, 'Side of folder or npz images, as '
                     "in bin/train; default: the model's.", lower_bound=1)
FLAGS = flags.FLAGS


def main(argv):
  del argv
  result = training.evaluate(FLAGS.model_dir, FLAGS.dataset, FLAGS.data_dir,
                             FLAGS.split, FLAGS.batch_size, FLAGS.seed,
                             FLAGS.image_size)
  print(f'float32 round-trip error max|forward(inverse(x)) - x| (pixels): '
        f'{result.roundtrip_error:.3g}')
  print(f'bits_per_dim={result.bits_per_dim:.6f} stderr={result.stderr:.6f} '
        f'n={result.num_images}')


def run():
  """The console script `tfp-realnvp-evaluate`."""
  _cli.run(main)


if __name__ == '__main__':
  run()
