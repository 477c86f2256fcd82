"""Presets: one per dataset, the paper's values, overridable; saved configs."""

from pathlib import Path

import pytest

from tfp_realnvp import data
from tfp_realnvp.training import presets

NPZ = Path(__file__).absolute().parents[2] / 'testdata' / 'mnist_train4500.npz'


@pytest.mark.parametrize('name', data.DATASET_NAMES)
def test_every_dataset_has_a_preset_whose_scales_fit_its_images(name):
  config = presets.make_config(name, NPZ if name == 'npz' else None)
  height, width, _ = config.image_shape
  halvings = 2 ** (config.preset.num_scales - 1)
  assert height % halvings == 0 and width % halvings == 0
  assert config.preset.learning_rate == 1e-3
  assert config.preset.l2 == 5e-5
  assert config.preset.clip_norm == 100.


@pytest.mark.parametrize('name, values', [
    ('cifar10', (2, 8, 64, 64)),
    ('imagenet32', (4, 4, 32, 64)),
    ('imagenet64', (5, 2, 32, 64)),
    ('celeba', (5, 2, 32, 64)),
    ('lsun_bedroom', (5, 2, 32, 64)),
])
def test_paper_hyperparameters(name, values):
  preset = presets.make_config(name).preset
  assert (preset.num_scales, preset.num_res_blocks, preset.num_filters,
          preset.batch_size) == values


def test_last_scale_is_4x4_or_as_small_as_the_image_allows():
  for name in ('imagenet32', 'imagenet64', 'celeba'):
    config = presets.make_config(name)
    assert config.image_shape[0] // 2 ** (config.preset.num_scales - 1) == 4
  mnist = presets.make_config('mnist')
  assert 28 // 2 ** (mnist.preset.num_scales - 1) == 7


def test_overrides_replace_preset_values_and_none_keeps_them():
  config = presets.make_config('mnist', num_filters=8, epochs=None, seed=3)
  assert config.preset.num_filters == 8
  assert config.preset.epochs == presets.PRESETS['mnist'].epochs
  assert config.seed == 3


def test_config_round_trips_through_model_dir(tmp_path):
  config = presets.make_config('npz', NPZ, num_res_blocks=2)
  config.save(tmp_path)
  assert presets.Config.load(tmp_path) == config
  assert [p.name for p in tmp_path.iterdir()] == [presets.CONFIG_FILE]


def test_loading_a_config_from_elsewhere_names_the_file(tmp_path):
  with pytest.raises(FileNotFoundError, match=str(tmp_path)):
    presets.Config.load(tmp_path)


def test_override_keeps_the_architecture():
  config = presets.make_config('mnist')
  assert config.override(epochs=20, num_filters=None).preset.epochs == 20
  with pytest.raises(ValueError, match='num_filters'):
    config.override(num_filters=config.preset.num_filters + 1)
