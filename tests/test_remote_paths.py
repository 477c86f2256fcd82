"""Every program and library function with all its paths on ram://.

ram:// (TensorFlow's in-memory filesystem) stands in for gs:// and the other
remote schemes, which have no emulator here. It lives in one process, so
each program's `main` runs in this one, its absl flags parsed in-process.
Nothing may appear on the local disk.
"""

import io
import os
from pathlib import Path
import uuid

from absl import flags
import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp import export
from tfp_realnvp import storage
from tfp_realnvp import training
from tfp_realnvp.training import figures
from tests import tiny
from tests.programs import program_testing

ROOT = Path(__file__).resolve().parents[1]
TINY = tiny.flags()

pytestmark = pytest.mark.slow


def run_main(program, *args):
  """Runs bin/<program>'s `main` here with `args` as its command line."""
  with program_testing.loaded(program) as module:
    flags.FLAGS([program, *args])
    module.main([program])


def files(root):
  """Every file under `root`, relative to it."""
  return sorted(storage.join(directory, name)[len(root) + 1:]
                for directory, _, names in tf.io.gfile.walk(root)
                for name in names)


@pytest.fixture(scope='module')
def local(tmp_path_factory):
  """The working directory during these tests; it must stay empty."""
  cwd = os.getcwd()
  path = tmp_path_factory.mktemp('cwd')
  os.chdir(path)
  yield path
  os.chdir(cwd)


@pytest.fixture(scope='module')
def ram():
  root = f'ram://remote-{uuid.uuid4().hex}'
  yield root
  storage.remove(root)


@pytest.fixture(scope='module')
def trained(local, ram):
  """bin/train for 1 epoch, then resumed for a second, on ram://."""
  del local
  model_dir = f'{ram}/runs/mnist'
  run_main('train', f'--model_dir={model_dir}', '--epochs=1', *TINY)
  first = files(model_dir)
  run_main('train', f'--model_dir={model_dir}', '--epochs=2', *TINY)
  return model_dir, first


def test_train_writes_and_resumes_on_ram(trained, capsys):
  model_dir, first = trained
  assert 'checkpoints/ckpt-2.index' in first  # after 2 batches
  assert 'config.json' in first and 'samples.png' in first
  after = files(model_dir)
  assert 'checkpoints/ckpt-4.index' in after
  assert any(f.startswith('logs/train/events.out.tfevents') for f in after)
  assert any(f.startswith('logs/validation/events.out.tfevents')
             for f in after)
  result = training.train('mnist', model_dir, epochs=2, verbose=0)
  assert (result.epoch, result.step) == (2, 4)  # resumed: nothing to do
  assert result.samples == f'{model_dir}/samples.png'
  del capsys


def test_evaluate_and_sample_read_and_write_ram(trained, ram, capsys):
  model_dir, _ = trained
  run_main('evaluate', f'--model_dir={model_dir}')
  assert 'bits_per_dim=' in capsys.readouterr().out
  run_main('sample', f'--model_dir={model_dir}', '--num=4',
           f'--out={ram}/out/samples.png')
  assert capsys.readouterr().out.strip() == (
      f'samples: {ram}/out/samples.png')
  png = tf.image.decode_png(tf.io.read_file(f'{ram}/out/samples.png'))
  assert png.shape == (2 * 28, 2 * 28, 1)
  evaluation = training.evaluate(model_dir)
  assert np.isfinite(evaluation.bits_per_dim)


def test_export_and_load_on_ram(trained, ram, capsys):
  model_dir, _ = trained
  export_dir = f'{ram}/models/realnvp'
  run_main('export', f'--model_dir={model_dir}', f'--export_dir={export_dir}')
  assert capsys.readouterr().out.strip() == f'exported: {export_dir}/1'
  assert export.complete_versions(export_dir) == [1]
  assert [name.rstrip('/') for name in tf.io.gfile.listdir(export_dir)] == [
      '1']
  served = tf.saved_model.load(f'{export_dir}/1').signatures
  images = served['sample'](num_samples=tf.constant(3),
                            temperature=tf.constant(0.7),
                            seed=tf.constant(1))['images']
  z = served['encode'](images=images)['z']
  np.testing.assert_array_equal(served['decode'](z=z)['images'], images)
  dist = training.load_model(model_dir)[0].distribution
  assert export.export(dist, export_dir) == f'{export_dir}/2'


def test_latent_figures_on_ram(trained, capsys):
  model_dir, _ = trained
  run_main('latent_figures', f'--model_dir={model_dir}', '--size=4')
  printed = capsys.readouterr().out.split()
  assert printed[1::2] == [f'{model_dir}/figures/{name}.png' for name in
                           ('manifold', 'scales', 'temperature')]
  paths = figures.latent_figures(model_dir, f'{model_dir}/figures2', size=4)
  assert all(tf.io.gfile.exists(path) for path in paths)


def test_data_from_ram(ram, local):
  """A .npz file and an image folder read from ram://."""
  del local
  from tfp_realnvp import data  # pylint: disable=g-import-not-at-top
  images = np.random.default_rng(0).integers(0, 256, [40, 8, 8, 1], np.uint8)
  npz = f'{ram}/data/tiny.npz'
  tf.io.gfile.makedirs(f'{ram}/data')
  buffer = io.BytesIO()
  np.savez(buffer, images=images)
  with tf.io.gfile.GFile(npz, 'wb') as f:
    f.write(buffer.getvalue())
  loaded = np.stack(list(data.load('npz', 'all', npz).as_numpy_iterator()))
  np.testing.assert_array_equal(loaded, images)

  folder = f'{ram}/data/photos'
  # ram:// lists only directories made explicitly (gs:// lists all).
  tf.io.gfile.makedirs(f'{folder}/sub')
  for name in ('astronaut.jpg', 'chelsea.webp', 'coffee.jpg'):
    tf.io.gfile.copy(str(ROOT / 'testdata' / 'photos' / name),
                     f'{folder}/sub/{name}')
  assert data.folder_report(folder).num_images == 3
  train = list(data.load('folder', 'train', folder, image_size=16))
  assert train and all(image.shape == (16, 16, 3) for image in train)


def test_nothing_appeared_on_the_local_disk(trained, local):
  del trained
  assert not list(local.iterdir())
  scheme_dirs = [p for p in (ROOT, Path.cwd()) if (p / 'ram:').exists()]
  assert not scheme_dirs
