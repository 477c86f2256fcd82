"""Runs a program under `bazel run` as `python <program>.py` would run.

The main of every py_program target. From the caller's directory (so that
relative paths in flags are the caller's, not the runfiles tree's), with
bin/_env's TensorFlow settings.
"""

import os
import runpy
import sys

# The workspace in Bazel's runfiles tree (this file is build_defs/run_program.py).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _as_bin_env_does():
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')
  if os.environ.get('BUILD_WORKING_DIRECTORY'):  # set by `bazel run`
    os.chdir(os.environ['BUILD_WORKING_DIRECTORY'])


def main(program):
  """Runs `program` (relative to the workspace) as __main__."""
  path = os.path.join(ROOT, program)
  _as_bin_env_does()
  sys.argv[0] = path
  sys.path[0] = os.path.dirname(path)  # as for `python <program>.py`
  runpy.run_path(path, run_name='__main__')


def main_module(module):
  """Runs `module` as `python -m <module>` would."""
  _as_bin_env_does()
  sys.path[0] = ROOT  # the workspace, not this file's directory
  runpy.run_module(module, run_name='__main__', alter_sys=True)
