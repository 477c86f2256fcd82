"""Keras callbacks: per-epoch checkpoints, the non-finite guard, samples."""

import tensorflow as tf
import tf_keras

from tfp_realnvp.training import images

__all__ = ['Checkpointing', 'EpochSummary']


class Checkpointing(tf_keras.callbacks.Callback):
  """Saves after each epoch; stops after `max_nonfinite` skipped steps.

  `epoch` (a variable in the manager's checkpoint) counts finished epochs, so
  a restored run goes on from there. An epoch cut short by non-finite steps
  is not saved: the last good checkpoint stays the latest.
  """

  def __init__(self, manager, epoch, max_nonfinite=10):
    super().__init__()
    self.manager = manager
    self.epoch = epoch
    self.max_nonfinite = max_nonfinite
    self.stop_message = None

  def on_train_batch_end(self, batch, logs=None):
    count = int(self.model.nonfinite_steps.numpy())  # Mirrored: no int()
    if count >= self.max_nonfinite:
      self.stop_message = (
          f'stopped training: {count} steps had a non-finite loss or gradient '
          f'and were skipped (max_nonfinite={self.max_nonfinite}); the last '
          f'good checkpoint is {self.manager.latest_checkpoint}')
      self.model.stop_training = True

  def on_epoch_end(self, epoch, logs=None):
    if self.stop_message is None:
      last_good = self.manager.latest_checkpoint
      self.epoch.assign(epoch + 1)
      try:
        self.manager.save(checkpoint_number=epoch + 1)
      except (OSError, tf.errors.OpError) as e:
        # A disk or bucket that became unwritable: the checkpoint index
        # still names the last complete checkpoint, which a rerun resumes.
        self.epoch.assign(epoch)
        raise OSError(
            f'could not write checkpoint {epoch + 1} to '
            f'{self.manager.directory} ({getattr(e, "message", e)}); '
            f'the last complete checkpoint is {last_good}') from e


class EpochSummary(tf_keras.callbacks.Callback):
  """Writes the learning rate, skipped steps and samples (fixed latents).

  Bits/dim are the `TensorBoard` callback's job.
  """

  def __init__(self, log_dir, num=64, temperature=0.7, seed=0):
    super().__init__()
    self.writer = tf.summary.create_file_writer(str(log_dir))
    self.num = num
    self.temperature = temperature
    self.seed = seed

  def on_epoch_end(self, epoch, logs=None):
    samples = self.model.sample_images(self.num, self.temperature, self.seed)
    with self.writer.as_default(step=epoch):
      tf.summary.scalar('learning_rate', self.model.optimizer.learning_rate)
      tf.summary.scalar('nonfinite_steps', self.model.nonfinite_steps)
      tf.summary.image('samples', images.grid(samples)[tf.newaxis])
    self.writer.flush()
