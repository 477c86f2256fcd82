"""bin/params (tfp_realnvp/programs/params.py): our models' parameter counts are the authors' code's."""

import os
import subprocess

import numpy as np
import pytest

from tfp_realnvp import config
from tfp_realnvp import distributions

from tests.programs import program_testing

with program_testing.loaded('params') as params:
  authors_parameter_count = params.authors_parameter_count

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_the_authors_count_of_cifar10_is_their_built_encoders():
  assert authors_parameter_count(config.Architecture(
      [32, 32, 3], num_scales=2, num_res_blocks=8, num_filters=64)) == (
          19_609_545)


@pytest.mark.parametrize('architecture', [
    config.Architecture([28, 28, 1], num_scales=3, num_res_blocks=1,
                        num_filters=16),
    config.Architecture([8, 8, 3], num_scales=2, num_res_blocks=2,
                        num_filters=8),
    config.Architecture([16, 16, 2], num_scales=3, num_res_blocks=3,
                        num_filters=4),
])
def test_built_models_have_the_authors_count(architecture):
  dist = distributions.real_nvp_distribution(architecture)
  built = sum(int(np.prod(v.shape)) for v in dist.trainable_variables)
  assert built == authors_parameter_count(architecture)


def test_program_prints_a_row_per_preset():
  out = subprocess.run([os.path.join(ROOT, 'bin', 'params'),
                        '--datasets=mnist'], capture_output=True, text=True,
                       check=True).stdout.splitlines()
  assert out[0].startswith('dataset |')
  assert out[1].startswith('mnist | 28x28x1 | 3 | 1 | 16 | ')
  ours, authors = out[1].split(' | ')[-2:]
  assert ours == authors
