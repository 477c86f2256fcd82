"""Killed mid-training (SIGKILL), resumed with the same command: nothing lost.

With --deterministic, each epoch's data is a function of (seed, epoch) and
the checkpoint holds the epoch, so a resumed run redoes the interrupted epoch
exactly and ends with the weights of an uninterrupted run, bit for bit.
"""

import random
import shutil
import subprocess
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.reliability.conftest import command, ENV, run, TINY
from tfp_realnvp import training

pytestmark = pytest.mark.slow
ARGS = [*TINY, '--epochs=5', '--deterministic', '--seed=3']
# Metric accumulators end with the validation pass, whose noise is drawn
# anew in each process: they are logs, not state that training reads.
METRICS = ('model/score_tracker/', 'model/loss_tracker/')


def weights(model_dir):
  """{name: array} of the latest checkpoint: weights, Adam, counters."""
  reader = tf.train.load_checkpoint(str(model_dir / 'checkpoints'))
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()
          if name != '_CHECKPOINTABLE_OBJECT_GRAPH'
          and not name.startswith(METRICS)}


def train(model_dir):
  return subprocess.Popen(command('train', f'--model_dir={model_dir}', *ARGS),
                          env=ENV, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  """(uninterrupted, killed and resumed) model dirs; both runs at once."""
  root = tmp_path_factory.mktemp('runs')
  uninterrupted, killed = train(root / 'uninterrupted'), train(root / 'killed')
  index = root / 'killed' / 'checkpoints' / 'checkpoint'
  while not index.exists():
    assert killed.poll() is None, killed.stderr.read()[-3000:]
    time.sleep(0.05)
  time.sleep(random.uniform(0., 1.5))  # Mid-epoch, mid-save or in between.
  killed.kill()
  assert killed.wait() == -9, 'finished before the kill: lengthen the run'
  killed_at = tf.train.latest_checkpoint(str(index.parent))
  assert not killed_at.endswith('ckpt-5'), killed_at
  _, stderr = uninterrupted.communicate()
  assert uninterrupted.returncode == 0, stderr[-3000:]
  resumed = run('train', f'--model_dir={root / "killed"}', *ARGS)
  assert 'epoch 5, step 10,' in resumed.stdout
  return root / 'uninterrupted', root / 'killed'


def test_killed_and_resumed_run_ends_with_the_same_weights(runs):
  expected, actual = map(weights, runs)
  assert expected.keys() == actual.keys()
  assert any('optimizer' in name for name in expected)  # Adam's moments too.
  for name in expected:
    np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)


def test_a_save_cut_short_is_never_restored(runs, tmp_path):
  # What a kill during a save can leave: files of ckpt-6 but no entry in the
  # `checkpoint` index, which CheckpointManager writes last.
  model_dir = tmp_path / 'model'
  shutil.copytree(runs[0], model_dir)
  checkpoints = model_dir / 'checkpoints'
  for suffix in ('index', 'data-00000-of-00001'):
    (checkpoints / f'ckpt-6.{suffix}').write_bytes(b'\0' * 100)
  (checkpoints / 'ckpt-6_temp').mkdir()
  model, _ = training.load_model(model_dir)
  assert tf.train.latest_checkpoint(str(checkpoints)).endswith('ckpt-5')
  reference, _ = training.load_model(runs[0])
  for restored, expected in zip(model.variables, reference.variables):
    np.testing.assert_array_equal(restored, expected)


def test_a_damaged_latest_checkpoint_fails_naming_it(runs, tmp_path):
  # Damage a kill cannot do (the disk can): fail, not silently go back.
  model_dir = tmp_path / 'model'
  shutil.copytree(runs[0], model_dir)
  data_file = model_dir / 'checkpoints' / 'ckpt-5.data-00000-of-00001'
  data_file.write_bytes(data_file.read_bytes()[:100])
  with pytest.raises(ValueError, match=r'checkpoint .*ckpt-5 is damaged'):
    training.train('mnist', model_dir, epochs=6, verbose=0)
