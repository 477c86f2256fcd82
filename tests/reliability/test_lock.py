"""One training per run directory (`training/lock.py`)."""

import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import time
import types

import pytest
import tensorflow as tf

from tests.reliability.conftest import ENV, run, TINY
from tfp_realnvp.training import lock

ROOT = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from tfp_realnvp.training import lock
with lock.hold(sys.argv[1], lease_seconds=float(sys.argv[2])):
  print('held', flush=True)
  time.sleep(600)
"""


def holder_process(model_dir, lease_seconds=60.):
  """A live process of this host holding `model_dir`'s lease."""
  process = subprocess.Popen(
      [sys.executable, '-c', HOLD, str(model_dir), str(lease_seconds)],
      stdout=subprocess.PIPE, text=True, env={**ENV, 'PYTHONPATH': str(ROOT)})
  assert process.stdout.readline() == 'held\n'
  return process


def snapshot(model_dir):
  """The files of `model_dir` but the lease, which its holder renews."""
  return {p: p.read_bytes() for p in Path(model_dir).rglob('*')
          if p.is_file() and not p.name.startswith(lock.LOCK_FILE)}


def test_second_train_fails_at_once_naming_the_holder(tmp_path):
  model_dir = tmp_path / 'model'
  run('train', f'--model_dir={model_dir}', *TINY, '--epochs=1')
  holder = holder_process(model_dir)
  try:
    holding = json.loads((model_dir / lock.LOCK_FILE).read_text())
    before = snapshot(model_dir)
    start = time.monotonic()
    result = run('train', f'--model_dir={model_dir}', *TINY, '--epochs=2',
                 check=False)
    assert time.monotonic() - start < 60  # TensorFlow's import; no training.
    assert result.returncode != 0 and 'Epoch' not in result.stdout
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f'error: {model_dir} is in use by another '
                            'training'), error
    assert f'host {socket.gethostname()}, process id {holder.pid}' in error
    assert lock.describe(holding) in error  # With the start time.
    assert snapshot(model_dir) == before
  finally:
    holder.kill()
    holder.wait()


def test_a_killed_holder_of_this_host_does_not_block(tmp_path):
  holder = holder_process(tmp_path)
  with pytest.raises(lock.LockHeld, match=f'process id {holder.pid}'):
    lock.Lease(tmp_path).acquire()
  holder.send_signal(signal.SIGKILL)
  holder.wait()
  assert (tmp_path / lock.LOCK_FILE).exists()  # Left by the kill.
  with lock.hold(tmp_path) as lease:  # At once: no lease time to wait.
    assert json.loads((tmp_path / lock.LOCK_FILE).read_text())['token'] == (
        lease.holder['token'])
  assert not (tmp_path / lock.LOCK_FILE).exists()


def test_a_hung_holder_stops_blocking_when_its_lease_runs_out(tmp_path):
  holder = holder_process(tmp_path, lease_seconds=2.)
  try:
    holder.send_signal(signal.SIGSTOP)  # Alive, but renews no more.
    with pytest.raises(lock.LockHeld):
      lock.Lease(tmp_path, lease_seconds=2.).acquire()
    time.sleep(2.5)
    with lock.hold(tmp_path, lease_seconds=2.):
      pass
  finally:
    holder.kill()
    holder.wait()


@pytest.mark.parametrize('root', ['local', 'ram'])
def test_leases_of_other_hosts_block_until_they_expire(root, tmp_path):
  model_dir = (str(tmp_path) if root == 'local'
               else f'ram://lock_test_{os.getpid()}')
  tf.io.gfile.makedirs(model_dir)
  path = os.path.join(model_dir, lock.LOCK_FILE)
  now = time.time()
  other = {'host': 'elsewhere', 'pid': 1, 'start': now - 100,
           'renewed': now - 10, 'token': 'theirs'}
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(json.dumps(other))
  with pytest.raises(lock.LockHeld, match='host elsewhere, process id 1, '
                     'started'):
    lock.Lease(model_dir, lease_seconds=60).acquire()
  # The same lease, not renewed for longer than the lease time.
  with lock.hold(model_dir, lease_seconds=5) as lease:
    with pytest.raises(lock.LockHeld, match=f'process id {os.getpid()}'):
      lock.Lease(model_dir, lease_seconds=5).acquire()
    # The holder renews its lease while it holds it.
    renewed = json.loads(tf.io.gfile.GFile(path).read())['renewed']
    time.sleep(2)
    assert json.loads(tf.io.gfile.GFile(path).read())['renewed'] > renewed
    assert lease.holder['host'] == socket.gethostname()
  assert not tf.io.gfile.exists(path)


def test_under_a_strategy_the_chief_holds_it(tmp_path):
  with lock.hold(tmp_path, tf.distribute.get_strategy()) as lease:
    assert lease is not None and (tmp_path / lock.LOCK_FILE).exists()
  worker = types.SimpleNamespace(
      extended=types.SimpleNamespace(should_checkpoint=False))
  with lock.hold(tmp_path, worker) as lease:
    assert lease is None and not (tmp_path / lock.LOCK_FILE).exists()
