"""Runs one test file through pytest: the main of every pytest_test target.

The fast set (Bazel's default) deselects @pytest.mark.slow tests;
--config=full sets TFP_REALNVP_SLOW_TESTS=1 and runs them too.
"""

import os
import sys

import pytest

# The workspace in Bazel's runfiles tree (this file is build_defs/run_pytest.py).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(test_file):
  """Runs pytest on `test_file` (relative to the workspace) and exits."""
  args = [os.path.join(ROOT, test_file)]
  if not os.environ.get('TFP_REALNVP_SLOW_TESTS'):
    args += ['-m', 'not slow']
  if os.environ.get('XML_OUTPUT_FILE'):  # Bazel reads test cases from it
    args.append('--junitxml=' + os.environ['XML_OUTPUT_FILE'])
  if os.environ.get('TEST_TMPDIR'):
    args.append('--basetemp=' + os.path.join(os.environ['TEST_TMPDIR'],
                                             'pytest'))
  code = pytest.main(args + sys.argv[1:])
  if code == pytest.ExitCode.NO_TESTS_COLLECTED:
    print(f'{test_file}: no test selected; if all its tests are '
          '@pytest.mark.slow, tag its pytest_test "slow"', file=sys.stderr)
  sys.exit(code)
