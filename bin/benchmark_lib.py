"""Throughput, compile time and memory of Real NVP, against the machine's peak.

Each configuration runs in a fresh process, so its peak resident memory is its
own and no traced function or XLA cache carries over. Efficiency is analytic:
useful FLOPs (the coupling networks' convolutions, counted from the model's
shapes) times images/s, over the peak: the fastest of large matrix products
and a large convolution (`measure_peak`; bin/benchmark adds PyTorch's,
`reference_peak`, with --reference=torch).

```python
peaks = {'fp32': max(in_subprocess(measure_peak, 'fp32').values())}
rows = [run_config('small', 'fp32', jit_compile=False, seconds=10,
                   peaks=peaks)]
print(markdown_table(rows))
```
"""

import collections
import concurrent.futures
import dataclasses
import functools
import importlib.util
import json
import multiprocessing
import operator
import os
import re
import subprocess
import sys
import tempfile
import time

import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2
import tf_keras

from benchmark_timing import best_gflops as _best_gflops
from benchmark_timing import images_per_second as _images_per_second
from benchmark_timing import PEAK_CONVOLUTION
from benchmark_timing import PEAK_CONVOLUTION_FLOPS
from benchmark_timing import peak_rss_gb as _peak_rss_gb
from benchmark_timing import system_cpu_s as _system_cpu_s

from tfp_realnvp import bijectors
from tfp_realnvp import config as config_lib
from tfp_realnvp import networks
from tfp_realnvp import storage
from tfp_realnvp.training import model as model_lib
from tfp_realnvp.training import presets
from tfp_realnvp.training import strategies

__all__ = ['CONFIGS', 'PRECISIONS', 'Config', 'coupling_inputs',
           'forward_flops', 'num_parameters', 'measure_peak', 'reference_peak',
           'measure',
           'profile', 'profile_table', 'run_config', 'in_subprocess',
           'markdown_table', 'targets_table', 'TORCH_MISSING',
           'torch_available', 'run_reference', 'best_of', 'ratios', 'TRAIN_PATHS',
           'report_into', 'machine',
           'comparison_table']

# Of `strategies.PRECISIONS`: fp16 needs loss scaling and a GPU to pay off.
PRECISIONS = ('fp32', 'bf16')


@dataclasses.dataclass(frozen=True)
class Config:
  """A model to measure, and how `bin/train` would train it."""
  architecture: config_lib.Architecture
  training: presets.Training = presets.Training()

  def model(self, precision='fp32', recompute_gradients=False):
    """An untrained `FlowModel`, its networks in `precision`."""
    return model_lib.FlowModel(
        self.architecture.replace(
            network_dtype=strategies.PRECISIONS[precision]),
        l2=self.training.l2, recompute_gradients=recompute_gradients)


def _preset(dataset, event_shape):
  """The model `bin/train --dataset=...` builds, at its batch size."""
  preset = presets.PRESETS[dataset]
  return Config(preset.architecture_for(event_shape), preset.training)


_SMALL = config_lib.Architecture((32, 32, 3), num_scales=2, num_res_blocks=4,
                                 num_filters=32)
CONFIGS = {
    'cifar10_paper': _preset('cifar10', (32, 32, 3)),  # The paper's CIFAR-10.
    'small': Config(_SMALL),
    'mnist_default': _preset('mnist', (28, 28, 1)),
    'lsun64': _preset('lsun_bedroom', (64, 64, 3)),
    'small_b16': Config(_SMALL, presets.Training(batch_size=16)),
    'small_b256': Config(_SMALL, presets.Training(batch_size=256)),
    'tiny': Config(  # For smoke tests.
        config_lib.Architecture((8, 8, 3), num_scales=1, num_res_blocks=1,
                                num_filters=4),
        presets.Training(batch_size=8)),
}


def coupling_inputs(dist):
  """`(network, [H, W, C])` for every coupling of a `real_nvp_distribution`.

  Scale by scale, finest first: the checkerboard couplings run at the
  scale's input shape, the channel couplings after its squeeze, and the
  coarser scale on the half the factor-out passes on.
  """
  def networks(steps, shape):  # The steps hold batch norms too.
    return [(step.shift_and_log_scale_fn, shape) for step in steps
            if isinstance(step, bijectors.AffineCoupling)]

  found = []
  shape = dist.event_shape.as_list()
  for scale in dist.bijector.scales:
    height, width, channels = shape
    found += networks(scale.checkerboard, shape)
    found += networks(scale.channel, [height // 2, width // 2, 4 * channels])
    shape = [height // 2, width // 2, 2 * channels]
  return found


def forward_flops(dist):
  """FLOPs per image of one pass through every coupling network.

  Each rank-4 weight is a stride-1 'same' convolution kernel `[kh, kw, Cin,
  Cout]`: 2 * H * W * kh * kw * Cin * Cout FLOPs (a multiply-add is 2).
  Biases, activations and the affine maps are O(H W C), negligible next to
  that. log_prob and sample each cost one pass; a training step about three.
  """
  return sum(2 * height * width * int(tf.size(w))
             for network, (height, width, _) in coupling_inputs(dist)
             for w in network.trainable_weights if w.shape.rank == 4)


def num_parameters(dist):
  return sum(int(tf.size(v)) for v in dist.trainable_variables)


def measure_peak(precision, sizes=(1024, 2048, 4096), repeats=5):
  """Best GFLOP/s of TensorFlow's kernels at `precision`, by kind.

  `{'matrix product': best over square sides `sizes`, '3x3 convolution':
  the widest convolution of the paper's CIFAR-10 model}`; `{}` if
  `precision` fails. Best over sizes too: which size runs fastest depends
  on the kernels and caches (TF's default CPU kernels run 4096^2 a third
  slower than 2048^2).
  """
  dtype = tf_keras.mixed_precision.Policy(
      strategies.PRECISIONS[precision] or 'float32').compute_dtype

  def best(kernel, flops):
    # Summed, so that fetching the result copies one number, not a tensor.
    run = tf.function(lambda: tf.reduce_sum(tf.cast(kernel(), tf.float32)))
    return _best_gflops(lambda: run().numpy(), flops, repeats)

  try:
    matmul = 0.
    for size in sizes:
      a = tf.random.normal([size, size], dtype=tf.float32)
      a, b = tf.cast(a, dtype), tf.cast(tf.transpose(a), dtype)
      matmul = max(matmul, best(lambda: a @ b, 2 * size**3))
    (batch, height, width, channels), side, out = PEAK_CONVOLUTION
    x = tf.cast(tf.random.normal([batch, height, width, channels]), dtype)
    kernel = tf.cast(tf.random.normal([side, side, channels, out]), dtype)
    conv = best(lambda: tf.nn.conv2d(x, kernel, 1, 'SAME'),
                PEAK_CONVOLUTION_FLOPS)
  except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError):
    return {}
  return {'matrix product': matmul, '3x3 convolution': conv}


def reference_peak(precision, sizes=(1024, 2048, 4096), threads=2):
  """The PyTorch reference's `peak_gflops` at `precision`, in its own process."""
  return _torch_reference(f'the PyTorch peak at {precision}', [
      '--peak=' + ','.join(map(str, sizes)), f'--threads={threads}',
      f'--precision={precision}'])


def _torch_reference(what, args):
  """The JSON line `bin/torch_reference.py args` prints, run in its own
  interpreter, so that neither TensorFlow nor this process's memory counts."""
  command = [sys.executable,
             os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          'torch_reference.py'), *args]
  result = subprocess.run(command, capture_output=True, text=True,
                          check=False)
  if result.returncode:
    raise RuntimeError(f'{what} failed:\n{result.stderr[-3000:]}')
  return json.loads(result.stdout.splitlines()[-1])


def _config(name, image_size=None):
  """`CONFIGS[name]`, its images `image_size` square if given."""
  config = CONFIGS[name]
  if image_size is None:
    return config
  *_, channels = config.architecture.event_shape
  return dataclasses.replace(config, architecture=config.architecture.replace(
      event_shape=(image_size, image_size, channels)))


TRAIN_PATHS = ('fit', 'user')


def _training(name, precision, jit_compile, batch_size=None, image_size=None,
              recompute_gradients=False, train_path='fit'):
  """`(dist, train_step, trace, x)` for a configuration, not traced yet.

  `train_step()` runs a training step on the batch `x` and returns its loss;
  `trace()` traces it without running it. `train_path` 'fit' is the step of
  `bin/train` and of `DistributionModel.fit` / `train_on_batch` (`fit`'s own
  step function); 'user' is what a TFP programmer writes: a `tf.function`
  around `log_prob` with `training=True` and a tf_keras Adam step (no L2,
  no clipping, no non-finite guard).
  """
  config = _config(name, image_size)
  batch_size = batch_size or config.training.batch_size
  x = tf.random.uniform([batch_size, *config.architecture.event_shape], 0.,
                        256.)
  model = config.model(precision, recompute_gradients)
  if train_path == 'user':
    dist = model.distribution
    optimizer = tf_keras.optimizers.Adam(config.training.learning_rate)

    @tf.function(jit_compile=jit_compile)
    def user_step(x):
      with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(
            dist.log_prob(x, bijector_kwargs={'training': True}))
      variables = dist.trainable_variables
      optimizer.apply_gradients(
          zip(tape.gradient(loss, variables), variables))
      return loss

    return (dist, lambda: user_step(x),
            lambda: user_step.get_concrete_function(x), x)
  model.compile(config.training.optimizer(), jit_compile=jit_compile)
  batches = iter(tf.data.Dataset.from_tensors(x).repeat())
  train_function = model.make_train_function()
  return (model.distribution, lambda: train_function(batches)['loss'],
          lambda: train_function.get_concrete_function(batches), x)


def measure(name, precision, jit_compile, seconds, batch_size=None,
            image_size=None, recompute_gradients=False, train_path='fit'):
  """Measures one configuration in this process; run it in a fresh one.

  The first training step's time covers building the model, tracing (and
  compiling) the step and running it, not importing TensorFlow; the
  building and the tracing are also timed alone, and what is left of the
  first step is making the traced graph runnable and running it, of which
  `first_run_system_s` is CPU time in the kernel: first use of the step's
  memory (`first_run_new_memory_gb`, the peak resident set's growth), which
  later steps reuse. Memory is the process's peak resident set, TensorFlow's
  own included, in 1e9 bytes.
  """
  start = time.perf_counter()
  dist, train_step, trace, x = _training(name, precision, jit_compile,
                                         batch_size, image_size,
                                         recompute_gradients, train_path)
  built = time.perf_counter()
  graph = trace().graph
  traced = time.perf_counter()
  batch_size, shape = x.shape[0], x.shape[1:].as_list()
  traced_rss, traced_system = _peak_rss_gb(), _system_cpu_s()
  train_step().numpy()
  first_step = time.perf_counter() - start
  first_run_system = _system_cpu_s() - traced_system
  first_run_memory = _peak_rss_gb() - traced_rss
  train = _images_per_second(lambda: train_step().numpy(), batch_size,
                             seconds)
  # Training runs first, so the peak so far is the training peak.
  train_rss = _peak_rss_gb()

  log_prob_fn = tf.function(dist.log_prob, jit_compile=jit_compile)
  log_prob_fn(x)
  log_prob = _images_per_second(lambda: log_prob_fn(x).numpy(), batch_size,
                                seconds)
  sample_fn = tf.function(lambda: dist.sample(batch_size),
                          jit_compile=jit_compile)
  sample_fn()
  sample = _images_per_second(lambda: sample_fn().numpy(), batch_size,
                              seconds)
  return {
      'config': name, 'precision': precision, 'jit_compile': jit_compile,
      'recompute_gradients': recompute_gradients, 'train_path': train_path,
      'batch_size': batch_size,
      'event_shape': shape,
      'num_parameters': num_parameters(dist),
      'forward_gflop_per_image': forward_flops(dist) / 1e9,
      'train_images_per_s': train, 'log_prob_images_per_s': log_prob,
      'sample_images_per_s': sample, 'first_train_step_s': first_step,
      'build_s': built - start, 'trace_s': traced - built,
      'first_run_system_s': first_run_system,
      'first_run_new_memory_gb': first_run_memory,
      'traced_ops': len(graph.get_operations()),
      'train_peak_rss_gb': train_rss,
      'peak_rss_gb': _peak_rss_gb(),
  }


def profile(name, precision='fp32', steps=2, logdir=None):
  """Where a training step's time goes: op time per TensorFlow op type.

  Runs `steps` training steps of configuration `name` under TensorFlow's
  profiler (after one untraced warm-up step) and sums the host trace's op
  events by op type. Returns `[(op_type, seconds_per_step, fraction)]`,
  largest first. Op time is summed over threads, so with concurrent ops it
  can exceed the step's wall time; fractions are of the op time. The trace
  stays in `logdir` (a temporary directory if None) for TensorBoard.
  """
  _, train_step, _, _ = _training(name, precision, jit_compile=False)
  train_step().numpy()
  logdir = logdir or tempfile.mkdtemp(prefix='realnvp_profile_')
  tf.profiler.experimental.start(logdir)
  for _ in range(steps):
    train_step().numpy()
  tf.profiler.experimental.stop()
  space = xplane_pb2.XSpace()
  traces = tf.io.gfile.glob(storage.join(logdir, 'plugins', 'profile', '*',
                                         '*.xplane.pb'))
  space.ParseFromString(storage.read_bytes(
      max(traces, key=lambda p: tf.io.gfile.stat(p).mtime_nsec)))
  seconds = collections.Counter()
  for plane in space.planes:
    for line in plane.lines:
      for event in line.events:
        # TensorFlow's op events are named 'op_name:OpType'.
        match = _OP_EVENT.match(plane.event_metadata[event.metadata_id].name)
        if match:
          seconds[match[1]] += event.duration_ps / 1e12 / steps
  total = sum(seconds.values())
  return [(op, s, s / total) for op, s in seconds.most_common()]


_OP_EVENT = re.compile(r'^[^:]+:([A-Z_][A-Za-z0-9_]*)$')


def conv_weight_shapes(name, batch_size=None):
  """The distinct `(input_shape, kernel_shape)` of the 3x3 convolutions of a
  configuration's coupling networks, at its batch size."""
  config = _config(name)
  batch_size = batch_size or config.training.batch_size
  shapes = set()
  for network, (height, width, _) in coupling_inputs(
      config.model().distribution):
    for weight in network.trainable_weights:
      if weight.shape.rank == 4 and weight.shape[0] > 1:
        shapes.add(((batch_size, height, width, weight.shape[2]),
                    tuple(weight.shape.as_list())))
  return sorted(shapes)


def _patch_matmul(x, dy, kernel_shape):
  """The weight gradient as one matrix product over image patches."""
  kh, kw, cin, cout = kernel_shape
  patches = tf.image.extract_patches(x, [1, kh, kw, 1], [1] * 4, [1] * 4,
                                     'SAME')
  return tf.reshape(tf.matmul(tf.reshape(patches, [-1, kh * kw * cin]),
                              tf.reshape(dy, [-1, cout]), transpose_a=True),
                    kernel_shape)


def _shifted_matmuls(x, dy, kernel_shape):
  """The weight gradient as one matrix product per kernel tap."""
  kh, kw, cin, cout = kernel_shape
  height, width = x.shape[1:3]
  padded = tf.pad(x, [[0, 0], [kh // 2] * 2, [kw // 2] * 2, [0, 0]])
  dy = tf.reshape(dy, [-1, cout])
  taps = [tf.matmul(tf.reshape(padded[:, i:i + height, j:j + width],
                               [-1, cin]), dy, transpose_a=True)
          for i in range(kh) for j in range(kw)]
  return tf.reshape(tf.stack(taps), kernel_shape)


# 'kernel' first: weight_gradients compares the others with its result.
WEIGHT_GRADIENTS = {
    'kernel': lambda x, dy, kernel_shape: tf.raw_ops.Conv2DBackpropFilter(
        input=x, filter_sizes=kernel_shape, out_backprop=dy,
        strides=[1] * 4, padding='SAME'),
    'patch_matmul': _patch_matmul,
    'shifted_matmuls': _shifted_matmuls,
}


def weight_gradients(name, repeats=20, batch_size=None):
  """Times three ways of computing the convolution weight gradients.

  For each 3x3 shape of configuration `name`: TensorFlow's kernel (oneDNN's
  with TF_ENABLE_ONEDNN_OPTS=1), a matrix product over image patches, and
  one matrix product per tap. Returns one dict per shape: `{way}_ms` per
  call, and each way's largest difference from the kernel's result,
  relative to the kernel's largest entry (`{way}_rel_diff`).
  """
  rows = []
  for input_shape, kernel_shape in conv_weight_shapes(name, batch_size):
    x = tf.random.stateless_normal(input_shape, [0, 0])
    dy = tf.random.stateless_normal([*input_shape[:3], kernel_shape[3]],
                                    [1, 0])
    row = {'input_shape': list(input_shape),
           'kernel_shape': list(kernel_shape)}
    for way, fn in WEIGHT_GRADIENTS.items():
      call = tf.function(functools.partial(fn, kernel_shape=kernel_shape))
      result = call(x, dy).numpy()  # Traced and warmed up.
      start = time.perf_counter()
      for _ in range(repeats):
        call(x, dy).numpy()
      row[f'{way}_ms'] = (time.perf_counter() - start) / repeats * 1e3
      if way == 'kernel':
        expected = result
      row[f'{way}_rel_diff'] = float(
          abs(result - expected).max() / abs(expected).max())
    rows.append(row)
  return rows


def weight_gradients_table(rows):
  header = ['input', 'kernel', *(f'{way} ms (rel. diff)'
                                 for way in WEIGHT_GRADIENTS)]
  return _table(header, [
      ['x'.join(map(str, r['input_shape'])),
       'x'.join(map(str, r['kernel_shape'])),
       *(f"{r[f'{way}_ms']:.2f} ({r[f'{way}_rel_diff']:.0e})"
         for way in WEIGHT_GRADIENTS)] for r in rows])


def in_subprocess(fn, *args):
  """`fn(*args)` in a fresh Python process (spawned, not forked)."""
  with concurrent.futures.ProcessPoolExecutor(
      1, mp_context=multiprocessing.get_context('spawn')) as pool:
    return pool.submit(fn, *args).result()


def run_config(name, precision, jit_compile, seconds, batch_size=None,
               peaks=None, image_size=None, recompute_gradients=False,
               train_path='fit'):
  """`measure` in a fresh process, plus GFLOP/s and fractions of `peaks`."""
  row = in_subprocess(measure, name, precision, jit_compile, seconds,
                      batch_size, image_size, recompute_gradients, train_path)
  flops = row['forward_gflop_per_image']
  peak = (peaks or {}).get(precision)
  for what, passes in ('train', 3), ('log_prob', 1), ('sample', 1):
    gflops = passes * flops * row[f'{what}_images_per_s']
    row[f'{what}_gflop_per_s'] = gflops
    row[f'{what}_fraction_of_peak'] = gflops / peak if peak else None
  row['sample_over_log_prob_time'] = (row['log_prob_images_per_s'] /
                                      row['sample_images_per_s'])
  return row


_COLUMNS = [
    ('config', 'config', '{}'), ('precision', 'precision', '{}'),
    ('jit', 'jit_compile', '{}'), ('recompute', 'recompute_gradients', '{}'),
    ('train path', 'train_path', '{}'), ('batch', 'batch_size', '{}'),
    ('train img/s', 'train_images_per_s', '{:.1f}'),
    ('log_prob img/s', 'log_prob_images_per_s', '{:.1f}'),
    ('sample img/s', 'sample_images_per_s', '{:.1f}'),
    ('GFLOP/img fwd', 'forward_gflop_per_image', '{:.3g}'),
    ('train GFLOP/s', 'train_gflop_per_s', '{:.1f}'),
    ('train/peak', 'train_fraction_of_peak', '{:.2f}'),
    ('log_prob/peak', 'log_prob_fraction_of_peak', '{:.2f}'),
    ('sample/peak', 'sample_fraction_of_peak', '{:.2f}'),
    ('sample/log_prob time', 'sample_over_log_prob_time', '{:.2f}'),
    ('first step s', 'first_train_step_s', '{:.1f}'),
    ('of it: build s', 'build_s', '{:.1f}'),
    ('trace s', 'trace_s', '{:.1f}'),
    ('first run: kernel CPU s', 'first_run_system_s', '{:.1f}'),
    ('new memory GB', 'first_run_new_memory_gb', '{:.2f}'),
    ('traced ops', 'traced_ops', '{}'),
    ('train peak RSS GB', 'train_peak_rss_gb', '{:.2f}'),
]


def _table(header, rows):
  lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
  return '\n'.join(lines + ['| ' + ' | '.join(row) + ' |' for row in rows])


def markdown_table(rows):
  return _table([title for title, _, _ in _COLUMNS], [
      ['-' if row.get(key) is None else fmt.format(row[key])
       for _, key, fmt in _COLUMNS] for row in rows])


def profile_table(ops, top=12):
  """Markdown table of `profile`'s result: the `top` op types, then the rest."""
  rest = sum(s for _, s, _ in ops[top:]), sum(f for _, _, f in ops[top:])
  lines = [[op, f'{s:.3f}', f'{f:.1%}'] for op, s, f in ops[:top]]
  if ops[top:]:
    lines.append([f'{len(ops) - top} other op types', f'{rest[0]:.3f}',
                  f'{rest[1]:.1%}'])
  return _table(['op type', 'op s per step', 'share'], lines)


def targets_table(rows, references=(), config='cifar10_paper'):
  """The speed targets for `config`, one block per run of it.

  Against the reference at the same precision (`references`, rows of the
  same run): bf16 training 1.5 times, bf16 log_prob and sample 1.2 times,
  fp32 all three 1.2 times; fp32 log_prob and sample at 0.85 of the fp32
  peak; the first training step within 30 s.
  """
  ge, le = operator.ge, operator.le
  by_run = {_same_run(r): r for r in references}
  lines = []
  for row in rows:
    if row['config'] != config:
      continue
    reference = by_run.get(_same_run(row))
    ratio = ratios(row, reference) if reference else {}
    bf16 = row['precision'] == 'bf16'
    checks = [
        (f'train >= {1.5 if bf16 else 1.2} x reference',
         ratio.get('train_images_per_s'), ge, 1.5 if bf16 else 1.2),
        ('log_prob >= 1.2 x reference', ratio.get('log_prob_images_per_s'),
         ge, 1.2),
        ('sample >= 1.2 x reference', ratio.get('sample_images_per_s'), ge,
         1.2),
        ('first train step <= 30 s', row['first_train_step_s'], le, 30),
    ]
    if not bf16:
      checks += [
          ('log_prob >= 0.85 of peak', row['log_prob_fraction_of_peak'], ge,
           0.85),
          ('sample >= 0.85 of peak', row['sample_fraction_of_peak'], ge,
           0.85)]
    run = (f'{row["precision"]} jit={row["jit_compile"]} '
           f'recompute={row.get("recompute_gradients", False)} '
           f'path={row.get("train_path", "fit")}')
    for target, value, meets, bound in checks:
      lines.append([run, target] + (
          ['-', '-'] if value is None else
          [f'{value:.2f}', 'yes' if meets(value, bound) else 'no']))
  return _table(['run', 'target', 'measured', 'met'], lines) if lines else ''


TORCH_MISSING = (
    "--reference=torch needs PyTorch, which is not installed: "
    "pip install 'tfp_realnvp[torch]' (into this checkout's venv: "
    ".venv/bin/pip install torch==2.13.0)")


def torch_available():
  """Whether `torch` is importable, without importing it into this process."""
  return importlib.util.find_spec('torch') is not None


def run_reference(name, seconds, batch_size=None, image_size=None,
                  threads=2, precision='fp32'):
  """The PyTorch reference's row for configuration `name`, in a fresh process.

  `bin/torch_reference.py` (chrischute/real-nvp's architecture) at the
  configuration's image shape, scales, residual blocks, feature maps and
  batch, at `precision` (bf16: under `torch.autocast`), on `threads`
  threads; timed as `measure` times ours. Its own interpreter, so that
  neither TensorFlow nor this process's memory counts.
  """
  config = _config(name, image_size)
  architecture = config.architecture
  row = _torch_reference(f'The PyTorch reference of {name}', [
      '--image_shape=' + ','.join(map(str, architecture.event_shape)),
      f'--num_scales={architecture.num_scales}',
      f'--num_blocks={architecture.num_res_blocks}',
      f'--num_filters={architecture.num_filters}',
      f'--batch_size={batch_size or config.training.batch_size}',
      f'--seconds={seconds}', f'--threads={threads}',
      f'--precision={precision}'])
  return {'config': name, **row}


# (title, key, format); each compared as ours / reference.
_COMPARED = [
    ('train img/s', 'train_images_per_s', '{:.1f}'),
    ('log_prob img/s', 'log_prob_images_per_s', '{:.1f}'),
    ('sample img/s', 'sample_images_per_s', '{:.1f}'),
    ('first step s', 'first_train_step_s', '{:.1f}'),
    ('train peak RSS GB', 'train_peak_rss_gb', '{:.2f}'),
    ('parameters', 'num_parameters', '{:,}'),
]


def _same_run(row):
  return (row['config'], row['precision'], row['batch_size'],
          tuple(row['event_shape']))


# Per measurement, which of several rounds is best.
_BEST = {'train_images_per_s': max, 'log_prob_images_per_s': max,
         'sample_images_per_s': max, 'first_train_step_s': min,
         'train_peak_rss_gb': min, 'peak_rss_gb': min}


def best_of(rounds):
  """One row from rows of the same run: each measurement's best round.

  The machines' speed moves between runs minutes apart, so rounds of ours
  and of the reference are interleaved and each side keeps its best;
  `spread` holds each measurement's `[lowest, highest]` over the rounds.
  """
  row = dict(rounds[-1])
  row['rounds'] = len(rounds)
  row['spread'] = {}
  for key, best in _BEST.items():
    values = [r[key] for r in rounds if r.get(key) is not None]
    if values:
      row[key] = best(values)
      row['spread'][key] = [min(values), max(values)]
  for what in ('train', 'log_prob', 'sample'):
    key = f'{what}_fraction_of_peak'
    if key in row:  # the best round's
      row[key] = max(rounds, key=lambda r: r[f'{what}_images_per_s'])[key]
  return row


def ratios(row, reference):
  """`{key: ours / reference}` of the compared measurements."""
  return {key: row[key] / reference[key] for _, key, _ in _COMPARED}


def machine():
  """The CPU's model name and its vector units, as the report names them."""
  text = networks.cpuinfo()
  model = re.search(r'^model name\s*:\s*(.+)$', text, re.M)
  flags = set(text.split())
  named = [('avx512f', 'AVX-512'), ('avx512_bf16', 'AVX512_BF16'),
           ('amx_bf16', 'AMX')]
  units = [name for flag, name in named if flag in flags]
  # The bf16 units are named when absent too: figures depend on them.
  missing = [name for flag, name in named[1:] if flag not in flags]
  return (f'{model.group(1).strip() if model else "CPU"}, '
          f'{os.cpu_count()} cores, ' + ', '.join(units or ['AVX2 or older']) +
          ''.join(f', no {name}' for name in missing))


REPORT_BEGIN = '<!-- benchmark: begin -->'
REPORT_END = '<!-- benchmark: end -->'


def report_into(page, report):
  """`page` with the report between its marker lines, or the report alone."""
  begin, end = page.find(REPORT_BEGIN), page.find(REPORT_END)
  if begin < 0 or end < begin:
    return report + '\n'
  return (page[:begin + len(REPORT_BEGIN)] + '\n\n' + report + '\n\n' +
          page[end:])


def _with_spread(row, key, fmt):
  """`best (lowest-highest)` over a row's rounds, or the value alone."""
  low, high = row.get('spread', {}).get(key, (None, None))
  if low is None or low == high:
    return fmt.format(row[key])
  return f'{fmt.format(row[key])} ({fmt.format(low)}-{fmt.format(high)})'


def comparison_table(rows, references):
  """Ours against the PyTorch reference: 'ours / reference = ratio' cells.

  One line per row of ours that has a reference row of the same
  configuration, batch size and image shape. An images/s ratio above 1 is
  ours faster; a time or memory ratio above 1 is ours costlier.
  """
  by_run = {_same_run(r): r for r in references}
  lines = []
  for row in rows:
    reference = by_run.get(_same_run(row))
    if reference is None:
      continue
    height, width, _ = row['event_shape']
    lines.append(
        [row['config'], row['precision'], str(row['jit_compile']),
         str(row.get('recompute_gradients', False)), str(row['batch_size']),
         f'{height}x{width}'] +
        [f'{_with_spread(row, key, fmt)} / '
         f'{_with_spread(reference, key, fmt)} = {ratio:.2f}'
         for (_, key, fmt), ratio in
         zip(_COMPARED, ratios(row, reference).values())])
  return _table(['config', 'precision', 'jit', 'recompute', 'batch', 'image'] +
                [f'{title}: ours / torch' for title, _, _ in _COMPARED],
                lines) if lines else ''
