"""Test-wide setup: quiet TensorFlow, and make the repo importable."""

import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # pylint: disable=g-import-not-at-top
import tf_keras  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seeded_initial_weights():
  """Networks start from the same random weights in every run of a test."""
  tf_keras.utils.set_random_seed(0)
