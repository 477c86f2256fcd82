"""bin/train's out-of-distribution calibration; bin/evaluate --ood_data_dir."""

import functools
from pathlib import Path
import re
import shutil

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from tfp_realnvp import data
from tfp_realnvp import ood
from tfp_realnvp import training
from tfp_realnvp.training import calibration as calibration_lib
from tests import tiny
from tests.programs import program_testing

ROOT = Path(__file__).absolute().parents[2]
run = functools.partial(program_testing.run, 'evaluate')
ROW = re.compile(r'(\w+) +(\S+) +(\S+) +(\S+) +(\S+) +(\S+)')

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
  model_dir = tmp_path_factory.mktemp('run') / 'model'
  training.train('mnist', model_dir, **tiny.RUN, epochs=1, verbose=0)
  return model_dir


@pytest.fixture(scope='module')
def validation_stats(model_dir):
  model, _ = training.load_model(model_dir)
  return model, calibration_lib.dataset_statistics(
      model.distribution, data.load('mnist', 'validation'), orientations=True)


def test_training_calibrates_on_the_validation_split(model_dir,
                                                     validation_stats):
  calibration = ood.Calibration.load(model_dir)
  assert calibration.num_images == 500
  assert calibration.false_positive_rate == 0.05
  assert calibration.recommended == ood.RECOMMENDED
  stats = validation_stats[1]
  assert calibration.nll_mean == pytest.approx(
      float(np.mean(stats['nll'].numpy().astype(np.float64))), rel=1e-6)
  assert set(calibration.thresholds) == set(ood.SCORES)
  assert set(calibration.tails) == {'scales', 'orientation'}
  for name in calibration.thresholds:
    scores = ood.score(stats, calibration, name).numpy()
    threshold = calibration.threshold(name)
    assert np.mean(scores > threshold) <= 0.05, name
    assert np.mean(scores >= threshold) > 0.05, name


def test_evaluate_prints_each_score_and_writes_a_histogram(
    model_dir, validation_stats, tmp_path):
  rng = np.random.default_rng(0)
  others = np.concatenate([np.zeros([20, 28, 28, 1], np.uint8),
                           rng.integers(0, 256, [30, 28, 28, 1], np.uint8)])
  np.savez(tmp_path / 'others.npz', images=others)
  histogram = tmp_path / 'figures' / 'histogram.png'
  result = run(f'--model_dir={model_dir}',
               f'--ood_data_dir={tmp_path / "others.npz"}',
               f'--ood_histogram={histogram}')
  lines = result.stdout.strip().splitlines()
  assert lines[0].startswith(f'npz {tmp_path / "others.npz"} (50 images) vs')
  assert '(500 images)' in lines[0]
  rows = {m[1]: [float(v) for v in m.groups()[1:]]
          for m in map(ROW.fullmatch, lines[2:2 + len(ood.SCORES)])}
  assert list(rows) == list(ood.SCORES)
  assert lines[-2] == (f'recommended: {ood.RECOMMENDED}; thresholds: the '
                       "run's ood_calibration.json")
  assert lines[-1] == f'histogram: {histogram}'
  assert Image.open(histogram).format == 'PNG'

  model, stats_in = validation_stats
  stats_out = calibration_lib.dataset_statistics(
      model.distribution, tf.data.Dataset.from_tensor_slices(others),
      orientations=True)
  calibration = ood.Calibration.load(model_dir)
  for name, (auroc, fpr, threshold, in_above, out_above) in rows.items():
    s_in = ood.score(stats_in, calibration, name).numpy()
    s_out = ood.score(stats_out, calibration, name).numpy()
    expected = calibration.thresholds[name]
    # Printed to 3 decimals; float32 round-off may move a tie.
    assert auroc == pytest.approx(ood.auroc(s_in, s_out), abs=2e-3), name
    assert fpr == pytest.approx(ood.fpr_at_tpr(s_in, s_out), abs=2e-3), name
    assert threshold == pytest.approx(expected, rel=1e-3), name
    assert in_above == pytest.approx(np.mean(s_in > expected), abs=2e-3)
    assert out_above == pytest.approx(np.mean(s_out > expected), abs=2e-3)


def test_evaluate_fits_what_an_older_runs_calibration_lacks(
    model_dir, validation_stats, tmp_path):
  older = tmp_path / 'older'
  shutil.copytree(model_dir, older)
  stats = dict(validation_stats[1])
  del stats['orientation']  # What bin/train computed before.
  ood.calibrate(stats, recommended='scales').save(older)
  np.savez(tmp_path / 'blank.npz', images=np.zeros([1, 28, 28, 1], np.uint8))
  result = run(f'--model_dir={older}', f'--ood_data_dir={tmp_path}/blank.npz',
               f'--ood_histogram={tmp_path / "h.png"}')
  assert result.stdout.strip().splitlines()[-2] == (
      "recommended: scales; thresholds: the run's ood_calibration.json; "
      'orientation: fitted here on these in-distribution images; '
      'scales_orientation: fitted here on these in-distribution images')
  lines = result.stdout.strip().splitlines()
  rows = {m[1]: float(m[4])
          for m in map(ROW.fullmatch, lines[2:2 + len(ood.SCORES)])}
  # The same thresholds as bin/train now writes.
  calibration = ood.Calibration.load(model_dir)
  for name in ood.SCORES:
    assert rows[name] == pytest.approx(calibration.threshold(name),
                                       rel=1e-3), name


def test_evaluate_makes_a_folders_photos_the_models_size_and_gray(model_dir,
                                                                  tmp_path):
  result = run(f'--model_dir={model_dir}', '--ood_dataset=folder',
               f'--ood_data_dir={ROOT / "testdata" / "photos"}',
               '--ood_split=train', f'--ood_histogram={tmp_path / "h.png"}')
  first = result.stdout.splitlines()[0]
  assert re.match(r'folder \S+photos \(\d+ images\) vs', first), first


def test_evaluate_names_an_image_size_the_model_cannot_take(model_dir,
                                                            tmp_path):
  np.savez(tmp_path / 'big.npz', images=np.zeros([3, 32, 32, 3], np.uint8))
  result = run(f'--model_dir={model_dir}',
               f'--ood_data_dir={tmp_path / "big.npz"}', '--ood_image_size=32',
               check=False)
  assert result.returncode == 1 and 'Traceback' not in result.stderr
  assert result.stderr.strip().splitlines()[-1] == (
      "error: ood_dataset 'npz' has images of shape (32, 32, 3), the model "
      'takes (28, 28, 1); pass --ood_image_size (folder, npz) or another '
      'dataset')


def test_evaluate_names_a_missing_ood_file(model_dir, tmp_path):
  missing = tmp_path / 'missing.npz'
  result = run(f'--model_dir={model_dir}', f'--ood_data_dir={missing}',
               check=False)
  assert result.returncode == 1 and 'Traceback' not in result.stderr
  assert result.stderr.strip().splitlines()[-1].startswith(
      f'error: {missing} is not a file; expected a .npz')
