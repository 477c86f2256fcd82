"""Measures training, log_prob and sampling speed against the machine's peak.

  bin/benchmark --configs=cifar10_paper,small --precision=both --out=bench.md
  bin/benchmark --profile=cifar10_paper     # where a training step's time goes
  bin/benchmark --weight_gradients=cifar10_paper   # kernel vs matrix products
  bin/benchmark --configs=cifar10_paper --reference=torch   # vs PyTorch

Prints one JSON line per configuration as it finishes, then a Markdown table
(and the issue's targets for cifar10_paper), which --out also receives.
The report's first line gives the machine's peak at each precision (the
fastest matrix product or 3x3 convolution of TensorFlow, and of PyTorch
with --reference=torch) and what the kernel takes to hand a program new
memory (`benchmark_timing.first_touch_s_per_gb`).
Progress goes to stderr: a line as each measurement (the peak, the first
touch, each configuration, each reference) starts and as it ends, with its
time.
Each configuration runs in its own process; expect about 3 x
--seconds_per_measurement plus tracing per configuration.

--reference=torch also measures, in its own process per configuration, the
PyTorch reference (`bin/torch_reference.py`: chrischute/real-nvp's
architecture at the configuration's sizes and batch, at the same precision:
bf16 under `torch.autocast`) and adds its JSON lines and a table of ours /
reference and their ratios. Ours and the reference alternate, --rounds
times each (2 by default), and each side's best round is compared; the
table shows each one's spread over the rounds. It needs PyTorch:
pip install 'tfp_realnvp[torch]'.
"""

import collections
import contextlib
import itertools
import json
import os
import sys
import time

from absl import flags
from absl import logging
import tensorflow as tf

import benchmark_lib
import benchmark_timing
from tfp_realnvp import storage
from tfp_realnvp.programs import _cli

flags.DEFINE_list('configs',
                  [n for n in benchmark_lib.CONFIGS if n != 'tiny'],
                  f'Configurations, of {", ".join(benchmark_lib.CONFIGS)}.')
flags.DEFINE_enum('precision', 'fp32', [*benchmark_lib.PRECISIONS, 'both'],
                  'bf16: coupling networks in mixed_bfloat16.')
flags.DEFINE_enum('jit_compile', 'false', ['false', 'true', 'both'],
                  'Compile the measured functions with XLA.')
flags.DEFINE_enum('recompute_gradients', 'false', ['false', 'true', 'both'],
                  "Train with the s,t networks' activations recomputed for "
                  'the gradient (less memory).')
flags.DEFINE_enum('train_path', 'fit', [*benchmark_lib.TRAIN_PATHS, 'both'],
                  "fit: bin/train's step (DistributionModel's fit or "
                  'train_on_batch); user: a tf.function around log_prob with '
                  'a tf_keras Adam step, as a TFP programmer writes it.')
flags.DEFINE_float('seconds_per_measurement', 10.,
                   'Time each of train, log_prob and sample this long.')
flags.DEFINE_integer('batch_size', None, "Default: each configuration's.")
flags.DEFINE_integer('image_size', None, 'Square images of this side, in '
                     "place of each configuration's (channels kept).")
flags.DEFINE_enum('reference', None, ['torch'], 'Also measure this reference '
                  'implementation of each configuration and compare.')
flags.DEFINE_integer('rounds', None, 'Measure each configuration this many '
                     'times, ours and the reference interleaved, and report '
                     "each one's best and the spread. Default: 2 with "
                     '--reference, else 1.')
flags.DEFINE_integer('reference_threads', 2, "The reference's torch threads "
                     "(TensorFlow uses every core: this machine kind has 2).")
flags.DEFINE_list('peak_matrix_sizes', ['1024', '2048', '4096'],
                  'Sides of the square matrix products that measure the peak.')
flags.DEFINE_string('out', None, 'Also write the Markdown report here: '
                    'between the lines `<!-- benchmark: begin -->` and '
                    '`<!-- benchmark: end -->` of a page that has them '
                    '(docs/performance.md), else the whole file.')
flags.DEFINE_string('profile', None, 'Instead: profile training steps of this '
                    'configuration and print the op time per op type.')
flags.DEFINE_string('profile_dir', None, 'Keep the --profile trace here, for '
                    "TensorBoard's profile plugin.")
flags.DEFINE_string('weight_gradients', None, 'Instead: time the convolution '
                    "weight gradients of this configuration's 3x3 shapes "
                    "three ways (TensorFlow's kernel, patch and per-tap "
                    'matrix products) and print a table.')
for _name in ('profile', 'weight_gradients'):
  flags.register_validator(
      _name, lambda name: name is None or name in benchmark_lib.CONFIGS,
      f'--{_name} takes a name of {", ".join(benchmark_lib.CONFIGS)}.')
flags.register_validator(
    'configs', lambda names: set(names) <= set(benchmark_lib.CONFIGS),
    f'--configs takes names of {", ".join(benchmark_lib.CONFIGS)}.')
FLAGS = flags.FLAGS


def _comparison(rows, references):
  if not references:
    return ''
  reference = references[0]
  return (
      f"Against the PyTorch reference ({reference['implementation']}, "
      f"{reference['threads']} threads; bf16 under torch.autocast), at the "
      'same precision: ours / reference = ratio, each the best of its '
      'rounds (lowest-highest in brackets); an images/s ratio above 1 is '
      'ours faster, a time or memory ratio above 1 ours costlier.\n\n' +
      benchmark_lib.comparison_table(rows, references))


@contextlib.contextmanager
def _announced(what):
  """Prints to stderr as `what` starts and ends; stdout is the report's."""
  print(f'{what}: started', file=sys.stderr, flush=True)
  start = time.perf_counter()
  try:
    yield
  except Exception as e:
    print(f'{what}: failed after {time.perf_counter() - start:.0f} s '
          f'({type(e).__name__})', file=sys.stderr, flush=True)
    raise
  print(f'{what}: done in {time.perf_counter() - start:.0f} s',
        file=sys.stderr, flush=True)


def main(argv):
  del argv
  precisions = (list(benchmark_lib.PRECISIONS) if FLAGS.precision == 'both'
                else [FLAGS.precision])
  if FLAGS.profile:
    for precision in precisions:
      with _announced(f'profile {FLAGS.profile} {precision}'):
        ops = benchmark_lib.in_subprocess(benchmark_lib.profile,
                                          FLAGS.profile, precision, 2,
                                          FLAGS.profile_dir)
      print(f'{FLAGS.profile} {precision}, training step:\n\n'
            f'{benchmark_lib.profile_table(ops)}\n', flush=True)
    return
  if FLAGS.weight_gradients:
    with _announced(f'weight gradients {FLAGS.weight_gradients}'):
      rows = benchmark_lib.in_subprocess(benchmark_lib.weight_gradients,
                                         FLAGS.weight_gradients, 20,
                                         FLAGS.batch_size)
    for row in rows:
      print(json.dumps(row))
    print(f'\n{FLAGS.weight_gradients}, convolution weight gradients:\n\n'
          f'{benchmark_lib.weight_gradients_table(rows)}\n', flush=True)
    return
  if FLAGS.reference == 'torch' and not benchmark_lib.torch_available():
    sys.exit(benchmark_lib.TORCH_MISSING)
  start = time.perf_counter()
  choices = {'false': [False], 'true': [True], 'both': [False, True]}
  jits = choices[FLAGS.jit_compile]
  recomputes = choices[FLAGS.recompute_gradients]
  paths = (list(benchmark_lib.TRAIN_PATHS) if FLAGS.train_path == 'both'
           else [FLAGS.train_path])
  sizes = [int(n) for n in FLAGS.peak_matrix_sizes]
  # Each precision's peak is the fastest kernel either framework reaches.
  kernels = {}
  for precision in precisions:
    with _announced(f'peak {precision}'):
      kernels[precision] = {
          f'TensorFlow {kind}': gflops for kind, gflops in
          benchmark_lib.in_subprocess(benchmark_lib.measure_peak, precision,
                                      sizes).items()}
      if FLAGS.reference:
        kernels[precision].update(
            (f'PyTorch {kind}', gflops) for kind, gflops in
            benchmark_lib.reference_peak(precision, sizes,
                                         FLAGS.reference_threads).items())
  peaks = {p: max(k.values(), default=None) for p, k in kernels.items()}
  with _announced('first touch of new memory'):
    fresh, again = benchmark_lib.in_subprocess(
        benchmark_timing.first_touch_s_per_gb)
  rows, references, failed = [], [], []
  rounds = FLAGS.rounds or (2 if FLAGS.reference else 1)
  for name in FLAGS.configs:
    for precision in precisions:
      ours = collections.defaultdict(list)
      theirs = []
      # Interleaved: the machine's speed moves between runs minutes apart.
      for round_ in range(1, rounds + 1):
        of = f' round {round_}/{rounds}' if rounds > 1 else ''
        for jit, recompute, path in itertools.product(jits, recomputes,
                                                      paths):
          run = (f'{name} {precision} jit={jit} recompute={recompute}'
                 f'{"" if path == "fit" else " path=" + path}{of}')
          try:
            with _announced(run):
              row = benchmark_lib.run_config(
                  name, precision, jit, FLAGS.seconds_per_measurement,
                  FLAGS.batch_size, peaks, FLAGS.image_size, recompute, path)
          except Exception as e:  # pylint: disable=broad-except
            # An XLA or out-of-memory failure is a result too; go on.
            logging.exception('%s failed', run)
            failed.append(f'{run}: {e!r}')
            continue
          print(json.dumps(row), flush=True)
          ours[jit, recompute, path].append(row)
        if FLAGS.reference:
          run = f'{name} {precision} {FLAGS.reference} reference{of}'
          try:
            with _announced(run):
              reference = benchmark_lib.run_reference(
                  name, FLAGS.seconds_per_measurement, FLAGS.batch_size,
                  FLAGS.image_size, FLAGS.reference_threads, precision)
          except Exception as e:  # pylint: disable=broad-except
            logging.exception('%s failed', run)
            failed.append(f'{run}: {e!r}')
            continue
          print(json.dumps(reference), flush=True)
          theirs.append(reference)
      rows += [benchmark_lib.best_of(r) for r in ours.values()]
      if theirs:
        references.append(benchmark_lib.best_of(theirs))

  peak_text = '; '.join(
      f'{p} ' + (', '.join(f'{kind} {g:.1f}' for kind, g in sorted(
          k.items(), key=lambda item: -item[1])) + ' GFLOP/s'
                 if k else 'unsupported')
      for p, k in kernels.items())
  onednn = os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'unset')
  report = '\n\n'.join(filter(None, [
      'Command: `' + ' '.join(['bin/benchmark', *sys.argv[1:]]) + '`.\n\n'
      f'Machine: {benchmark_lib.machine()}. '
      'Peak, the fastest kernel (best '
      f'{"/".join(FLAGS.peak_matrix_sizes)}^2 matrix product; 3x3 '
      'convolution of 64 feature maps on 64x32x32): '
      f'{peak_text}. {os.cpu_count()} CPUs, TensorFlow {tf.__version__}, '
      f'TF_ENABLE_ONEDNN_OPTS={onednn}. First touch of new memory: '
      f'{fresh:.2f} kernel CPU s/GB fresh, {again:.2f} just freed (a '
      'first run\'s kernel CPU s is about the fresh figure times its new '
      'memory GB).',
      benchmark_lib.markdown_table(rows),
      benchmark_lib.targets_table(rows, references),
      _comparison(rows, references),
      '\n'.join(f'Failed: {f}' for f in failed),
      f'Wall time {time.perf_counter() - start:.0f} s.',
  ]))
  print(report)
  if FLAGS.out:
    old = (storage.read_bytes(FLAGS.out).decode()
           if tf.io.gfile.exists(FLAGS.out) else '')
    storage.write_atomic(FLAGS.out, benchmark_lib.report_into(old, report))


if __name__ == '__main__':
  _cli.run(main)
