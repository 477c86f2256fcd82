"""bin/train, bin/evaluate and bin/sample end to end, on the embedded MNIST."""

import math
import re

import numpy as np
from PIL import Image
import pytest

from tfp_realnvp import data
from tfp_realnvp import training
from tests import event_files
from tests import tiny
from tests.programs.program_testing import run

TINY = tiny.flags()
LAST_LINE = re.compile(r'bits_per_dim=(\S+) stderr=(\S+) n=(\d+)')

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
  """A tiny model trained for 2 epochs, then resumed for a third."""
  model_dir = tmp_path_factory.mktemp('run') / 'model'
  first = run('train', f'--model_dir={model_dir}', '--epochs=2', *TINY)
  assert 'epoch 2, step 4,' in first.stdout
  assert (model_dir / 'checkpoints' / 'ckpt-4.index').exists()  # 4 batches
  second = run('train', f'--model_dir={model_dir}', '--epochs=3', *TINY)
  return model_dir, first, second


def test_train_reports_what_it_wrote(model_dir):
  model_dir, first, _ = model_dir
  assert re.search(r'validation bits/dim: \d+\.\d+', first.stdout)
  for written in ('checkpoints', 'logs', 'samples.png',
                  'ood_calibration.json'):
    assert str(model_dir / written) in first.stdout
  assert (model_dir / 'config.json').is_file()
  assert Image.open(model_dir / 'samples.png').size == (8 * 28, 8 * 28)


def test_second_run_resumes_epoch_and_step(model_dir):
  model_dir, _, second = model_dir
  assert 'Epoch 3/3' in second.stdout and 'Epoch 1/3' not in second.stdout
  assert 'epoch 3, step 6,' in second.stdout
  assert (model_dir / 'checkpoints' / 'ckpt-6.index').exists()


def test_tensorboard_has_bits_per_dim_learning_rate_and_samples(model_dir):
  found = event_files.summaries(model_dir[0] / 'logs')
  assert found['train', 'epoch_bits_per_dim'] == [0, 1, 2]
  assert found['validation', 'epoch_bits_per_dim'] == [0, 1, 2]
  assert found['train', 'learning_rate'] == [0, 1, 2]
  assert found['train', 'samples'] == [0, 1, 2]


def test_evaluate_matches_an_in_process_computation(model_dir):
  model_dir = model_dir[0]
  result = run('evaluate', f'--model_dir={model_dir}', '--batch_size=100')
  lines = result.stdout.strip().splitlines()
  bits, stderr, n = LAST_LINE.fullmatch(lines[-1]).groups()
  roundtrip = float(re.search(r'\(pixels\): (\S+)', lines[-2]).group(1))
  assert int(n) == 500 and 0 <= roundtrip < 1e-3

  model, _ = training.load_model(model_dir)
  per_image = np.concatenate([
      model(x).numpy() for x in data.pipeline(
          data.load('mnist', 'validation'), 100, training=False, seed=0)])
  # Float32 round-off: oneDNN's kernels may split sums differently per run,
  # moving each image's value by up to `slack`. A standard deviation moves
  # by at most that times sqrt(n / (n - 1)), the standard error by
  # slack / sqrt(n - 1), which is a larger part of it than of the mean;
  # both are printed to 6 decimals.
  slack = 1e-5 * float(np.abs(per_image).max())
  assert float(bits) == pytest.approx(per_image.mean(), abs=slack + 5e-7)
  assert float(stderr) == pytest.approx(
      per_image.std(ddof=1) / math.sqrt(500),
      abs=slack / math.sqrt(499) + 5e-7)


def test_sample_writes_a_grid_of_the_requested_size(model_dir, tmp_path):
  out = tmp_path / 'grid.png'
  run('sample', f'--model_dir={model_dir[0]}', '--num=6', f'--out={out}')
  image = Image.open(out)
  assert image.size == (3 * 28, 2 * 28) and image.mode == 'L'

  # By default the authors' sampler; --batch_statistics=false the
  # distribution's own samples. Each grid is nearest its in-process twin.
  independent = tmp_path / 'independent.png'
  run('sample', f'--model_dir={model_dir[0]}', '--num=6',
      '--batch_statistics=false', f'--out={independent}')
  model, _ = training.load_model(model_dir[0])
  twins = []
  for batch_statistics in (True, False):
    path = tmp_path / f'in_process_{batch_statistics}.png'
    training.write_png(path, model.sample_images(
        6, 0.7, 0, batch_statistics=batch_statistics))
    twins.append(np.asarray(Image.open(path), np.float32))
  for path, twin, other in ((out, *twins), (independent, *twins[::-1])):
    pixels = np.asarray(Image.open(path), np.float32)
    assert np.abs(pixels - twin).mean() < 0.1 * np.abs(pixels - other).mean()


@pytest.mark.parametrize('program, flags, bad', [
    ('sample', ['--temperature=0', '--out={out}/s.png'], 0.),
    ('sample', ['--temperature=nan', '--out={out}/s.png'], float('nan')),
    ('latent_figures', ['--temperatures=0.5,-1', '--out_dir={out}'], -1.),
    ('latent_figures', ['--temperatures=inf', '--out_dir={out}'],
     float('inf')),
])
def test_a_bad_temperature_is_a_one_line_error(model_dir, tmp_path, program,
                                               flags, bad):
  result = run(program, f'--model_dir={model_dir[0]}',
               *(f.format(out=tmp_path) for f in flags), check=False)
  assert result.returncode != 0 and 'Traceback' not in result.stderr
  assert result.stderr.strip().splitlines()[-1] == (
      f'error: temperature must be a finite number > 0; got {bad!r}.')
  assert not list(tmp_path.iterdir())


def test_unwritable_model_dir_fails_before_training(tmp_path):
  blocker = tmp_path / 'file'
  blocker.write_text('not a directory')
  result = run('train', f'--model_dir={blocker / "run"}', *TINY, check=False)
  assert result.returncode != 0
  assert str(blocker / 'run') in result.stderr
  assert 'Epoch' not in result.stdout


@pytest.mark.parametrize('program', ['train', 'evaluate', 'sample'])
def test_help(program):
  result = run(program, '--help', check=False)  # absl exits with 1.
  assert '--model_dir' in result.stdout
