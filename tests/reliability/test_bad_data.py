"""bin/train on a folder with bad files: skips and names them, or stops."""

import shutil
import time

from PIL import Image
import pytest

from tests.reliability.conftest import run, TINY

PHOTOS = __import__('pathlib').Path(__file__).absolute().parents[2] / (
    'testdata/photos')
SMALL = [*TINY, '--batch_size=4', '--epochs=1']  # 8 good training images


@pytest.fixture
def messy(tmp_path):
  """The test photos and five odd files; returns (folder, bad files)."""
  folder = tmp_path / 'photos'
  shutil.copytree(PHOTOS, folder)
  jpeg = (PHOTOS / 'rocket.jpg').read_bytes()
  photo = Image.open(PHOTOS / 'coffee.jpg')
  photo.convert('L').save(folder / 'gray.png')  # Good: made RGB.
  photo.resize((300, 40)).save(folder / 'wide.jpg')  # Good: resized.
  bad = [folder / 'corrupt.jpg', folder / 'truncated.jpg', folder / 'empty.png']
  bad[0].write_bytes(jpeg[:20] + bytes(range(256)) * 8)
  bad[1].write_bytes(jpeg[:len(jpeg) // 2])
  bad[2].write_bytes(b'')
  return folder, bad


@pytest.mark.slow
def test_trains_on_the_good_files_and_reports_the_bad(messy, tmp_path):
  folder, bad = messy
  result = run('train', '--dataset=folder', f'--data_dir={folder}',
               f'--model_dir={tmp_path / "model"}', *SMALL)
  good = len(list(PHOTOS.iterdir())) + 2
  assert f'{folder}: {good} images, 3 bad files skipped' in result.stdout
  assert all(f'skipped: cannot decode image {path}' in result.stdout
             for path in bad)
  assert 'epoch 1,' in result.stdout
  # Resumed, the run does not decode the whole folder again to report it.
  resumed = run('train', '--dataset=folder', f'--data_dir={folder}',
                f'--model_dir={tmp_path / "model"}', *SMALL[:-1], '--epochs=2')
  assert 'bad files skipped' not in resumed.stdout
  assert 'epoch 2,' in resumed.stdout


@pytest.mark.slow
def test_strict_data_stops_at_the_first_bad_file(messy, tmp_path):
  folder, bad = messy
  result = run('train', '--dataset=folder', f'--data_dir={folder}',
               f'--model_dir={tmp_path / "model"}', '--strict_data', *SMALL,
               check=False)
  assert result.returncode != 0 and 'Epoch' not in result.stdout
  first = result.stderr.strip().splitlines()[-1]
  assert first.startswith('error: cannot decode image ')
  assert any(str(path) in first for path in bad), first


@pytest.mark.slow
@pytest.mark.parametrize('case', ['empty', 'missing'])
def test_no_images_fails_within_seconds(tmp_path, case):
  folder = tmp_path / 'images'
  if case == 'empty':
    folder.mkdir()
  start = time.monotonic()
  result = run('train', '--dataset=folder', f'--data_dir={folder}',
               f'--model_dir={tmp_path / "model"}', *SMALL, check=False)
  assert time.monotonic() - start < 30  # With TensorFlow's import.
  assert result.returncode != 0
  reason = 'holds no image files' if case == 'empty' else 'is not a directory'
  assert result.stderr.strip().splitlines()[-1] == (
      f'error: {folder} {reason}; expected a directory of image files '
      '(.jpg, .jpeg, .png, .webp, .bmp, .gif)')
