"""The commands of README.md and of each page of docs/ work as written, in
the order written.

Every ```sh block of a page runs, line by line through bash, in its own copy
of the checkout (as a fresh clone has it, with this environment as its
.venv): a page's commands do not rely on another page's.
Training is shortened (SHORTER); the blocks fenced ```none need what this
machine lacks (a downloaded dataset, a TPU, a model server, other hosts) or
hours, and say so beside them.
"""

import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from tests import tiny

ROOT = Path(__file__).absolute().parents[1]
BLOCK = re.compile(r'^```sh\n(.*?)^```', re.M | re.S)
# Flags put right after a program's name: the README's own flags come later
# and win, so only what the README leaves at the preset is shortened (one
# epoch of tests/tiny.py's run: the commands, not the model, are under test).
SHORTER = {'bin/train': ' '.join(tiny.flags(epochs=1))}
# bin/test is the suite this test is part of; CI runs bin/bazel_test after it.
NOT_RUN_HERE = ('bin/test', 'bin/bazel_test')
SERVERS = ('bin/tensorboard',)  # run until they serve, then stopped

pytestmark = pytest.mark.slow


def commands(readme):
  """The logical lines of the ```sh blocks (continuations joined)."""
  for block in BLOCK.findall(readme):
    for line in block.replace('\\\n', ' ').splitlines():
      if line.strip() and not line.lstrip().startswith('#'):
        yield line


def shortened(line):
  for program, flags in SHORTER.items():
    if line.startswith(program + ' ') or line == program:
      return f'{program} {flags}{line[len(program):]}'
  return line


def serve(line, cwd, env):
  """Starts the server of `line`, waits for its page, stops it."""
  server = subprocess.Popen(['bash', '-c', f'exec {line}'], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
  try:
    deadline = time.monotonic() + 120
    for output in server.stdout:
      url = re.search(r'(http://\S+:\d+/)', output)
      if url:
        with urllib.request.urlopen(url[1], timeout=30) as page:
          assert page.status == 200
        return
      assert time.monotonic() < deadline, f'{line}: no URL in 120 s'
    pytest.fail(f'{line}: exited with {server.wait()} before serving')
  finally:
    server.kill()
    server.wait()


# The pages of docs/ that have commands.
DOCS = sorted(p.name for p in (ROOT / 'docs').glob('*.md')
              if any(commands(p.read_text())))


@pytest.fixture
def clone(tmp_path):
  """The checkout's files without its runs and environment; .venv is this
  test's environment."""
  copy = tmp_path / 'clone'
  shutil.copytree(ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(
      '.git', '.venv', 'runs', 'bazel-*', '__pycache__', '.hypothesis'))
  (copy / '.venv').symlink_to(sys.prefix)
  return copy


def run_in_order(lines, clone):
  """Runs each of `lines` in `clone`; each must succeed."""
  env = {k: v for k, v in os.environ.items()
         if k not in ('VIRTUAL_ENV', 'TFP_REALNVP_VENV', 'PYTHONPATH')}
  for line in lines:
    if line.startswith(NOT_RUN_HERE):
      continue
    if line.startswith(SERVERS):
      serve(line, clone, env)
      continue
    result = subprocess.run(['bash', '-c', shortened(line)], cwd=clone,
                            env=env, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, (line, result.stderr[-3000:])


def test_readme_commands_work_in_order(clone):
  lines = list(commands((clone / 'README.md').read_text()))
  assert any(line.startswith('bin/train') for line in lines)
  run_in_order(lines, clone)


@pytest.mark.parametrize('page', DOCS)
def test_docs_commands_work_in_order(clone, page):
  run_in_order(list(commands((clone / 'docs' / page).read_text())), clone)
