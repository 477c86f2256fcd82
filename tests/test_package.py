"""A wheel built from the checkout, installed in a fresh virtual environment,
runs the default training and evaluation outside the checkout; installed
without extras, its console scripts name the extra they need in one line."""

import importlib.metadata
import os
from pathlib import Path
import re
import shutil
import site
import subprocess
import sys
import zipfile

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
import pytest

import tfp_realnvp
from tests import tiny

ROOT = Path(__file__).absolute().parents[1]
TINY = tiny.flags(epochs=1)
# Nothing of the checkout on the path: the installed package must suffice.
ENV = {k: v for k, v in os.environ.items()
       if k not in ('PYTHONPATH', 'VIRTUAL_ENV')} | {'TF_CPP_MIN_LOG_LEVEL': '2'}
# What TensorFlow's native code logs when it loads, whatever
# TF_CPP_MIN_LOG_LEVEL says (oneDNN, CUDA): not the programs' output.
TENSORFLOW_LOG = re.compile(
    r'WARNING: All log messages before absl::InitializeLog\(\) is called'
    r'|[IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\] ')
SCRIPTS = ('train', 'evaluate', 'sample', 'export', 'latent-figures', 'params')

pytestmark = pytest.mark.slow


def run(*command, cwd):
  result = subprocess.run([str(c) for c in command], capture_output=True,
                          text=True, cwd=cwd, env=ENV, timeout=600)
  assert result.returncode == 0, (command, result.stderr[-3000:])
  return result


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
  """The wheel of a copy of the sources (a build in the checkout would leave
  build/ and .egg-info there)."""
  tmp = tmp_path_factory.mktemp('build')
  source = tmp / 'source'
  shutil.copytree(ROOT / 'tfp_realnvp', source / 'tfp_realnvp',
                  ignore=shutil.ignore_patterns('__pycache__', 'BUILD'))
  for name in ('pyproject.toml', 'README.md'):
    shutil.copy(ROOT / name, source / name)
  # The environment's setuptools (test extra): no download of build tools.
  run(sys.executable, '-m', 'pip', 'wheel', '--no-deps',
      '--no-build-isolation', '-q', '-w', tmp / 'dist', source, cwd=tmp)
  wheel, = (tmp / 'dist').glob('tfp_realnvp-*.whl')
  return wheel


@pytest.fixture(scope='module')
def venv(wheel, tmp_path_factory):
  """A fresh virtual environment with the wheel and its `programs` extra.

  The dependencies (TensorFlow and the rest, gigabytes) come from this
  environment's site-packages through a .pth file instead of a download;
  pip resolves the wheel's requirements against them, so a range that
  excludes a version tested here fails the install.
  """
  venv = tmp_path_factory.mktemp('venv')
  run(sys.executable, '-m', 'venv', venv, cwd=venv)
  python = venv / 'bin' / 'python'
  purelib = run(python, '-c', 'import sysconfig; print(sysconfig.get_path('
                "'purelib'))", cwd=venv).stdout.strip()
  (Path(purelib) / 'test_dependencies.pth').write_text(
      '\n'.join(site.getsitepackages()) + '\n')
  run(python, '-m', 'pip', 'install', '-q', '--no-index',
      f'{wheel}[programs,lmdb]', cwd=venv)
  return venv


def _plain_install_closure(requirements):
  """This environment's distributions that installing `requirements` brings
  (their requirements too, extras only where a requirement names them)."""
  found = {}
  todo = [(text, frozenset([''])) for text in requirements]
  while todo:
    text, extras = todo.pop()
    requirement = Requirement(text)
    if requirement.marker and not any(
        requirement.marker.evaluate({'extra': e}) for e in extras):
      continue
    name = canonicalize_name(requirement.name)
    wanted = frozenset([''] + sorted(requirement.extras))
    new = wanted - found.get(name, (None, frozenset()))[1]
    if not new:
      continue
    dist = importlib.metadata.distribution(name)
    found[name] = (dist, found.get(name, (None, frozenset()))[1] | new)
    todo += [(r, new) for r in dist.requires or ()]
  return [dist for dist, _ in found.values()]


@pytest.fixture(scope='module')
def plain_venv(wheel, tmp_path_factory):
  """A fresh virtual environment with the wheel alone, no extra.

  As `venv`, its dependencies come from this environment, but only those a
  plain install brings: a directory of links to their files (this
  environment also has the extras' modules).
  """
  venv = tmp_path_factory.mktemp('plain_venv')
  with zipfile.ZipFile(wheel) as archive:
    metadata = archive.read(next(
        n for n in archive.namelist() if n.endswith('.dist-info/METADATA')))
  requires = re.findall(r'^Requires-Dist: (.*)$', metadata.decode(), re.M)
  deps = venv / 'deps'
  deps.mkdir()
  for dist in _plain_install_closure(requires):
    for top in {f.parts[0] for f in dist.files or ()}:
      if top not in ('..', '__pycache__') and not (deps / top).exists():
        (deps / top).symlink_to(dist.locate_file(top))
  run(sys.executable, '-m', 'venv', venv, cwd=venv)
  python = venv / 'bin' / 'python'
  purelib = run(python, '-c', 'import sysconfig; print(sysconfig.get_path('
                "'purelib'))", cwd=venv).stdout.strip()
  (Path(purelib) / 'test_dependencies.pth').write_text(f'{deps}\n')
  run(python, '-m', 'pip', 'install', '-q', '--no-index', wheel, cwd=venv)
  assert subprocess.run(  # the library is there, the programs' data is not
      [python, '-c', 'import tfp_realnvp, importlib.util, sys; '
       'sys.exit(importlib.util.find_spec("tensorflow_datasets") is None)'],
      cwd=venv, env=ENV, timeout=300).returncode == 1
  return venv


@pytest.mark.parametrize('script', SCRIPTS)
def test_console_scripts_without_the_extra_name_it_in_one_line(
    plain_venv, tmp_path, script):
  result = subprocess.run([plain_venv / 'bin' / f'tfp-realnvp-{script}'],
                          capture_output=True, text=True, cwd=tmp_path,
                          env=ENV, timeout=300)
  assert result.returncode == 1, result.stderr[-3000:]
  assert 'Traceback' not in result.stderr
  lines = [line for line in result.stderr.splitlines()
           if not TENSORFLOW_LOG.match(line)]
  assert len(lines) == 1, result.stderr[-3000:]
  assert result.stderr.endswith(lines[0] + '\n')
  assert lines[0].startswith(f'error: tfp-realnvp-{script} needs the '
                             "'programs' extra")
  assert lines[0].endswith("pip install 'tfp_realnvp[programs]'")
  assert result.stdout == ''


def test_wheel_holds_the_package_data_and_console_scripts(wheel):
  with zipfile.ZipFile(wheel) as archive:
    names = archive.namelist()
    entry_points = archive.read(next(
        n for n in names if n.endswith('entry_points.txt'))).decode()
  assert 'tfp_realnvp/data/mnist_train4500.npz' in names
  assert 'tfp_realnvp/data/EMBEDDED_MNIST.md' in names
  assert not [n for n in names if n.startswith(('tests/', 'bin/'))]
  for script in SCRIPTS:
    function = script.replace('-', '_')
    assert (f'tfp-realnvp-{script} = tfp_realnvp.programs._scripts:{function}'
            in entry_points)
  assert f'tfp_realnvp-{tfp_realnvp.__version__}-' in wheel.name


def test_installed_package_is_the_wheels(venv, tmp_path):
  out = run(venv / 'bin' / 'python', '-c',
            'import tfp_realnvp; print(tfp_realnvp.__file__); '
            'print(tfp_realnvp.__version__)', cwd=tmp_path).stdout.split()
  assert Path(out[0]).is_relative_to(venv)
  assert out[1] == tfp_realnvp.__version__


@pytest.fixture(scope='module')
def outside(venv, tmp_path_factory):
  """A directory that is not the checkout, where tfp-realnvp-train ran the
  default training (embedded MNIST), shortened."""
  cwd = tmp_path_factory.mktemp('outside')
  assert not cwd.is_relative_to(ROOT)
  trained = run(venv / 'bin' / 'tfp-realnvp-train', *TINY, cwd=cwd)
  assert re.search(r'validation bits/dim: \d+\.\d+', trained.stdout)
  assert (cwd / 'runs' / 'mnist' / 'samples.png').is_file()
  return cwd


def test_python_m_evaluates_the_trained_model(venv, outside):
  evaluated = run(venv / 'bin' / 'python', '-m',
                  'tfp_realnvp.programs.evaluate', '--model_dir=runs/mnist',
                  cwd=outside)
  assert re.search(r'bits_per_dim=\S+ stderr=\S+ n=500$', evaluated.stdout)


@pytest.mark.parametrize('script, args, wrote', [
    ('sample', ['--out=grid.png', '--num=4'], 'grid.png'),
    ('export', ['--export_dir=served'], 'served/1/saved_model.pb'),
    ('latent-figures', ['--out_dir=figures', '--size=4'],
     'figures/manifold.png'),
])
def test_console_scripts_run_outside_the_checkout(venv, outside, script, args,
                                                  wrote):
  run(venv / 'bin' / f'tfp-realnvp-{script}', '--model_dir=runs/mnist', *args,
      cwd=outside)
  assert (outside / wrote).is_file()


def test_params_script_counts_a_preset(venv, tmp_path):
  out = run(venv / 'bin' / 'tfp-realnvp-params', '--datasets=mnist',
            cwd=tmp_path).stdout
  assert re.search(r'^mnist \| 28x28x1 \|', out, re.M)


def test_bin_uses_an_active_environment_that_has_what_it_needs(venv,
                                                               tmp_path):
  """bin/_env runs the programs with the active virtual environment if it
  has their modules, else with its own (here TFP_REALNVP_VENV, this one)."""
  bare = tmp_path / 'bare'
  run(sys.executable, '-m', 'venv', '--without-pip', bare, cwd=tmp_path)
  chosen = {}
  for active in (venv, bare):
    env = {**ENV, 'VIRTUAL_ENV': str(active), 'TFP_REALNVP_VENV': sys.prefix}
    if active == venv:
      del env['TFP_REALNVP_VENV']
    result = subprocess.run(
        ['bash', '-c', f'source {ROOT / "bin" / "_env"} && echo "$PY"'],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    chosen[active] = Path(result.stdout.strip())
  assert chosen[venv] == venv / 'bin' / 'python'
  assert chosen[bare] == Path(sys.prefix) / 'bin' / 'python'


@pytest.mark.parametrize('given,expected', [
    (None, 'glibc.malloc.hugetlb=1'),  # bin/'s own
    ('', ''),  # off
    ('glibc.malloc.arena_max=2', 'glibc.malloc.arena_max=2'),  # the caller's
])
def test_bin_asks_glibc_for_huge_pages_unless_told_otherwise(tmp_path, given,
                                                             expected):
  env = {k: v for k, v in ENV.items() if k != 'GLIBC_TUNABLES'}
  env['VIRTUAL_ENV'] = sys.prefix  # this environment: nothing to install
  if given is not None:
    env['GLIBC_TUNABLES'] = given
  result = subprocess.run(
      ['bash', '-c', f'source {ROOT / "bin" / "_env"} && '
       'echo "[$GLIBC_TUNABLES]"'],
      capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout.strip() == f'[{expected}]'
