"""The bijector cache: one network pass per coupling, and true gradients.

Samples drawn outside a `tf.GradientTape` and scored inside it must give the
gradient of a fresh tensor with the same values (`tf.identity`), which the
cache cannot answer; inside a tape, `experimental_sample_and_log_prob` must
still take one pass per coupling.
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_realnvp
from tfp_realnvp.bijectors import affine_coupling
from tests import flow_testing

tfd = tfp.distributions

CLASSES = 3


def _image(num_classes=None):
  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=1, num_filters=4,
      num_classes=num_classes)
  dist.log_prob(flow_testing.random_pixels([2, 8, 8, 1]),
                bijector_kwargs=_kwargs(num_classes, 2))
  flow_testing.perturb(dist.bijector)  # the identity at init hides mistakes
  return dist


def _vector(num_classes=None):
  dist = tfp_realnvp.real_nvp_vector_distribution(
      2, num_couplings=4, hidden_units=[16, 16], num_classes=num_classes)
  dist.log_prob(tf.zeros([1, 2]), bijector_kwargs=_kwargs(num_classes, 1))
  flow_testing.perturb(dist.bijector, scale=0.3)
  return dist


def _kwargs(num_classes, n):
  if num_classes is None:
    return {}
  labels = tf.range(n) % num_classes
  return {'conditional_input': tf.one_hot(labels, num_classes)}


FLOWS = {  # name: (build, num_classes)
    'image': (_image, None),
    'vector': (_vector, None),
    'conditional_image': (_image, CLASSES),
    'conditional_vector': (_vector, CLASSES),
}


def _gradient(log_prob, value, variables, watch=()):
  with tf.GradientTape() as tape:
    tape.watch(watch)
    total = tf.reduce_sum(log_prob(value))
  return tape.gradient(total, variables)


def _assert_same_gradients(at_draws, at_copy):
  assert all(g is not None for g in at_draws), 'no gradient at the draws'
  for g, h in zip(at_draws, at_copy):
    # float32 round-off of the same computation, relative to its size
    np.testing.assert_allclose(g, h, atol=1e-5 * (1 + np.max(np.abs(h))))


@pytest.fixture(scope='module', params=sorted(FLOWS))
def flow_case(request):
  build, num_classes = FLOWS[request.param]
  return build(num_classes), num_classes


@pytest.mark.parametrize('mode', ['eager', 'tf.function'])
def test_gradient_at_draws_from_outside_the_tape_is_the_fresh_tensors(
    flow_case, mode):
  dist, num_classes = flow_case
  kwargs = _kwargs(num_classes, 5)
  variables = dist.trainable_variables

  def log_prob(x):
    return dist.log_prob(x, bijector_kwargs=kwargs)

  def both():
    draws = dist.sample(5, seed=3, bijector_kwargs=kwargs)  # no tape here
    return (_gradient(log_prob, draws, variables),
            _gradient(log_prob, tf.identity(draws), variables))

  if mode == 'tf.function':
    both = tf.function(both, autograph=False)
  _assert_same_gradients(*both())


def test_gradient_with_respect_to_the_draws_is_the_fresh_tensors(flow_case):
  """What an MCMC kernel asks when it starts from the flow's samples."""
  dist, num_classes = flow_case
  kwargs = _kwargs(num_classes, 4)
  draws = dist.sample(4, seed=7, bijector_kwargs=kwargs)
  copy = tf.identity(draws)

  def log_prob(x):
    return dist.log_prob(x, bijector_kwargs=kwargs)

  [at_draws] = _gradient(log_prob, draws, [draws], watch=[draws])
  [at_copy] = _gradient(log_prob, copy, [copy], watch=[copy])
  _assert_same_gradients([at_draws], [at_copy])


@pytest.mark.parametrize('wrap', ['JointDistributionSequential',
                                  'JointDistributionNamed', 'Mixture'])
def test_gradient_through_tfp_compositions(wrap):
  dist = _vector()
  if wrap == 'JointDistributionSequential':
    outer = tfd.JointDistributionSequential(
        [dist, lambda x: tfd.Normal(tf.reduce_sum(x, -1), 1.)])
  elif wrap == 'JointDistributionNamed':
    outer = tfd.JointDistributionNamed(dict(
        x=dist, y=lambda x: tfd.Normal(tf.reduce_sum(x, -1), 1.)))
  else:
    outer = tfd.Mixture(tfd.Categorical(logits=[0., 0.]),
                        [dist, tfd.Sample(tfd.Normal(0., 1.), 2)])
  draws = outer.sample(7, seed=5)  # drawn outside the tape
  variables = dist.trainable_variables
  _assert_same_gradients(
      _gradient(outer.log_prob, draws, variables),
      _gradient(outer.log_prob, tf.nest.map_structure(tf.identity, draws),
                variables))


@pytest.fixture
def passes(monkeypatch):
  """The coupling networks' evaluations, by coupling name."""
  calls = []
  original = affine_coupling.AffineCoupling._shift_and_log_scale

  def counting(self, *args, **kwargs):
    calls.append(self.name)
    return original(self, *args, **kwargs)

  monkeypatch.setattr(affine_coupling.AffineCoupling, '_shift_and_log_scale',
                      counting)
  return calls


def _couplings(dist):
  return sorted(m.name for m in dist.bijector.submodules
                if isinstance(m, affine_coupling.AffineCoupling))


def test_one_pass_per_coupling_where_the_cache_can_answer(passes):
  dist = _image()
  once = _couplings(dist)
  passes.clear()
  dist.log_prob(dist.sample(2, seed=1))  # no tape: scoring is free
  assert sorted(passes) == once
  passes.clear()
  with tf.GradientTape() as tape:
    x, log_prob = dist.experimental_sample_and_log_prob(2, seed=2)
    total = tf.reduce_sum(log_prob)
  assert sorted(passes) == once
  # Its gradient is the true one: the same function of the weights without
  # the cache, the latent pushed forward and its image scored afresh.
  variables = dist.trainable_variables
  sampled = tape.gradient(total, variables)
  z = dist.bijector.inverse(tf.identity(x))
  with tf.GradientTape() as tape:
    x = tf.identity(dist.bijector.forward(z))
    total = tf.reduce_sum(dist.log_prob(x))
  _assert_same_gradients(sampled, tape.gradient(total, variables))
  passes.clear()
  with tf.GradientTape():
    dist.log_prob(flow_testing.random_pixels([2, 8, 8, 1]),
                  bijector_kwargs={'training': True})
  assert sorted(passes) == once


def test_draws_scored_in_a_tape_take_one_more_pass_each(passes):
  dist = _image()
  once = _couplings(dist)
  draws = dist.sample(2, seed=1)
  passes.clear()
  with tf.GradientTape():
    dist.log_prob(draws)
  assert sorted(passes) == once
