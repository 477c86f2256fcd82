"""Training, evaluation and sampling runs, all kept in one model directory.

```none
model_dir/config.json      dataset, image shape and hyperparameters
model_dir/checkpoints/     model, optimizer, epoch and step, a few epochs
model_dir/logs/            TensorBoard: bits/dim, learning rate, samples
model_dir/samples.png      samples of the trained model
```
"""

import dataclasses
import math
from pathlib import Path

import numpy as np
import tensorflow as tf
import tf_keras

from tfp_realnvp import data
from tfp_realnvp.bijectors import real_nvp
from tfp_realnvp.training import callbacks
from tfp_realnvp.training import images
from tfp_realnvp.training import model as model_lib
from tfp_realnvp.training import presets

__all__ = ['TrainingStopped', 'TrainResult', 'Evaluation', 'build_model',
           'load_model', 'train', 'evaluate', 'sample']

CHECKPOINT_DIR = 'checkpoints'
LOG_DIR = 'logs'
SAMPLES = 'samples.png'
NUM_SAMPLES = 64
SAMPLE_TEMPERATURE = 0.7


class TrainingStopped(RuntimeError):
  """Too many steps had a non-finite loss or gradient."""


@dataclasses.dataclass(frozen=True)
class TrainResult:
  bits_per_dim: float  # on the validation split
  epoch: int
  step: int
  nonfinite_steps: int
  checkpoint: str
  logs: Path
  samples: Path


@dataclasses.dataclass(frozen=True)
class Evaluation:
  bits_per_dim: float
  stderr: float  # of the mean over images
  num_images: int
  roundtrip_error: float  # max |f^-1(f(y)) - y| in logit space, float32


def build_model(config):
  """An untrained `FlowModel` with the architecture of `config`."""
  preset = config.preset
  return model_lib.FlowModel(
      config.image_shape, num_scales=preset.num_scales,
      num_res_blocks=preset.num_res_blocks, num_filters=preset.num_filters,
      l2=preset.l2)


def load_model(model_dir):
  """(model, config) of `model_dir`, with the latest checkpoint's weights."""
  config = presets.Config.load(model_dir)
  model = build_model(config)
  latest = tf.train.latest_checkpoint(Path(model_dir) / CHECKPOINT_DIR)
  if latest is None:
    raise FileNotFoundError(f'no checkpoint in {Path(model_dir) / CHECKPOINT_DIR}')
  # The optimizer and counters in the checkpoint are not needed here.
  tf.train.Checkpoint(model=model).restore(latest).expect_partial()
  return model, config


def _run_config(model_dir, dataset, data_dir, seed, overrides):
  """The saved config of `model_dir` if any (resuming), else the preset's."""
  if not (model_dir / presets.CONFIG_FILE).exists():
    return presets.make_config(dataset, data_dir, seed or 0, **overrides)
  config = presets.Config.load(model_dir)
  if config.dataset != dataset:
    raise ValueError(f'{model_dir} holds a {config.dataset} model, not '
                     f'{dataset}; pass another model_dir')
  return dataclasses.replace(
      config.override(**overrides),
      data_dir=config.data_dir if data_dir is None else str(data_dir),
      seed=config.seed if seed is None else seed)


def _epoch_seed(seed, epoch):
  return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def train(dataset='mnist', model_dir=None, data_dir=None, download=False,
          seed=None, steps_per_epoch=None, jit_compile=False, max_nonfinite=10,
          verbose='auto', **overrides):
  """Trains (or resumes training) a Real NVP on `dataset`.

  Rerunning with the same `model_dir` resumes from its latest checkpoint and
  saved config; `overrides` then change hyperparameters such as `epochs`, but
  not the architecture. The position in the data is the epoch counter: a
  resumed run starts the epoch after the last saved one, its shuffle seeded by
  (seed, epoch); a partly done epoch is redone.

  Args:
    dataset: one of `data.DATASET_NAMES`.
    model_dir: where everything is written; default `runs/<dataset>`.
    data_dir, download: passed to `data.load`.
    seed: for shuffling, dequantization noise and samples; default: the saved
      one, or 0.
    steps_per_epoch: at most this many batches per epoch.
    jit_compile: compile the training step with XLA.
    max_nonfinite: stop (raising TrainingStopped) once this many steps had a
      non-finite loss or gradient; the epoch is not checkpointed.
    verbose: Keras `fit` verbosity (the progress bar).
    **overrides: `Preset` fields; None keeps the preset's value.

  Returns:
    A `TrainResult`.
  """
  model_dir = Path(model_dir or Path('runs') / dataset)
  config = _run_config(model_dir, dataset, data_dir, seed, overrides)
  try:
    model_dir.mkdir(parents=True, exist_ok=True)
    config.save(model_dir)
  except OSError as e:
    raise OSError(f'model_dir {model_dir} is not writable: {e}') from e
  preset = config.preset

  model = build_model(config)
  model.compile(
      tf_keras.optimizers.Adam(preset.learning_rate,
                               global_clipnorm=preset.clip_norm),
      jit_compile=jit_compile)
  epoch = tf.Variable(0, trainable=False, dtype=tf.int64, name='epoch')
  checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer,
                                   epoch=epoch, step=model.optimizer.iterations)
  manager = tf.train.CheckpointManager(checkpoint, model_dir / CHECKPOINT_DIR,
                                       max_to_keep=3)
  manager.restore_or_initialize()
  initial_epoch = int(epoch)

  epoch_seed = _epoch_seed(config.seed, initial_epoch)
  train_batches = data.pipeline(
      data.load(dataset, 'train', config.data_dir, download, seed=epoch_seed),
      preset.batch_size, training=True, seed=epoch_seed,
      flip=data.flips(dataset))
  if steps_per_epoch:
    train_batches = train_batches.take(steps_per_epoch)
  validation_batches = data.pipeline(
      data.load(dataset, 'validation', config.data_dir, download),
      preset.batch_size, training=False, seed=config.seed)

  log_dir = model_dir / LOG_DIR
  checkpointing = callbacks.Checkpointing(manager, epoch, max_nonfinite)
  model.fit(
      train_batches, validation_data=validation_batches, epochs=preset.epochs,
      initial_epoch=initial_epoch, verbose=verbose,
      callbacks=[
          checkpointing,
          tf_keras.callbacks.TensorBoard(log_dir, write_graph=False),
          # Beside the TensorBoard callback's training scalars.
          callbacks.EpochSummary(log_dir / 'train', NUM_SAMPLES,
                                 SAMPLE_TEMPERATURE, config.seed),
      ])
  if checkpointing.stop_message:
    raise TrainingStopped(checkpointing.stop_message)

  validation = model.evaluate(validation_batches, verbose=0, return_dict=True)
  samples = images.write_png(
      model_dir / SAMPLES,
      images.sample(model.distribution, NUM_SAMPLES, SAMPLE_TEMPERATURE,
                    config.seed))
  return TrainResult(
      bits_per_dim=validation['bits_per_dim'], epoch=int(epoch),
      step=int(model.optimizer.iterations),
      nonfinite_steps=int(model.nonfinite_steps),
      checkpoint=manager.latest_checkpoint, logs=log_dir, samples=samples)


def evaluate(model_dir, dataset=None, data_dir=None, split='validation',
             batch_size=None, seed=0):
  """Bits/dim of `model_dir`'s model on a split, batch norm in inference mode.

  Pixels get uniform dequantization noise (seeded). By default the dataset,
  data_dir and batch size are the training run's.
  """
  model, config = load_model(model_dir)
  if dataset is None:
    dataset = config.dataset
    data_dir = config.data_dir if data_dir is None else data_dir
  batches = data.pipeline(
      data.load(dataset, split, data_dir),
      batch_size or config.preset.batch_size, training=False, seed=seed)
  flow = model.distribution.bijector
  # The flow after the logit transform (its first step): f in logit space.
  f = real_nvp.RealNVP(flow.steps[1:], event_shape=flow.event_shape)

  @tf.function(input_signature=[batches.element_spec])
  def score(x):
    y = flow.steps[0].forward(x)
    # A new tensor: given the inverse's own output, TFP's bijector cache
    # would return y without computing anything.
    z = tf.identity(f.inverse(y))
    roundtrip = tf.reduce_max(tf.abs(f.forward(z) - y))
    return model(x), roundtrip

  bits, roundtrip = zip(*(score(x) for x in batches))
  bits = np.concatenate(bits).astype(np.float64)
  return Evaluation(
      bits_per_dim=float(bits.mean()),
      stderr=float(bits.std(ddof=1) / math.sqrt(len(bits))),
      num_images=len(bits), roundtrip_error=float(np.max(roundtrip)))


def sample(model_dir, out, num=NUM_SAMPLES, temperature=SAMPLE_TEMPERATURE,
           seed=0):
  """Writes a PNG grid of `num` samples of `model_dir`'s model to `out`."""
  model, _ = load_model(model_dir)
  return images.write_png(
      out, images.sample(model.distribution, num, temperature, seed))
