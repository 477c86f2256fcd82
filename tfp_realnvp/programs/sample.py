"""Writes a PNG grid of samples of a trained model.

  bin/sample --model_dir runs/mnist --num=64 --temperature=0.7 --out=samples.png
"""

import sys

from absl import app
from absl import flags

from tfp_realnvp import training

flags.DEFINE_string('model_dir', None, 'Directory written by bin/train.',
                    required=True)
flags.DEFINE_integer('num', 64, 'Number of samples (a square-ish grid).')
flags.DEFINE_float('temperature', 0.7, 'Latent standard deviation, > 0.')
flags.DEFINE_integer('seed', 0, 'Seed of the latents.')
flags.DEFINE_string('out', 'samples.png', 'PNG file to write.')
flags.DEFINE_integer('label', None, 'Class to draw, for a model trained with '
                     '--conditional; default: every class in turn.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  try:
    path = training.sample(FLAGS.model_dir, FLAGS.out, FLAGS.num,
                           FLAGS.temperature, FLAGS.seed, FLAGS.label)
  # A bad temperature or label, or not a model directory: the message says
  # which; a traceback would not.
  except (OSError, ValueError) as e:
    sys.exit(f'error: {e}')
  print(f'samples: {path}')


def run():
  """The console script `tfp-realnvp-sample`."""
  app.run(main)


if __name__ == '__main__':
  run()
