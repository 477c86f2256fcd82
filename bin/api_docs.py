"""Writes docs/api.md: tfp_realnvp's public names, from their docstrings.

  bin/api_docs

tests/test_api_docs.py fails while docs/api.md differs from what this writes.
"""

import os
import sys

import api_docs_lib
from tfp_realnvp import storage

# The checkout; under `bazel run`, the workspace rather than the runfiles.
ROOT = os.environ.get('BUILD_WORKSPACE_DIRECTORY') or os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))


def main():
  if len(sys.argv) > 1:
    sys.exit(f'error: {api_docs_lib.REGENERATE} takes no arguments; got '
             f'{" ".join(sys.argv[1:])}')
  path = os.path.join(ROOT, api_docs_lib.API_DOCS)
  storage.write_atomic(path, api_docs_lib.render())
  print(f'wrote {path}')


if __name__ == '__main__':
  main()
