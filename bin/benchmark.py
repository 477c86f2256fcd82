"""Measures training, log_prob and sampling speed against the machine's peak.

  bin/benchmark --configs=cifar10_paper,small --precision=both --out=bench.md
  bin/benchmark --profile=cifar10_paper     # where a training step's time goes

Prints one JSON line per configuration as it finishes, then a Markdown table
(and the issue's targets for cifar10_paper), which --out also receives.
Each configuration runs in its own process; expect about 3 x
--seconds_per_measurement plus tracing per configuration.
"""

import json
import os
import time

from absl import app
from absl import flags
from absl import logging
import tensorflow as tf

import benchmark_lib
from tfp_realnvp import storage

flags.DEFINE_list('configs',
                  [n for n in benchmark_lib.CONFIGS if n != 'tiny'],
                  f'Configurations, of {", ".join(benchmark_lib.CONFIGS)}.')
flags.DEFINE_enum('precision', 'fp32', [*benchmark_lib.PRECISIONS, 'both'],
                  'bf16: coupling networks in mixed_bfloat16.')
flags.DEFINE_enum('jit_compile', 'false', ['false', 'true', 'both'],
                  'Compile the measured functions with XLA.')
flags.DEFINE_float('seconds_per_measurement', 10.,
                   'Time each of train, log_prob and sample this long.')
flags.DEFINE_integer('batch_size', None, "Default: each configuration's.")
flags.DEFINE_list('peak_matrix_sizes', ['1024', '2048', '4096'],
                  'Sides of the square matrix products that measure the peak.')
flags.DEFINE_string('out', None, 'Also write the Markdown report here.')
flags.DEFINE_string('profile', None, 'Instead: profile training steps of this '
                    'configuration and print the op time per op type.')
flags.DEFINE_string('profile_dir', None, 'Keep the --profile trace here, for '
                    "TensorBoard's profile plugin.")
flags.register_validator(
    'profile', lambda name: name is None or name in benchmark_lib.CONFIGS,
    f'--profile takes a name of {", ".join(benchmark_lib.CONFIGS)}.')
flags.register_validator(
    'configs', lambda names: set(names) <= set(benchmark_lib.CONFIGS),
    f'--configs takes names of {", ".join(benchmark_lib.CONFIGS)}.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  precisions = (list(benchmark_lib.PRECISIONS) if FLAGS.precision == 'both'
                else [FLAGS.precision])
  if FLAGS.profile:
    for precision in precisions:
      ops = benchmark_lib.in_subprocess(benchmark_lib.profile, FLAGS.profile,
                                        precision, 2, FLAGS.profile_dir)
      print(f'{FLAGS.profile} {precision}, training step:\n\n'
            f'{benchmark_lib.profile_table(ops)}\n', flush=True)
    return
  start = time.perf_counter()
  jits = {'false': [False], 'true': [True],
          'both': [False, True]}[FLAGS.jit_compile]
  sizes = [int(n) for n in FLAGS.peak_matrix_sizes]
  peaks = {p: benchmark_lib.in_subprocess(benchmark_lib.measure_peak, p,
                                          sizes)
           for p in precisions}
  rows, failed = [], []
  for name in FLAGS.configs:
    for precision in precisions:
      for jit in jits:
        logging.info('Measuring %s %s jit=%s', name, precision, jit)
        try:
          row = benchmark_lib.run_config(name, precision, jit,
                                         FLAGS.seconds_per_measurement,
                                         FLAGS.batch_size, peaks)
        except Exception as e:  # pylint: disable=broad-except
          # An XLA or out-of-memory failure is a result too; go on.
          logging.exception('%s %s jit=%s failed', name, precision, jit)
          failed.append(f'{name} {precision} jit={jit}: {e!r}')
          continue
        print(json.dumps(row), flush=True)
        rows.append(row)

  peak_text = ', '.join(
      f'{p} {"unsupported" if g is None else f"{g:.1f} GFLOP/s"}'
      for p, g in peaks.items())
  onednn = os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'unset')
  report = '\n\n'.join(filter(None, [
      f'Peak (best {"/".join(FLAGS.peak_matrix_sizes)}^2 matrix product): '
      f'{peak_text}. {os.cpu_count()} CPUs, TensorFlow {tf.__version__}, '
      f'TF_ENABLE_ONEDNN_OPTS={onednn}.',
      benchmark_lib.markdown_table(rows),
      benchmark_lib.targets_table(rows),
      '\n'.join(f'Failed: {f}' for f in failed),
      f'Wall time {time.perf_counter() - start:.0f} s.',
  ]))
  print(report)
  if FLAGS.out:
    storage.write_atomic(FLAGS.out, report + '\n')  # any filesystem


if __name__ == '__main__':
  app.run(main)
