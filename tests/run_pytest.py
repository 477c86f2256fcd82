"""Entry point for Bazel's py_test targets: runs pytest on the given file."""

import sys

import pytest

if __name__ == '__main__':
  sys.exit(pytest.main(sys.argv[1:]))
