"""Runs bin/ programs in subprocesses, as a user would."""

import os
from pathlib import Path
import subprocess

import pytest

BIN = Path(__file__).absolute().parents[2] / 'bin'
ENV = {**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2'}
# 1 scale, 1 residual block: little to trace, so each run takes seconds.
TINY = ['--num_scales=1', '--num_res_blocks=1', '--num_filters=4',
        '--batch_size=16', '--steps_per_epoch=2']


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
