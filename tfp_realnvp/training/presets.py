"""Per-dataset hyperparameters, and the run configuration saved with a model.

The architecture is an `Architecture` (tfp_realnvp/config.py); a preset holds
its fields but the event shape, which is the dataset's. Hyperparameters are
overridden by name: an `Architecture` field, a `Training` field, or
`precision` (a key of `strategies.PRECISIONS`, setting `network_dtype`).
"""

import dataclasses
import json
import math
import types
from typing import Any, Mapping

import tensorflow as tf

from tfp_realnvp import config as config_lib
from tfp_realnvp import data
from tfp_realnvp import storage
from tfp_realnvp.training import callbacks
from tfp_realnvp.training import optimizers
from tfp_realnvp.training import strategies

__all__ = ['Training', 'Preset', 'PRESETS', 'Config', 'make_config',
           'HYPERPARAMETERS', 'CONFIG_FILE', 'LEARNING_RATE_DECAYS']

CONFIG_FILE = 'config.json'
# The values of `Training.learning_rate_decay`.
LEARNING_RATE_DECAYS = ('none', 'cosine')


@dataclasses.dataclass(frozen=True)
class Training:
  """How a model is trained: Adam, clipped, with an L2 penalty.

  The learning rate is constant or decays (`learning_rate_decay`).

  #### Example

  ```python
  from tfp_realnvp import training

  paper = training.Training()  # batch 64, Adam at 1e-3, L2 5e-5, clip 100
  cosine = training.Training(epochs=10, learning_rate=2e-2,
                             learning_rate_decay='cosine')
  try:
    training.Training(batch_size=0)
  except ValueError as e:
    assert 'batch_size' in str(e)
  ```
  """
  batch_size: int = 64
  learning_rate: float = 1e-3
  l2: float = 5e-5  # on the networks' regularized_weights, loss in nats
  clip_norm: float = 100.
  epochs: int = 100
  # 'none': `learning_rate` throughout (the authors' code); 'cosine': from
  # `learning_rate` down to 0 over the epochs
  # (callbacks.CosineLearningRate).
  learning_rate_decay: str = 'none'
  # The s,t networks' activations computed again for the gradient, not kept:
  # less memory, one more forward pass (docs/performance.md). Not a change
  # of the model, so a resumed run may change it.
  recompute_gradients: bool = False

  def __post_init__(self):
    # Checked here, so that a bad value stops train() before it writes the
    # run's config.json.
    for name in ('batch_size', 'epochs'):
      config_lib.check_count(name, getattr(self, name))
    if self.learning_rate_decay not in LEARNING_RATE_DECAYS:
      raise ValueError(f'learning_rate_decay must be one of '
                       f'{list(LEARNING_RATE_DECAYS)}; got '
                       f'{self.learning_rate_decay!r}.')
    if not isinstance(self.recompute_gradients, bool):
      raise ValueError(f'recompute_gradients must be True or False; got '
                       f'{self.recompute_gradients!r}.')
    for name, lowest in (('learning_rate', '>'), ('l2', '>='),
                         ('clip_norm', '>')):
      value = getattr(self, name)
      if isinstance(value, bool) or not isinstance(value, (int, float)) or (
          not math.isfinite(value) or value < 0 or
          (lowest == '>' and value == 0)):
        raise ValueError(f'{name} must be a finite number {lowest} 0; got '
                         f'{value!r}.')

  def optimizer(self):
    """Adam at `learning_rate` (epsilon 1e-8 as in the authors' code),
    clipping gradients to a global norm of `clip_norm`."""
    return optimizers.FusedAdam(self.learning_rate, epsilon=1e-8,
                                global_clipnorm=self.clip_norm)

  def callbacks(self):
    """The `fit` callbacks that set the learning rate as it decays."""
    if self.learning_rate_decay == 'cosine':
      return [callbacks.CosineLearningRate(self.learning_rate, self.epochs)]
    return []


# What the dataset fixes, and what `conditional` sets.
_DATASET_FIELDS = ('event_shape', 'num_classes')
_ARCHITECTURE_FIELDS = frozenset(
    f.name for f in dataclasses.fields(config_lib.Architecture)
    if f.name not in _DATASET_FIELDS)
_TRAINING_FIELDS = frozenset(f.name for f in dataclasses.fields(Training))
# The names `make_config` and `Config.override` take: bin/train's flags.
HYPERPARAMETERS = _ARCHITECTURE_FIELDS | _TRAINING_FIELDS | {'precision'}


@dataclasses.dataclass(frozen=True)
class Preset:
  """A dataset's model and training: `Architecture` fields, `Training`.

  The architecture's fields are all but the event shape, which the dataset
  gives.

  #### Example

  ```python
  from tfp_realnvp import training

  preset = training.PRESETS['cifar10']
  architecture = preset.architecture_for((32, 32, 3))
  assert (architecture.num_res_blocks, architecture.num_filters) == (8, 64)
  ```
  """
  architecture: Mapping[str, Any]
  training: Training = Training()

  def __post_init__(self):
    unknown = set(self.architecture) - _ARCHITECTURE_FIELDS
    if unknown:
      raise TypeError(f'{sorted(unknown)} are not Architecture fields a '
                      'preset sets')
    # Read-only: one preset serves several datasets.
    object.__setattr__(self, 'architecture',
                       types.MappingProxyType(dict(self.architecture)))

  def architecture_for(self, event_shape, **changes):
    """The `Architecture` of this preset on images of `event_shape`."""
    return config_lib.Architecture(event_shape,
                                   **{**self.architecture, **changes})


# Dinh et al. (2017), sec. 4.1: 32x32 images get 4 residual blocks and 64x64
# images 2, with 32 feature maps; CIFAR-10 gets 8 blocks and 64 feature maps
# and is downscaled once (2 scales). The others' last scale is 4x4, as in
# the authors' code (n_scale 4 at 32x32, 5 at 64x64); MNIST's is 7x7 (28 =
# 7 * 4 halves twice).
_IMAGES_64 = Preset(dict(num_scales=5, num_res_blocks=2, num_filters=32))
# Each dataset's `Preset`, by its name in `data.DATASET_NAMES`.
PRESETS = {
    # The embedded default (not a dataset of the paper): sized so that
    # `bin/train` trains in about 3 minutes on a 2-core CPU. In those 744
    # steps Adam gets furthest from 2e-2 decaying to 0, not at the paper's
    # constant 1e-3 (docs/training.md, Quality of the default run).
    'mnist': Preset(dict(num_scales=3, num_res_blocks=1, num_filters=16),
                    Training(epochs=12, learning_rate=2e-2,
                             learning_rate_decay='cosine')),
    'cifar10': Preset(dict(num_scales=2, num_res_blocks=8, num_filters=64)),
    'imagenet32': Preset(dict(num_scales=4, num_res_blocks=4,
                              num_filters=32)),
    'imagenet64': _IMAGES_64,
    'celeba': _IMAGES_64,
    'lsun_bedroom': _IMAGES_64,
    'lsun_tower': _IMAGES_64,
    'lsun_church_outdoor': _IMAGES_64,
    # load() makes 64x64 images of folders by default (5 scales, as the
    # other 64x64 sets); scales down to 4x4 for any other image_size.
    'folder': Preset(dict(num_res_blocks=2, num_filters=32)),
    # num_scales: as many as halve the images down to 4x4.
    'npz': Preset(dict(num_res_blocks=4, num_filters=32)),
}


def _split(hyperparameters):
  """`hyperparameters` (None: keep) as (Architecture, Training) fields."""
  values = {k: v for k, v in hyperparameters.items() if v is not None}
  unknown = set(values) - HYPERPARAMETERS
  if unknown:
    raise TypeError(f'unknown hyperparameters {sorted(unknown)}; the names '
                    f'are {sorted(HYPERPARAMETERS)}')
  if 'precision' in values:
    precision = values.pop('precision')
    if precision not in strategies.PRECISIONS:
      raise ValueError(f'precision must be one of '
                       f'{list(strategies.PRECISIONS)}; got {precision!r}')
    values['network_dtype'] = strategies.PRECISIONS[precision]
  return ({k: v for k, v in values.items() if k in _ARCHITECTURE_FIELDS},
          {k: v for k, v in values.items() if k in _TRAINING_FIELDS})


def _describe(architecture_values):
  """Architecture fields as bin/train names them: network_dtype by precision."""
  names = {dtype: name for name, dtype in strategies.PRECISIONS.items()}
  return ', '.join(
      f'precision={names.get(v, v)}' if k == 'network_dtype' else f'{k}={v}'
      for k, v in architecture_values.items())


@dataclasses.dataclass(frozen=True)
class Config:
  """One training run: what evaluation and sampling rebuild the model from.

  It is written to the run's `config.json` (`CONFIG_FILE`).

  #### Example

  ```python
  from tfp_realnvp import training

  config = training.make_config('mnist', num_filters=8)
  assert config.architecture.event_shape == (28, 28, 1)
  assert config.architecture.num_filters == 8
  ```
  """
  dataset: str
  architecture: config_lib.Architecture
  training: Training = Training()
  data_dir: str | None = None
  seed: int = 0
  # Of 'folder' and 'npz' (`data.load`); configs saved before it load as None.
  image_size: int | None = None

  @property
  def conditional(self):
    return self.architecture.num_classes is not None

  def to_dict(self):
    return {**dataclasses.asdict(self),
            'architecture': self.architecture.to_dict()}

  def to_json(self):
    """The text of `config.json`."""
    return json.dumps(self.to_dict(), indent=2) + '\n'

  def hparams(self):
    """The config as TensorBoard hparams: `{name: bool, int, float or str}`.

    Nested fields are named by their path (`architecture.num_filters`,
    `training.epochs`); a list is its JSON text; a None value is left out
    (the hparams dashboard shows no value).
    """
    def flat(values, prefix=''):
      for key, value in values.items():
        if isinstance(value, dict):
          yield from flat(value, f'{prefix}{key}.')
        elif value is not None:
          yield f'{prefix}{key}', (json.dumps(value)
                                   if isinstance(value, (list, tuple))
                                   else value)

    return dict(flat(self.to_dict()))

  def save(self, model_dir):
    """Writes `model_dir/config.json` atomically (no half-written file), on
    any TensorFlow filesystem."""
    storage.write_atomic(storage.join(model_dir, CONFIG_FILE), self.to_json())

  @classmethod
  def load(cls, model_dir):
    if not storage.as_str(model_dir):
      raise ValueError('model_dir is empty; expected a directory written by '
                       'bin/train')
    path = storage.join(model_dir, CONFIG_FILE)
    if not tf.io.gfile.exists(path) or tf.io.gfile.isdir(path):
      raise FileNotFoundError(f'{path} does not exist: {model_dir} is not a '
                              'model directory written by bin/train')
    values = json.loads(storage.read_bytes(path))
    if 'architecture' not in values:
      raise ValueError(f'{path} was written by an older bin/train, before '
                       'the architecture was saved as one object; train '
                       'again in another model_dir')
    return cls(**{
        **values,
        'architecture': config_lib.Architecture.from_dict(
            values['architecture']),
        'training': Training(**values['training'])})

  def override(self, image_size=None, **hyperparameters):
    """This config with the `hyperparameters` that are not None.

    Raises ValueError if one of them, or `image_size`, changes the
    architecture: a checkpoint restores only into the architecture it was
    saved from (with `network_dtype`, also whether the optimizer has loss
    scaling).
    """
    architecture, training = _split(hyperparameters)
    changed = {k: v for k, v in architecture.items()
               if v != getattr(self.architecture, k)}
    saved = {k: getattr(self.architecture, k) for k in changed}
    # The same images as the saved run's are no change (64 for a folder
    # saved with the default, an npz file's own square size).
    if image_size not in (None, self.image_size) and (
        (image_size,) * 2 != self.architecture.event_shape[:2]):
      height, width, _ = self.architecture.event_shape
      changed['image_size'] = image_size
      saved['image_size'] = f'{self.image_size} ({height}x{width} images)'
    if changed:
      raise ValueError(
          f'{_describe(changed)} differs from the saved model '
          f'({_describe(saved)}); use another model_dir to train a '
          'different architecture')
    return dataclasses.replace(
        self, training=dataclasses.replace(self.training, **training))


# Classes of the datasets whose labels a conditional model can use.
NUM_CLASSES = {'mnist': 10}


def make_config(dataset, data_dir=None, seed=0, conditional=False,
                image_size=None, **hyperparameters):
  """The preset of `dataset` with `hyperparameters` (None: keep the preset's).

  `image_size` is `data.load`'s (the side of the square images of 'folder'
  and 'npz'); `hyperparameters` are named as in `HYPERPARAMETERS`. Without
  `precision` (or `network_dtype`) the networks take this host's
  `strategies.default_precision()`: bf16 on a CPU with bfloat16 units.

  #### Example

  ```python
  from tfp_realnvp import training

  config = training.make_config('cifar10', batch_size=32, epochs=None)
  assert config.training.batch_size == 32
  assert config.training.epochs == training.PRESETS['cifar10'].training.epochs
  ```
  """
  if conditional and dataset not in NUM_CLASSES:
    raise ValueError(f'a conditional model needs labels: --conditional works '
                     f'with {sorted(NUM_CLASSES)}, not {dataset!r}')
  if (hyperparameters.get('precision') is None
      and hyperparameters.get('network_dtype') is None):
    hyperparameters['precision'] = strategies.default_precision()
  architecture, training = _split(hyperparameters)
  preset = PRESETS[dataset]
  return Config(
      dataset,
      preset.architecture_for(
          data.image_shape(dataset, data_dir, image_size),
          num_classes=NUM_CLASSES[dataset] if conditional else None,
          **architecture),
      dataclasses.replace(preset.training, **training),
      data_dir=storage.as_str(data_dir),
      seed=seed,
      image_size=image_size)
