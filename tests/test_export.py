"""SavedModel export: signatures, exactness, TF-only loading, versions."""

import os
from pathlib import Path
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp import data
from tfp_realnvp import distributions
from tfp_realnvp import export
from tfp_realnvp import ood
from tfp_realnvp import training
from tests import flow_testing
from tests import tiny

ROOT = Path(__file__).absolute().parents[1]
SHAPE = (28, 28, 1)

# A sitecustomize for the fresh processes: the SavedModel must load and run
# with TensorFlow alone, so the project and its other libraries cannot import.
BLOCKER = """
import importlib.abc
import sys

class Blocker(importlib.abc.MetaPathFinder):
  def find_spec(self, name, path=None, target=None):
    if name.partition('.')[0] in ('tfp_realnvp', 'tensorflow_probability',
                                  'tf_keras'):
      raise ImportError(f'{name} is blocked: serving needs TensorFlow only')

sys.meta_path.insert(0, Blocker())
"""

# Runs in the fresh process: every signature on the images of argv[2].
SERVE = """
import sys
import numpy as np
import tensorflow as tf

try:
  import tensorflow_probability
except ImportError:
  pass
else:
  raise AssertionError('the sitecustomize did not block imports')
model = tf.saved_model.load(sys.argv[1]).signatures
images = tf.constant(np.load(sys.argv[2]))
z = model['encode'](images=images)['z']
samples = model['sample'](num_samples=tf.constant(3),
                          temperature=tf.constant(0.7), seed=tf.constant(5))
default = model['serving_default'](images=images)
ood_score = {f'ood_{k}': v for k, v in model['ood_score'](images=images).items()}
np.savez(sys.argv[3], **model['log_prob'](images=images), **ood_score,
         decoded=model['decode'](z=z)['images'], samples=samples['images'],
         **{f'default_{k}': v for k, v in default.items()})
"""


def run(command, blocker_dir=None):
  """Runs `command`; with `blocker_dir`, unable to import all but TensorFlow."""
  env = {**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2'}
  if blocker_dir:
    env['PYTHONPATH'] = str(blocker_dir)
  result = subprocess.run(command, capture_output=True, text=True, env=env,
                          cwd=blocker_dir, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  return result


@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
  """A tiny model trained for 2 steps on the embedded MNIST (testdata/).

  One scale: the time goes into tracing, which grows with the number of
  couplings. `test_export_writes_the_next_version_and_stays_exact` has two.
  """
  model_dir = tmp_path_factory.mktemp('run') / 'model'
  training.train('mnist', model_dir, **tiny.MODEL, batch_size=32, epochs=1,
                 steps_per_epoch=2, verbose=0)
  return model_dir


@pytest.fixture(scope='module')
def exported(model_dir):
  """bin/export's first version of `model_dir`, and bin/export's stdout."""
  export_dir = model_dir.parent / 'export'
  result = run([ROOT / 'bin' / 'export', f'--model_dir={model_dir}',
                f'--export_dir={export_dir}'])
  return export_dir, result.stdout


@pytest.fixture(scope='module')
def served(exported):
  return tf.saved_model.load(str(exported[0] / '1'))


@pytest.fixture(scope='module')
def dist(model_dir):
  return training.load_model(model_dir)[0].distribution


@pytest.fixture(scope='module')
def images():
  """Real digits and images in which every pixel takes all 256 values."""
  digits = np.stack(list(data.load('mnist', 'validation').take(8)
                         .as_numpy_iterator()))
  every_value = (np.arange(256)[:, None] + np.arange(np.prod(SHAPE))) % 256
  return np.concatenate(
      [digits, every_value.reshape(-1, *SHAPE).astype(np.uint8)])


@pytest.mark.slow
def test_a_bf16_run_is_served_in_float32(tmp_path, images):
  """bfloat16 networks round-trip only to a few pixel levels; the export
  serves the same weights in float32, exact both ways."""
  model_dir = tmp_path / 'bf16'
  training.train('mnist', model_dir, **dict(tiny.MODEL, precision='bf16'),
                 batch_size=32, epochs=1, steps_per_epoch=2, verbose=0)
  run([ROOT / 'bin' / 'export', f'--model_dir={model_dir}',
       f'--export_dir={tmp_path / "export"}'])
  served = tf.saved_model.load(str(tmp_path / 'export' / '1'))
  float32 = training.load_model(model_dir, network_dtype='float32')[0]
  expected = float32.distribution.log_prob(images.astype(np.float32) + 0.5)
  np.testing.assert_allclose(served.log_prob(images=images)['log_prob'],
                             expected, rtol=1e-5)
  z = served.encode(images=images)['z']
  np.testing.assert_array_equal(served.decode(z=z)['images'], images)


@pytest.fixture
def blocker_dir(tmp_path):
  (tmp_path / 'sitecustomize.py').write_text(BLOCKER)
  return tmp_path


@pytest.mark.slow
def test_bin_export_writes_version_1(exported):
  export_dir, stdout = exported
  # One line: a calibrated run says nothing about ood_score.
  assert stdout.splitlines() == [f'exported: {export_dir / "1"}']
  assert sorted(p.name for p in export_dir.iterdir()) == ['1']


@pytest.mark.slow
def test_signatures_have_the_documented_specs_and_dynamic_batch(served):
  size = np.prod(SHAPE)
  images = tf.TensorSpec([None, *SHAPE], tf.uint8, 'images')
  expected = {
      'log_prob': ({'images': images},
                   {'log_prob': [None], 'bits_per_dim': [None]}),
      'sample': ({'num_samples': tf.TensorSpec([], tf.int32, 'num_samples'),
                  'temperature': tf.TensorSpec([], tf.float32, 'temperature'),
                  'seed': tf.TensorSpec([], tf.int32, 'seed')},
                 {'images': [None, *SHAPE]}),
      'encode': ({'images': images}, {'z': [None, size]}),
      'decode': ({'z': tf.TensorSpec([None, size], tf.float32, 'z')},
                 {'images': [None, *SHAPE]}),
  }
  expected['serving_default'] = expected['log_prob']
  expected['ood_score'] = ({'images': images}, {
      'score': [None], 'threshold': [], 'is_ood': [None]})
  assert set(served.signatures) == set(expected)
  for name, (inputs, outputs) in expected.items():
    function = served.signatures[name]
    assert function.structured_input_signature[1] == inputs
    assert {k: v.shape.as_list()
            for k, v in function.structured_outputs.items()} == outputs
  assert served.signatures['sample'].structured_outputs['images'].dtype == (
      tf.uint8)
  assert {k: v.dtype for k, v in served.signatures['ood_score']
          .structured_outputs.items()} == {
              'score': tf.float32, 'threshold': tf.float32, 'is_ood': tf.bool}


@pytest.mark.slow
def test_log_prob_is_the_density_at_the_bin_centre(served, dist, images):
  for batch in (images[:1], images[:40]):
    out = served.signatures['log_prob'](images=tf.constant(batch))
    expected = dist.log_prob(tf.cast(batch, tf.float32) + 0.5)
    np.testing.assert_allclose(out['log_prob'], expected, rtol=1e-5)
    np.testing.assert_allclose(
        out['bits_per_dim'], distributions.bits_per_dim(expected, SHAPE),
        rtol=1e-5)


@pytest.mark.slow
def test_decode_inverts_encode_exactly(served, dist, images):
  z = served.signatures['encode'](images=tf.constant(images))['z']
  expected = dist.bijector.inverse(tf.cast(images, tf.float32) + 0.5)
  np.testing.assert_allclose(z, tf.reshape(expected, [len(images), -1]),
                             rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(
      served.signatures['decode'](z=z)['images'], images)


@pytest.mark.slow
def test_samples_repeat_with_the_seed(served, dist):
  def sample(seed):
    return served.signatures['sample'](
        num_samples=tf.constant(5), temperature=tf.constant(0.7),
        seed=tf.constant(seed))['images'].numpy()

  samples = sample(3)
  assert samples.shape == (5, *SHAPE) and samples.dtype == np.uint8
  np.testing.assert_array_equal(sample(3), samples)
  assert not np.array_equal(sample(4), samples)
  z = 0.7 * tf.random.stateless_normal([5, *SHAPE], seed=[3, 0])
  pixels = dist.bijector.forward(z)
  np.testing.assert_array_equal(
      samples, np.clip(np.floor(pixels), 0, 255).astype(np.uint8))


@pytest.mark.slow
def test_wrong_dtype_or_shape_names_the_expected_spec(served):
  log_prob = served.signatures['log_prob']
  with pytest.raises(tf.errors.InvalidArgumentError, match='uint8'):
    log_prob(images=tf.zeros([2, *SHAPE], tf.float32))
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r'\[2,27,28,1\].*expected shape \[\?,28,28,1\]'):
    log_prob(images=tf.zeros([2, 27, 28, 1], tf.uint8))
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r'expected shape \[\?,784\]'):
    served.signatures['decode'](z=tf.zeros([2, 783]))
  ood_score = served.signatures['ood_score']
  with pytest.raises(tf.errors.InvalidArgumentError, match='uint8'):
    ood_score(images=tf.zeros([2, *SHAPE], tf.float32))
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r'\[2,27,28,1\].*expected shape \[\?,28,28,1\]'):
    ood_score(images=tf.zeros([2, 27, 28, 1], tf.uint8))
  # The restored tf.function checks its input signature before running.
  with pytest.raises(TypeError, match=r'TensorSpec\(shape=\(None, 28, 28, 1\), '
                     r'dtype=tf.uint8'):
    served.log_prob(tf.zeros([2, *SHAPE], tf.float32))


@pytest.mark.slow
def test_serves_with_tensorflow_only(exported, served, dist, images,
                                     blocker_dir, model_dir):
  np.save(blocker_dir / 'images.npy', images)
  out = blocker_dir / 'out.npz'
  run([sys.executable, '-c', SERVE, exported[0] / '1',
       blocker_dir / 'images.npy', out], blocker_dir)
  out = np.load(out)
  np.testing.assert_allclose(
      out['log_prob'], dist.log_prob(tf.cast(images, tf.float32) + 0.5),
      rtol=1e-5)
  # TensorFlow Serving's default: log_prob's outputs, under their names.
  assert {k for k in out if k.startswith('default_')} == {
      'default_log_prob', 'default_bits_per_dim'}
  for key in ('log_prob', 'bits_per_dim'):
    np.testing.assert_array_equal(out[f'default_{key}'], out[key])
  np.testing.assert_array_equal(out['decoded'], images)
  # The recommended score, thresholded at the run's calibration.
  calibration = ood.Calibration.load(model_dir)
  expected = ood.score(ood.statistics(dist, images, orientations=True),
                       calibration).numpy()
  # The combined score's p-values magnify the scores' round-off by their
  # slope between neighbouring calibration scores.
  np.testing.assert_allclose(out['ood_score'], expected, rtol=2e-3,
                             atol=2e-3)
  assert out['ood_threshold'] == np.float32(calibration.threshold())
  np.testing.assert_array_equal(out['ood_is_ood'],
                                out['ood_score'] > out['ood_threshold'])
  # Real digits and images of every value: both sides of the threshold.
  assert 0 < out['ood_is_ood'].sum() < len(images)
  np.testing.assert_array_equal(
      out['samples'], served.signatures['sample'](
          num_samples=tf.constant(3), temperature=tf.constant(0.7),
          seed=tf.constant(5))['images'])


@pytest.mark.slow
def test_ood_score_flag_picks_the_served_score(model_dir, dist, images,
                                               tmp_path):
  export_dir = tmp_path / 'export'
  run([ROOT / 'bin' / 'export', f'--model_dir={model_dir}',
       f'--export_dir={export_dir}', '--ood_score=scales'])
  out = tf.saved_model.load(str(export_dir / '1')).signatures['ood_score'](
      images=tf.constant(images))
  calibration = ood.Calibration.load(model_dir)
  np.testing.assert_allclose(
      out['score'], ood.score(ood.statistics(dist, images), calibration,
                              'scales'), rtol=1e-4)
  assert out['threshold'] == np.float32(calibration.threshold('scales'))
  # A run calibrated before the combined score has no threshold of it.
  older = tmp_path / 'older'
  shutil.copytree(model_dir, older)
  stats = ood.statistics(dist, images)
  ood.calibrate(stats, recommended='scales').save(older)
  result = subprocess.run(
      [ROOT / 'bin' / 'export', f'--model_dir={older}',
       f'--export_dir={tmp_path / "other"}', '--ood_score=scales_orientation'],
      capture_output=True, text=True, timeout=300,
      env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2'})
  assert result.returncode == 1
  assert result.stderr.strip().splitlines()[-1].startswith(
      f'error: --ood_score=scales_orientation: {older}/ood_calibration.json '
      'has no threshold of it')
  assert not (tmp_path / 'other').exists()


@pytest.mark.slow
def test_saved_model_cli_runs_log_prob(exported, dist, blocker_dir):
  # This saved_model_cli takes Python literals only, not np.zeros(...).
  zeros = np.zeros([2, *SHAPE], np.uint8)
  result = run([Path(sys.executable).parent / 'saved_model_cli', 'run',
                '--dir', exported[0] / '1', '--tag_set', 'serve',
                '--signature_def', 'log_prob',
                '--input_exprs', f'images={zeros.tolist()}'], blocker_dir)
  printed = re.search(r'output key log_prob:\s*\[([^\]]*)\]', result.stdout)
  assert 'output key bits_per_dim' in result.stdout, result.stdout
  np.testing.assert_allclose(np.array(printed[1].split(), np.float32),
                             dist.log_prob(tf.fill(zeros.shape, 0.5)),
                             rtol=1e-5)


@pytest.mark.slow
def test_saved_model_cli_shows_serving_default_as_log_prob(exported,
                                                           blocker_dir):
  def show(*args):
    return run([Path(sys.executable).parent / 'saved_model_cli', 'show',
                '--dir', exported[0] / '1', *args], blocker_dir).stdout

  listed = show('--tag_set', 'serve')
  # Less the SavedModel's own initializer signature.
  assert re.findall(r'SignatureDef key: "([^_]\w+)"', listed) == sorted(
      ['decode', 'encode', 'log_prob', 'ood_score', 'sample',
       'serving_default']), listed
  def specs(name):  # Less the graph's tensor names, which name the signature.
    return re.sub(r'\n *name: \S+', '', show(
        '--tag_set', 'serve', '--signature_def', name))

  assert specs('serving_default') == specs('log_prob')
  assert "outputs['bits_per_dim']" in specs('serving_default')


@pytest.mark.slow
def test_a_run_without_calibration_exports_without_ood_score(model_dir,
                                                             tmp_path):
  # A run trained before the scores: its directory without the file.
  old = tmp_path / 'old'
  shutil.copytree(model_dir, old)
  (old / ood.CALIBRATION_FILE).unlink()
  result = run([ROOT / 'bin' / 'export', f'--model_dir={old}',
                f'--export_dir={tmp_path / "export"}'])
  lines = result.stdout.splitlines()
  assert len(lines) == 2 and lines[-1].startswith('exported: ')
  assert lines[0].startswith(f'no {ood.CALIBRATION_FILE} in {old}')
  assert 'without ood_score' in lines[0]
  served = tf.saved_model.load(str(tmp_path / 'export' / '1'))
  assert 'ood_score' not in served.signatures and 'log_prob' in (
      served.signatures)


@pytest.fixture(scope='module')
def multi_scale():
  """Two scales (squeeze, factor-out), moved away from the identity."""
  dist = distributions.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=1, num_filters=4)
  flow_testing.perturb(dist.bijector, scale=0.02)
  return dist


@pytest.mark.slow
def test_export_writes_the_next_version_and_stays_exact(multi_scale,
                                                        tmp_path):
  for name in ('1', '7', 'notes', '.tmp-export-old'):
    (tmp_path / name).mkdir()
  assert export.export(multi_scale, tmp_path) == str(tmp_path / '8')
  assert export.versions(tmp_path) == [1, 7, 8]
  assert not list((tmp_path / '1').iterdir())

  served = tf.saved_model.load(str(tmp_path / '8')).signatures
  images = (np.arange(256)[:, None] + np.arange(64)) % 256
  images = images.reshape(-1, 8, 8, 1).astype(np.uint8)
  np.testing.assert_allclose(
      served['log_prob'](images=tf.constant(images))['log_prob'],
      multi_scale.log_prob(tf.cast(images, tf.float32) + 0.5), rtol=1e-5)
  z = served['encode'](images=tf.constant(images))['z']
  np.testing.assert_array_equal(served['decode'](z=z)['images'], images)


@pytest.mark.slow
@pytest.mark.parametrize('recommended', ['scales', 'orientation',
                                         'scales_orientation'])
def test_ood_score_of_a_multi_scale_model(multi_scale, tmp_path, recommended):
  rng = np.random.default_rng(0)
  # Noise of 2 to 256 levels: PNG lengths that differ.
  levels = np.repeat(2 ** np.arange(1, 9), 3)[:, None, None, None]
  images = np.concatenate([
      rng.integers(0, levels, [24, 8, 8, 1]), np.full([4, 8, 8, 1], 9),
      np.zeros([1, 8, 8, 1])]).astype(np.uint8)
  calibration = ood.calibrate(
      ood.statistics(multi_scale, images[:24], orientations=True),
      recommended=recommended)
  path = export.export(multi_scale, tmp_path, calibration=calibration)
  out = tf.saved_model.load(path).signatures['ood_score'](
      images=tf.constant(images))
  np.testing.assert_allclose(
      out['score'], ood.score(ood.statistics(multi_scale, images, True),
                              calibration, recommended), rtol=2e-3)
  assert out['threshold'] == np.float32(calibration.threshold())
  np.testing.assert_array_equal(out['is_ood'],
                                out['score'] > out['threshold'])


def test_failed_export_leaves_nothing_behind(multi_scale, tmp_path,
                                             monkeypatch):
  (tmp_path / '1').mkdir()

  def save_then_fail(obj, path, **kwargs):
    (Path(path) / 'saved_model.pb').write_bytes(b'partial')
    raise OSError('disk full')

  monkeypatch.setattr(tf.saved_model, 'save', save_then_fail)
  with pytest.raises(OSError, match='disk full'):
    export.export(multi_scale, tmp_path)
  assert [p.name for p in tmp_path.iterdir()] == ['1']


# Runs in the fresh process: the conditional signatures with labels, and
# out-of-range class ids.
SERVE_CONDITIONAL = """
import sys
import numpy as np
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1]).signatures
images = tf.constant(np.load(sys.argv[2]))
labels = tf.range(len(images)) % 10
z = model['encode'](images=images, labels=labels)['z']
samples = model['sample'](num_samples=tf.constant(3),
                          temperature=tf.constant(0.7), seed=tf.constant(5),
                          label=tf.constant(4))
errors = []
for call in (lambda: model['log_prob'](images=images, labels=labels + 10),
             lambda: model['decode'](z=z, labels=labels - 10),
             lambda: model['sample'](num_samples=tf.constant(2),
                                     temperature=tf.constant(0.7),
                                     seed=tf.constant(5),
                                     label=tf.constant(10)),
             lambda: model['encode'](images=images, labels=labels[:2])):
  try:
    call()
    errors.append('no error')
  except tf.errors.InvalidArgumentError as e:
    errors.append(e.message)
default = model['serving_default'](images=images, labels=labels)
np.savez(sys.argv[3], **model['log_prob'](images=images, labels=labels),
         **{f'default_{k}': v for k, v in default.items()}, z=z, decoded=model['decode'](z=z, labels=labels)['images'],
         samples=samples['images'], errors=np.array(errors))
"""


@pytest.fixture(scope='module')
def conditional(tmp_path_factory):
  """bin/train --conditional then bin/export: the model and its export."""
  root = tmp_path_factory.mktemp('conditional')
  run([ROOT / 'bin' / 'train', f'--model_dir={root / "model"}',
       '--conditional', *tiny.flags(epochs=1)])
  result = run([ROOT / 'bin' / 'export', f'--model_dir={root / "model"}',
                f'--export_dir={root / "export"}'])
  assert result.stdout.splitlines()[-1] == f'exported: {root / "export" / "1"}'
  model, _ = training.load_model(root / 'model')
  return model, root / 'export' / '1'


@pytest.mark.slow
def test_conditional_export_takes_labels_with_tensorflow_only(
    conditional, images, blocker_dir):
  model, path = conditional
  served = tf.saved_model.load(str(path))
  size = np.prod(SHAPE)
  labels_spec = tf.TensorSpec([None], tf.int32, 'labels')
  assert served.signatures['log_prob'].structured_input_signature[1] == {
      'images': tf.TensorSpec([None, *SHAPE], tf.uint8, 'images'),
      'labels': labels_spec}
  assert served.signatures['decode'].structured_input_signature[1] == {
      'z': tf.TensorSpec([None, size], tf.float32, 'z'),
      'labels': labels_spec}
  assert 'label' in served.signatures['sample'].structured_input_signature[1]

  np.save(blocker_dir / 'images.npy', images)
  out = blocker_dir / 'out.npz'
  run([sys.executable, '-c', SERVE_CONDITIONAL, path,
       blocker_dir / 'images.npy', out], blocker_dir)
  out = np.load(out)
  labels = np.arange(len(images)) % 10
  condition = model.condition(labels)
  pixels = tf.cast(images, tf.float32) + 0.5
  np.testing.assert_allclose(
      out['log_prob'], model.distribution.log_prob(
          pixels, bijector_kwargs=condition), rtol=1e-5)
  assert served.signatures['serving_default'].structured_input_signature[
      1] == served.signatures['log_prob'].structured_input_signature[1]
  for key in ('log_prob', 'bits_per_dim'):
    np.testing.assert_array_equal(out[f'default_{key}'], out[key])
  np.testing.assert_allclose(
      out['z'], tf.reshape(model.distribution.bijector.inverse(
          pixels, **condition), [len(images), -1]), rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(out['decoded'], images)
  z = 0.7 * tf.random.stateless_normal([3, *SHAPE], seed=[5, 0])
  expected = model.distribution.bijector.forward(
      z, **model.condition(tf.fill([3], 4)))
  # The served graph and this process round differently in the last bit,
  # which can move a value lying on an integer across the floor.
  expected = np.clip(expected.numpy(), 0, 255.999)
  off = out['samples'].astype(int) - np.floor(expected)
  on_integer = np.abs(expected - np.round(expected)) < 1e-3
  assert np.all((off == 0) | ((np.abs(off) == 1) & on_integer))
  assert np.mean(off == 0) > 0.99
  # A different class gives different log-likelihoods.
  other = model.distribution.log_prob(
      pixels, bijector_kwargs=model.condition((labels + 1) % 10))
  assert not np.allclose(out['log_prob'], other)
  errors = list(out['errors'])
  for message in errors[:3]:
    assert 'labels must be class ids in [0, 10)' in message, errors
  assert 'one label per image' in errors[3], errors
