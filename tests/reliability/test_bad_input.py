"""Bad input to the library and the served model: a right value or an error
that names the problem; never a crash or a silent wrong number.

The contract, for a float32 `real_nvp_distribution`:
- inputs of another rank or event shape: ValueError naming the event shape;
- tf.Tensors of another dtype: ValueError naming float32 (`encode` takes any
  real or integer dtype: it casts 8-bit values);
- `log_prob`/`encode` of NaN, infinite or out-of-support values: with
  `validate_args=True`, InvalidArgumentError naming the support, the logit
  transform's `(lower, upper)` (about (-14.2, 270.2)), and the pixel values
  [0, 256) it holds; without, unchecked (NaN and inf give NaN; other values
  give numbers that are not densities);
- `decode` of NaN or infinite latents: InvalidArgumentError naming z;
- `sample` at a temperature that is not a finite number > 0: ValueError
  naming the temperature.
The SavedModel takes uint8 images (always in the support) and checks dtype,
shape, that `z` is finite and that `temperature` is a finite number > 0.
"""

import re

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
import pytest
import tensorflow as tf

from tests import flow_testing
from tfp_realnvp import bijectors
from tfp_realnvp import distributions
from tfp_realnvp import export
from tfp_realnvp import latent

SHAPE = (4, 4, 1)
LOWER, UPPER = bijectors.LogitTransform(num_bits=8).support
SUPPORT = re.escape(f'support ({LOWER:g}, {UPPER:g})') + r'.*\[0, 256\)'
few = settings(max_examples=15, deadline=None)
batch_shapes = hnp.array_shapes(min_dims=0, max_dims=2, min_side=0,
                                max_side=3)
bad_values = st.sampled_from([np.nan, np.inf, -np.inf, LOWER - 1e-2,
                              LOWER - 7., UPPER + 1e-2, 1e9])
TEMPERATURE = 'temperature must be a finite number > 0'
bad_temperatures = [0., -0.5, np.nan, np.inf, -np.inf]


def dist(validate_args):
  d = distributions.real_nvp_distribution(
      SHAPE, num_scales=1, num_res_blocks=1, num_filters=4,
      validate_args=validate_args)
  flow_testing.perturb(d.bijector, scale=0.02, seed=1)
  return d


@pytest.fixture(scope='module')
def dists():
  """(checked, unchecked): the same weights with and without validate_args."""
  checked, unchecked = dist(True), dist(False)
  for a, b in zip(checked.variables, unchecked.variables):
    a.assign(b)
  return checked, unchecked


@pytest.fixture(scope='module')
def served(dists, tmp_path_factory):
  path = export.export(dists[1], tmp_path_factory.mktemp('export'))
  return tf.saved_model.load(str(path)).signatures


def pixels(batch_shape, seed):
  return np.random.default_rng(seed).uniform(
      0, 256, [*batch_shape, *SHAPE]).astype(np.float32)


@pytest.mark.slow
@few
@given(batch_shape=batch_shapes, seed=st.integers(0, 2**16))
def test_log_prob_of_pixels_is_finite_and_checked_agrees(dists, batch_shape,
                                                         seed):
  x = pixels(batch_shape, seed)
  checked, unchecked = (d.log_prob(x).numpy() for d in dists)
  assert checked.shape == tuple(batch_shape)
  assert np.isfinite(checked).all()
  np.testing.assert_array_equal(checked, unchecked)


@pytest.mark.slow
@few
@given(batch_shape=batch_shapes.filter(lambda s: np.prod(s) > 0),
       seed=st.integers(0, 2**16), bad=bad_values, data=st.data())
def test_values_outside_the_support(dists, batch_shape, seed, bad, data):
  x = pixels(batch_shape, seed)
  where = data.draw(st.tuples(*(st.integers(0, n - 1) for n in x.shape)))
  x[where] = bad
  for call in (dists[0].log_prob, lambda x: latent.encode(dists[0], x - .5)):
    with pytest.raises(tf.errors.InvalidArgumentError, match=SUPPORT):
      call(x)
  if not np.isfinite(bad):  # Unchecked: the bad image's value is NaN.
    log_prob = dists[1].log_prob(x).numpy()
    assert np.isnan(log_prob[where[:len(batch_shape)]])


@few
@given(dtype=st.sampled_from([tf.int32, tf.uint8, tf.float16, tf.float64,
                              tf.string]))
def test_wrong_dtype_names_float32(dists, dtype):
  x = tf.zeros([2, *SHAPE], dtype) if dtype != tf.string else tf.fill(
      [2, *SHAPE], 'a')
  for call in (dists[1].log_prob, lambda x: latent.decode(dists[1], x)):
    with pytest.raises((TypeError, ValueError), match='float32'):
      call(x)


@few
@given(shape=hnp.array_shapes(min_dims=0, max_dims=5, max_side=5).filter(
    lambda s: s[-3:] != SHAPE))
def test_wrong_shape_names_the_event_shape(dists, shape):
  x = tf.zeros(shape)
  for call in (dists[1].log_prob, lambda x: latent.encode(dists[1], x),
               lambda x: latent.decode(dists[1], x)):
    with pytest.raises(ValueError, match=r'4, 4, 1\]'):
      call(x)


@pytest.mark.slow
@few
@given(batch_shape=batch_shapes, seed=st.integers(0, 2**16),
       scale=st.sampled_from([1e-3, 1., 10., 1e4, 1e30]))
def test_decode_of_finite_latents_is_8_bit_and_encode_inverts_it(
    dists, batch_shape, seed, scale):
  z = scale * np.random.default_rng(seed).standard_normal(
      [*batch_shape, *SHAPE]).astype(np.float32)
  images = latent.decode(dists[1], z)
  assert images.dtype == tf.uint8 and images.shape == z.shape
  np.testing.assert_array_equal(
      latent.decode(dists[1], latent.encode(dists[1], images)), images)


@few
@given(batch_shape=batch_shapes.filter(lambda s: np.prod(s) > 0),
       bad=st.sampled_from([np.nan, np.inf, -np.inf]), data=st.data())
def test_decode_of_nonfinite_latents_raises_naming_z(dists, batch_shape, bad,
                                                     data):
  z = np.zeros([*batch_shape, *SHAPE], np.float32)
  z[data.draw(st.tuples(*(st.integers(0, n - 1) for n in z.shape)))] = bad
  with pytest.raises(tf.errors.InvalidArgumentError, match='z must be finite'):
    latent.decode(dists[1], z)


@few
@given(num=st.integers(-3, 4),
       temperature=st.one_of(st.floats(0, 2),
                             st.sampled_from(bad_temperatures)))
def test_sample_shapes_or_a_named_error(dists, num, temperature):
  if not (np.isfinite(temperature) and temperature > 0):
    with pytest.raises(ValueError, match=TEMPERATURE):
      latent.sample(dists[1], num, temperature)
    return
  if num < 0:
    with pytest.raises(tf.errors.InvalidArgumentError, match='must be >= 0'):
      latent.sample(dists[1], num, temperature)
    return
  x = latent.sample(dists[1], num, temperature, seed=num)
  assert x.shape == (num, *SHAPE) and np.isfinite(x).all()


# The served model.


@pytest.mark.slow
@few
@given(n=st.integers(0, 5), seed=st.integers(0, 2**16))
def test_served_log_prob_and_encode_of_any_8_bit_batch(served, dists, n,
                                                       seed):
  images = np.random.default_rng(seed).integers(
      0, 256, [n, *SHAPE]).astype(np.uint8)
  log_prob = served['log_prob'](images=tf.constant(images))['log_prob']
  np.testing.assert_allclose(
      log_prob, dists[1].log_prob(images + np.float32(.5)), rtol=1e-5)
  z = served['encode'](images=tf.constant(images))['z']
  np.testing.assert_array_equal(served['decode'](z=z)['images'], images)


@pytest.mark.slow
@few
@given(name=st.sampled_from(['log_prob', 'encode']),
       dtype=st.sampled_from([tf.float32, tf.int32, tf.int64, tf.float64]))
def test_served_images_of_another_dtype_name_uint8(served, name, dtype):
  with pytest.raises(tf.errors.InvalidArgumentError, match='uint8'):
    served[name](images=tf.zeros([2, *SHAPE], dtype))


@pytest.mark.slow
@few
@given(n=st.integers(1, 4), bad=st.sampled_from([np.nan, np.inf, -np.inf]),
       data=st.data())
def test_served_decode_of_nonfinite_z_raises_naming_z(served, n, bad, data):
  z = np.zeros([n, np.prod(SHAPE)], np.float32)
  z[data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, 15))] = bad
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match='decode: z must be finite'):
    served['decode'](z=tf.constant(z))


@pytest.mark.slow
@few
@given(num=st.integers(-2, 3),
       temperature=st.sampled_from([0.7, 1., *bad_temperatures]))
def test_served_sample_is_8_bit_or_a_named_error(served, num, temperature):
  call = lambda: served['sample'](
      num_samples=tf.constant(num), temperature=tf.constant(temperature,
                                                            tf.float32),
      seed=tf.constant(0))['images']
  if not (np.isfinite(temperature) and temperature > 0):
    with pytest.raises(tf.errors.InvalidArgumentError, match=TEMPERATURE):
      call()
  elif num < 0:
    with pytest.raises(tf.errors.InvalidArgumentError, match='must be >= 0'):
      call()
  else:
    assert call().shape == (num, *SHAPE)
