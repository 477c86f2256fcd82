"""Real NVP on two moons and a ring of 8 Gaussians, by depth; ours vs. tfb.

  bin/study_2d --depths=1,2,4,8,50 --steps=500 --out_dir=runs/study_2d

Writes density_*.png, latent_*.png, loss.png and results.md (held-out NLL in
nats per dataset, flow and depth) to --out_dir, and prints the table.
"""

import time

from absl import flags
from absl import logging

import study_2d_lib
from tfp_realnvp import storage
from tfp_realnvp.programs import _cli

flags.DEFINE_list('depths', ['1', '2', '4', '8', '50'],
                  'Numbers of coupling layers to compare.')
flags.DEFINE_integer('steps', 500, 'Adam steps per flow.', lower_bound=1)
flags.DEFINE_list('hidden_units', ['64', '64'],
                  'Hidden layer widths of every coupling network.')
flags.DEFINE_integer('batch_size', 256, 'Points per step.', lower_bound=1)
flags.DEFINE_float('learning_rate', 2e-3, 'Adam learning rate.')
flags.DEFINE_integer('seed', 0, 'Seed for data, weights and minibatches.')
flags.DEFINE_string('out_dir', 'runs/study_2d', 'Where figures and table go.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  start = time.perf_counter()
  study_2d_lib.run_study(
      FLAGS.out_dir, depths=[int(d) for d in FLAGS.depths], steps=FLAGS.steps,
      hidden_units=[int(u) for u in FLAGS.hidden_units],
      batch_size=FLAGS.batch_size, learning_rate=FLAGS.learning_rate,
      seed=FLAGS.seed, log=logging.info)
  print(storage.read_bytes(storage.join(FLAGS.out_dir, 'results.md'))
        .decode(), end='')
  print(f'Wall time {time.perf_counter() - start:.0f} s.')


if __name__ == '__main__':
  _cli.run(main)
