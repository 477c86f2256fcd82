"""What a run reports as it goes: its config and the bits/dim every N steps
in TensorBoard's logs, and evaluate's progress bar."""

import json
import re

import numpy as np
import pytest
from tensorboard.plugins.hparams import plugin_data_pb2
import tensorflow as tf

from tfp_realnvp import data
from tfp_realnvp import training
from tfp_realnvp.training import experiment
from tfp_realnvp.training import presets
from tests import event_files
from tests import tiny

TINY = dict(tiny.RUN, verbose=0)
HPARAMS = '_hparams_/session_start_info'


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  """A tiny run of 2 epochs, resumed for a third, then rerun unchanged; the
  logs after each of the three, and each one's config.json."""
  model_dir = tmp_path_factory.mktemp('run') / 'model'
  logs, configs = [], []
  for epochs in (2, 3, 3):
    training.train('mnist', model_dir, epochs=epochs, log_every_steps=2,
                   validate_every_steps=3, **TINY)
    logs.append(event_files.read(model_dir / 'logs'))
    configs.append(json.loads((model_dir / presets.CONFIG_FILE).read_text()))
  return model_dir, logs, configs


def logged_configs(logs):
  """[(step, config dict)] of the top run's `config` text summaries."""
  configs = []
  for step, value in logs['.', 'config']:
    text = tf.make_ndarray(value.tensor).item().decode()
    configs.append((step, json.loads(
        re.fullmatch(r'```\n(.*)```', text, re.DOTALL)[1])))
  return configs


@pytest.mark.slow
def test_validation_subset_bits_per_dim_every_n_steps(run):
  model_dir, logs, _ = run
  values = logs[-1]['validation', 'step_bits_per_dim']
  assert [step for step, _ in values] == [3, 6]  # 2 steps an epoch
  # The last, of the final model: the first validation images, with the
  # noise of the validation pipeline's first pass.
  model, config = training.load_model(model_dir)
  batches = data.pipeline(
      data.load('mnist', 'validation'), config.training.batch_size,
      training=False, seed=config.seed).take(
          experiment.VALIDATION_SUBSET // config.training.batch_size)
  expected = np.concatenate([model(x).numpy() for x in batches])
  # The embedded MNIST's validation split is smaller: all of it.
  assert len(expected) == 500 < experiment.VALIDATION_SUBSET
  # To float32 rounding: logged from the traced model, computed here by
  # eager kernels.
  assert float(tf.make_ndarray(values[-1][1].tensor)) == pytest.approx(
      expected.astype(np.float64).mean(), rel=1e-4)


@pytest.mark.slow
def test_config_is_logged_at_the_start_and_when_a_resume_changes_it(run):
  _, logs, configs = run
  assert logged_configs(logs[0]) == [(0, configs[0])]
  # The resumed run trains one more epoch: its config from epoch 2 on.
  assert configs[1]['training']['epochs'] == 3
  assert logged_configs(logs[1]) == [(0, configs[0]), (2, configs[1])]
  # Unchanged: nothing more.
  assert logged_configs(logs[2]) == logged_configs(logs[1])


@pytest.mark.slow
def test_hparams_are_logged_once_as_the_run_started(run):
  _, logs, _ = run
  for log in logs:
    assert [step for step, _ in log['.', HPARAMS]] == [0]
  (_, value), = logs[-1]['.', HPARAMS]
  assert value.metadata.plugin_data.plugin_name == 'hparams'
  hparams = plugin_data_pb2.HParamsPluginData.FromString(
      value.metadata.plugin_data.content).session_start_info.hparams
  assert hparams['dataset'].string_value == 'mnist'
  assert hparams['architecture.event_shape'].string_value == '[28, 28, 1]'
  assert hparams['architecture.num_filters'].number_value == 4
  assert hparams['training.batch_size'].number_value == 16
  assert hparams['training.epochs'].number_value == 2
  assert hparams['architecture.batch_norm'].bool_value
  assert 'architecture.num_classes' not in hparams  # None: no value


@pytest.mark.slow
def test_step_bits_per_dim_goes_on_counting_after_a_resume(run):
  _, logs, _ = run
  steps = logs[-1]['train', 'step_bits_per_dim']
  epochs = logs[-1]['train', 'epoch_bits_per_dim']
  assert [step for step, _ in steps] == [2, 4, 6]
  # Two steps per epoch, one point every two: each point is an epoch's mean,
  # which Keras's TensorBoard callback logs per epoch.
  assert [step for step, _ in epochs] == [0, 1, 2]
  np.testing.assert_allclose(
      [tf.make_ndarray(value.tensor) for _, value in steps],
      [tf.make_ndarray(value.tensor) for _, value in epochs], rtol=1e-6)


def test_log_every_steps_must_be_positive(tmp_path):
  with pytest.raises(ValueError, match='log_every_steps'):
    training.train('mnist', tmp_path / 'run', log_every_steps=0, **TINY)
  assert not (tmp_path / 'run').exists()


@pytest.mark.slow
def test_evaluate_shows_progress_then_returns_the_result(run, capsys):
  model_dir = run[0]
  capsys.readouterr()
  result = training.evaluate(model_dir, batch_size=100)
  bars = re.findall(r'(\d+)/(\d+) \[[=>.]*\].*?bits_per_dim: (\d+\.\d+)',
                    capsys.readouterr().out)
  # 500 validation images: 5 batches; the first batch's line is printed at
  # once, the last with the mean over every image.
  assert bars[0][:2] == ('1', '5') and bars[-1][:2] == ('5', '5'), bars
  assert float(bars[-1][2]) == pytest.approx(result.bits_per_dim, abs=1e-4)

  model, _ = training.load_model(model_dir)
  per_image = np.concatenate([
      model(x).numpy() for x in data.pipeline(
          data.load('mnist', 'validation'), 100, training=False, seed=0)])
  assert result.num_images == 500
  assert result.bits_per_dim == pytest.approx(per_image.mean(), rel=1e-5)

  training.evaluate(model_dir, batch_size=100, verbose=0)
  assert capsys.readouterr().out == ''
