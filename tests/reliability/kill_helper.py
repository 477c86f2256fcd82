"""Runs bin/train and SIGKILLs itself at a chosen moment; for the tests.

  python kill_helper.py WHEN bin/train flags...

WHEN is `batch:E:B` (after batch B of epoch E, both from 1), `save:N` (in
the save of ckpt-N: its files written, the checkpoint index not yet naming
it) or `end` (after the last checkpoint, before the final evaluation and
samples). The process ends as a kill -9 would end it: no cleanup, no flush.
"""

import os
from pathlib import Path
import runpy
import signal
import sys

from tensorflow.python.checkpoint import checkpoint_management

from tfp_realnvp.training import callbacks


def die():
  os.kill(os.getpid(), signal.SIGKILL)


def main():
  when, *flags = sys.argv[1:]
  kind, *at = when.split(':')
  at = [int(a) for a in at]
  if kind == 'batch':
    def on_epoch_begin(self, epoch, logs=None):
      self.current_epoch = epoch + 1
    original = callbacks.Checkpointing.on_train_batch_end
    def on_train_batch_end(self, batch, logs=None):
      original(self, batch, logs)
      if [self.current_epoch, batch + 1] == at:
        die()
    callbacks.Checkpointing.on_epoch_begin = on_epoch_begin
    callbacks.Checkpointing.on_train_batch_end = on_train_batch_end
  elif kind == 'save':
    update = checkpoint_management.update_checkpoint_state_internal
    def update_state(save_dir, model_checkpoint_path, *args, **kwargs):
      if model_checkpoint_path.endswith(f'ckpt-{at[0]}'):
        die()
      return update(save_dir, model_checkpoint_path, *args, **kwargs)
    checkpoint_management.update_checkpoint_state_internal = update_state
  elif kind == 'end':
    callbacks.Checkpointing.on_train_end = lambda self, logs=None: die()
  else:
    raise ValueError(f'unknown moment {when}')
  train = Path(__file__).resolve().parents[2] / 'bin' / 'train.py'
  sys.argv = [str(train), *flags]
  runpy.run_path(str(train), run_name='__main__')


if __name__ == '__main__':
  main()
