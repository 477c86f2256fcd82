"""Training, evaluation and sampling runs, all kept in one model directory.

```none
model_dir/config.json      dataset, architecture and training hyperparameters
model_dir/checkpoints/     model, optimizer, epoch, batch and step: the
                           latest few (ckpt-N: after N batches)
model_dir/logs/            TensorBoard: bits/dim, learning rate, samples,
                           the config (hparams and config.json as text)
model_dir/samples.png      samples of the trained model
model_dir/lock.json        the lease of the training running there (lock.py)
```

Paths are strings on any TensorFlow filesystem (local, gs://, ram://, ...).
"""

import contextlib
import dataclasses
import functools
import math
import sys

import numpy as np
from tensorboard.plugins.hparams import api as hparams_api
import tensorflow as tf
import tf_keras

from tfp_realnvp import config as config_lib
from tfp_realnvp import data
from tfp_realnvp import latent
from tfp_realnvp import storage
from tfp_realnvp.training import calibration
from tfp_realnvp.training import callbacks
from tfp_realnvp.training import images
from tfp_realnvp.training import lock
from tfp_realnvp.training import model as model_lib
from tfp_realnvp.training import presets
from tfp_realnvp.training import strategies

__all__ = ['LockHeld', 'TrainingStopped', 'TrainingInterrupted', 'TrainResult',
           'Evaluation', 'build_model', 'load_model', 'train', 'evaluate',
           'sample']

CHECKPOINT_DIR = 'checkpoints'
LOG_DIR = 'logs'
SAMPLES = 'samples.png'
NUM_SAMPLES = 64
SAMPLE_TEMPERATURE = 0.7
# bin/train's sample grids are drawn as the authors' sampler draws them:
# the s,t networks on the batch statistics of the grid's latents
# (latent.sample), a conditional model's grid every class in turn.
SAMPLE_BATCH_STATISTICS = True
# --validate_every_steps scores the first this many validation images.
VALIDATION_SUBSET = 1024


LockHeld = lock.LockHeld
TrainingInterrupted = callbacks.TrainingInterrupted


class TrainingStopped(RuntimeError):
  """Too many steps had a non-finite loss or gradient.

  #### Example

  ```python
  from tfp_realnvp import training

  try:
    raise training.TrainingStopped('10 non-finite steps; last good: ckpt-7')
  except RuntimeError as e:  # bin/train prints it as one line
    print(e)
  ```
  """


@dataclasses.dataclass(frozen=True)
class TrainResult:
  """What `train` returns: validation bits/dim, position, written paths.

  #### Example

  ```python
  from tfp_realnvp import training

  result = training.TrainResult(
      bits_per_dim=1.58, epoch=10, step=620, nonfinite_steps=0,
      checkpoint='runs/mnist/checkpoints/ckpt-620', logs='runs/mnist/logs',
      samples='runs/mnist/samples.png')
  print(f'{result.bits_per_dim:.2f} bits/dim after {result.step} steps')
  ```
  """

  bits_per_dim: float  # on the validation split
  epoch: int
  step: int
  nonfinite_steps: int
  checkpoint: str
  logs: str
  samples: str
  # model_dir/ood_calibration.json; None for a conditional run or a
  # validation split too small to calibrate (training/calibration.py).
  ood_calibration: str = None


@dataclasses.dataclass(frozen=True)
class Evaluation:
  """What `evaluate` returns: bits/dim with its standard error, and more.

  #### Example

  ```python
  from tfp_realnvp import training

  e = training.Evaluation(bits_per_dim=1.58, stderr=0.014, num_images=500,
                          roundtrip_error=1e-3)
  print(f'{e.bits_per_dim:.3f} +- {e.stderr:.3f} on {e.num_images} images')
  ```
  """

  bits_per_dim: float
  stderr: float  # of the mean over images
  num_images: int
  # max |forward(inverse(x)) - x| in pixels, the networks in the run's
  # precision
  roundtrip_error: float


def build_model(config):
  """An untrained `FlowModel` of the run `config` (a `presets.Config`).

  #### Example

  ```python
  from tfp_realnvp import training
  from tfp_realnvp.training import presets

  config = presets.make_config('mnist', num_scales=1, num_filters=4)
  model = training.build_model(config)  # model.distribution: the flow
  ```
  """
  return model_lib.FlowModel(
      config.architecture, l2=config.training.l2,
      recompute_gradients=config.training.recompute_gradients)


def load_model(model_dir, network_dtype=None):
  """(model, config) of `model_dir`, with its newest intact checkpoint.

  `network_dtype` (e.g. 'float32') overrides the run's precision of the
  coupling networks: the weights are float32 in every precision.

  #### Example

  ```python
  import tempfile
  from tfp_realnvp import training

  with tempfile.TemporaryDirectory() as tmp:
    training.train('mnist', tmp, epochs=1, steps_per_epoch=1, batch_size=8,
                 num_scales=1, num_res_blocks=0, num_filters=2, verbose=0)
    model, config = training.load_model(tmp)
    x = model.distribution.sample(2)  # [2, 28, 28, 1]
  ```
  """
  model_dir = storage.check_filesystem(model_dir, 'model_dir')
  config = presets.Config.load(model_dir)
  if network_dtype is not None:
    config = dataclasses.replace(config, architecture=(
        config.architecture.replace(network_dtype=network_dtype)))
  model = build_model(config)
  checkpoints = storage.join(model_dir, CHECKPOINT_DIR)
  # The optimizer and counters in the checkpoint are not needed here.
  if _restore_newest_intact(tf.train.Checkpoint(model=model), checkpoints,
                            partial=True) is None:
    raise FileNotFoundError(f'no checkpoint in {checkpoints}')
  return model, config


def _restore_newest_intact(checkpoint, directory, partial=False):
  """Restores the newest checkpoint listed in `directory` that restores.

  Newest first, each listed checkpoint whose files are missing or damaged
  (truncated, unreadable) is skipped with one line on stderr naming it and
  why. Nothing is deleted.

  Returns:
    The restored checkpoint's path; None if `directory` lists none.

  Raises:
    ValueError: naming `directory`, if none of those listed restores.
  """
  state = tf.train.get_checkpoint_state(directory)
  if state is None:
    return None
  paths = list(state.all_model_checkpoint_paths)
  if state.model_checkpoint_path not in paths:
    paths.append(state.model_checkpoint_path)
  for path in reversed(paths):
    if not tf.io.gfile.exists(f'{path}.index'):
      reason = f'{path}.index does not exist'
    else:
      try:
        status = checkpoint.restore(path)
        if partial:
          status.expect_partial()
        return path
      except (tf.errors.OpError, ValueError, IndexError) as e:
        lines = str(getattr(e, 'message', e)).strip().splitlines()
        reason = f'{type(e).__name__}: {lines[0][:300] if lines else ""}'
    print(f'skipped damaged checkpoint {path}: {reason}', file=sys.stderr,
          flush=True)
  raise ValueError(
      f'no intact checkpoint in {directory}: each of the {len(paths)} its '
      '"checkpoint" file lists is missing or damaged (see the lines above); '
      'nothing was deleted')


def default_model_dir(dataset, conditional=False):
  """`train`'s model directory when none is given."""
  return storage.join('runs', f'{dataset}_conditional' if conditional
                      else dataset)


def has_checkpoint(model_dir):
  """Whether a run in `model_dir` has written a checkpoint (resumes)."""
  return tf.io.gfile.exists(
      storage.join(model_dir, CHECKPOINT_DIR, 'checkpoint'))


def _run_config(model_dir, dataset, data_dir, seed, conditional, image_size,
                hyperparameters):
  """The saved config of `model_dir` if any (resuming), else the preset's."""
  if not tf.io.gfile.exists(storage.join(model_dir, presets.CONFIG_FILE)):
    return presets.make_config(dataset, data_dir, seed or 0, conditional,
                               image_size, **hyperparameters)
  config = presets.Config.load(model_dir)
  if config.dataset != dataset or config.conditional != conditional:
    kind = lambda c, name: ('conditional ' if c else '') + name
    raise ValueError(f'{model_dir} holds a '
                     f'{kind(config.conditional, config.dataset)} model, not '
                     f'a {kind(conditional, dataset)} one; pass another '
                     'model_dir')
  return dataclasses.replace(
      config.override(image_size, **hyperparameters),
      data_dir=config.data_dir if data_dir is None else storage.as_str(data_dir),
      seed=config.seed if seed is None else seed)


def _epoch_seed(seed, epoch):
  return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def _num_batches(batches):
  """The length of `batches`, counted if its cardinality is unknown."""
  n = int(batches.cardinality())
  return n if n >= 0 else int(batches.reduce(0, lambda n, _: n + 1))


def _log_config(log_dir, config, epoch):
  """Writes `config` to the logs' top run, unless it is what they show.

  The hparams (TensorBoard's hparams dashboard, beside the `train` and
  `validation` runs' bits/dim) once per run, as it started: the dashboard
  holds one set of values per run. `config.json` as text, at the first
  epoch it trains, whenever it differs from the one logged last: a resumed
  run with the same config logs nothing, one that changed `epochs` or the
  learning rate logs its config at the epoch it goes on from.
  `log_dir/config.json` records what the logs show; written after them, so
  a run killed in between logs the same config again rather than never.
  """
  logged_path = storage.join(log_dir, presets.CONFIG_FILE)
  text = config.to_json()
  logged = (storage.read_bytes(logged_path).decode()
            if tf.io.gfile.exists(logged_path) else None)
  if text == logged:
    return
  writer = tf.summary.create_file_writer(log_dir)
  with writer.as_default(step=epoch):
    if logged is None:
      hparams_api.hparams(config.hparams())
    tf.summary.text('config', f'```\n{text}```')
  writer.close()
  storage.write_atomic(logged_path, text)


def train(dataset='mnist', model_dir=None, data_dir=None, download=False,
          seed=None, steps_per_epoch=None, jit_compile=False, max_nonfinite=10,
          verbose='auto', conditional=False, deterministic=False,
          strict_data=False, strategy=None, image_size=None,
          log_every_steps=None, checkpoint_every_steps=None,
          checkpoint_every_minutes=10., keep_checkpoints=3,
          validate_every_steps=None, **hyperparameters):
  """Trains (or resumes training) a Real NVP on `dataset`.

  Rerunning with the same `model_dir` resumes from its latest intact
  checkpoint and saved config; `hyperparameters` then change training, such
  as `epochs`, but not the architecture. A checkpoint holds the position in
  the data, (epoch, batch): each epoch's batches, shuffle, flips and noise
  are a function of (seed, epoch), and a run resumed inside an epoch skips
  the batches done (`data.pipeline(skip=)`). SIGTERM or SIGINT saves the
  step reached and raises `TrainingInterrupted`.

  Args:
    dataset: one of `data.DATASET_NAMES`.
    model_dir: where everything is written (any TensorFlow filesystem:
      gs://bucket/run, ...); default `runs/<dataset>`, or
      `runs/<dataset>_conditional` for a conditional model.
    data_dir, download: passed to `data.load`.
    seed: for shuffling, dequantization noise and samples; default: the saved
      one, or 0.
    steps_per_epoch: at most this many batches per epoch.
    jit_compile: compile the training step with XLA.
    max_nonfinite: stop (raising TrainingStopped) once this many steps had a
      non-finite loss or gradient; no checkpoint is written from then on.
    verbose: Keras `fit` verbosity (the progress bar).
    conditional: a class-conditional model of the labels (MNIST only).
    deterministic: seed everything and use deterministic kernels, so that a
      run killed and resumed ends with the same weights, bit for bit (CPU),
      as an uninterrupted one.
    strict_data: stop at the first bad image file instead of skipping it.
    strategy: a `tf.distribute.Strategy` (`strategies.make`); default: the
      current one. Only its chief writes to `model_dir`.
    image_size: the side of the square images of 'folder' and 'npz'
      (`data.load`); default: the saved one, or the dataset's. Saved in the
      config: evaluation, sampling and export use it too. Like the
      architecture, it cannot change when resuming.
    log_every_steps: also log the mean training bits/dim of every this many
      steps (`step_bits_per_dim`, numbered by the step count); None: per
      epoch only.
    checkpoint_every_steps: also save after every this many batches (inside
      epochs too); None: at the end of epochs, and by time.
    checkpoint_every_minutes: also save after the first batch that ends this
      many minutes after the last save (or the start); None: never by time.
    keep_checkpoints: keep the latest this many checkpoints.
    validate_every_steps: also log the mean bits/dim of the first
      `VALIDATION_SUBSET` validation images (the same noise each time) every
      this many steps (`step_bits_per_dim` of the validation logs).
    **hyperparameters: named as in `presets.HYPERPARAMETERS` (`Architecture`
      and `Training` fields, `precision`); None keeps the preset's (or the
      saved) value.

  Returns:
    A `TrainResult`.

  #### Example

  ```python
  import tempfile
  from tfp_realnvp import training

  with tempfile.TemporaryDirectory() as tmp:
    result = training.train('mnist', tmp, epochs=1, steps_per_epoch=1, batch_size=8,
                 num_scales=1, num_res_blocks=0, num_filters=2, verbose=0)
  print(result.bits_per_dim)  # on the 500 validation digits
  ```
  """
  for name, value in (('steps_per_epoch', steps_per_epoch),
                      ('max_nonfinite', max_nonfinite),
                      ('log_every_steps', log_every_steps),
                      ('checkpoint_every_steps', checkpoint_every_steps),
                      ('keep_checkpoints', keep_checkpoints),
                      ('validate_every_steps', validate_every_steps)):
    if value is not None:
      config_lib.check_count(name, value)
  if checkpoint_every_minutes is not None and not (
      isinstance(checkpoint_every_minutes, (int, float)) and
      0 < checkpoint_every_minutes < math.inf):
    raise ValueError('checkpoint_every_minutes must be a finite number > 0; '
                     f'got {checkpoint_every_minutes!r}.')
  if data_dir is not None:
    storage.check_filesystem(data_dir, 'data_dir')
  model_dir = storage.check_writable(
      model_dir or default_model_dir(dataset, conditional), 'model_dir',
      directory=True)
  config = _run_config(model_dir, dataset, data_dir, seed, conditional,
                       image_size, hyperparameters)
  strategy = strategy or tf.distribute.get_strategy()
  with contextlib.ExitStack() as held:
    try:
      # model_dir on the chief, a scratch directory in it on other workers.
      out_dir = strategies.write_dir(model_dir, strategy)
      # One training per model_dir: a second one fails here (LockHeld),
      # having changed nothing.
      held.enter_context(lock.hold(model_dir, strategy))
      config.save(out_dir)
    except (OSError, tf.errors.OpError) as e:
      raise OSError(f'model_dir {model_dir} is not writable: {e}') from e
    try:
      return _train(dataset, model_dir, out_dir, config, download,
                    steps_per_epoch, jit_compile, max_nonfinite, verbose,
                    deterministic, strict_data, strategy, log_every_steps,
                    checkpoint_every_steps, checkpoint_every_minutes,
                    keep_checkpoints, validate_every_steps)
    finally:
      strategies.remove_write_dir(model_dir, out_dir)


def _train(dataset, model_dir, out_dir, config, download, steps_per_epoch,
           jit_compile, max_nonfinite, verbose, deterministic, strict_data,
           strategy, log_every_steps, checkpoint_every_steps,
           checkpoint_every_minutes, keep_checkpoints, validate_every_steps):
  """`train`, with `model_dir`'s lease held and its config saved."""
  if deterministic:
    tf_keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()

  with strategy.scope():
    model = build_model(config)
    model.compile(config.training.optimizer(), jit_compile=jit_compile)
  # The position in the data: epochs finished, batches of the next one.
  epoch = tf.Variable(0, trainable=False, dtype=tf.int64, name='epoch')
  batch = tf.Variable(0, trainable=False, dtype=tf.int64, name='batch')
  checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer,
                                   epoch=epoch, batch=batch,
                                   step=model.optimizer.iterations)
  manager = tf.train.CheckpointManager(checkpoint,
                                       storage.join(out_dir, CHECKPOINT_DIR),
                                       max_to_keep=keep_checkpoints)
  # Every worker resumes from the chief's checkpoint (None: a fresh start).
  # A kill cannot damage one (it is listed once whole), a disk can.
  _restore_newest_intact(checkpoint,
                         storage.join(model_dir, CHECKPOINT_DIR))

  def epoch_batches(e, strict=False, skip=0):
    # Each epoch's batches are a function of (seed, epoch) alone, so a resumed
    # run sees the same data as an uninterrupted one.
    epoch_seed = _epoch_seed(config.seed, e)
    batches = data.pipeline(
        data.load(dataset, 'train', config.data_dir, download,
                  image_size=config.image_size, seed=epoch_seed,
                  with_labels=config.conditional, strict=strict),
        config.training.batch_size, training=True, seed=epoch_seed,
        flip=data.flips(dataset), skip=skip)
    return batches.take(steps_per_epoch - skip) if steps_per_epoch else (
        batches)

  # Checking files once (strict) is enough: here, before training.
  steps = _num_batches(epoch_batches(int(epoch), strict_data))
  if batch >= steps:  # A run resumed with fewer --steps_per_epoch.
    epoch.assign_add(1)
    batch.assign(0)
  initial_epoch = int(epoch)
  first = epoch_batches(initial_epoch, skip=int(batch))
  train_batches = functools.reduce(
      tf.data.Dataset.concatenate,
      map(epoch_batches, range(initial_epoch + 1, config.training.epochs)),
      first)
  validation_batches = data.pipeline(
      data.load(dataset, 'validation', config.data_dir, download,
                image_size=config.image_size, with_labels=config.conditional,
                strict=strict_data),
      config.training.batch_size, training=False, seed=config.seed)

  # One pass, through one iterator. Each epoch's dataset reshuffles and
  # redraws its noise on every new iterator (shuffle and Dataset.random
  # rerandomize each iteration), so only its first iteration is a function of
  # (seed, epoch). Keras's fit makes a second iterator, at the start of the
  # epoch, whenever the dataset holds exactly steps_per_epoch batches, which
  # happened when one epoch was left: a run resumed in the last epoch trained
  # on other batches than an uninterrupted one. An endless dataset is never
  # recreated; fit still stops after its epochs.
  train_batches = train_batches.repeat()

  log_dir = storage.join(out_dir, LOG_DIR)
  _log_config(log_dir, config, initial_epoch)
  step_summaries = []
  if log_every_steps:
    step_summaries.append(callbacks.StepSummary(
        storage.join(log_dir, 'train'), log_every_steps))
  if validate_every_steps:
    subset = list(validation_batches.take(
        math.ceil(VALIDATION_SUBSET / config.training.batch_size)))
    step_summaries.append(callbacks.StepValidation(
        storage.join(log_dir, 'validation'), subset, validate_every_steps))
  with callbacks.StopSignals() as stop_signals:
    checkpointing = callbacks.Checkpointing(
        manager, epoch, batch, max_nonfinite, checkpoint_every_steps,
        checkpoint_every_minutes and 60. * checkpoint_every_minutes,
        stop_signals)
    model.fit(
        train_batches, validation_data=validation_batches,
        epochs=config.training.epochs,
        initial_epoch=initial_epoch, steps_per_epoch=steps,
        verbose=verbose,
        callbacks=[
            checkpointing,
            tf_keras.callbacks.TensorBoard(log_dir, write_graph=False),
            # Beside the TensorBoard callback's training scalars.
            callbacks.EpochSummary(storage.join(log_dir, 'train'),
                                   NUM_SAMPLES, SAMPLE_TEMPERATURE,
                                   config.seed, SAMPLE_BATCH_STATISTICS),
            *step_summaries,
            *config.training.callbacks(),
        ])
  if stop_signals.received:  # After the last step: all of it is saved.
    raise TrainingInterrupted(
        f'stopped by {stop_signals.received} after training: saved '
        f'{manager.latest_checkpoint}; rerun the same command to evaluate '
        'and write the samples')
  if checkpointing.stop_message:
    raise TrainingStopped(checkpointing.stop_message)

  validation = model.evaluate(validation_batches, verbose=0, return_dict=True)
  samples = images.write_png(
      storage.join(out_dir, SAMPLES),
      model.sample_images(NUM_SAMPLES, SAMPLE_TEMPERATURE, config.seed,
                          batch_statistics=SAMPLE_BATCH_STATISTICS))
  # The out-of-distribution scores' thresholds, fitted on the validation
  # split: model_dir/ood_calibration.json (training/calibration.py).
  ood_calibration = calibration.write_calibration(model.distribution, config,
                                                  out_dir, download)
  return TrainResult(
      bits_per_dim=validation['bits_per_dim'], epoch=int(epoch),
      step=int(model.optimizer.iterations.numpy()),
      nonfinite_steps=int(model.nonfinite_steps.numpy()),
      checkpoint=manager.latest_checkpoint, logs=log_dir, samples=samples,
      ood_calibration=ood_calibration)


def evaluate(model_dir, dataset=None, data_dir=None, split='validation',
             batch_size=None, seed=0, image_size=None, verbose=1):
  """Bits/dim of `model_dir`'s model on a split, batch norm in inference mode.

  Pixels get uniform dequantization noise (seeded). By default the dataset,
  data_dir, image_size and batch size are the training run's. Images of
  another shape than the model's raise ValueError. `verbose`: as Keras's
  `Progbar` (1, the default: a progress bar over the batches with the
  running bits/dim; 2: one line at the end; 0: silent).

  #### Example

  ```python
  import tempfile
  from tfp_realnvp import training

  with tempfile.TemporaryDirectory() as tmp:
    training.train('mnist', tmp, epochs=1, steps_per_epoch=1, batch_size=8,
                 num_scales=1, num_res_blocks=0, num_filters=2, verbose=0)
    result = training.evaluate(tmp, verbose=0)  # an Evaluation
  ```
  """
  if data_dir is not None:
    storage.check_filesystem(data_dir, 'data_dir')
  model, config = load_model(model_dir)
  if dataset is None:
    dataset = config.dataset
    data_dir = config.data_dir if data_dir is None else data_dir
    image_size = config.image_size if image_size is None else image_size
  shape = data.image_shape(dataset, data_dir, image_size)
  if shape != config.architecture.event_shape:
    raise ValueError(
        f'{dataset!r} (image_size={image_size}) has images of shape {shape}, '
        f'the model in {model_dir} takes {config.architecture.event_shape}; '
        'pass the dataset, data_dir or image_size that make those')
  batches = data.pipeline(
      data.load(dataset, split, data_dir, image_size=image_size,
                with_labels=config.conditional),
      batch_size or config.training.batch_size, training=False, seed=seed)
  flow = model.distribution.bijector

  @tf.function(input_signature=[batches.element_spec])
  def score(batch):
    x, labels = batch if config.conditional else (batch, None)
    condition = model.condition(labels)
    # A new tensor: given the inverse's own output, TFP's bijector cache
    # would return x without computing anything.
    z = tf.identity(flow.inverse(x, **condition))
    roundtrip = tf.reduce_max(tf.abs(flow.forward(z, **condition) - x))
    return model(batch), roundtrip

  # Counting the batches first costs one pass of the input pipeline, small
  # next to scoring them.
  progress = tf_keras.utils.Progbar(
      _num_batches(batches) if verbose else None, verbose=verbose,
      stateful_metrics=['bits_per_dim'])
  bits, roundtrip, total, count = [], [], 0., 0
  for i, batch in enumerate(batches):
    batch_bits, batch_roundtrip = score(batch)
    bits.append(batch_bits.numpy().astype(np.float64))
    roundtrip.append(batch_roundtrip.numpy())
    total, count = total + bits[-1].sum(), count + len(bits[-1])
    # The mean over the images so far (a last, smaller batch weighs less).
    progress.update(i + 1, [('bits_per_dim', total / count)])
  bits = np.concatenate(bits)
  return Evaluation(
      bits_per_dim=float(bits.mean()),
      stderr=float(bits.std(ddof=1) / math.sqrt(len(bits))),
      num_images=len(bits), roundtrip_error=float(np.max(roundtrip)))


def sample(model_dir, out, num=NUM_SAMPLES, temperature=SAMPLE_TEMPERATURE,
           seed=0, label=None, batch_statistics=None):
  """Writes a PNG grid of `num` samples of `model_dir`'s model to `out`.

  A class-conditional model draws `label` (default: every class in turn),
  one of its classes. `batch_statistics` is `latent.sample`'s: True draws
  as the authors' sampler does, the networks normalizing with the
  statistics of the `num` samples; False, the distribution's independent
  samples; None (the default), the authors' sampler unless `label` is
  given. One label and batch statistics raise ValueError: every sample
  would have the same class bias, which the networks' batch norms subtract
  as the batch's mean. A temperature that is not a finite number > 0, a
  `num` below 1 and an `out` that cannot be written raise before the model
  loads, as these do.

  #### Example

  ```python
  import tempfile
  from tfp_realnvp import training

  with tempfile.TemporaryDirectory() as tmp:
    training.train('mnist', tmp, epochs=1, steps_per_epoch=1, batch_size=8,
                 num_scales=1, num_res_blocks=0, num_filters=2, verbose=0)
    training.sample(tmp, f'{tmp}/grid.png', num=16)
  ```
  """
  if label is not None and batch_statistics:
    raise ValueError(
        'batch_statistics with a label: the samples would share one class '
        'bias, which the batch norms remove as the batch mean; draw one '
        'class with batch_statistics False (the default with a label)')
  if batch_statistics is None:
    batch_statistics = label is None
  latent.check_temperature(temperature)
  config_lib.check_count('num', num)
  out = storage.check_writable(out, 'out')
  model, config = load_model(model_dir)
  if label is not None and not config.conditional:
    raise ValueError(f'{model_dir} holds an unconditional model; train with '
                     '--conditional to sample a label')
  if label is not None and not 0 <= label < config.architecture.num_classes:
    raise ValueError(f'label must be a class of {model_dir}, in [0, '
                     f'{config.architecture.num_classes}); got {label!r}.')
  labels = None if label is None else tf.fill([num], label)
  return images.write_png(
      out, model.sample_images(num, temperature, seed, labels,
                               batch_statistics))
