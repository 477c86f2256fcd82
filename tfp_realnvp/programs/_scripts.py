"""The console scripts: each runs its program, or names the extra to install.

A plain `pip install tfp_realnvp` brings the library, not what the programs
import at start-up (tensorflow-datasets, tensorboard, pillow, ...: the
`programs` extra). Each script imports its program here, so that a missing
module ends it as the programs' errors end (`_cli`): one line `error: ...`
naming the extra, exit status 1.
"""

import importlib
import sys

__all__ = ['EXTRA', 'train', 'evaluate', 'sample', 'export', 'latent_figures',
           'params']

EXTRA = 'programs'


def _run(program):
  """Runs `tfp_realnvp.programs.<program>`, or fails naming the extra."""
  try:
    module = importlib.import_module(f'tfp_realnvp.programs.{program}')
  except ModuleNotFoundError as e:
    # A module of the package itself missing is a broken install, a bug.
    if e.name is None or e.name.split('.')[0] == 'tfp_realnvp':
      raise
    script = 'tfp-realnvp-' + program.replace('_', '-')
    print(f"error: {script} needs the '{EXTRA}' extra (no module named "
          f"'{e.name}'): pip install 'tfp_realnvp[{EXTRA}]'",
          file=sys.stderr, flush=True)
    sys.exit(1)
  module.run()


def train():
  """tfp-realnvp-train."""
  _run('train')


def evaluate():
  """tfp-realnvp-evaluate."""
  _run('evaluate')


def sample():
  """tfp-realnvp-sample."""
  _run('sample')


def export():
  """tfp-realnvp-export."""
  _run('export')


def latent_figures():
  """tfp-realnvp-latent-figures."""
  _run('latent_figures')


def params():
  """tfp-realnvp-params."""
  _run('params')
