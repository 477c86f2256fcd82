"""The console scripts run their programs; a missing module of the
`programs` extra ends them with one line naming the extra (tests/
test_package.py checks it after a real install without extras)."""

from pathlib import Path
import sys
import tomllib
import types

import pytest

from tfp_realnvp.programs import _scripts

ROOT = Path(__file__).absolute().parents[2]
PROGRAMS = ('train', 'evaluate', 'sample', 'export', 'latent_figures',
            'params')


def test_each_console_script_is_its_programs_function():
  scripts = tomllib.loads(
      (ROOT / 'pyproject.toml').read_text())['project']['scripts']
  assert scripts == {
      'tfp-realnvp-' + p.replace('_', '-'): f'tfp_realnvp.programs._scripts:{p}'
      for p in PROGRAMS}
  for program in PROGRAMS:
    assert (ROOT / 'tfp_realnvp' / 'programs' / f'{program}.py').is_file()


@pytest.mark.parametrize('program', PROGRAMS)
def test_a_script_runs_its_program(monkeypatch, program):
  ran = []
  fake = types.ModuleType(program)
  fake.run = lambda: ran.append(program)
  monkeypatch.setitem(sys.modules, f'tfp_realnvp.programs.{program}', fake)
  getattr(_scripts, program)()
  assert ran == [program]


def _missing(name):
  def import_module(module):
    raise ModuleNotFoundError(f'No module named {name!r}', name=name)
  return import_module


@pytest.mark.parametrize('missing', ['tensorflow_datasets', 'PIL',
                                     'tensorboard.plugins'])
def test_a_missing_module_of_the_extra_is_one_line_naming_it(
    monkeypatch, capsys, missing):
  monkeypatch.setattr(_scripts.importlib, 'import_module', _missing(missing))
  with pytest.raises(SystemExit) as exit_:
    _scripts.latent_figures()
  assert exit_.value.code == 1
  out, err = capsys.readouterr()
  assert out == ''
  assert err == (
      f"error: tfp-realnvp-latent-figures needs the 'programs' extra (no "
      f"module named '{missing}'): pip install 'tfp_realnvp[programs]'\n")


def test_a_missing_module_of_the_package_is_a_bug(monkeypatch):
  monkeypatch.setattr(_scripts.importlib, 'import_module',
                      _missing('tfp_realnvp.programs.train'))
  with pytest.raises(ModuleNotFoundError, match='tfp_realnvp.programs.train'):
    _scripts.train()
