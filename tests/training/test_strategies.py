"""Training under tf.distribute strategies, and in mixed precision."""

import json
import os
from pathlib import Path
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tfp_realnvp import config as config_lib
from tfp_realnvp.training import experiment
from tfp_realnvp.training import model as model_lib
from tfp_realnvp.training import presets
from tfp_realnvp.training import strategies
from tests import tiny

ROOT = Path(__file__).absolute().parents[2]
ENV = {**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2', 'PYTHONPATH': str(ROOT)}
TINY = tiny.flags()


def test_make_and_write_dir_of_the_default_strategy(tmp_path):
  strategy = strategies.make('default')
  assert strategy is tf.distribute.get_strategy()
  assert strategies.write_dir(tmp_path, strategy) == str(tmp_path)
  with pytest.raises(ValueError, match='mirrored'):
    strategies.make('nccl')


def test_precision_is_saved_and_rebuilt(tmp_path):
  presets.make_config('mnist', precision='bf16').save(tmp_path)
  config = presets.Config.load(tmp_path)
  model = experiment.build_model(config)
  assert model.architecture.network_dtype == 'mixed_bfloat16'
  coupling = model.distribution.bijector.scales[0].checkerboard[0]
  assert coupling.shift_and_log_scale_fn.compute_dtype == 'bfloat16'
  with pytest.raises(ValueError, match='precision'):
    config.override(precision='fp32')


@pytest.mark.parametrize('gpus, gradients, expected', [
    ([], 'native', 'bf16'), ([], 'xla', 'fp32'),
    (['GPU:0'], 'native', 'fp32')])
def test_default_precision_is_bf16_only_on_a_cpu_with_bf16_units(
    monkeypatch, tmp_path, gpus, gradients, expected):
  monkeypatch.setattr(
      tf.config, 'list_logical_devices',
      lambda kind=None: gpus if kind == 'GPU' else [])
  monkeypatch.setattr(strategies.networks, 'half_precision_gradients',
                      lambda dtype: gradients)
  assert strategies.default_precision() == expected
  # A new run takes it; one told a precision, or resumed, keeps its own.
  dtype = lambda config: config.architecture.network_dtype
  assert dtype(presets.make_config('mnist')) == strategies.PRECISIONS[expected]
  other = 'fp32' if expected == 'bf16' else 'bf16'
  presets.make_config('mnist', precision=other).save(tmp_path)
  saved = presets.Config.load(tmp_path)
  assert dtype(saved) == dtype(saved.override(precision=None)) == (
      strategies.PRECISIONS[other])


@pytest.mark.parametrize('precision', ['bf16', 'fp16'])
def test_mixed_precision_training_has_a_finite_float32_loss(precision):
  model = model_lib.FlowModel(config_lib.Architecture(
      (8, 8, 1), num_scales=1, num_res_blocks=1, num_filters=4,
      network_dtype=strategies.PRECISIONS[precision]))
  model.compile(tf_keras.optimizers.Adam(1e-2), run_eagerly=True)
  assert isinstance(model.optimizer,
                    tf_keras.mixed_precision.LossScaleOptimizer) == (
                        precision == 'fp16')
  x = tf.random.stateless_uniform([8, 8, 8, 1], [0, 0], 0., 256.)
  for _ in range(2):
    logs = model.train_step(x)
  assert logs['loss'].dtype == tf.float32
  assert np.isfinite(float(logs['loss']))
  assert int(model.optimizer.iterations) == 2


@pytest.mark.slow
def test_mirrored_matches_one_device():
  result = subprocess.run(
      [sys.executable, ROOT / 'tests' / 'training' / 'multi_worker_helper.py'],
      capture_output=True, text=True, env=ENV, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  result = json.loads(result.stdout.splitlines()[-1])
  assert result['replicas'] == 2
  # Without batch norm, each replica's half batch gives the same gradient
  # as the whole batch on one device, to float32 rounding.
  assert result['max_gradient_difference'] <= 1e-5 * result['max_gradient']
  # With it, replicas normalize by half-batch statistics: 4 Adam steps end
  # within 0.1% of one device (0.01% measured).
  assert result['mirrored_loss'] == pytest.approx(result['single_loss'],
                                                  rel=1e-3)
  # Batch norm's moving averages (in the s,t networks and the batch norm
  # bijectors) after 4 steps are the strategy's rule: each replica's copy
  # updated from its half batch, the mean of the copies read, to float32
  # rounding. The averages moved by far more than the tolerance, and the
  # rule differs from updating with the whole batch, so neither a missing
  # update nor the wrong one passes.
  assert result['num_averages'] > 10
  assert result['max_average_difference'] <= 1e-5
  assert result['max_average_change'] > 1e3 * 1e-5
  assert result['whole_batch_average_difference'] > 10 * 1e-5


def free_ports(n):
  sockets = [socket.socket() for _ in range(n)]
  for s in sockets:
    s.bind(('127.0.0.1', 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def start_workers(tmp_path, model_dir, epochs, *flags):
  workers = [f'127.0.0.1:{port}' for port in free_ports(2)]
  processes = []
  for index in range(2):
    tf_config = {'cluster': {'worker': workers},
                 'task': {'type': 'worker', 'index': index}}
    processes.append(subprocess.Popen(
        [sys.executable, '-m', 'tfp_realnvp.programs.train', '--strategy=multi_worker',
         '--dataset=npz', f'--data_dir={tmp_path / "tiny.npz"}',
         f'--model_dir={model_dir}', f'--epochs={epochs}',
         '--collective_timeout=30', *TINY, *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**ENV, 'TF_CONFIG': json.dumps(tf_config)}))
  return processes


@pytest.mark.slow
def test_multi_worker_chief_writes_fails_on_a_dead_worker_and_resumes(
    tmp_path):
  images = np.random.default_rng(0).integers(0, 256, [160, 8, 8, 1], np.uint8)
  np.savez(tmp_path / 'tiny.npz', images=images)
  model_dir = tmp_path / 'model'
  first = model_dir / 'checkpoints' / 'ckpt-2.index'  # epoch 1: 2 batches

  chief, worker = start_workers(tmp_path, model_dir, epochs=3)
  deadline = time.monotonic() + 240
  while not first.exists():
    assert chief.poll() is None and worker.poll() is None, (
        f'chief: {chief.stderr.read()[-3000:]}\n'
        f'worker: {worker.stderr.read()[-3000:]}')
    assert time.monotonic() < deadline, 'no checkpoint after 240 s'
    time.sleep(0.5)
  first_saved = first.stat().st_mtime_ns
  worker.send_signal(signal.SIGKILL)
  killed = time.monotonic()
  _, stderr = chief.communicate(timeout=120)
  assert chief.returncode != 0
  print(f'chief failed {time.monotonic() - killed:.0f} s after the kill:',
        stderr[-1500:])
  worker.communicate()

  outputs = [p.communicate(timeout=300)
             for p in start_workers(tmp_path, model_dir, epochs=3)]
  for stdout, stderr in outputs:
    assert 'epoch 3, step 6,' in stdout, stderr[-3000:]
    assert 'Epoch 1/3' not in stdout  # Resumed, not started over.
  assert f'checkpoint: {model_dir}/checkpoints/' in outputs[0][0]
  # The other worker saved to its scratch directory on the same filesystem,
  # deleted at the end (the listing below).
  assert f'checkpoint: {model_dir}/workertemp_1/' in outputs[1][0]
  assert first.stat().st_mtime_ns == first_saved
  assert sorted(p.name for p in model_dir.iterdir()) == [
      'checkpoints', 'config.json', 'logs', 'ood_calibration.json',
      'samples.png']


@pytest.mark.slow
def test_multi_worker_sigterm_to_one_worker_stops_all_at_one_step(tmp_path):
  images = np.random.default_rng(0).integers(0, 256, [160, 8, 8, 1], np.uint8)
  np.savez(tmp_path / 'tiny.npz', images=images)
  model_dir = tmp_path / 'model'
  checkpoints = model_dir / 'checkpoints'
  chief, worker = start_workers(tmp_path, model_dir, 50,
                                '--checkpoint_every_steps=1')
  deadline = time.monotonic() + 240
  while not list(checkpoints.glob('ckpt-*.index')):
    assert chief.poll() is None and worker.poll() is None, (
        f'chief: {chief.stderr.read()[-3000:]}\n'
        f'worker: {worker.stderr.read()[-3000:]}')
    assert time.monotonic() < deadline, 'no checkpoint after 240 s'
    time.sleep(0.2)
  worker.send_signal(signal.SIGTERM)
  sent = time.time()
  outputs = [p.communicate(timeout=120) for p in (chief, worker)]
  assert chief.returncode == worker.returncode == 1, outputs
  # Each one's error line. (TensorFlow's C++ may log after it, such as the
  # coordination service's client missing a chief that already exited.)
  lines = [[line for line in stderr.splitlines() if line.startswith('error')]
           for _, stderr in outputs]
  assert [len(errors) for errors in lines] == [1, 1], [
      stderr[-2000:] for _, stderr in outputs]
  lines = [errors[0] for errors in lines]
  found = [re.fullmatch(
      r'error: stopped by (.*) after step (\d+) \(epoch \d+, batch \d+\): '
      r'saved (\S+); rerun the same command to resume from there', line)
           for line in lines]
  assert all(found), lines
  assert [m[1] for m in found] == ['a signal on another worker', 'SIGTERM']
  step = found[0][2]
  assert found[1][2] == step  # The same step on both workers
  saved = str(checkpoints / f'ckpt-{step}')
  assert found[0][3] == saved == tf.train.latest_checkpoint(str(checkpoints))
  # Written within 30 s. (The processes' exit can take longer: TensorFlow's
  # teardown of the cluster, 40 s once under load.)
  assert os.path.getmtime(f'{saved}.index') - sent < 30
  reader = tf.train.load_checkpoint(saved)
  assert reader.get_tensor('step/.ATTRIBUTES/VARIABLE_VALUE') == int(step)
  assert not list(model_dir.glob('workertemp_*'))
