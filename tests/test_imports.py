"""The library imports what a TFP user needs, not what the programs use."""

import os
from pathlib import Path
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Plotting, image files, datasets, LMDB and TensorBoard belong to the
# extras (pyproject.toml: data, lmdb, programs, plots), never to the core
# library that `pip install tfp_realnvp` gives.
PROGRAM_ONLY = ('matplotlib', 'PIL', 'tensorflow_datasets', 'lmdb',
                'tensorboard')

# Runs in a fresh process that cannot import PROGRAM_ONLY. They are blocked,
# not just looked for in sys.modules: TensorFlow's own import loads Keras 3,
# which imports matplotlib and PIL whenever they are installed (tf_keras
# imports PIL), and treats their absence as optional. With them blocked,
# importing and using the module shows that it needs none of them.
CHECK = """
import importlib
import importlib.abc
import sys

BLOCKED = {blocked!r}

class Blocker(importlib.abc.MetaPathFinder):
  def find_spec(self, name, path=None, target=None):
    if name.partition('.')[0] in BLOCKED:
      raise ImportError(f'{{name}} is blocked')

sys.meta_path.insert(0, Blocker())
importlib.import_module({module!r})
import tfp_realnvp
dist = tfp_realnvp.real_nvp_distribution(
    [4, 4, 1], num_scales=1, num_res_blocks=1, num_filters=4)
dist.log_prob(dist.sample(2, seed=1))
print(sorted(m for m in sys.modules if m.partition('.')[0] in BLOCKED))
"""


@pytest.mark.parametrize('module', [
    'tfp_realnvp',
    'tfp_realnvp.latent',
    'tfp_realnvp.export',
    'tfp_realnvp.ood',
    'joint_distribution',  # The probabilistic-programming example.
])
def test_module_imports_and_runs_without_plotting_images_or_datasets(module):
  result = subprocess.run(
      [sys.executable, '-c', CHECK.format(blocked=PROGRAM_ONLY,
                                          module=module)],
      capture_output=True, text=True, cwd=ROOT, timeout=300,
      env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2',
           'PYTHONPATH': os.pathsep.join([str(ROOT), str(ROOT / 'examples')])})
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout.splitlines()[-1] == '[]'


def test_training_on_the_embedded_mnist_needs_no_lmdb_or_plotting():
  """The `programs` extra (data, absl, TensorBoard) without `lmdb` and
  `plots`: only LSUN's LMDB files need lmdb."""
  check = CHECK.replace('import tfp_realnvp\n', """import tfp_realnvp
from tfp_realnvp import data
next(iter(data.load('mnist', 'validation')))
""")
  result = subprocess.run(
      [sys.executable, '-c', check.format(blocked=('lmdb', 'matplotlib'),
                                          module='tfp_realnvp.training')],
      capture_output=True, text=True, cwd=ROOT, timeout=300,
      env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2',
           'PYTHONPATH': str(ROOT)})
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout.splitlines()[-1] == '[]'
