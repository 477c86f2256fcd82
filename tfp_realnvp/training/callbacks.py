"""Keras callbacks: checkpoints in and at the end of epochs, stopping on a
signal, the non-finite guard, samples, the score every N steps on training
and validation data, the learning rate's decay."""

import math
import signal
import threading
import time

import numpy as np
import tensorflow as tf
import tf_keras

from tfp_realnvp.training import images

__all__ = ['TrainingInterrupted', 'StopSignals', 'Checkpointing',
           'EpochSummary', 'StepSummary', 'StepValidation',
           'CosineLearningRate']


class TrainingInterrupted(RuntimeError):
  """SIGTERM or SIGINT stopped the training, its position saved.

  #### Example

  ```python
  from tfp_realnvp import training

  try:
    raise training.TrainingInterrupted('saved ckpt-40; rerun to resume')
  except RuntimeError as e:  # bin/train prints it and exits with status 1
    print(e)
  ```
  """


class StopSignals:
  """Catches SIGTERM and SIGINT (Ctrl-C) in its `with` block.

  The first one sets `received` (the signal's name) for `Checkpointing` to
  save and stop after the step running; a second one acts as it would
  without this (ends the process). Signals can only be caught in the main
  thread: elsewhere this catches nothing.
  """

  SIGNALS = (signal.SIGTERM, signal.SIGINT)

  def __init__(self):
    self.received = None
    self._previous = {}

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      self._previous = {s: signal.signal(s, self._catch) for s in self.SIGNALS}
    return self

  def _catch(self, signum, frame):
    del frame
    self.received = signal.Signals(signum).name
    self._restore()

  def _restore(self):
    for number, handler in self._previous.items():
      signal.signal(number, handler)

  def __exit__(self, *exc_info):
    self._restore()


class Checkpointing(tf_keras.callbacks.Callback):
  """Saves the training's position in and at the end of epochs; stops it.

  It stops on non-finite steps and on `stop_signals` (`StopSignals`). The
  manager's checkpoint holds `epoch`, the epochs finished, and `batch`,
  the batches of the next one finished; `fit` starts there (through its
  resume hook, `_training_state`, which tf_keras's `BackupAndRestore` sets
  too). Checkpoint N (`ckpt-N`) is the state after N batches of training
  data. It saves at the end of each epoch; after every `every_steps`-th
  batch (counted from the first epoch's first); after a batch that ends
  `every_seconds` or more after the last save (or the start); and after the
  batch during which a stop signal came (or the epoch, if it came during
  `fit`'s validation), then raising `TrainingInterrupted`.
  Under `MultiWorkerMirroredStrategy` the workers agree after each batch
  (one all-reduce of two numbers) whether a signal came or the time is up on
  any of them, so all save the same step, as saving needs.

  A non-finite step is skipped and counted; once `max_nonfinite` were,
  training stops, writing no more checkpoints: the last good one stays the
  latest.

  #### Example

  ```python
  import tempfile
  import tensorflow as tf
  import tf_keras
  import tfp_realnvp
  from tfp_realnvp import training

  model = training.DistributionModel(
      tfp_realnvp.real_nvp_vector_distribution(2, hidden_units=(8,)))
  model.compile(tf_keras.optimizers.Adam(1e-3))
  with tempfile.TemporaryDirectory() as tmp:
    checkpoint = tf.train.Checkpoint(model=model, epoch=tf.Variable(0),
                                     batch=tf.Variable(0))
    manager = tf.train.CheckpointManager(checkpoint, tmp, max_to_keep=2)
    saving = training.Checkpointing(manager, checkpoint.epoch,
                                    checkpoint.batch, every_steps=2)
    model.fit(tf.random.normal([8, 2]), batch_size=2, epochs=1,
              callbacks=[saving], verbose=0)
    print(manager.latest_checkpoint)  # .../ckpt-4: after 4 batches
  ```
  """

  def __init__(self, manager, epoch, batch, max_nonfinite=10,
               every_steps=None, every_seconds=None, stop_signals=None):
    super().__init__()
    self.manager = manager
    self.epoch = epoch
    self.batch = batch
    self.max_nonfinite = max_nonfinite
    self.every_steps = every_steps
    self.every_seconds = every_seconds
    self.stop_signals = stop_signals
    self.stop_message = None
    self._current_epoch = 0
    self._fitting = False
    self._last_save = time.monotonic()
    self._agree_function = None

  def on_train_begin(self, logs=None):
    self.model._training_state = self  # pylint: disable=protected-access
    self._fitting = True
    self._last_save = time.monotonic()

  def maybe_load_initial_counters_from_ckpt(self, steps_per_epoch,
                                            initial_epoch, mode=None):
    """fit's first (epoch, batch): the restored position."""
    del steps_per_epoch, initial_epoch, mode
    return int(self.epoch), int(self.batch)

  def on_train_end(self, logs=None):
    self.model._training_state = None  # pylint: disable=protected-access
    self._fitting = False

  def on_epoch_begin(self, epoch, logs=None):
    self._current_epoch = epoch

  def on_train_batch_end(self, batch, logs=None):
    count = int(self.model.nonfinite_steps.numpy())  # Mirrored: no int()
    if count >= self.max_nonfinite:
      self.stop_message = (
          f'stopped training: {count} steps had a non-finite loss or gradient '
          f'and were skipped (max_nonfinite={self.max_nonfinite}); the last '
          f'good checkpoint is {self.manager.latest_checkpoint}')
      self.model.stop_training = True
      return
    done = batch + 1
    stop = self.stop_signals is not None and bool(self.stop_signals.received)
    timed = (self.every_seconds is not None and
             time.monotonic() - self._last_save >= self.every_seconds)
    stop, timed = self._agree(stop, timed)
    last = done == self.params['steps']
    if not stop and last:
      return  # on_epoch_end saves, after the validation.
    if stop or timed or (self.every_steps and self._number(
        self._current_epoch, done) % self.every_steps == 0):
      path = (self._save(self._current_epoch + 1, 0) if last else
              self._save(self._current_epoch, done))
      if stop:
        # No worker leaves while another may still be saving (which reads
        # the variables through collectives).
        self._agree(False, False)
        self._interrupt(done, path)

  def on_test_batch_end(self, batch, logs=None):
    # fit's validation at an epoch's end, which can take minutes: the
    # epoch's training is done but not saved yet. (Not multi-worker: the
    # workers' validation batches need not match, for an agreement each.)
    if (not self._fitting or self.stop_signals is None or
        not self.stop_signals.received or self.stop_message is not None or
        isinstance(self.model.distribute_strategy,
                   tf.distribute.MultiWorkerMirroredStrategy)):
      return
    self._interrupt(self.params['steps'],
                    self._save(self._current_epoch + 1, 0))

  def _interrupt(self, done, path):
    name = self.stop_signals.received or 'a signal on another worker'
    raise TrainingInterrupted(
        f'stopped by {name} after step '
        f'{self._number(self._current_epoch, done)} (epoch '
        f'{self._current_epoch + 1}, batch {done}): saved {path}; rerun the '
        'same command to resume from there')

  def on_epoch_end(self, epoch, logs=None):
    if self.stop_message is None:
      self._save(epoch + 1, 0)

  def _number(self, epoch, batch):
    return epoch * self.params['steps'] + batch

  def _save(self, epoch, batch):
    last_good = self.manager.latest_checkpoint
    self.epoch.assign(epoch)
    self.batch.assign(batch)
    number = self._number(epoch, batch)
    try:
      path = self.manager.save(checkpoint_number=number)
    except (OSError, tf.errors.OpError) as e:
      # A disk or bucket that became unwritable: the checkpoint index
      # still names the last complete checkpoint, which a rerun resumes.
      raise OSError(
          f'could not write checkpoint {number} to '
          f'{self.manager.directory} ({getattr(e, "message", e)}); '
          f'the last complete checkpoint is {last_good}') from e
    self._last_save = time.monotonic()
    return path

  def _agree(self, *flags):
    """`flags`, each true if true on any worker."""
    strategy = self.model.distribute_strategy
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
      return flags
    if self._agree_function is None:
      @tf.function
      def agree(values):
        return strategy.reduce(tf.distribute.ReduceOp.SUM,
                               strategy.run(tf.identity, args=(values,)),
                               axis=None)
      self._agree_function = agree
    return tuple(bool(v) for v in self._agree_function(
        tf.constant(flags, tf.int32)).numpy())


class EpochSummary(tf_keras.callbacks.Callback):
  """Writes the learning rate, skipped steps and samples (fixed latents).

  Bits/dim are the `TensorBoard` callback's job. `fit` gives it the model,
  a `FlowModel` (it draws with `model.sample_images`).

  #### Example

  ```python
  import tempfile
  import tensorflow as tf
  from tfp_realnvp import training
  from tfp_realnvp.training import presets

  model = training.build_model(presets.make_config(
      'mnist', num_scales=1, num_res_blocks=0, num_filters=2))
  model.compile('adam')
  x = tf.random.uniform([8, 28, 28, 1], 0., 256.)
  with tempfile.TemporaryDirectory() as tmp:
    model.fit(x, epochs=1, batch_size=8, verbose=0,
              callbacks=[training.EpochSummary(tmp, num=4)])
  ```
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


class StepValidation(tf_keras.callbacks.Callback):
  """Every `every` optimizer steps: the model's mean score (bits/dim) over
  the images of `batches`, batch norm in inference mode, as `step_<name>`.

  `batches`: a list, so the same images with the same noise each time (a
  fixed validation subset). Numbered by the step count, as `StepSummary`
  (the same tag in another run: TensorBoard draws both curves together).
  Computed apart from the model's metrics, which hold the epoch's means.
  """

  def __init__(self, log_dir, batches, every):
    super().__init__()
    self.writer = tf.summary.create_file_writer(str(log_dir))
    self.batches = batches
    self.every = every
    self._last = None
    self._score = None

  def on_train_batch_end(self, batch, logs=None):
    step = int(self.model.optimizer.iterations.numpy())
    if step % self.every or step == self._last:  # (a skipped step)
      return
    self._last = step
    if self._score is None:
      self._score = tf.function(lambda inputs: self.model(inputs))
    scores = np.concatenate([self._score(b).numpy() for b in self.batches])
    with self.writer.as_default(step=step):
      tf.summary.scalar(f'step_{self.model.score_tracker.name}',
                        float(scores.astype(np.float64).mean()))
    self.writer.flush()


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
