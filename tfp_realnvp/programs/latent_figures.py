"""Writes the latent-space figures of a trained model.

  bin/latent_figures --model_dir=runs/mnist --out_dir=runs/mnist/figures

manifold.png (the paper's eq. 19 over four validation images), scales.png
(per-scale resampling: row k keeps the k coarsest scales), temperature.png.
"""

from absl import flags

from tfp_realnvp.programs import _cli
from tfp_realnvp.training import figures

flags.DEFINE_string('model_dir', None, 'Directory written by bin/train.',
                    required=True)
flags.DEFINE_string('out_dir', None, 'Where the PNGs go; default '
                    '<model_dir>/figures.')
flags.DEFINE_integer('size', 8, 'Grid size of the manifold; images per row.',
                     lower_bound=4)
flags.DEFINE_list('temperatures', ['0.5', '0.7', '1'], 'Latent standard '
                  'deviations (> 0), one row of temperature.png each.')
flags.DEFINE_integer('seed', 0, 'Seed of the resampled latents.',
                     lower_bound=0)
FLAGS = flags.FLAGS


def _are_numbers(values):
  try:
    return bool([float(v) for v in values])
  except ValueError:
    return False


# Their range is the library's check (figures.latent_figures).
flags.register_validator('temperatures', _are_numbers,
                         'expected one or more comma-separated numbers')


def main(argv):
  del argv
  out_dir = FLAGS.out_dir or f'{FLAGS.model_dir}/figures'
  paths = figures.latent_figures(
      FLAGS.model_dir, out_dir, FLAGS.size,
      [float(t) for t in FLAGS.temperatures], seed=FLAGS.seed)
  for path in paths:
    print(f'wrote {path}')


def run():
  """The console script `tfp-realnvp-latent-figures`."""
  _cli.run(main)


if __name__ == '__main__':
  run()
