"""The programs of tfp_realnvp/programs, loaded and run in this process."""

import contextlib
import importlib.util
from pathlib import Path

from absl import flags

PROGRAMS = Path(__file__).absolute().parents[2] / 'tfp_realnvp' / 'programs'


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
