"""bin/benchmark: FLOP and parameter counts, tables, profile, the program."""

import json
import math
import os
import re
import subprocess
import sys

import pytest
import tensorflow as tf

import tfp_realnvp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'bin'))

import benchmark_lib  # pylint: disable=g-import-not-at-top,wrong-import-position


def _coupling(height, width, channels, blocks, filters, checkerboard):
  """Hand count of one coupling's network: (forward FLOPs, parameters).

  A checkerboard network sees `[x, -x, mask]` of the `channels`, a channel
  network `[x, -x]` of its conditioning half, twice as wide; both output a
  shift and log-scale per changed channel.
  """
  if checkerboard:
    cin, cout = 2 * channels + 1, 2 * channels
  else:
    channels, filters = channels // 2, 2 * filters
    cin, cout = 2 * channels, 2 * channels
  # (kernel size, in, out, bias, gain): conv_in, skip_in, per block two 3x3
  # and a 1x1 skip, conv_out.
  convs = ([(3, cin, filters, 1, 0), (1, filters, filters, 1, 1)] +
           [(3, filters, filters, 0, 0), (3, filters, filters, 1, 1),
            (1, filters, filters, 1, 1)] * blocks +
           [(1, filters, cout, 1, 1)])
  flops = sum(2 * height * width * k * k * i * o for k, i, o, _, _ in convs)
  params = sum(k * k * i * o + (b + g) * o for k, i, o, b, g in convs)
  # Batch norm shifts: the input's, two per block, the output stage's; the
  # log-scale scalar.
  params += channels + 2 * blocks * filters + filters + 1
  return flops, params


def _hand_count(height, width, channels, scales, blocks, filters):
  """The authors' multi-scale architecture, counted by hand."""
  checker = _coupling(height, width, channels, blocks, filters, True)
  if scales == 1:
    return tuple(4 * n for n in checker)
  chan = _coupling(height // 2, width // 2, 4 * channels, blocks, filters,
                   False)
  coarser = _hand_count(height // 2, width // 2, 2 * channels, scales - 1,
                        blocks, 2 * filters)
  return tuple(3 * a + 3 * b + c for a, b, c in zip(checker, chan, coarser))


def test_one_scale_flops_by_hand():
  dist = tfp_realnvp.real_nvp_distribution(
      [4, 6, 2], num_scales=1, num_res_blocks=1, num_filters=3)
  # 4 couplings at 4x6: conv_in 3x3 5->3, skip_in 1x1 3->3, two 3x3 3->3,
  # skip 1x1 3->3, conv_out 1x1 3->4.
  per_coupling = 2 * 4 * 6 * (9 * 5 * 3 + 3 * 3 + 2 * 9 * 3 * 3 + 3 * 3 +
                              3 * 4)
  assert benchmark_lib.forward_flops(dist) == 4 * per_coupling
  assert [shape for _, shape in benchmark_lib.coupling_inputs(dist)] == [
      [4, 6, 2]] * 4


@pytest.mark.parametrize('name', ['cifar10_paper', 'small', 'mnist_default',
                                  'lsun64'])
def test_flops_and_parameters_match_hand_count(name):
  architecture = benchmark_lib.CONFIGS[name].architecture
  dist = tfp_realnvp.real_nvp_distribution(architecture)
  flops, params = _hand_count(*architecture.event_shape,
                              architecture.num_scales,
                              architecture.num_res_blocks,
                              architecture.num_filters)
  assert benchmark_lib.forward_flops(dist) == flops
  assert benchmark_lib.num_parameters(dist) == params


def test_cifar10_paper_size():
  # The authors' CIFAR-10 model: 12.9 GFLOP per image, 19.6 M parameters.
  dist = tfp_realnvp.real_nvp_distribution(
      benchmark_lib.CONFIGS['cifar10_paper'].architecture)
  gflops = benchmark_lib.forward_flops(dist) / 1e9
  assert gflops == pytest.approx(12.92, abs=0.01)
  assert benchmark_lib.num_parameters(dist) == 19_609_545


def test_log_prob_runs_exactly_the_counted_convolutions():
  # Counted from the traced graph, independently of the flow's structure:
  # each network runs once, at the shape the counter assumes.
  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 3], num_scales=2, num_res_blocks=1, num_filters=4)
  graph = tf.function(dist.log_prob).get_concrete_function(
      tf.TensorSpec([1, 8, 8, 3])).graph
  executed = sum(
      2 * math.prod(op.outputs[0].shape[1:3]) * math.prod(op.inputs[1].shape)
      for op in graph.get_operations() if op.type == 'Conv2D')
  assert executed == benchmark_lib.forward_flops(dist)


def test_targets_table_checks_ratios_at_each_precision_peaks_and_first_step():
  row = dict(config='cifar10_paper', precision='fp32', jit_compile=False,
             recompute_gradients=False, batch_size=64,
             event_shape=[32, 32, 3],
             train_images_per_s=9., log_prob_images_per_s=20.,
             sample_images_per_s=31., first_train_step_s=30.,
             train_peak_rss_gb=2., num_parameters=10,
             train_fraction_of_peak=0.5, log_prob_fraction_of_peak=0.95,
             sample_fraction_of_peak=0.8)
  reference = dict(row, train_images_per_s=6., log_prob_images_per_s=20.,
                   sample_images_per_s=20., train_peak_rss_gb=5.)
  bf16 = dict(row, precision='bf16', train_images_per_s=8.,
              first_train_step_s=31.)

  def met(*references):
    table = benchmark_lib.targets_table([row, bf16], references)
    return {tuple(line.split(' | ')[:2]): line.split(' | ')[3].rstrip(' |')
            for line in table.splitlines()[2:]}

  fp32 = '| fp32 jit=False recompute=False path=fit'
  half = '| bf16 jit=False recompute=False path=fit'
  assert met(reference, dict(reference, precision='bf16')) == {
      (fp32, 'train >= 1.2 x reference'): 'yes',
      (fp32, 'log_prob >= 1.2 x reference'): 'no',
      (fp32, 'sample >= 1.2 x reference'): 'yes',
      (fp32, 'first train step <= 30 s'): 'yes',
      (fp32, 'log_prob >= 0.85 of peak'): 'yes',
      (fp32, 'sample >= 0.85 of peak'): 'no',
      (half, 'train >= 1.5 x reference'): 'no',  # 8 / 6
      (half, 'log_prob >= 1.2 x reference'): 'no',
      (half, 'sample >= 1.2 x reference'): 'yes',
      (half, 'first train step <= 30 s'): 'no'}
  # A reference of another precision or batch is not this run's.
  assert met(reference)[half, 'train >= 1.5 x reference'] == '-'
  assert met(dict(reference, batch_size=32))[
      fp32, 'train >= 1.2 x reference'] == '-'


def test_best_of_rounds_keeps_each_measurements_best_and_spread():
  rounds = [dict(config='c', train_images_per_s=t, log_prob_images_per_s=l,
                 sample_images_per_s=3., first_train_step_s=f,
                 train_peak_rss_gb=2., train_fraction_of_peak=t / 10,
                 log_prob_fraction_of_peak=l / 10,
                 sample_fraction_of_peak=0.3)
            for t, l, f in [(4., 9., 40.), (5., 8., 50.)]]
  row = benchmark_lib.best_of(rounds)
  assert (row['train_images_per_s'], row['log_prob_images_per_s'],
          row['first_train_step_s']) == (5., 9., 40.)
  assert (row['train_fraction_of_peak'], row['log_prob_fraction_of_peak']) == (
      0.5, 0.9)
  assert row['spread']['train_images_per_s'] == [4., 5.]
  assert row['rounds'] == 2


def test_report_goes_between_the_markers_of_a_page():
  page = ('# Performance\n\nWhy.\n\n<!-- benchmark: begin -->\nold\n'
          '<!-- benchmark: end -->\n\nHistory.\n')
  out = benchmark_lib.report_into(page, 'new table')
  assert out.startswith('# Performance\n\nWhy.\n\n<!-- benchmark: begin -->')
  assert 'new table' in out and 'old' not in out
  assert out.endswith('<!-- benchmark: end -->\n\nHistory.\n')
  assert benchmark_lib.report_into('', 'new table') == 'new table\n'


def test_profile_sums_op_time_by_type(tmp_path):
  ops = benchmark_lib.profile('tiny', steps=1, logdir=str(tmp_path))
  types = [op for op, _, _ in ops]
  # A training step runs convolutions and their two gradients (as oneDNN's
  # _MklNative* ops when TF_ENABLE_ONEDNN_OPTS=1).
  for conv in ('Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'):
    assert any(t.endswith(conv) for t in types), (conv, types)
  assert 'ResourceApplyAdam' in types
  seconds = [s for _, s, _ in ops]
  assert seconds == sorted(seconds, reverse=True) and seconds[-1] > 0
  assert sum(f for _, _, f in ops) == pytest.approx(1.)
  assert list(tmp_path.rglob('*.xplane.pb'))


def test_weight_gradients_agree_with_the_kernel_at_every_shape():
  rows = benchmark_lib.weight_gradients('small', repeats=1, batch_size=2)
  # The small model's 3x3 convolutions: each network's input convolution
  # (its input doubled as [h, -h], plus the mask in a checkerboard
  # coupling) and its blocks', 32 feature maps at 32x32, twice as many
  # after the squeeze (the channel couplings see 6 of 12 channels, the
  # second scale's checkerboard couplings 6 channels).
  assert {(tuple(r['input_shape']), tuple(r['kernel_shape']))
          for r in rows} == {
              ((2, 32, 32, 7), (3, 3, 7, 32)),
              ((2, 32, 32, 32), (3, 3, 32, 32)),
              ((2, 16, 16, 12), (3, 3, 12, 64)),
              ((2, 16, 16, 13), (3, 3, 13, 64)),
              ((2, 16, 16, 64), (3, 3, 64, 64))}
  for row in rows:
    for way in benchmark_lib.WEIGHT_GRADIENTS:
      assert row[f'{way}_ms'] > 0
      assert row[f'{way}_rel_diff'] < 1e-5, (way, row)
  table = benchmark_lib.weight_gradients_table(rows).splitlines()
  assert len(table) == 2 + len(rows)
  assert table[2].startswith('| 2x16x16x12 | 3x3x12x64 | ')


def test_profile_table_keeps_the_top_and_sums_the_rest():
  ops = [('Conv2D', 2., 0.5), ('Relu', 1., 0.25), ('Add', 0.6, 0.15),
         ('Mul', 0.4, 0.1)]
  lines = benchmark_lib.profile_table(ops, top=2).splitlines()
  assert lines[2] == '| Conv2D | 2.000 | 50.0% |'
  assert lines[-1] == '| 2 other op types | 1.000 | 25.0% |'
  assert len(lines) == 5


def progress(stderr):
  """bin/benchmark's progress lines in `stderr`, times as N."""
  return [re.sub(r' \d+ s', ' N s', line) for line in stderr.splitlines()
          if re.match(r'(peak|first touch|tiny) .*: (started|done|failed)',
                      line)]


@pytest.mark.slow
def test_program_prints_json_lines_and_table(tmp_path):
  out = tmp_path / 'bench.md'
  result = subprocess.run(
      [os.path.join(ROOT, 'bin', 'benchmark'), '--configs=tiny',
       '--seconds_per_measurement=0.05', '--peak_matrix_sizes=256',
       '--train_path=both', f'--out={out}'],
      capture_output=True, text=True, check=True, timeout=300)
  rows = [json.loads(line) for line in result.stdout.splitlines()
          if line.startswith('{')]
  # bin/train's step, and a TFP programmer's own tf.function and Adam.
  assert [r['train_path'] for r in rows] == ['fit', 'user']
  assert rows[1]['train_images_per_s'] > 0
  row = rows[0]
  assert (row['config'], row['precision'], row['jit_compile']) == (
      'tiny', 'fp32', False)
  for key in ('train_images_per_s', 'log_prob_images_per_s',
              'sample_images_per_s', 'first_train_step_s', 'build_s',
              'trace_s', 'traced_ops', 'train_peak_rss_gb',
              'train_fraction_of_peak'):
    assert row[key] > 0, key
  assert row['build_s'] + row['trace_s'] < row['first_train_step_s']
  assert 0 <= row['first_run_system_s'] < row['first_train_step_s'] * 2
  assert 0 <= row['first_run_new_memory_gb'] <= row['train_peak_rss_gb']
  table = [line for line in out.read_text().splitlines()
           if line.startswith('| tiny ')]
  assert len(table) == 2 and len(table[0].split(' | ')) == 22
  assert out.read_text() in result.stdout
  assert re.search(r'^Machine: .+, \d+ cores, ', result.stdout, re.M)
  assert re.search(r'Peak, the fastest kernel .*: fp32 TensorFlow (matrix '
                   r'product|3x3 convolution) [0-9.]+, TensorFlow .* GFLOP/s',
                   result.stdout)
  assert re.search(r'First touch of new memory: [0-9.]+ kernel CPU s/GB '
                   r'fresh, [0-9.]+ just freed', result.stdout)
  # As each measurement starts and ends, on stderr only.
  assert progress(result.stderr) == [
      'peak fp32: started', 'peak fp32: done in N s',
      'first touch of new memory: started',
      'first touch of new memory: done in N s',
      'tiny fp32 jit=False recompute=False: started',
      'tiny fp32 jit=False recompute=False: done in N s',
      'tiny fp32 jit=False recompute=False path=user: started',
      'tiny fp32 jit=False recompute=False path=user: done in N s']
  assert not progress(result.stdout)


@pytest.mark.slow
def test_program_reports_a_failed_configuration_and_goes_on():
  # Images of no pixels: the model cannot be built.
  result = subprocess.run(
      [os.path.join(ROOT, 'bin', 'benchmark'), '--configs=tiny',
       '--image_size=0', '--seconds_per_measurement=0.05',
       '--peak_matrix_sizes=64'],
      capture_output=True, text=True, check=True, timeout=300)
  assert progress(result.stderr) == [
      'peak fp32: started', 'peak fp32: done in N s',
      'first touch of new memory: started',
      'first touch of new memory: done in N s',
      'tiny fp32 jit=False recompute=False: started',
      'tiny fp32 jit=False recompute=False: failed after N s (ValueError)']
  assert 'Failed: tiny fp32 jit=False recompute=False' in result.stdout


def test_first_touch_writes_the_memory_it_times():
  # In a fresh process, so that the memory is new to it.
  result = subprocess.run(
      [sys.executable, '-c',
       'import benchmark_timing as t; '
       'print(*t.first_touch_s_per_gb(0.2), t.peak_rss_gb())'],
      capture_output=True, text=True, check=True, timeout=60,
      env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'bin')))
  fresh, again, peak_gb = map(float, result.stdout.split())
  # Zeroing 0.2 GB of pages takes the kernel well over a clock tick.
  assert fresh > 0 and math.isfinite(fresh)
  assert again >= 0 and math.isfinite(again)
  assert peak_gb >= 0.2


def test_peak_memory_is_the_programs_own_not_its_parents():
  # A child of a process holding TensorFlow (or here 500 MB) reports its own
  # peak: the PyTorch reference runs in such a child.
  held = bytearray(500 * 10**6)
  held[::4096] = b'1' * len(held[::4096])
  result = subprocess.run(
      [sys.executable, '-c',
       'import benchmark_timing; print(benchmark_timing.peak_rss_gb())'],
      capture_output=True, text=True, check=True, timeout=60,
      env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'bin')))
  assert float(result.stdout) < 0.1
  assert len(held) and benchmark_lib._peak_rss_gb() > 0.5  # pylint: disable=protected-access
