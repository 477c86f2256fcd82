"""Killed (SIGKILL) at any moment of training, resumed with the same command:
the run ends bit-identical to an uninterrupted one.

With --deterministic, each epoch's data is a function of (seed, epoch) and
the checkpoint holds the epoch, so a resumed run redoes the interrupted epoch
exactly. One run directory is killed in turn in the middle of every epoch
(the last included), in the middle of writing a checkpoint (the last
included) and between the last checkpoint and the program's end, and resumed
each time; it ends with the uninterrupted run's weights, Adam slots, batch
norm averages and counters.
"""

from pathlib import Path
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.reliability.conftest import ENV, run, TINY
from tfp_realnvp import training

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 3
ARGS = [*TINY, '--steps_per_epoch=4', f'--epochs={EPOCHS}', '--deterministic',
        '--seed=3']
# Each kill, then a resumed run that goes on to the next one. Every epoch is
# killed after its second of four batches.
KILLS = ['batch:1:2', 'batch:2:2', 'save:2', 'batch:3:2', f'save:{EPOCHS}',
         'end']
# Metric accumulators end with the validation pass: they are logs, not state
# that training reads.
METRICS = ('model/score_tracker/', 'model/loss_tracker/')


def weights(model_dir, checkpoint=None):
  """{name: array} of a checkpoint: weights, Adam, averages, counters."""
  reader = tf.train.load_checkpoint(
      str(checkpoint or model_dir / 'checkpoints'))
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()
          if name != '_CHECKPOINTABLE_OBJECT_GRAPH'
          and not name.startswith(METRICS)}


def assert_same(actual, expected):
  assert actual.keys() == expected.keys()
  assert any('optimizer' in name for name in expected)  # Adam's moments too.
  assert any('moving_mean' in name for name in expected)
  different = [name for name in expected
               if not np.array_equal(actual[name], expected[name])]
  assert not different, f'{len(different)} of {len(expected)}: {different[:5]}'


def killed_at(moment, model_dir):
  result = subprocess.run(
      [sys.executable, ROOT / 'tests' / 'reliability' / 'fault_helper.py',
       moment, f'--model_dir={model_dir}', *ARGS],
      capture_output=True, text=True, timeout=300,
      env={**ENV, 'PYTHONPATH': str(ROOT)})
  assert result.returncode == -9, (moment, result.stderr[-3000:])
  return tf.train.latest_checkpoint(str(model_dir / 'checkpoints'))


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
  model_dir = tmp_path_factory.mktemp('runs') / 'uninterrupted'
  run('train', f'--model_dir={model_dir}', *ARGS)
  return model_dir


def test_killed_at_every_moment_and_resumed_ends_bit_identical(
    uninterrupted, tmp_path):
  model_dir = tmp_path / 'killed'
  listed = [killed_at(moment, model_dir) for moment in KILLS]
  # Where each kill left the run: the checkpoint a resume starts from.
  assert [p and Path(p).name for p in listed] == [
      None, 'ckpt-1', 'ckpt-1', 'ckpt-2', 'ckpt-2', f'ckpt-{EPOCHS}']
  resumed = run('train', f'--model_dir={model_dir}', *ARGS)
  assert f'epoch {EPOCHS}, step {4 * EPOCHS},' in resumed.stdout
  assert_same(weights(model_dir), weights(uninterrupted))


def test_resumed_in_the_last_epoch_without_a_kill(uninterrupted, tmp_path):
  # The reproduction: the run directory as a kill in the last epoch
  # leaves it.
  model_dir = tmp_path / 'model'
  (model_dir / 'checkpoints').mkdir(parents=True)
  shutil.copy(uninterrupted / 'config.json', model_dir)
  last = EPOCHS - 1
  for path in (uninterrupted / 'checkpoints').glob(f'ckpt-{last}.*'):
    shutil.copy(path, model_dir / 'checkpoints')
  (model_dir / 'checkpoints' / 'checkpoint').write_text(
      f'model_checkpoint_path: "ckpt-{last}"\n')
  run('train', f'--model_dir={model_dir}', *ARGS)
  assert_same(weights(model_dir), weights(uninterrupted))


def test_a_save_cut_short_is_never_restored(uninterrupted, tmp_path):
  # What a kill during a save can leave: files of the next checkpoint but no
  # entry in the index (saves are written to a temporary name first).
  model_dir = tmp_path / 'model'
  shutil.copytree(uninterrupted, model_dir)
  checkpoints = model_dir / 'checkpoints'
  after = EPOCHS + 1
  for suffix in ('index', 'data-00000-of-00001'):
    (checkpoints / f'ckpt-{after}.{suffix}').write_bytes(b'\0' * 100)
  (checkpoints / f'ckpt-{after}_temp').mkdir()
  model, _ = training.load_model(model_dir)
  assert tf.train.latest_checkpoint(str(checkpoints)).endswith(
      f'ckpt-{EPOCHS}')
  reference, _ = training.load_model(uninterrupted)
  for restored, expected in zip(model.variables, reference.variables):
    np.testing.assert_array_equal(restored, expected)


def test_a_damaged_latest_checkpoint_fails_naming_it(uninterrupted, tmp_path):
  # Damage a kill cannot do (the disk can): fail, not silently go back.
  model_dir = tmp_path / 'model'
  shutil.copytree(uninterrupted, model_dir)
  data_file = model_dir / 'checkpoints' / f'ckpt-{EPOCHS}.data-00000-of-00001'
  data_file.write_bytes(data_file.read_bytes()[:100])
  with pytest.raises(ValueError,
                     match=rf'checkpoint .*ckpt-{EPOCHS} is damaged'):
    training.train('mnist', model_dir, epochs=EPOCHS + 1, verbose=0)
