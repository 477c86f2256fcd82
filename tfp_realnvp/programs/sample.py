"""Writes a PNG grid of samples of a trained model.

  bin/sample --model_dir runs/mnist --num=64 --temperature=0.7 --out=samples.png
"""

from absl import flags

from tfp_realnvp import training
from tfp_realnvp.programs import _cli

flags.DEFINE_string('model_dir', None, 'Directory written by bin/train.',
                    required=True)
flags.DEFINE_integer('num', 64, 'Number of samples (a square-ish grid).',
                     lower_bound=1)
flags.DEFINE_float('temperature', 0.7, 'Latent standard deviation, > 0.')
flags.DEFINE_integer('seed', 0, 'Seed of the latents.', lower_bound=0)
flags.DEFINE_string('out', 'samples.png', 'PNG file to write.')
flags.DEFINE_boolean(
    'batch_statistics', None,
    "Draw as the authors' sampler does: the s,t networks' batch norms use "
    "the statistics of the --num samples (the images then depend on one "
    "another); false: the distribution's own independent samples. Default: "
    "true, or false with --label (one class's batch would lose its class).")
flags.DEFINE_integer('label', None, 'Class to draw, for a model trained with '
                     '--conditional; default: every class in turn.',
                     lower_bound=0)
FLAGS = flags.FLAGS


def main(argv):
  del argv
  path = training.sample(FLAGS.model_dir, FLAGS.out, FLAGS.num,
                         FLAGS.temperature, FLAGS.seed, FLAGS.label,
                         FLAGS.batch_statistics)
  print(f'samples: {path}')


def run():
  """The console script `tfp-realnvp-sample`."""
  _cli.run(main)


if __name__ == '__main__':
  run()
