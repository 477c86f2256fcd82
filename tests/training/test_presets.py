"""Presets: one per dataset, the paper's values, overridable; saved configs."""

import dataclasses
import json
import pytest

from tfp_realnvp import config as config_lib
from tfp_realnvp import data
from tfp_realnvp.data import arrays
from tfp_realnvp.training import presets
from tfp_realnvp.training import strategies

NPZ = str(arrays.EMBEDDED_MNIST)


@pytest.mark.parametrize('name', data.DATASET_NAMES)
def test_every_dataset_has_a_preset_whose_scales_fit_its_images(name):
  config = presets.make_config(name, NPZ if name == 'npz' else None)
  architecture = config.architecture
  assert architecture.event_shape == tuple(
      data.image_shape(name, NPZ if name == 'npz' else None))
  height, width, _ = architecture.event_shape
  halvings = 2 ** (architecture.num_scales - 1)
  assert height % halvings == 0 and width % halvings == 0
  # The paper's constant learning rate, but for our MNIST default
  # (docs/training.md, Quality of the default run).
  assert (config.training.learning_rate,
          config.training.learning_rate_decay) == (
              (2e-2, 'cosine') if name == 'mnist' else (1e-3, 'none'))
  assert config.training.l2 == 5e-5
  assert config.training.clip_norm == 100.


@pytest.mark.parametrize('name, values', [
    ('cifar10', (2, 8, 64, 64)),
    ('imagenet32', (4, 4, 32, 64)),
    ('imagenet64', (5, 2, 32, 64)),
    ('celeba', (5, 2, 32, 64)),
    ('lsun_bedroom', (5, 2, 32, 64)),
])
def test_paper_hyperparameters(name, values):
  config = presets.make_config(name)
  a = config.architecture
  assert (a.num_scales, a.num_res_blocks, a.num_filters,
          config.training.batch_size) == values
  assert a.batch_norm and a.num_bits == 8
  assert a.network_dtype == strategies.PRECISIONS[
      strategies.default_precision()]


def test_last_scale_is_4x4_or_as_small_as_the_image_allows():
  for name in ('imagenet32', 'imagenet64', 'celeba'):
    a = presets.make_config(name).architecture
    assert a.event_shape[0] // 2 ** (a.num_scales - 1) == 4
  mnist = presets.make_config('mnist').architecture
  assert 28 // 2 ** (mnist.num_scales - 1) == 7


def test_overrides_replace_preset_values_and_none_keeps_them():
  config = presets.make_config('mnist', num_filters=8, epochs=None, seed=3,
                               precision='bf16')
  assert config.architecture.num_filters == 8
  assert config.architecture.network_dtype == 'mixed_bfloat16'
  assert config.training.epochs == presets.PRESETS['mnist'].training.epochs
  assert config.seed == 3


def test_unknown_or_invalid_hyperparameters_fail_naming_them():
  with pytest.raises(TypeError, match='num_filter'):
    presets.make_config('mnist', num_filter=8)
  with pytest.raises(ValueError, match='precision'):
    presets.make_config('mnist', precision='fp8')
  with pytest.raises(ValueError, match='num_scales'):  # 28 / 2**3 is not whole.
    presets.make_config('mnist', num_scales=4)


def test_presets_hold_architecture_fields_but_the_event_shape():
  fields = {f.name for f in dataclasses.fields(config_lib.Architecture)}
  for preset in presets.PRESETS.values():
    assert set(preset.architecture) <= fields - {'event_shape'}
  with pytest.raises(TypeError, match='event_shape'):
    presets.Preset({'event_shape': (8, 8, 1)})


def test_config_round_trips_through_model_dir(tmp_path):
  config = presets.make_config('npz', NPZ, num_res_blocks=2)
  config.save(tmp_path)
  assert presets.Config.load(tmp_path) == config
  assert [p.name for p in tmp_path.iterdir()] == [presets.CONFIG_FILE]
  # The architecture is saved as `Architecture.to_dict()`.
  saved = json.loads((tmp_path / presets.CONFIG_FILE).read_text())
  assert config_lib.Architecture.from_dict(saved['architecture']) == (
      config.architecture)


def test_image_size_is_saved_and_older_configs_load_without_it(tmp_path):
  config = presets.make_config('folder', image_size=32)
  assert config.image_size == 32
  assert config.architecture.event_shape == (32, 32, 3)
  config.save(tmp_path)
  assert presets.Config.load(tmp_path) == config
  # A config.json written before the field existed.
  path = tmp_path / presets.CONFIG_FILE
  saved = json.loads(path.read_text())
  del saved['image_size']
  path.write_text(json.dumps(saved))
  assert presets.Config.load(tmp_path) == dataclasses.replace(
      config, image_size=None)


def test_folder_scales_follow_the_image_size():
  # 40 = 5 * 8: the 64x64 preset's 5 scales could not halve it.
  for size, scales in ((64, 5), (32, 4), (40, 4)):
    a = presets.make_config('folder', image_size=size).architecture
    assert a.event_shape == (size, size, 3) and a.num_scales == scales
  assert presets.make_config('folder').architecture == (
      presets.make_config('celeba').architecture)


def test_override_keeps_the_image_size():
  config = presets.make_config('folder', image_size=32)
  assert config.override(image_size=32, epochs=2).image_size == 32
  with pytest.raises(ValueError, match=r'image_size=48 .*image_size=32'):
    config.override(image_size=48)
  default = presets.make_config('folder')
  # 64 is the default's size: the same images, no change.
  assert default.override(image_size=64).image_size is None
  with pytest.raises(ValueError, match=r'\(64x64 images\)'):
    default.override(image_size=32)


def test_loading_a_config_from_elsewhere_names_the_file(tmp_path):
  with pytest.raises(FileNotFoundError, match=str(tmp_path)):
    presets.Config.load(tmp_path)


def test_override_keeps_the_architecture():
  config = presets.make_config('mnist')
  assert config.override(epochs=20, num_filters=None).training.epochs == 20
  # How the same model trains may change when a run resumes.
  changed = config.override(recompute_gradients=True,
                            learning_rate_decay='cosine').training
  assert changed.recompute_gradients and changed.learning_rate_decay == (
      'cosine')
  with pytest.raises(ValueError, match='num_filters'):
    config.override(num_filters=config.architecture.num_filters + 1)


@pytest.mark.parametrize('field, value', [
    ('batch_size', 0), ('batch_size', 2.), ('batch_size', True),
    ('epochs', -1), ('learning_rate', 0.), ('learning_rate', -1e-3),
    ('learning_rate', float('nan')), ('learning_rate', float('inf')),
    ('l2', -1e-9), ('l2', float('nan')), ('clip_norm', 0),
    ('clip_norm', float('inf')), ('clip_norm', '100'),
    ('learning_rate_decay', 'linear'), ('recompute_gradients', 1),
])
def test_a_bad_training_value_is_refused_naming_the_field(field, value):
  with pytest.raises(ValueError, match=f'^{field} must be'):
    presets.Training(**{field: value})
  # Before train() writes anything: make_config and override build it.
  with pytest.raises(ValueError, match=f'^{field} must be'):
    presets.make_config('mnist', **{field: value})
  with pytest.raises(ValueError, match=f'^{field} must be'):
    presets.make_config('mnist').override(**{field: value})


def test_training_takes_zero_l2_and_integer_rates():
  assert presets.Training(l2=0, learning_rate=1, clip_norm=5).l2 == 0


def test_an_empty_model_dir_is_refused_naming_it():
  with pytest.raises(ValueError, match='model_dir is empty'):
    presets.Config.load('')
