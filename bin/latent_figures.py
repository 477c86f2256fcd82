"""Writes the latent-space figures of a trained model.

  bin/latent_figures --model_dir=runs/mnist --out_dir=runs/mnist/figures

manifold.png (the paper's eq. 19 over four validation images), scales.png
(per-scale resampling: row k keeps the k coarsest scales), temperature.png.
"""

from absl import app
from absl import flags

from tfp_realnvp.training import figures

flags.DEFINE_string('model_dir', None, 'Directory written by bin/train.',
                    required=True)
flags.DEFINE_string('out_dir', None, 'Where the PNGs go; default '
                    '<model_dir>/figures.')
flags.DEFINE_integer('size', 8, 'Grid size of the manifold; images per row.')
flags.DEFINE_integer('seed', 0, 'Seed of the resampled latents.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  out_dir = FLAGS.out_dir or f'{FLAGS.model_dir}/figures'
  for path in figures.latent_figures(FLAGS.model_dir, out_dir, FLAGS.size,
                                     seed=FLAGS.seed):
    print(f'wrote {path}')


if __name__ == '__main__':
  app.run(main)
