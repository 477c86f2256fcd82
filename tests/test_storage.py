"""Paths on any TensorFlow filesystem: no URL becomes a local path."""

import ast
import os
from pathlib import Path
import re
import types
import uuid

import pytest
import tensorflow as tf

from tfp_realnvp import storage
from tfp_realnvp import training
from tfp_realnvp.training import presets
from tfp_realnvp.training import strategies
from tests import tiny

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ram():
  """A fresh ram:// directory, removed afterwards."""
  path = f'ram://test-{uuid.uuid4().hex}'
  yield path
  storage.remove(path)


@pytest.fixture
def empty_cwd(tmp_path, monkeypatch):
  """Runs the test in an empty directory; checks that it stays empty."""
  monkeypatch.chdir(tmp_path)
  yield tmp_path
  assert not list(tmp_path.iterdir())


def test_join_keeps_the_scheme_and_paths_stay_strings():
  assert storage.join('gs://bucket/run', 'checkpoints') == (
      'gs://bucket/run/checkpoints')
  assert storage.join('ram://a', 'b', 'c.png') == 'ram://a/b/c.png'
  assert storage.join(Path('/tmp/x'), 'y') == '/tmp/x/y'
  assert storage.scheme('gs://bucket/run') == 'gs'
  assert storage.scheme('/tmp/gs://x') is None
  assert storage.scheme('runs/mnist') is None


def test_a_url_turned_into_a_path_is_refused():
  with pytest.raises(ValueError, match=r'gs:// URL turned into a local path'):
    storage.join(Path('gs://bucket/run'), 'checkpoints')


def test_an_unknown_scheme_fails_naming_path_and_scheme(empty_cwd):
  with pytest.raises(ValueError, match=r'model_dir nosuch://bucket/run: '
                     r'TensorFlow has no filesystem for the scheme nosuch://'):
    training.train('mnist', 'nosuch://bucket/run', epochs=1, verbose=0)
  # empty_cwd checks that no local 'nosuch:' folder appeared.


@pytest.mark.parametrize('function', [
    lambda path: training.load_model(path),
    lambda path: training.sample(path, 'nosuch://bucket/out.png'),
    lambda path: presets.Config.load(path),
])
def test_readers_refuse_unknown_schemes(function, empty_cwd):
  with pytest.raises((ValueError, tf.errors.UnimplementedError),
                     match='nosuch'):
    function('nosuch://bucket/run')


def test_a_library_without_the_scheme_fails_clearly(ram):
  from tfp_realnvp import data  # pylint: disable=g-import-not-at-top
  with pytest.raises(ValueError, match=r'tfds data_dir ram://.*: '
                     r'tensorflow_datasets .* cannot read ram:// paths'):
    data.load('cifar10', 'train', ram)


def _without_docstrings(source):
  """`source` with its docstrings blanked: their examples may use local files
  (a temporary directory, a `pathlib.Path` given to a function)."""
  lines = source.splitlines()
  for node in ast.walk(ast.parse(source)):
    body = getattr(node, 'body', None)
    if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)):
      for i in range(body[0].lineno - 1, body[0].end_lineno):
        lines[i] = ''
  return '\n'.join(lines)


def test_no_module_builds_local_paths_or_writes_without_gfile():
  """Every file goes through tf.io.gfile; no pathlib.Path of a path. (The
  profiler's throwaway trace directory is a local tempfile.)"""
  forbidden = re.compile(
      r'^\s*(from pathlib|import pathlib|import shutil)|'
      r'(?<![\w.])(Path|open)\(|os\.(replace|rename|makedirs|remove|listdir)\b|'
      r'\.(write_text|write_bytes|read_text|read_bytes|mkdir|iterdir|rglob)\(',
      re.M)
  offenders = {}
  for path in [*ROOT.glob('tfp_realnvp/**/*.py'),
               *(ROOT / 'bin').glob('*.py')]:
    text = _without_docstrings(path.read_text())
    # storage.read_bytes is the gfile reader; /proc/self/status is the
    # benchmark's view of its own memory and /proc/cpuinfo the CPU's flags,
    # no project file.
    found = [m[0] for m in forbidden.finditer(
        text.replace('storage.read_bytes(', '')
        .replace("open('/proc/self/status')", '')
        .replace("open('/proc/cpuinfo')", ''))]
    if found:
      offenders[str(path.relative_to(ROOT))] = found
  assert not offenders


def test_config_is_written_atomically_on_ram(ram):
  config = presets.make_config('mnist', num_scales=1)
  config.save(ram)
  assert tf.io.gfile.listdir(ram) == [presets.CONFIG_FILE]
  assert presets.Config.load(ram) == config


def test_publish_copies_the_marker_last(ram, monkeypatch):
  src, dst = f'{ram}/.tmp', f'{ram}/1'
  for name in ('saved_model.pb', 'variables/variables.index', 'z.pb'):
    tf.io.gfile.makedirs(os.path.dirname(f'{src}/{name}'))
    with tf.io.gfile.GFile(f'{src}/{name}', 'wb') as f:
      f.write(name.encode())
  copied = []
  copy = tf.io.gfile.copy
  monkeypatch.setattr(tf.io.gfile, 'copy', lambda a, b, overwrite: (
      copied.append(b), copy(a, b, overwrite)))
  assert storage.publish_dir(src, dst, last='saved_model.pb') == dst
  assert copied[-1] == f'{dst}/saved_model.pb' and len(copied) == 3
  assert not tf.io.gfile.exists(src)
  with tf.io.gfile.GFile(f'{dst}/variables/variables.index', 'rb') as f:
    assert f.read() == b'variables/variables.index'


def _worker(task_id):
  """What write_dir reads of a non-chief MultiWorkerMirroredStrategy."""
  return types.SimpleNamespace(
      extended=types.SimpleNamespace(should_checkpoint=False),
      cluster_resolver=types.SimpleNamespace(task_id=task_id))


def test_a_worker_writes_to_its_scratch_dir_on_the_same_filesystem(ram):
  model_dir = f'{ram}/run'
  stale = f'{model_dir}/workertemp_1/checkpoints/ckpt-1.index'
  tf.io.gfile.makedirs(os.path.dirname(stale))
  with tf.io.gfile.GFile(stale, 'wb') as f:  # left by a killed worker
    f.write(b'old')
  scratch = strategies.write_dir(model_dir, _worker(1))
  assert scratch == f'{model_dir}/workertemp_1'
  assert tf.io.gfile.listdir(scratch) == []
  chief = types.SimpleNamespace(
      extended=types.SimpleNamespace(should_checkpoint=True))
  assert strategies.write_dir(model_dir, chief) == model_dir
  strategies.remove_write_dir(model_dir, model_dir)  # the chief's: kept
  strategies.remove_write_dir(model_dir, scratch)
  assert tf.io.gfile.listdir(model_dir) == []


@pytest.mark.slow
def test_a_worker_trains_in_scratch_and_cleans_it_up(ram, monkeypatch):
  """train() on a non-chief: nothing of it stays in model_dir."""
  model_dir = f'{ram}/run'
  seen = []
  write_dir = strategies.write_dir

  def worker_write_dir(model_dir, strategy):
    del strategy
    seen.append(write_dir(model_dir, _worker(1)))
    return seen[-1]

  monkeypatch.setattr(strategies, 'write_dir', worker_write_dir)
  result = training.train('mnist', model_dir, **tiny.MODEL, batch_size=16,
                          epochs=1, steps_per_epoch=1, verbose=0)
  assert seen == [f'{model_dir}/workertemp_1']
  assert result.checkpoint.startswith(seen[0])
  assert tf.io.gfile.listdir(model_dir) == []


def test_local_home_is_expanded_and_urls_are_kept():
  # A shell leaves `--data_dir=~/data` unexpanded.
  assert storage.as_str('~/data/x.npz') == os.path.expanduser('~/data/x.npz')
  assert storage.join('~', 'runs') == os.path.join(os.path.expanduser('~'),
                                                    'runs')
  assert storage.as_str('ram://~/x') == 'ram://~/x'


def test_check_writable_refuses_what_cannot_be_written(tmp_path):
  (tmp_path / 'a_file').write_text('x')
  (tmp_path / 'a_dir').mkdir()
  before = sorted(tmp_path.rglob('*'))
  a_file, a_dir = str(tmp_path / 'a_file'), str(tmp_path / 'a_dir')
  with pytest.raises(IsADirectoryError, match=f'^out {a_dir} is a dir'):
    storage.check_writable(a_dir, 'out')
  with pytest.raises(NotADirectoryError, match=f'^out_dir {a_file} is a file'):
    storage.check_writable(a_file, 'out_dir', directory=True)
  with pytest.raises(NotADirectoryError, match=f'{a_file} is a file, so no'):
    storage.check_writable(f'{a_file}/x/y.png', 'out')
  with pytest.raises(ValueError, match='^out is empty'):
    storage.check_writable('', 'out')
  # What can be written passes, and nothing is created.
  assert storage.check_writable(f'{a_dir}/new/y.png', 'out') == (
      f'{a_dir}/new/y.png')
  assert storage.check_writable(a_dir, 'out_dir', directory=True) == a_dir
  assert storage.check_writable(a_file, 'out') == a_file
  assert sorted(tmp_path.rglob('*')) == before


def test_check_writable_on_ram(ram):
  tf.io.gfile.makedirs(f'{ram}/d')
  assert storage.check_writable(f'{ram}/d/new/x.png', 'out')
  with pytest.raises(IsADirectoryError, match=f'{ram}/d'):
    storage.check_writable(f'{ram}/d', 'out')
