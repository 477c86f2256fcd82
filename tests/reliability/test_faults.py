"""Faults training survives: non-finite steps, --max_nonfinite, a disk that
stops taking writes."""

from pathlib import Path
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tests.reliability.conftest import ENV, TINY
from tfp_realnvp import config as config_lib
from tfp_realnvp import training
from tfp_realnvp.training import model as model_lib

ROOT = Path(__file__).resolve().parents[2]


@tf.custom_gradient
def nan_gradient(x):
  """0, with a NaN gradient."""
  return tf.zeros([]), lambda dy: tf.fill(tf.shape(x), float('nan'))


class NanGradientModel(model_lib.FlowModel):
  """A finite loss whose gradient is NaN (on one weight, so the whole global
  norm is NaN)."""

  def penalty(self):
    return super().penalty() + nan_gradient(self.trainable_variables[0])


def test_a_nonfinite_gradient_with_a_finite_loss_is_skipped_and_counted():
  model = NanGradientModel(config_lib.Architecture(
      (8, 8, 1), num_scales=1, num_res_blocks=1, num_filters=4))
  model.compile(tf_keras.optimizers.Adam(1e-2))
  x = tf.random.stateless_uniform([8, 8, 8, 1], [0, 0], 0., 256.)
  model(x)  # Builds the networks.
  loss = tf.reduce_mean(model.negative_log_likelihood(x, training=True))
  assert np.isfinite(float(loss + model.penalty()))  # Batch norm: updated.
  state = [*model.distribution.variables, *model.optimizer.variables()]
  before = [v.numpy() for v in state]
  averages = [v.name for v in model.distribution.non_trainable_variables]
  assert any('moving_mean' in name for name in averages)
  step = tf.function(model.train_step)
  step(x)
  assert int(model.nonfinite_steps) == 1
  assert int(model.optimizer.iterations) == 0
  for variable, value in zip(state, before):
    # Weights, Adam's slots and batch norm's running averages.
    np.testing.assert_array_equal(variable.numpy(), value,
                                  err_msg=variable.name)
  step(x)
  assert int(model.nonfinite_steps) == 2


def faulty_train(fault, model_dir, *flags):
  return subprocess.run(
      [sys.executable, ROOT / 'tests' / 'reliability' / 'fault_helper.py',
       fault, f'--model_dir={model_dir}', *TINY, *flags],
      capture_output=True, text=True, timeout=300,
      env={**ENV, 'PYTHONPATH': str(ROOT)})


def checkpoint_files(model_dir):
  return sorted(p.name for p in (model_dir / 'checkpoints').iterdir())


@pytest.mark.slow
def test_max_nonfinite_stops_keeping_the_last_good_checkpoint(tmp_path):
  # Steps 0 and 1 (epoch 1) are good; every step from 2 on is NaN.
  model_dir = tmp_path / 'model'
  result = faulty_train('nonfinite:2', model_dir, '--epochs=3',
                        '--max_nonfinite=2', '--deterministic')
  assert result.returncode == 1, result.stderr[-3000:]
  last = model_dir / 'checkpoints' / 'ckpt-2'  # after 2 batches: epoch 1
  assert result.stderr.strip().splitlines()[-1] == (
      'error: stopped training: 2 steps had a non-finite loss or gradient and '
      'were skipped (max_nonfinite=2); the last good checkpoint is '
      f'{last}')
  assert tf.train.latest_checkpoint(str(last.parent)) == str(last)
  assert checkpoint_files(model_dir) == [
      'checkpoint', 'ckpt-2.data-00000-of-00001', 'ckpt-2.index']
  reader = tf.train.load_checkpoint(str(last))
  assert reader.get_tensor('epoch/.ATTRIBUTES/VARIABLE_VALUE') == 1
  assert reader.get_tensor('step/.ATTRIBUTES/VARIABLE_VALUE') == 2
  assert not (model_dir / 'lock.json').exists()  # Released.


@pytest.mark.slow
def test_an_unwritable_disk_fails_clearly_keeping_the_last_checkpoint(
    tmp_path):
  model_dir = tmp_path / 'model'
  # Epoch 2's checkpoint, after 4 batches.
  result = faulty_train('unwritable:4', model_dir, '--epochs=3',
                        '--deterministic')
  assert result.returncode == 1, result.stderr[-3000:]
  last = model_dir / 'checkpoints' / 'ckpt-2'
  error = result.stderr.strip().splitlines()[-1]
  assert error.startswith(
      f'error: could not write checkpoint 4 to {last.parent} ('), error
  assert 'Permission denied' in error
  assert error.endswith(f'the last complete checkpoint is {last}'), error
  assert tf.train.latest_checkpoint(str(last.parent)) == str(last)
  training.load_model(model_dir)  # Whole, and restorable.
  reader = tf.train.load_checkpoint(str(last))
  assert reader.get_tensor('step/.ATTRIBUTES/VARIABLE_VALUE') == 2
