"""Killed (SIGKILL), stopped (SIGTERM) or left with a damaged checkpoint,
then resumed with the same command: the run ends bit-identical to an
uninterrupted one.

With --deterministic, each epoch's data is a function of (seed, epoch), and
a checkpoint holds the position in it (epoch, batch), so a resumed run goes
on with the next batch exactly. Runs here have two epochs of six batches
and a checkpoint every N = 2 batches; one run directory is killed in turn
at random steps, in the middle of writing the last checkpoint and between
it and the program's end, and resumed each time; it ends with the
uninterrupted run's weights, Adam slots, batch norm averages and counters.
"""

import json
import os
from pathlib import Path
import random
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.reliability.conftest import ENV, run, TINY
from tfp_realnvp import training

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EPOCHS, STEPS, EVERY = 2, 6, 2
LAST = EPOCHS * STEPS  # ckpt-N: after N batches
ARGS = [*TINY, f'--steps_per_epoch={STEPS}', f'--epochs={EPOCHS}',
        '--deterministic', '--seed=3', f'--checkpoint_every_steps={EVERY}',
        '--keep_checkpoints=10']
# Metric accumulators end with the validation pass: they are logs, not state
# that training reads; and the checkpoint counts its own saves.
NOT_STATE = ('model/score_tracker/', 'model/loss_tracker/', 'save_counter/')


def weights(checkpoint):
  """{name: array} of a checkpoint: weights, Adam, averages, counters."""
  reader = tf.train.load_checkpoint(str(checkpoint))
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()
          if name != '_CHECKPOINTABLE_OBJECT_GRAPH'
          and not name.startswith(NOT_STATE)}


def assert_same(actual, expected):
  assert actual.keys() == expected.keys()
  assert any('optimizer' in name for name in expected)  # Adam's moments too.
  assert any('moving_mean' in name for name in expected)
  different = [name for name in expected
               if not np.array_equal(actual[name], expected[name])]
  assert not different, f'{len(different)} of {len(expected)}: {different[:5]}'


def number(path):
  return path and int(Path(path).name.split('-')[1])


def faulty(moment, model_dir, *flags):
  return subprocess.run(
      [sys.executable, ROOT / 'tests' / 'reliability' / 'fault_helper.py',
       moment, f'--model_dir={model_dir}', *ARGS, *flags],
      capture_output=True, text=True, timeout=300,
      env={**ENV, 'PYTHONPATH': str(ROOT)})


def killed_at(moment, model_dir):
  result = faulty(moment, model_dir)
  assert result.returncode == -9, (moment, result.stderr[-3000:])
  return tf.train.latest_checkpoint(str(model_dir / 'checkpoints'))


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
  model_dir = tmp_path_factory.mktemp('runs') / 'uninterrupted'
  run('train', f'--model_dir={model_dir}', *ARGS)
  return model_dir


def test_killed_at_random_steps_loses_at_most_n_and_ends_bit_identical(
    uninterrupted, tmp_path):
  seed = int(os.environ.get('RESUME_TEST_SEED', time.time_ns() % 10**6))
  kills = sorted(random.Random(seed).sample(range(1, LAST), 3))
  model_dir = tmp_path / 'killed'
  for step in kills:
    epoch, batch = divmod(step - 1, STEPS)
    latest = number(killed_at(f'batch:{epoch + 1}:{batch + 1}', model_dir))
    # Every N-th batch is saved, the last of an epoch after its validation.
    assert step - (latest or 0) <= EVERY, (seed, kills, step, latest)
  # In the save of the last checkpoint, and after it.
  assert number(killed_at(f'save:{LAST}', model_dir)) == LAST - EVERY
  assert number(killed_at('end', model_dir)) == LAST
  resumed = run('train', f'--model_dir={model_dir}', *ARGS)
  assert f'epoch {EPOCHS}, step {LAST},' in resumed.stdout
  assert_same(weights(model_dir / 'checkpoints'),
              weights(uninterrupted / 'checkpoints'))


def test_checkpoint_frequency_does_not_change_the_result(uninterrupted,
                                                         tmp_path):
  # The uninterrupted run saved every 2 batches; this one at epoch ends.
  model_dir = tmp_path / 'model'
  run('train', f'--model_dir={model_dir}', *ARGS[:-2])
  assert sorted(p.name for p in (model_dir / 'checkpoints').glob('*.index')
                ) == [f'ckpt-{LAST}.index', f'ckpt-{STEPS}.index']
  assert_same(weights(model_dir / 'checkpoints'),
              weights(uninterrupted / 'checkpoints'))


def test_sigterm_inside_an_epoch_saves_the_step_and_resumes(uninterrupted,
                                                            tmp_path):
  model_dir = tmp_path / 'model'
  # The signal comes during batch 4 of epoch 2: step 10 is saved, a step
  # between the checkpoints every N.
  result = faulty('term:2:3', model_dir, '--checkpoint_every_steps=4')
  ended = time.time()
  assert result.returncode == 1, result.stderr[-3000:]
  sent = float(result.stderr.split('SIGTERM at ')[1].split()[0])
  assert ended - sent < 30
  saved = model_dir / 'checkpoints' / 'ckpt-10'
  assert result.stderr.strip().splitlines()[-1] == (
      'error: stopped by SIGTERM after step 10 (epoch 2, batch 4): saved '
      f'{saved}; rerun the same command to resume from there')
  assert tf.train.latest_checkpoint(str(saved.parent)) == str(saved)
  assert weights(saved)['step/.ATTRIBUTES/VARIABLE_VALUE'] == 10
  run('train', f'--model_dir={model_dir}', *ARGS, '--checkpoint_every_steps=4')
  assert_same(weights(model_dir / 'checkpoints'),
              weights(uninterrupted / 'checkpoints'))


def test_resumed_in_the_last_epoch_without_a_kill(uninterrupted, tmp_path):
  # The run directory as a kill in the last epoch leaves it (the data of an
  # epoch is read once, through one iterator).
  model_dir = tmp_path / 'model'
  (model_dir / 'checkpoints').mkdir(parents=True)
  shutil.copy(uninterrupted / 'config.json', model_dir)
  for path in (uninterrupted / 'checkpoints').glob(f'ckpt-{STEPS}.*'):
    shutil.copy(path, model_dir / 'checkpoints')
  (model_dir / 'checkpoints' / 'checkpoint').write_text(
      f'model_checkpoint_path: "ckpt-{STEPS}"\n')
  run('train', f'--model_dir={model_dir}', *ARGS)
  assert_same(weights(model_dir / 'checkpoints'),
              weights(uninterrupted / 'checkpoints'))


def test_a_save_cut_short_is_never_restored(uninterrupted, tmp_path):
  # What a kill during a save can leave: files of the next checkpoint but no
  # entry in the index (saves are written to a temporary name first).
  model_dir = tmp_path / 'model'
  shutil.copytree(uninterrupted, model_dir)
  checkpoints = model_dir / 'checkpoints'
  after = LAST + 1
  for suffix in ('index', 'data-00000-of-00001'):
    (checkpoints / f'ckpt-{after}.{suffix}').write_bytes(b'\0' * 100)
  (checkpoints / f'ckpt-{after}_temp').mkdir()
  model, _ = training.load_model(model_dir)
  assert number(tf.train.latest_checkpoint(str(checkpoints))) == LAST
  reference, _ = training.load_model(uninterrupted)
  for restored, expected in zip(model.variables, reference.variables):
    np.testing.assert_array_equal(restored, expected)


def damage(checkpoints, how, number):
  """Damages checkpoint `number` as a disk can; the file or path named."""
  prefix = checkpoints / f'ckpt-{number}'
  if how == 'truncated':
    data_file = Path(f'{prefix}.data-00000-of-00001')
    data_file.write_bytes(data_file.read_bytes()[:100])
    return data_file
  if how == 'no_index':
    Path(f'{prefix}.index').unlink()
    return f'{prefix}.index'
  assert how == 'missing'  # "checkpoint" names files that are gone
  for path in checkpoints.glob(f'ckpt-{number}.*'):
    path.unlink()
  return f'{prefix}.index'


@pytest.mark.parametrize('how', ['truncated', 'no_index', 'missing'])
def test_a_damaged_latest_checkpoint_is_skipped_naming_it(uninterrupted,
                                                          tmp_path, how):
  model_dir = tmp_path / 'model'
  shutil.copytree(uninterrupted, model_dir)
  checkpoints = model_dir / 'checkpoints'
  named = damage(checkpoints, how, LAST)
  result = run('train', f'--model_dir={model_dir}', *ARGS)
  skipped = [line for line in result.stderr.splitlines()
             if line.startswith('skipped damaged checkpoint')]
  assert len(skipped) == 1, result.stderr[-3000:]
  assert skipped[0].startswith(
      f'skipped damaged checkpoint {checkpoints / f"ckpt-{LAST}"}: ')
  if how != 'truncated':  # TensorFlow's reason names the data file or not
    assert str(named) in skipped[0]
  # Resumed from ckpt-10: the last two steps again, to the same end.
  assert f'epoch {EPOCHS}, step {LAST},' in result.stdout
  assert_same(weights(checkpoints), weights(uninterrupted / 'checkpoints'))


def test_no_intact_checkpoint_fails_naming_the_directory(uninterrupted,
                                                         tmp_path):
  model_dir = tmp_path / 'model'
  shutil.copytree(uninterrupted, model_dir)
  checkpoints = model_dir / 'checkpoints'
  for step in range(EVERY, LAST + 1, EVERY):
    damage(checkpoints, 'truncated', step)
  before = {p: p.read_bytes() for p in checkpoints.iterdir()}
  result = run('train', f'--model_dir={model_dir}', *ARGS, check=False)
  assert result.returncode == 1
  lines = result.stderr.strip().splitlines()
  assert lines[-1].startswith(f'error: no intact checkpoint in {checkpoints}:')
  assert 'nothing was deleted' in lines[-1]
  assert len([line for line in lines if line.startswith('skipped')]) == 6
  assert {p: p.read_bytes() for p in checkpoints.iterdir()} == before


RAM_RUN = """
import json, os, signal, sys
import numpy as np
import tensorflow as tf
from tfp_realnvp import storage, training
from tfp_realnvp.training import callbacks
from tests import tiny

model_dir, reference = sys.argv[1:]
args = dict(tiny.RUN, steps_per_epoch={STEPS}, epochs={EPOCHS}, seed=3,
            deterministic=True, checkpoint_every_steps={EVERY},
            keep_checkpoints=10, verbose=0)
original = callbacks.Checkpointing.on_train_batch_end
def on_train_batch_end(self, batch, logs=None):
  original(self, batch, logs)
  if (self._current_epoch, batch) == (0, 2):  # SIGTERM during batch 4
    os.kill(os.getpid(), signal.SIGTERM)
callbacks.Checkpointing.on_train_batch_end = on_train_batch_end
try:
  training.train('mnist', model_dir, **args)
  raise AssertionError('not interrupted')
except training.TrainingInterrupted as e:
  message = str(e)
callbacks.Checkpointing.on_train_batch_end = original
latest = tf.train.latest_checkpoint(model_dir + '/checkpoints')
# Truncated: the run goes back to the one before.
data_file = latest + '.data-00000-of-00001'
content = storage.read_bytes(data_file)
tf.io.gfile.remove(data_file)  # ram:// does not truncate a file it rewrites
with tf.io.gfile.GFile(data_file, 'wb') as f:
  f.write(content[:100])
training.train('mnist', model_dir, **args)
final = tf.train.load_checkpoint(model_dir + '/checkpoints')
expected = tf.train.load_checkpoint(reference)
names = [n for n in expected.get_variable_to_shape_map()
         if n != '_CHECKPOINTABLE_OBJECT_GRAPH' and 'tracker' not in n
         and not n.startswith('save_counter')]
print(json.dumps(dict(message=message, latest=latest, compared=len(names),
    different=[n for n in names if not np.array_equal(
        final.get_tensor(n), expected.get_tensor(n))])))
""".replace('{STEPS}', str(STEPS)).replace('{EPOCHS}', str(EPOCHS)).replace(
    '{EVERY}', str(EVERY))


def test_on_ram_a_stopped_and_damaged_run_resumes_bit_identical(
    uninterrupted):
  # ram:// lives in one process: stopped by SIGTERM there, its latest
  # checkpoint truncated, and resumed, all in one.
  model_dir = 'ram://resume/model'
  result = subprocess.run(
      [sys.executable, '-c', RAM_RUN, model_dir,
       str(uninterrupted / 'checkpoints')],
      capture_output=True, text=True, timeout=300,
      env={**ENV, 'PYTHONPATH': str(ROOT)})
  assert result.returncode == 0, result.stderr[-3000:]
  found = json.loads(result.stdout.strip().splitlines()[-1])
  assert found['message'].startswith('stopped by SIGTERM after step 4 ')
  assert found['latest'] == f'{model_dir}/checkpoints/ckpt-4'
  assert f'skipped damaged checkpoint {model_dir}/checkpoints/ckpt-4: ' in (
      result.stderr)
  assert found['compared'] > 10 and not found['different']
