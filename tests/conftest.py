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


# The files whose tests take minutes (README, Tests and layout): `bin/test` hands
# whole files to its workers in collection order, so these go first;
# run last, they left the other workers idle for minutes at the end.
LONGEST_FILES = ('test_readme.py', 'test_strategies.py', 'test_resume.py')


def pytest_collection_modifyitems(items):
  def rank(item):
    name = item.path.name
    return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(
        LONGEST_FILES)
  items.sort(key=rank)  # Stable: each file's tests keep their order.
