import numpy as np
import pytest
import tensorflow as tf

import tfp_realnvp
from tfp_realnvp import latent
from tests import flow_testing


@pytest.fixture(scope='module')
def dist():
  d = tfp_realnvp.real_nvp_distribution([8, 8, 3], num_scales=2,
                                        num_res_blocks=1, num_filters=4)
  flow_testing.perturb(d.bijector, scale=0.02)
  return d


def _images(seed=0):
  return tf.constant(np.random.default_rng(seed).integers(
      0, 256, [3, 8, 8, 3]), tf.uint8)


def test_decode_inverts_encode_for_every_8_bit_value(dist):
  values = np.arange(256, dtype=np.uint8)
  images = tf.constant(np.resize(values, [2, 8, 8, 3]))  # 384 entries
  images = tf.concat([images, _images()], axis=0)
  np.testing.assert_array_equal(
      latent.decode(dist, tf.identity(latent.encode(dist, images))), images)


def test_manifold_mixing_keeps_unit_norm_and_corners():
  z = [tf.fill([2], float(i)) for i in range(1, 5)]
  grid = latent.manifold(*z, size=5)
  assert grid.shape == [5, 5, 2]
  np.testing.assert_allclose(grid[0, 0], z[0], atol=1e-6)
  np.testing.assert_allclose(grid[0, -1], z[1], atol=1e-6)
  np.testing.assert_allclose(grid[-1, 0], z[2], atol=1e-6)
  np.testing.assert_allclose(grid[-1, -1], z[3], atol=1e-6)
  # Independent standard normals stay standard normal at every grid point.
  samples = tf.random.stateless_normal([4, 20000], seed=[1, 2])
  mixed = latent.manifold(*tf.unstack(samples), size=4)
  np.testing.assert_allclose(tf.math.reduce_std(mixed, axis=-1), 1., atol=0.03)


def test_keeping_every_scale_returns_the_image(dist):
  images = _images(1)
  pixels = latent.resample_scales(dist, images, keep=2, seed=3)
  np.testing.assert_array_equal(latent.to_uint8(pixels), images)


def test_resampling_finer_scales_changes_only_their_latents(dist):
  images = _images(2)
  pixels = latent.resample_scales(dist, images, keep=1, temperature=0.5,
                                  seed=4)
  parts = dist.bijector.split_latent(dist.bijector.inverse(pixels))
  original = dist.bijector.split_latent(latent.encode(dist, images))
  np.testing.assert_allclose(parts[1], original[1], atol=1e-3)
  assert np.abs(parts[0] - original[0]).max() > 0.1
  with pytest.raises(ValueError, match=r'\[0, 2\]'):
    latent.resample_scales(dist, images, keep=3)


@pytest.fixture(scope='module')
def untrained():
  return tfp_realnvp.real_nvp_distribution(
      [4, 4, 1], num_scales=1, num_res_blocks=1, num_filters=4)


@pytest.mark.parametrize('temperature', [0.5, 1.])
def test_latents_of_samples_have_the_temperature_as_scale(untrained,
                                                          temperature):
  samples = latent.sample(untrained, 256, temperature, seed=1)
  assert samples.shape == (256, 4, 4, 1)
  z = untrained.bijector.inverse(tf.identity(samples))
  assert float(tf.math.reduce_std(z)) == pytest.approx(temperature, rel=0.06)


def test_low_temperature_nears_the_image_of_zero_and_seeds_repeat(untrained):
  np.testing.assert_allclose(
      latent.sample(untrained, 2, 1e-6),
      untrained.bijector.forward(tf.zeros([2, 4, 4, 1])), atol=1e-3)
  np.testing.assert_array_equal(latent.sample(untrained, 3, seed=7),
                                latent.sample(untrained, 3, seed=7))
  assert not np.array_equal(latent.sample(untrained, 3, seed=7),
                            latent.sample(untrained, 3, seed=8))


@pytest.mark.parametrize('temperature', [0., -1., float('nan'), float('inf')])
def test_temperatures_that_are_not_finite_and_positive_are_rejected(
    untrained, dist, temperature):
  with pytest.raises(ValueError, match='temperature must be a finite number'):
    latent.sample(untrained, 2, temperature)
  with pytest.raises(ValueError, match='temperature must be a finite number'):
    latent.resample_scales(dist, _images(1), keep=1, temperature=temperature)
  with pytest.raises(tf.errors.InvalidArgumentError, match='temperature'):
    latent.sample(untrained, 2, tf.constant(temperature))


@pytest.mark.parametrize('function', [False, True])
def test_batch_statistics_samples_run_the_networks_in_training_mode(
    dist, function):
  averages = [v.numpy() for v in dist.non_trainable_variables]
  draw = lambda: latent.sample(dist, 16, 0.7, seed=5, batch_statistics=True)
  samples = (tf.function(draw) if function else draw)()
  # The running averages stay as they were...
  for variable, value in zip(dist.non_trainable_variables, averages):
    np.testing.assert_array_equal(variable.numpy(), value)
  # ...and differ from the batch's statistics, so the samples differ too.
  assert np.abs(samples - latent.sample(dist, 16, 0.7, seed=5)).max() > 1e-2
  z = 0.7 * tf.random.stateless_normal([16, 8, 8, 3], seed=[5, 0])
  try:
    # The flow in training mode: its generative direction normalizes the
    # networks' features with the batch's statistics (and updates them).
    expected = dist.bijector.forward(z, training=True)
  finally:
    for variable, value in zip(dist.non_trainable_variables, averages):
      variable.assign(value)
  np.testing.assert_allclose(samples, expected, rtol=1e-4, atol=1e-3)
