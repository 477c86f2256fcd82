import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp.data import transforms


def test_celeba_crop_maps_the_box_onto_the_output():
  top, left, height, width = transforms.CELEBA_BOX
  image = np.zeros([218, 178, 3], np.uint8)
  image[:top] = image[:, :left] = 255  # Outside the box: must vanish.
  # A marker covering the box's second quarter of rows and third of columns.
  image[top + height // 4:top + height // 2,
        left + width // 2:left + 3 * width // 4] = 200
  out = transforms.celeba_crop(tf.constant(image), size=64).numpy()

  assert out.shape == (64, 64, 3) and out.dtype == np.uint8
  assert out.max() == 200  # The white border was cropped away.
  rows, cols = np.nonzero(out[..., 0] > 100)
  assert (rows.min(), rows.max() + 1) == (64 // 4, 64 // 2)
  assert (cols.min(), cols.max() + 1) == (64 // 2, 3 * 64 // 4)


@pytest.mark.parametrize('transpose', [False, True], ids=['wide', 'tall'])
def test_resize_and_crop_scales_shorter_side_and_crops_centre(transpose):
  # Values grow along the longer side, so they tell where the crop was taken.
  image = np.broadcast_to(
      np.arange(144, dtype=np.uint8)[None, :, None], [48, 144, 3])
  swap = (lambda x: x.transpose(1, 0, 2)) if transpose else (lambda x: x)
  out = transforms.resize_and_crop(tf.constant(swap(image)), 96, 64).numpy()
  along = swap(out)[..., 0]

  assert out.shape == (64, 64, 3) and out.dtype == np.uint8
  # 48 -> 96 doubles the image to 288 long; the central 64 start at 112,
  # i.e. at original column 56, and advance half a column per pixel.
  first, last = (288 - 64) // 2 / 2, (288 + 64) // 2 / 2 - 1
  np.testing.assert_allclose(along.mean(axis=0)[[0, -1]], [first, last],
                             atol=1)
  assert (np.diff(along.astype(int), axis=1) >= 0).all()


def test_random_crop_is_seeded_and_stays_inside():
  image = tf.constant(np.random.default_rng(0).integers(
      0, 256, [70, 90, 3], dtype=np.uint8))
  crop = lambda s: transforms.resize_and_crop(image, 70, 64, seed=[s, 0])
  crops = [crop(s).numpy() for s in range(8)]

  assert all(c.shape == (64, 64, 3) for c in crops)
  np.testing.assert_array_equal(crops[0], crop(0).numpy())
  assert len({c.tobytes() for c in crops}) > 1
  # Shorter side already 70: every crop is a window of the image itself.
  windows = {image[i:i + 64, j:j + 64].numpy().tobytes()
             for i in range(7) for j in range(27)}
  assert all(c.tobytes() in windows for c in crops)
