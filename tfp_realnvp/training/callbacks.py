"""Keras callbacks: per-epoch checkpoints, the non-finite guard, samples,
the score every N steps, the learning rate's decay."""

import math

import tensorflow as tf
import tf_keras

from tfp_realnvp.training import images

__all__ = ['Checkpointing', 'EpochSummary', 'StepSummary',
           'CosineLearningRate']


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

  def __init__(self, log_dir, num=64, temperature=0.7, seed=0,
               batch_statistics=False):
    super().__init__()
    self.writer = tf.summary.create_file_writer(str(log_dir))
    self.num = num
    self.temperature = temperature
    self.seed = seed
    self.batch_statistics = batch_statistics

  def on_epoch_end(self, epoch, logs=None):
    samples = self.model.sample_images(self.num, self.temperature, self.seed,
                                       batch_statistics=self.batch_statistics)
    with self.writer.as_default(step=epoch):
      tf.summary.scalar('learning_rate', self.model.optimizer.learning_rate)
      tf.summary.scalar('nonfinite_steps', self.model.nonfinite_steps)
      tf.summary.image('samples', images.grid(samples)[tf.newaxis])
    self.writer.flush()


class StepSummary(tf_keras.callbacks.Callback):
  """Every `every` optimizer steps: the model's mean score (`bits_per_dim`)
  over the steps since the previous point, as `step_<name>`.

  Numbered by the optimizer's step count, which a checkpoint restores, so a
  resumed run goes on where the last one stopped. (The `TensorBoard`
  callback's `update_freq` numbers the batches of every `fit` from 0, so a
  resumed run would log over the first one's steps; and it logs the running
  mean since the epoch began.) Steps skipped as non-finite do not count in
  the mean, since they leave the model's metrics unchanged.
  """

  def __init__(self, log_dir, every):
    super().__init__()
    self.writer = tf.summary.create_file_writer(str(log_dir))
    self.every = every
    self._window = [0., 0.]  # total and count since the last point
    self._seen = (0., 0.)  # the score metric's, at the last batch

  def on_epoch_begin(self, epoch, logs=None):
    self._seen = (0., 0.)  # fit has reset the metrics.

  def on_train_batch_end(self, batch, logs=None):
    tracker = self.model.score_tracker
    total, count = float(tracker.total.numpy()), float(tracker.count.numpy())
    self._window[0] += total - self._seen[0]
    self._window[1] += count - self._seen[1]
    self._seen = (total, count)
    step = int(self.model.optimizer.iterations.numpy())
    if step % self.every == 0 and self._window[1]:
      with self.writer.as_default(step=step):
        tf.summary.scalar(f'step_{tracker.name}',
                          self._window[0] / self._window[1])
      self.writer.flush()
      self._window = [0., 0.]


class CosineLearningRate(tf_keras.callbacks.Callback):
  """Sets the learning rate before each step to `base (1 + cos(pi t)) / 2`,
  `t` the fraction of the `epochs` epochs done (Loshchilov and Hutter 2017,
  without restarts): from `base` at the first step to near 0 at the last.

  A function of the epoch and the batch in it, so a resumed run goes on
  with the rate of an uninterrupted one. (`tf_keras`'s `CosineDecay`
  schedule needs the number of steps when the optimizer is made, before
  the data is counted.)
  """

  def __init__(self, base, epochs):
    super().__init__()
    self.base = base
    self.epochs = epochs
    self._epoch = 0

  def on_epoch_begin(self, epoch, logs=None):
    self._epoch = epoch

  def on_train_batch_begin(self, batch, logs=None):
    steps = self.params['steps']
    done = (self._epoch * steps + batch) / (self.epochs * steps)
    self.model.optimizer.learning_rate.assign(
        self.base * (1. + math.cos(math.pi * done)) / 2.)
