"""Every program fails one way: a bad flag value or path ends it with the one
line `error: ...` naming the flag or the path, exit status 1, no traceback,
nothing written.

Most examples run a program's `run()` in this process (TensorFlow is
imported once); a few run bin/<program> to check the real stderr.
"""

import contextlib
import io
import os
from pathlib import Path
import subprocess
import sys

from absl import app
from absl import flags
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest
import tensorflow as tf

from tfp_realnvp import data
from tfp_realnvp import training
from tfp_realnvp.programs import _cli
from tfp_realnvp.training import strategies
from tests import tiny
from tests.programs import program_testing

ROOT = Path(__file__).absolute().parents[2]
TINY = dict(tiny.RUN, epochs=1)
TINY_FLAGS = tiny.flags(epochs=1)

pytestmark = pytest.mark.slow

# Defined before any program's flags are counted, so that removing those
# keeps them (app.run defines them once per process).
app.define_help_flags()

nonfinite = st.sampled_from(['nan', 'inf', '-inf'])
# Words that are no number (not even nan or inf) and no enum value.
VALID = {'nan', 'inf', 'infinity', 'train', 'validation', 'all',
         *data.DATASET_NAMES, *strategies.PRECISIONS, *strategies.STRATEGIES}
words = st.from_regex(r'[a-z][a-z0-9_]{0,6}', fullmatch=True).filter(
    lambda w: w not in VALID)


def not_positive(kind=st.integers):
  return kind(max_value=0).map(repr) if kind is st.integers else st.one_of(
      st.floats(max_value=0, allow_nan=False).map(repr), nonfinite)


def bad(flag, values, expected=None):
  """Cases `--flag=<value>`; the error must name `expected` (the flag)."""
  return values.map(lambda v: ([f'--{flag}={v}'], expected or flag))


def case(args, expected):
  return st.just((args, str(expected)))


def tree(*roots):
  """Every file and directory under `roots`: what an example must not change."""
  return {str(p) for root in roots for p in Path(root).rglob('*')}


def run_program(program, args):
  """(exit status, stderr) of `tfp_realnvp.programs.<program>.run()` run
  with `args` in this process."""
  stderr = io.StringIO()
  argv = sys.argv
  try:
    with program_testing.loaded(program) as module:
      sys.argv = [program, *args]
      with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as e:
        module.run()
  finally:
    sys.argv = argv
  return e.value.code, stderr.getvalue()


@pytest.fixture(scope='module')
def paths(tmp_path_factory):
  """The trained models, a file, a directory; the working directory is an
  empty one, where nothing may appear."""
  root = tmp_path_factory.mktemp('bad_flags')
  models = root / 'models'
  for name, conditional in (('plain', False), ('conditional', True)):
    training.train('mnist', str(models / name), conditional=conditional,
                   verbose=0, **TINY)
  scratch = root / 'scratch'
  (scratch / 'a_dir').mkdir(parents=True)
  (scratch / 'a_file').write_text('not a directory')
  cwd = root / 'cwd'
  cwd.mkdir()
  old = os.getcwd()
  os.chdir(cwd)
  yield dict(plain=models / 'plain', conditional=models / 'conditional',
             scratch=scratch, a_dir=scratch / 'a_dir',
             a_file=scratch / 'a_file', cwd=cwd, models=models)
  os.chdir(old)


def cases(program, p):
  """(program's flags but the bad one, strategy of (bad args, expected))."""
  a_file, a_dir, new = p['a_file'], p['a_dir'], p['scratch'] / 'new'
  model = [f'--model_dir={p["plain"]}']
  if program == 'train':
    return [f'--model_dir={new}', *TINY_FLAGS], st.one_of(
        *(bad(f, not_positive()) for f in (
            'batch_size', 'epochs', 'num_filters', 'num_scales',
            'steps_per_epoch', 'max_nonfinite', 'collective_timeout',
            'checkpoint_every_steps', 'keep_checkpoints',
            'validate_every_steps')),
        bad('checkpoint_every_minutes', not_positive(st.floats)),
        *(bad(f, st.integers(max_value=-1).map(repr))
          for f in ('num_res_blocks', 'seed')),
        *(bad(f, not_positive(st.floats))
          for f in ('learning_rate', 'clip_norm')),
        bad('l2', st.one_of(st.floats(max_value=-1e-300).map(repr),
                            nonfinite)),
        *(bad(f, words) for f in ('batch_size', 'learning_rate', 'epochs',
                                  'dataset', 'precision', 'strategy')),
        case([f'--model_dir={a_file}'], a_file),
        case([f'--model_dir={a_file}/run'], a_file),
        case(['--conditional', '--dataset=cifar10'], 'conditional'),
        case(['--no_such_flag=1'], 'no_such_flag'))
  if program == 'evaluate':
    return model, st.one_of(
        bad('split', words), bad('dataset', words),
        bad('batch_size', not_positive()),
        bad('seed', st.integers(max_value=-1).map(repr)),
        case([f'--model_dir={new}'], new),
        case([f'--model_dir={a_file}'], a_file),
        case(['--model_dir='], 'model_dir'),
        case(['--model_dir'], 'model_dir'))
  if program == 'sample':
    return [*model, f'--out={new}/s.png'], st.one_of(
        bad('num', not_positive()),
        bad('temperature', not_positive(st.floats)),
        bad('temperature', words),
        bad('label', st.integers(max_value=-1).map(repr)),
        bad('label', st.integers(0, 99).map(repr)),  # unconditional model
        bad('seed', st.integers(max_value=-1).map(repr)),
        st.integers(10, 10**6).map(lambda label: (
            [f'--model_dir={p["conditional"]}', f'--label={label}'],
            'label')),
        case([f'--model_dir={p["conditional"]}', '--label=3',
              '--batch_statistics'], 'batch_statistics with a label'),
        case([f'--out={a_dir}'], a_dir),
        case(['--out='], 'out'),
        case([f'--out={a_file}/s.png'], a_file),
        case([f'--model_dir={new}'], new))
  if program == 'export':
    return [*model, f'--export_dir={new}'], st.one_of(
        case([f'--export_dir={a_file}'], a_file),
        case(['--export_dir='], 'export_dir'),
        case([f'--export_dir={a_file}/models'], a_file),
        case([f'--model_dir={new}/model'], new),
        case([f'--model_dir={p["scratch"]}'], p['scratch']),
        bad('ood_score', words),
        case([f'--model_dir={p["conditional"]}', '--ood_score=scales'],
             'ood_score'))
  if program == 'latent_figures':
    temperatures = st.lists(st.sampled_from(['0.5', '1']), max_size=2)
    return [*model, f'--out_dir={new}'], st.one_of(
        bad('size', st.integers(max_value=3).map(repr)),
        bad('temperatures', st.tuples(temperatures, st.one_of(
            not_positive(st.floats), words)).map(
                lambda t: ','.join([*t[0], t[1]])), 'temperature'),
        bad('seed', st.integers(max_value=-1).map(repr)),
        case([f'--out_dir={a_file}'], a_file),
        case([f'--out_dir={a_file}/figures'], a_file),
        case([f'--model_dir={p["conditional"]}'], 'conditional'))
  assert program == 'params'
  return [], st.one_of(bad('datasets', words.filter(
      lambda w: w not in training.PRESETS)), case(['--datasets='], 'datasets'))


@pytest.mark.parametrize('program', ['train', 'evaluate', 'sample', 'export',
                                     'latent_figures', 'params'])
@settings(max_examples=30, deadline=None)
@given(draws=st.data())
def test_a_bad_flag_is_a_one_line_error_and_writes_nothing(paths, program,
                                                           draws):
  good, bad_cases = cases(program, paths)
  args, expected = draws.draw(bad_cases)
  before = tree(paths['scratch'], paths['cwd'], paths['models'])
  status, stderr = run_program(program, [*good, *args])
  lines = stderr.strip().splitlines()
  assert status == 1, stderr
  assert lines and lines[-1].startswith('error: '), stderr
  assert expected in lines[-1]
  assert [line for line in lines if line.startswith('error')] == lines[-1:]
  assert 'Traceback' not in stderr
  assert tree(paths['scratch'], paths['cwd'], paths['models']) == before


@pytest.mark.parametrize('program, args, expected', [
    ('train', ['--batch_size=abc'], '--batch_size=abc'),
    ('train', ['--learning_rate=-1'], 'learning_rate'),
    ('evaluate', ['--split=test', '--model_dir={plain}'], '--split=test'),
    ('sample', ['--model_dir={plain}', '--out={a_dir}'], '{a_dir}'),
    ('export', ['--model_dir={plain}', '--export_dir={a_file}'], '{a_file}'),
])
def test_bin_programs_print_only_the_error_line(paths, program, args,
                                                expected):
  args = [a.format(**paths) for a in args]
  before = tree(paths['scratch'], paths['cwd'], paths['models'])
  result = subprocess.run(
      [ROOT / 'bin' / program, f'--model_dir={paths["scratch"]}/new',
       *(TINY_FLAGS if program == 'train' else []), *args],
      capture_output=True, text=True, timeout=300,
      env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2'})
  assert result.returncode == 1, result.stderr[-3000:]
  # TensorFlow's C++ start-up lines may come first.
  lines = result.stderr.strip().splitlines()
  assert lines[-1].startswith('error: ') and expected.format(**paths) in (
      lines[-1]), result.stderr[-3000:]
  assert 'Traceback' not in result.stderr and 'FATAL' not in result.stderr
  assert not result.stdout
  assert tree(paths['scratch'], paths['cwd'], paths['models']) == before


def run_helper(main):
  """(exit status, stderr) of `_cli.run(main)`, main with no flags."""
  stderr = io.StringIO()
  argv = sys.argv
  sys.argv = ['program']
  try:
    with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as e:
      _cli.run(main)
  finally:
    sys.argv = argv
    flags.FLAGS.unparse_flags()
  return e.value.code, stderr.getvalue()


def test_a_library_error_is_the_first_line_of_its_message():
  def main(argv):
    del argv
    raise ValueError('what is wrong\n  op and graph details')
  assert run_helper(main) == (1, 'error: what is wrong\n')


def test_a_programming_error_keeps_its_traceback():
  def main(argv):
    del argv
    return {}['missing']
  with pytest.raises(KeyError):
    run_helper(main)


UNREACHABLE = 'gs://tfp-realnvp-unreachable-bucket/run'


@pytest.mark.parametrize('program, flag', [
    ('train', 'model_dir'), ('train', 'data_dir'), ('evaluate', 'model_dir'),
    ('evaluate', 'data_dir'), ('sample', 'model_dir'), ('export', 'model_dir'),
    ('export', 'export_dir'), ('latent_figures', 'model_dir')])
def test_an_unreachable_bucket_is_a_one_line_error_naming_flag_and_path(
    paths, program, flag):
  try:
    tf.io.gfile.exists(UNREACHABLE)
    pytest.skip('gs:// answers here: this machine has network access')
  except tf.errors.OpError:
    pass  # As on a machine that cannot reach the bucket (libcurl's error).
  new = paths['scratch'] / 'new'
  good = {
      'train': [f'--model_dir={new}', *TINY_FLAGS],
      'evaluate': [f'--model_dir={paths["plain"]}'],
      'sample': [f'--model_dir={paths["plain"]}', f'--out={new}/s.png'],
      'export': [f'--model_dir={paths["plain"]}', f'--export_dir={new}'],
      'latent_figures': [f'--model_dir={paths["plain"]}',
                         f'--out_dir={new}'],
  }[program]
  before = tree(paths['scratch'], paths['cwd'], paths['models'])
  status, stderr = run_program(program, [*good, f'--{flag}={UNREACHABLE}'])
  lines = stderr.strip().splitlines()
  assert status == 1, stderr
  assert lines[-1].startswith(
      f'error: {flag} {UNREACHABLE} cannot be reached or used: '), stderr
  assert 'Traceback' not in stderr
  assert tree(paths['scratch'], paths['cwd'], paths['models']) == before
