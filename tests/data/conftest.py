from pathlib import Path

import pytest


@pytest.fixture(scope='session')
def photos():
  """testdata/photos: seven real photographs (see testdata/README.md)."""
  return Path(__file__).absolute().parents[2] / 'testdata' / 'photos'
