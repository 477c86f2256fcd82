"""Writes the latent-space figures of a trained model.

  bin/latent_figures --model_dir=runs/mnist --out_dir=runs/mnist/figures

manifold.png (the paper's eq. 19 over four validation images), scales.png
(per-scale resampling: row k keeps the k coarsest scales), temperature.png.
"""

import sys

from absl import app
from absl import flags

from tfp_realnvp.training import figures

flags.DEFINE_string('model_dir', None, 'Directory written by bin/train.',
                    required=True)
flags.DEFINE_string('out_dir', None, 'Where the PNGs go; default '
                    '<model_dir>/figures.')
flags.DEFINE_integer('size', 8, 'Grid size of the manifold; images per row.')
flags.DEFINE_list('temperatures', ['0.5', '0.7', '1'], 'Latent standard '
                  'deviations (> 0), one row of temperature.png each.')
flags.DEFINE_integer('seed', 0, 'Seed of the resampled latents.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  out_dir = FLAGS.out_dir or f'{FLAGS.model_dir}/figures'
  try:
    paths = figures.latent_figures(
        FLAGS.model_dir, out_dir, FLAGS.size,
        [float(t) for t in FLAGS.temperatures], seed=FLAGS.seed)
  # A bad temperature, or not a model directory: the message says which; a
  # traceback would not.
  except (OSError, ValueError) as e:
    sys.exit(f'error: {e}')
  for path in paths:
    print(f'wrote {path}')


def run():
  """The console script `tfp-realnvp-latent-figures`."""
  app.run(main)


if __name__ == '__main__':
  run()
