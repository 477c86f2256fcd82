"""Runs bin/ programs in subprocesses, as a user would."""

import os
from pathlib import Path
import subprocess

import pytest

from tests import tiny

BIN = Path(__file__).absolute().parents[2] / 'bin'
ENV = {**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2'}
TINY = tiny.flags()


def command(program, *args):
  return [str(BIN / program), *map(str, args)]


def run(program, *args, check=True):
  result = subprocess.run(command(program, *args), capture_output=True,
                          text=True, env=ENV, timeout=300)
  if check:
    assert result.returncode == 0, result.stderr[-3000:]
  return result


@pytest.fixture
def run_program():
  return run
