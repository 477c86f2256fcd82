"""BUILD declares a target for every module, program and test file."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _declared(rule):
  text = (ROOT / 'BUILD').read_text()
  blocks = re.findall(rf'^{rule}\((.*?)^\)', text, flags=re.S | re.M)
  return {src for block in blocks
          for src in re.findall(r'"([^"]+\.py)"', block.split('deps')[0])}


def _files(pattern):
  return {str(p.relative_to(ROOT)) for p in ROOT.glob(pattern)}


def test_every_module_has_a_py_library():
  modules = _files('tfp_realnvp/**/*.py')
  assert modules and modules <= _declared('py_library')


def test_every_program_has_a_py_binary():
  programs = _files('bin/*.py')
  assert programs and programs <= _declared('py_binary')


def test_every_test_file_has_a_py_test():
  tests = _files('tests/**/test_*.py')
  assert tests and tests <= _declared('py_test')


def test_every_declared_file_exists():
  declared = (_declared('py_library') | _declared('py_binary') |
              _declared('py_test'))
  missing = {src for src in declared if not (ROOT / src).exists()}
  assert not missing
