"""One training per run directory: a lease file, renewed while training runs.

```none
model_dir/lock.json   {"host", "pid", "start", "renewed", "token"}
```

`hold(model_dir)` takes the lease or raises `LockHeld` naming the holder
(host, process id, start time). A lease does not block when
- its process is gone and it was taken on this host (a killed run), or
- its holder stopped renewing it `LEASE_SECONDS` ago, on any filesystem
  (local, `ram://`, `gs://`): a holder on another host, or a hung one.
A holder renews every `LEASE_SECONDS / 4` from a daemon thread, and removes
the file when it stops. All I/O goes through `tf.io.gfile`.

Taking a lease is write-then-read-back: of two starts racing for a free or
stale lease, the one whose token the file holds after both wrote wins; the
other raises. (Object stores such as gs:// make the last write win, so the
read back settles it.)
"""

import contextlib
import datetime
import json
import os
import socket
import threading
import time
import uuid

import tensorflow as tf

from tfp_realnvp import storage

__all__ = ['LOCK_FILE', 'LEASE_SECONDS', 'LockHeld', 'Lease', 'hold']

LOCK_FILE = 'lock.json'
LEASE_SECONDS = 120.


class LockHeld(RuntimeError):
  """Another live training holds the run directory.

  #### Example

  ```python
  from tfp_realnvp import training
  from tfp_realnvp.training import lock

  with lock.hold('ram://docs/runs/mnist'):  # as a training does
    try:
      with lock.hold('ram://docs/runs/mnist'):  # a second training
        pass
    except training.LockHeld as e:
      message = str(e)  # names the holder: host, process id, start time
  ```
  """


def _path(model_dir):
  return storage.join(str(model_dir), LOCK_FILE)


def _read(path):
  try:
    with tf.io.gfile.GFile(path, 'r') as f:
      return json.loads(f.read())
  except tf.errors.NotFoundError:
    return None
  except (ValueError, tf.errors.OpError):
    return {}  # Cut short or unreadable: its holder is unknown; see _live.


def _write(path, holder):
  # Whole or not at all (and ram:// does not truncate a file it rewrites).
  temp = f'{path}.{holder["token"]}.tmp'
  with tf.io.gfile.GFile(temp, 'w') as f:
    f.write(json.dumps(holder))
  tf.io.gfile.rename(temp, path, overwrite=True)


def _process_exists(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:  # Another user's process.
    return True
  return True


def _live(holder, lease_seconds, now):
  """Whether `holder` (a lock file's content) still blocks."""
  renewed = holder.get('renewed')
  if not isinstance(renewed, (int, float)) or now - renewed > lease_seconds:
    return False
  if holder.get('host') == socket.gethostname():
    return _process_exists(int(holder.get('pid', -1)))
  return True


def describe(holder):
  start = datetime.datetime.fromtimestamp(
      holder['start'], datetime.timezone.utc).isoformat(timespec='seconds')
  return (f'host {holder["host"]}, process id {holder["pid"]}, started '
          f'{start}')


class Lease:
  """The lease of `model_dir`, taken by `acquire`, given up by `release`."""

  def __init__(self, model_dir, lease_seconds=LEASE_SECONDS):
    self.path = _path(model_dir)
    self.model_dir = str(model_dir)
    self.lease_seconds = lease_seconds
    now = time.time()
    self.holder = {'host': socket.gethostname(), 'pid': os.getpid(),
                   'start': now, 'renewed': now, 'token': uuid.uuid4().hex}
    self._stop = threading.Event()
    self._thread = None

  def acquire(self):
    current = _read(self.path)
    if current is not None and _live(current, self.lease_seconds, time.time()):
      self._raise_held(current)
    self.holder['renewed'] = time.time()
    _write(self.path, self.holder)
    current = _read(self.path)
    if not current or current.get('token') != self.holder['token']:
      self._raise_held(current or {})
    self._thread = threading.Thread(target=self._renew, daemon=True,
                                    name='tfp_realnvp-lease')
    self._thread.start()
    return self

  def _raise_held(self, holder):
    who = describe(holder) if {'host', 'pid', 'start'} <= holder.keys() else (
        'an unknown holder')
    raise LockHeld(
        f'{self.model_dir} is in use by another training ({who}); it holds '
        f'{self.path}. Wait for it to end, or use another model_dir. A lock '
        'left by a killed run does not block: its process is gone, or it '
        f'stops renewing the lease for {self.lease_seconds:g} s.')

  def _renew(self):
    while not self._stop.wait(self.lease_seconds / 4):
      self.holder['renewed'] = time.time()
      try:
        _write(self.path, self.holder)
      except tf.errors.OpError:
        pass  # The disk's error reaches the training when it saves.

  def release(self):
    self._stop.set()
    if self._thread is not None:
      self._thread.join()
    current = _read(self.path)
    if current and current.get('token') == self.holder['token']:
      try:
        tf.io.gfile.remove(self.path)
      except tf.errors.OpError:
        pass  # Unwritable: a stale lease, which does not block.


@contextlib.contextmanager
def hold(model_dir, strategy=None, lease_seconds=LEASE_SECONDS):
  """Holds `model_dir`'s lease for the `with` block; the chief only under a
  `tf.distribute` strategy (its other workers write elsewhere)."""
  strategy = strategy or tf.distribute.get_strategy()
  if not strategy.extended.should_checkpoint:
    yield None
    return
  lease = Lease(model_dir, lease_seconds).acquire()
  try:
    yield lease
  finally:
    lease.release()
