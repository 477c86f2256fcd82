"""Checkpointing: saves each clean epoch, every N steps and by time, stops on
non-finite steps and on signals; StepValidation; CosineLearningRate: the
learning rate of each step."""

import signal

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tfp_realnvp.training import callbacks
from tests.training.test_model import pixels
from tests.training.test_model import tiny_model


def fit(model, batches, tmp_path, max_nonfinite, epochs=1, more=(),
        **kwargs):
  epoch = tf.Variable(0, dtype=tf.int64)
  batch = tf.Variable(0, dtype=tf.int64)
  manager = tf.train.CheckpointManager(
      tf.train.Checkpoint(model=model, epoch=epoch, batch=batch), tmp_path,
      max_to_keep=10)
  checkpointing = callbacks.Checkpointing(manager, epoch, batch,
                                          max_nonfinite, **kwargs)
  model.fit(tf.data.Dataset.from_tensor_slices(batches), epochs=epochs,
            callbacks=[*more, checkpointing], verbose=0)
  return checkpointing, manager, epoch


def saved(manager):
  """(number, epoch, batch) of each checkpoint kept."""
  return [(int(path.split('-')[-1]),
           *(int(tf.train.load_checkpoint(path).get_tensor(
               f'{name}/.ATTRIBUTES/VARIABLE_VALUE'))
             for name in ('epoch', 'batch')))
          for path in manager.checkpoints]


@pytest.mark.slow
def test_saves_a_checkpoint_per_epoch_with_the_epoch_count(tmp_path):
  model = tiny_model()
  checkpointing, manager, epoch = fit(
      model, tf.stack([pixels(i) for i in range(2)]), tmp_path, 10, epochs=2)
  assert checkpointing.stop_message is None
  assert int(epoch) == 2
  # Numbered by the batches done: 2 an epoch.
  assert saved(manager) == [(2, 1, 0), (4, 2, 0)]


@pytest.mark.slow
def test_saves_every_n_steps_inside_epochs_and_by_time(tmp_path):
  batches = tf.stack([pixels(i) for i in range(3)])
  _, manager, _ = fit(tiny_model(), batches, tmp_path / 'steps', 10,
                      epochs=2, every_steps=2)
  # Batches 2 and 4 (the first of epoch 2), and each epoch's end.
  assert saved(manager) == [(2, 0, 2), (3, 1, 0), (4, 1, 1), (6, 2, 0)]
  # A time of 0: after every batch.
  _, manager, _ = fit(tiny_model(), batches, tmp_path / 'time', 10,
                      epochs=1, every_seconds=0.)
  assert saved(manager) == [(1, 0, 1), (2, 0, 2), (3, 1, 0)]


@pytest.mark.slow
def test_a_signal_saves_the_step_reached_and_stops(tmp_path):
  model = tiny_model()
  batches = tf.stack([pixels(i) for i in range(4)])
  with callbacks.StopSignals() as signals:
    assert signal.getsignal(signal.SIGTERM) == signals._catch
    # During batch 2: it runs to its end, which saves and stops.
    send = tf_keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: batch == 1 and (
            signal.raise_signal(signal.SIGINT)))
    with pytest.raises(callbacks.TrainingInterrupted, match=(
        r'^stopped by SIGINT after step 2 \(epoch 1, batch 2\): saved '
        rf'{tmp_path}/ckpt-2; rerun the same command to resume from there$')):
      fit(model, batches, tmp_path, 10, more=[send], stop_signals=signals)
    # A second signal acts as usual.
    assert signal.getsignal(signal.SIGINT) == signal.default_int_handler
  assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
  assert int(model.optimizer.iterations) == 2


@pytest.mark.slow
def test_a_signal_during_the_epochs_validation_saves_the_epoch(tmp_path):
  model = tiny_model()
  batches = tf.stack([pixels(i) for i in range(2)])
  epoch = tf.Variable(0, dtype=tf.int64)
  batch = tf.Variable(0, dtype=tf.int64)
  manager = tf.train.CheckpointManager(
      tf.train.Checkpoint(model=model, epoch=epoch, batch=batch), tmp_path,
      max_to_keep=3)
  send = tf_keras.callbacks.LambdaCallback(
      on_test_batch_begin=lambda batch, logs: signal.raise_signal(
          signal.SIGTERM))
  with callbacks.StopSignals() as signals:
    with pytest.raises(callbacks.TrainingInterrupted, match=(
        r'^stopped by SIGTERM after step 2 \(epoch 1, batch 2\): saved '
        rf'{tmp_path}/ckpt-2; ')):
      model.fit(tf.data.Dataset.from_tensor_slices(batches), epochs=3,
                validation_data=tf.data.Dataset.from_tensor_slices(batches),
                verbose=0, callbacks=[send, callbacks.Checkpointing(
                    manager, epoch, batch, stop_signals=signals)])
  assert saved(manager) == [(2, 1, 0)]  # The epoch, done.


def test_stops_after_max_nonfinite_steps_without_saving(tmp_path):
  model = tiny_model()
  batches = np.stack([pixels(i).numpy() for i in range(6)])
  batches[1:, 0, 0, 0, 0] = np.nan  # Every batch but the first.
  checkpointing, manager, epoch = fit(model, batches, tmp_path, 3)
  assert int(model.nonfinite_steps) == 3  # Stopped: batches 5 and 6 not run.
  assert int(model.optimizer.iterations) == 1
  assert 'max_nonfinite=3' in checkpointing.stop_message
  assert manager.latest_checkpoint is None and int(epoch) == 0


def test_cosine_decay_sets_each_steps_rate_from_the_epoch_and_batch():
  model = tiny_model()
  seen = []
  record = tf_keras.callbacks.LambdaCallback(
      on_train_batch_end=lambda batch, logs: seen.append(
          float(model.optimizer.learning_rate.numpy())))
  batches = tf.data.Dataset.from_tensors(pixels()).repeat()
  decay = callbacks.CosineLearningRate(0.01, epochs=4)
  # Two epochs of three steps, then a "resumed" fit for the other two.
  model.fit(batches, epochs=2, steps_per_epoch=3, verbose=0,
            callbacks=[decay, record])
  model.fit(batches, epochs=4, initial_epoch=2, steps_per_epoch=3, verbose=0,
            callbacks=[decay, record])
  expected = [0.005 * (1 + np.cos(np.pi * step / 12)) for step in range(12)]
  np.testing.assert_allclose(seen, expected, rtol=1e-6)
