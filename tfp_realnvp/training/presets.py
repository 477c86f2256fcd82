"""Per-dataset hyperparameters, and the run configuration saved with a model."""

import dataclasses
import json
import os
from pathlib import Path

from tfp_realnvp import data
from tfp_realnvp.bijectors import real_nvp

__all__ = ['Preset', 'PRESETS', 'Config', 'make_config', 'CONFIG_FILE']

CONFIG_FILE = 'config.json'


@dataclasses.dataclass(frozen=True)
class Preset:
  """Hyperparameters of a model and of its training."""
  num_scales: int | None  # None: halve the image down to 4x4, as it allows.
  num_res_blocks: int
  num_filters: int
  batch_size: int = 64
  learning_rate: float = 1e-3
  l2: float = 5e-5  # on the weight-norm gains g
  clip_norm: float = 100.
  epochs: int = 100
  precision: str = 'fp32'  # a key of strategies.PRECISIONS


# Dinh et al. (2017), sec. 4.1: 32x32 images get 4 residual blocks and 64x64
# images 2, with 32 feature maps; CIFAR-10 gets 8 blocks and 64 feature maps.
# The last scale is 4x4, but for CIFAR-10 (2 scales, as the benchmark defines
# the paper's CIFAR-10 model) and MNIST (28 = 7 * 4: 3 scales end at 7x7).
_IMAGES_64 = Preset(num_scales=5, num_res_blocks=2, num_filters=32)
PRESETS = {
    # The embedded default: sized so that `bin/train` finishes in about
    # 8 minutes on a 2-core CPU, start-up and evaluation included.
    'mnist': Preset(num_scales=3, num_res_blocks=1, num_filters=16, epochs=8),
    'cifar10': Preset(num_scales=2, num_res_blocks=8, num_filters=64),
    'imagenet32': Preset(num_scales=4, num_res_blocks=4, num_filters=32),
    'imagenet64': _IMAGES_64,
    'celeba': _IMAGES_64,
    'lsun_bedroom': _IMAGES_64,
    'lsun_tower': _IMAGES_64,
    'lsun_church_outdoor': _IMAGES_64,
    'folder': _IMAGES_64,  # load() makes 64x64 images of folders
    'npz': Preset(num_scales=None, num_res_blocks=4, num_filters=32),
}


@dataclasses.dataclass(frozen=True)
class Config:
  """One training run: what evaluation and sampling rebuild the model from."""
  dataset: str
  image_shape: tuple[int, int, int]
  preset: Preset
  data_dir: str | None = None
  seed: int = 0
  num_classes: int | None = None  # set: a class-conditional model

  @property
  def conditional(self):
    return self.num_classes is not None

  # Fields that fix the weights' shapes (precision: whether the optimizer has
  # loss scaling): a checkpoint restores only into a model built with the
  # same values.
  ARCHITECTURE = ('num_scales', 'num_res_blocks', 'num_filters', 'precision')

  def save(self, model_dir):
    """Writes `model_dir/config.json` atomically (no half-written file)."""
    path = Path(model_dir) / CONFIG_FILE
    tmp = path.with_suffix('.json.tmp')
    tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2) + '\n')
    os.replace(tmp, path)

  @classmethod
  def load(cls, model_dir):
    path = Path(model_dir) / CONFIG_FILE
    if not path.is_file():
      raise FileNotFoundError(f'{path} does not exist: {model_dir} is not a '
                              'model directory written by bin/train')
    values = json.loads(path.read_text())
    return cls(**{**values, 'image_shape': tuple(values['image_shape']),
                  'preset': Preset(**values['preset'])})

  def override(self, **values):
    """This config with the hyperparameters in `values` that are not None.

    Raises ValueError if one of them changes the architecture.
    """
    values = {k: v for k, v in values.items() if v is not None}
    changed = {k: v for k, v in values.items()
               if k in self.ARCHITECTURE and v != getattr(self.preset, k)}
    if changed:
      raise ValueError(
          f'{changed} differs from the saved model '
          f'({ {k: getattr(self.preset, k) for k in changed} }); use '
          'another model_dir to train a different architecture')
    return dataclasses.replace(
        self, preset=dataclasses.replace(self.preset, **values))


# Classes of the datasets whose labels a conditional model can use.
NUM_CLASSES = {'mnist': 10}


def make_config(dataset, data_dir=None, seed=0, conditional=False,
                **overrides):
  """The preset of `dataset` with `overrides` (None: keep the preset's)."""
  if conditional and dataset not in NUM_CLASSES:
    raise ValueError(f'a conditional model needs labels: --conditional works '
                     f'with {sorted(NUM_CLASSES)}, not {dataset!r}')
  shape = tuple(data.image_shape(dataset, data_dir))
  preset = dataclasses.replace(
      PRESETS[dataset], **{k: v for k, v in overrides.items() if v is not None})
  if preset.num_scales is None:
    preset = dataclasses.replace(
        preset, num_scales=real_nvp.default_num_scales(*shape[:2]))
  return Config(dataset, shape, preset,
                data_dir=None if data_dir is None else str(data_dir),
                seed=seed,
                num_classes=NUM_CLASSES[dataset] if conditional else None)
