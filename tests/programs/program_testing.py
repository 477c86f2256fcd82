"""The programs of tfp_realnvp/programs: loaded and run in this process, or
run as bin/<program> in a process of their own."""

import contextlib
import importlib.util
import os
from pathlib import Path
import subprocess

from absl import flags

PROGRAMS = Path(__file__).absolute().parents[2] / 'tfp_realnvp' / 'programs'
BIN = Path(__file__).absolute().parents[2] / 'bin'


def run(program, *args, check=True):
  """`bin/<program> args` to its end; with `check`, it must succeed."""
  result = subprocess.run(
      [BIN / program, *map(str, args)], capture_output=True, text=True,
      env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2'}, timeout=300)
  if check:
    assert result.returncode == 0, result.stderr[-3000:]
  return result


@contextlib.contextmanager
def loaded(program):
  """A fresh `tfp_realnvp.programs.<program>` module, its flags defined.

  A program defines its flags on import; they are removed on exit, so the
  next program (or this one again) can define flags of the same names.
  """
  before = set(flags.FLAGS)
  spec = importlib.util.spec_from_file_location(
      f'program_{program}', PROGRAMS / f'{program}.py')
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
    yield module
  finally:
    flags.FLAGS.unparse_flags()
    for name in set(flags.FLAGS) - before:
      delattr(flags.FLAGS, name)
