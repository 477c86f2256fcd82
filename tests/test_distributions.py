import math

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import tensorflow_probability as tfp

import tfp_realnvp
from tfp_realnvp import bijectors
from tfp_realnvp import networks
from tests import flow_testing

tfd = tfp.distributions


def _image_dist(dtype=tf.float32, **kwargs):
  kwargs = {'num_res_blocks': 1, 'num_filters': 4, **kwargs}
  dist = tfp_realnvp.real_nvp_distribution([8, 8, 3], dtype=dtype, **kwargs)
  flow_testing.perturb(dist.bijector, scale=0.02)
  return dist


def test_trainable_variables_are_every_network_weight():
  dist = _image_dist()
  nets = [m for m in dist.bijector.submodules
          if isinstance(m, networks.ResNet)]
  assert len(nets) == 3 + 3 + 4
  expected = {v.ref() for net in nets for v in net.trainable_weights}
  assert len(expected) > 100
  assert {v.ref() for v in dist.trainable_variables} == expected
  # Batch norm's running averages are state, not parameters.
  names = [v.name for v in dist.variables if not v.trainable]
  assert names and all('moving' in n for n in names)


def test_sample_shapes_and_support():
  dist = _image_dist()
  assert dist.event_shape == [8, 8, 3]
  x = dist.sample([2, 3], seed=1)
  assert x.shape == [2, 3, 8, 8, 3]
  # The logit's forward reaches alpha * 256 / (1 - 2 alpha) past each end.
  lower, upper = np.float32(dist.bijector.logit.support)
  assert np.all((x >= lower) & (x <= upper))
  assert (lower, upper) == pytest.approx((-14.22, 270.22), abs=0.01)
  assert dist.log_prob(x).shape == [2, 3]


def test_log_prob_of_samples_never_raises_with_validate_args():
  dist = _image_dist(validate_args=True)
  flow_testing.perturb(dist.bijector, seed=5, scale=0.3)
  x = dist.sample(500, seed=(2, 3))
  lower, upper = np.float32(dist.bijector.logit.support)
  assert np.all((x >= lower) & (x <= upper))
  assert (np.asarray(x) < 0.).any() or (np.asarray(x) >= 256.).any()
  dist.log_prob(x)  # raises InvalidArgumentError if a sample lay outside


@pytest.mark.slow
@pytest.mark.parametrize('dtype', [tf.float32, tf.float64])
def test_eager_function_and_xla_agree(dtype):
  dist = _image_dist(dtype)
  x = flow_testing.random_pixels([3, 8, 8, 3], dtype=dtype)
  eager = dist.log_prob(x)
  graph = tf.function(dist.log_prob)(x)
  xla = tf.function(dist.log_prob, jit_compile=True)(x)
  tol = 1e-4 if dtype == tf.float32 else 1e-10
  np.testing.assert_allclose(graph, eager, rtol=tol)
  np.testing.assert_allclose(xla, eager, rtol=tol)
  assert eager.dtype == dtype


def test_unknown_batch_dimension_in_input_signature():
  dist = _image_dist()

  @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 3], tf.float32)])
  def log_prob(x):
    return dist.log_prob(x)

  @tf.function(input_signature=[tf.TensorSpec([], tf.int32)])
  def sample(n):
    return dist.sample(n, seed=3)

  x = flow_testing.random_pixels([5, 8, 8, 3])
  np.testing.assert_allclose(log_prob(x), dist.log_prob(x), rtol=1e-4)
  assert sample(tf.constant(4)).shape == [4, 8, 8, 3]


def test_training_kwarg_reaches_batch_norm_through_the_distribution():
  dist = _image_dist()
  x = flow_testing.random_pixels([6, 8, 8, 3])
  bn = [m for m in dist.bijector.submodules
        if isinstance(m, bijectors.BatchNormalization)]
  before = [b.moving_mean.numpy() for b in bn]
  dist.log_prob(x)
  assert all(np.array_equal(b.moving_mean, m) for b, m in zip(bn, before))
  dist.log_prob(x, bijector_kwargs={'training': True})
  assert all(not np.array_equal(b.moving_mean, m) for b, m in zip(bn, before))


def test_sample_then_log_prob_is_consistent():
  """log_prob(sample) equals the base density at the latent minus log-dets."""
  dist = _image_dist(tf.float64)
  z = tf.random.stateless_normal([4, 8, 8, 3], seed=[5, 5], dtype=tf.float64)
  z *= 0.7  # a temperature, so no sample saturates the logit
  x = dist.bijector.forward(z)
  expected = (dist.distribution.log_prob(z) -
              dist.bijector.forward_log_det_jacobian(z, event_ndims=3))
  np.testing.assert_allclose(dist.log_prob(tf.identity(x)), expected,
                             rtol=1e-8)


def test_vector_density_integrates_to_one():
  dist = tfp_realnvp.real_nvp_vector_distribution(
      2, num_couplings=4, hidden_units=[16], dtype=tf.float64)
  flow_testing.perturb(dist.bijector, seed=2, scale=0.3)
  grid = np.linspace(-12., 12., 1201)
  xx, yy = np.meshgrid(grid, grid, indexing='ij')
  points = tf.constant(np.stack([xx, yy], -1).reshape(-1, 2))
  density = np.exp(dist.log_prob(points).numpy()).reshape(xx.shape)
  step = grid[1] - grid[0]
  assert abs(density.sum() * step * step - 1.) < 0.01
  # Not a standard normal in disguise.
  standard = np.exp(-0.5 * (xx ** 2 + yy ** 2)) / (2 * np.pi)
  assert np.abs(density - standard).max() > 0.01


def test_vector_samples_follow_the_density():
  """Histogram of samples against the density integrated over each cell."""
  dist = tfp_realnvp.real_nvp_vector_distribution(
      2, num_couplings=4, hidden_units=[16], dtype=tf.float64)
  flow_testing.perturb(dist.bijector, seed=3, scale=0.3)
  samples = dist.sample(40000, seed=7).numpy()
  edges = np.linspace(-4., 4., 9)
  counts, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], [edges, edges])
  fine = np.linspace(-4., 4., 401)
  centres = (fine[1:] + fine[:-1]) / 2
  xx, yy = np.meshgrid(centres, centres, indexing='ij')
  density = np.exp(dist.log_prob(
      tf.constant(np.stack([xx, yy], -1).reshape(-1, 2))).numpy())
  cell = (fine[1] - fine[0]) ** 2
  mass = (density.reshape(8, 50, 8, 50) * cell).sum(axis=(1, 3))
  np.testing.assert_allclose(counts / len(samples), mass, atol=0.006)


def test_bits_per_dim():
  dist = _image_dist()
  x = flow_testing.random_pixels([2, 8, 8, 3])
  np.testing.assert_allclose(
      tfp_realnvp.bits_per_dim(dist.log_prob(x), [8, 8, 3]),
      -dist.log_prob(x) / (192 * math.log(2.)), rtol=1e-6)
  # A uniform density on [0, 256)^D costs exactly 8 bits per dimension.
  assert tfp_realnvp.bits_per_dim(-192 * math.log(256.), [8, 8, 3]) == 8.


def test_bad_input_names_the_problem():
  dist = _image_dist(validate_args=True)
  with pytest.raises((TypeError, ValueError), match='float32'):
    dist.log_prob(tf.zeros([1, 8, 8, 3], tf.uint8))
  with pytest.raises(ValueError, match=r'\[8, 8, 3\]'):
    dist.log_prob(tf.zeros([1, 8, 8, 1]))
  with pytest.raises(tf.errors.InvalidArgumentError, match=r'\[0, 256\)'):
    dist.log_prob(tf.fill([1, 8, 8, 3], 300.))
  with pytest.raises(tf.errors.InvalidArgumentError, match='support'):
    dist.log_prob(tf.fill([1, 8, 8, 3], -20.))
  with pytest.raises(ValueError, match='at least 2'):
    tfp_realnvp.real_nvp_vector_distribution(1)


def test_bfloat16_networks_keep_float32_log_dets():
  tf_keras.utils.set_random_seed(0)  # The networks' initial weights.
  kwargs = {'num_res_blocks': 1, 'num_filters': 8}
  fp32 = tfp_realnvp.real_nvp_distribution([8, 8, 3], **kwargs)
  bf16 = tfp_realnvp.real_nvp_distribution(
      [8, 8, 3], network_dtype='mixed_bfloat16', **kwargs)
  flow_testing.perturb(fp32.bijector, scale=0.02)
  for target, source in zip(bf16.variables, fp32.variables):
    assert target.dtype == tf.float32  # master weights stay float32
    target.assign(source)
  x = flow_testing.random_pixels([4, 8, 8, 3])
  lp32, lp16 = fp32.log_prob(x), bf16.log_prob(x)
  assert lp16.dtype == tf.float32
  # bfloat16 keeps 8 bits of mantissa (a relative step of 2^-8 = 0.004):
  # close, but not equal.
  np.testing.assert_allclose(lp16, lp32, rtol=5e-3)
  assert np.abs(lp16 - lp32).max() > 0.
  conv = [m for m in bf16.bijector.submodules
          if isinstance(m, networks.WeightNormConv2D)][0]
  assert conv.compute_dtype == 'bfloat16'


def _conditional_2d():
  dist = tfp_realnvp.real_nvp_vector_distribution(
      2, num_couplings=4, hidden_units=[16], num_classes=3, dtype=tf.float64)
  flow_testing.perturb(dist.bijector, seed=4, scale=0.3)
  for net in dist.bijector.submodules:
    if isinstance(net, networks.MLP):
      net.condition.embedding.assign(0.3 * tf.random.stateless_normal(
          net.condition.embedding.shape, seed=[9, 9], dtype=tf.float64))
  return dist


def test_conditional_density_depends_on_the_label_and_integrates_per_class():
  dist = _conditional_2d()
  grid = np.linspace(-10., 10., 1001)
  xx, yy = np.meshgrid(grid, grid, indexing='ij')
  points = tf.constant(np.stack([xx, yy], -1).reshape(-1, 2))
  step = grid[1] - grid[0]
  densities = []
  for label in range(3):
    one_hot = tf.one_hot(tf.fill([points.shape[0]], label), 3,
                         dtype=tf.float64)
    log_prob = dist.log_prob(points,
                             bijector_kwargs={'conditional_input': one_hot})
    densities.append(np.exp(log_prob.numpy()))
    assert abs(densities[-1].sum() * step * step - 1.) < 0.01
  assert np.abs(densities[0] - densities[1]).max() > 0.01
  # Sampling takes the label too, and its samples invert under the same one.
  one_hot = tf.one_hot([2] * 5, 3, dtype=tf.float64)
  x = dist.sample(5, seed=1, bijector_kwargs={'conditional_input': one_hot})
  assert x.shape == [5, 2]


def test_conditional_image_flow_asks_for_its_label():
  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_res_blocks=1, num_filters=4, num_classes=10)
  x = flow_testing.random_pixels([2, 8, 8, 1])
  with pytest.raises(ValueError, match='conditional_input'):
    dist.log_prob(x)
  one_hot = tf.one_hot([3, 7], 10)
  log_prob = dist.log_prob(x, bijector_kwargs={'conditional_input': one_hot})
  assert log_prob.shape == [2]
  assert dist.sample(
      2, bijector_kwargs={'conditional_input': one_hot}).shape == [2, 8, 8, 1]


def _vector_dist():
  dist = tfp_realnvp.real_nvp_vector_distribution(2, num_couplings=2,
                                                  hidden_units=[8])
  return flow_testing.perturb(dist.bijector, scale=0.3) and dist


def test_no_explicit_name_so_joint_distributions_name_it():
  assert 'name' not in dist_parameters_with_values(_vector_dist())
  assert 'name' not in dist_parameters_with_values(_image_dist())


def dist_parameters_with_values(dist):
  return {k for k, v in dist.parameters.items() if v is not None}


def test_inside_joint_distributions_and_mixtures():
  flow = _vector_dist()
  x = tf.constant([[0.5, -1.], [1., 2.]])
  y = tf.constant([0.3, -0.2])
  expected = flow.log_prob(x) + tfd.Normal(tf.reduce_sum(x, -1), 1.).log_prob(y)
  sequential = tfd.JointDistributionSequential(
      [flow, lambda x: tfd.Normal(tf.reduce_sum(x, -1), 1.)])
  named = tfd.JointDistributionNamed(
      dict(x=flow, y=lambda x: tfd.Normal(tf.reduce_sum(x, -1), 1.)))

  @tfd.JointDistributionCoroutineAutoBatched
  def coroutine():
    x = yield flow
    yield tfd.Normal(tf.reduce_sum(x, -1), 1.)

  for joint, value in ((sequential, [x, y]), (named, dict(x=x, y=y)),
                       (coroutine, [x, y])):
    np.testing.assert_allclose(joint.log_prob(value), expected, rtol=1e-5)
    draw = joint.sample(seed=(1, 2))
    assert np.isfinite(joint.log_prob(draw)).all()
  mixture = tfd.Mixture(
      tfd.Categorical(probs=[0.3, 0.7]),
      [flow, tfd.MultivariateNormalDiag(tf.zeros(2), tf.ones(2))])
  np.testing.assert_allclose(
      mixture.log_prob(x),
      np.logaddexp(np.log(0.3) + flow.log_prob(x),
                   np.log(0.7) + mixture.components[1].log_prob(x)),
      rtol=1e-5)
  assert mixture.sample(3, seed=(3, 4)).shape == [3, 2]
