"""Runs bin/train with a fault at a chosen moment; for the tests.

  python fault_helper.py WHEN bin/train flags...

WHEN is a kill (SIGKILL, as kill -9: no cleanup, no flush) at
- `batch:E:B`: after batch B of epoch E, both from 1 (after the checkpoint
  that batch may write);
- `save:N`: in the save of ckpt-N, its files written, the checkpoint index
  not yet naming it;
- `end`: after the last checkpoint, before the final evaluation and samples;
or a signal:
- `term:E:B`: SIGTERM to itself after batch B of epoch E;
or a fault:
- `nonfinite:S`: from training step S on (from 0), every loss is NaN;
- `unwritable:N`: the disk fails (permission denied) while ckpt-N is
  written, after part of its data file.
"""

import os
import runpy
import signal
import sys
import time

import tensorflow as tf
from tensorflow.python.checkpoint import checkpoint_management

from tfp_realnvp.training import callbacks
from tfp_realnvp.training import model


def die():
  os.kill(os.getpid(), signal.SIGKILL)


def main():
  when, *flags = sys.argv[1:]
  kind, *at = when.split(':')
  at = [int(a) for a in at]
  if kind in ('batch', 'term'):
    original = callbacks.Checkpointing.on_train_batch_end
    def on_train_batch_end(self, batch, logs=None):
      original(self, batch, logs)
      if [self._current_epoch + 1, batch + 1] == at:  # pylint: disable=protected-access
        if kind == 'batch':
          die()
        print(f'SIGTERM at {time.time()}', file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
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
  elif kind == 'nonfinite':
    penalty = model.FlowModel.penalty
    def nan_penalty(self):
      nan = tf.where(self.optimizer.iterations >= at[0], float('nan'), 0.)
      return penalty(self) + nan
    model.FlowModel.penalty = nan_penalty
  elif kind == 'unwritable':
    write = tf.train.Checkpoint._write
    def failing_write(self, prefix, options=None):
      if prefix.endswith(f'ckpt-{at[0]}'):
        with open(f'{prefix}.data-00000-of-00001', 'wb') as f:
          f.write(b'\0' * 100)  # Part of it, then the disk fails.
        raise tf.errors.PermissionDeniedError(
            None, None, f'{prefix}.data-00000-of-00001; Permission denied')
      return write(self, prefix, options=options)
    tf.train.Checkpoint._write = failing_write
  else:
    raise ValueError(f'unknown moment {when}')
  sys.argv = ['train', *flags]
  runpy.run_module('tfp_realnvp.programs.train', run_name='__main__',
                   alter_sys=True)


if __name__ == '__main__':
  main()
