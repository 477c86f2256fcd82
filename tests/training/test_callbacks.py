"""Checkpointing: saves each clean epoch, stops on non-finite steps;
CosineLearningRate: the learning rate of each step."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tfp_realnvp.training import callbacks
from tests.training.test_model import pixels
from tests.training.test_model import tiny_model


def fit(model, batches, tmp_path, max_nonfinite, epochs=1):
  epoch = tf.Variable(0, dtype=tf.int64)
  manager = tf.train.CheckpointManager(
      tf.train.Checkpoint(model=model, epoch=epoch), tmp_path, max_to_keep=3)
  checkpointing = callbacks.Checkpointing(manager, epoch, max_nonfinite)
  model.fit(tf.data.Dataset.from_tensor_slices(batches), epochs=epochs,
            callbacks=[checkpointing], verbose=0)
  return checkpointing, manager, epoch


@pytest.mark.slow
def test_saves_a_checkpoint_per_epoch_with_the_epoch_count(tmp_path):
  model = tiny_model()
  checkpointing, manager, epoch = fit(
      model, tf.stack([pixels(i) for i in range(2)]), tmp_path, 10, epochs=2)
  assert checkpointing.stop_message is None
  assert int(epoch) == 2
  assert manager.latest_checkpoint.endswith('ckpt-2')


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
