import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_realnvp import bijectors
from tfp_realnvp import networks
from tests import bijector_checks
from tests import flow_testing

tfb = tfp.bijectors


def _vector_flow():
  flow = bijectors.vector_real_nvp(4, num_couplings=3, hidden_units=[8],
                                   batch_norm=True, dtype=tf.float64)
  return flow_testing.perturb(flow, scale=0.3)


def _x(seed=1):
  return tf.random.stateless_normal([5, 4], seed=[seed, 0], dtype=tf.float64)


def test_is_the_chain_of_its_bijectors_in_the_papers_order():
  flow = _vector_flow()
  chain = tfb.Chain(flow.bijectors)
  x = _x()
  np.testing.assert_allclose(flow.inverse(x), chain.inverse(tf.identity(x)))
  np.testing.assert_allclose(flow.forward(x), chain.forward(tf.identity(x)))
  # The first bijector is the first to score: inverse runs it first.
  first = flow.bijectors[0]
  np.testing.assert_allclose(
      flow.inverse(tf.identity(x)),
      tfb.Chain(flow.bijectors[1:]).inverse(first.inverse(tf.identity(x))))


def test_keyword_arguments_go_where_they_are_declared():
  seen = []

  def shift_and_log_scale(x, conditional_input=None):
    seen.append(conditional_input)
    return tf.zeros_like(x), tf.zeros_like(x)

  coupling = bijectors.AffineCoupling(bijectors.half_mask(4),
                                      shift_and_log_scale, dtype=tf.float64)
  bn = bijectors.BatchNormalization(4, event_ndims=1, dtype=tf.float64)
  plain = tfb.Shift(tf.constant(1., tf.float64), name='plain')
  flow = bijectors.Flow([coupling, bn, bijectors.Flow([plain], name='inner')])
  assert flow.kwarg_names == {'conditional_input', 'training'}
  before = bn.moving_mean.numpy().copy()
  # `training` reaches the batch norm alone, `conditional_input` the network;
  # a dict keyed by a name reaches that bijector, as in tfb.Chain.
  y = flow.inverse(_x(), training=True, conditional_input='label',
                   inner={'plain': {}})
  assert seen == ['label']
  assert not np.array_equal(bn.moving_mean, before)
  assert y.shape == [5, 4]


@bijector_checks.REGIMES
def test_bijective_and_finite(regime):
  bijector_checks.assert_bijective_and_finite(
      _vector_flow(), _x(1), _x(2), event_ndims=1, regime=regime, rtol=1e-9)


def test_log_det_sample_shapes_and_batch_shape():
  flow = _vector_flow()
  fldj = bijector_checks.assert_log_det_is_brute_force(flow, _x(3), 1)
  assert np.abs(fldj).min() > 1e-3
  bijector_checks.assert_sample_shapes(flow, _x(4)[0], 1, rtol=1e-9)


def test_networks_are_the_trainable_variables():
  flow = _vector_flow()
  nets = [m for m in flow.submodules if isinstance(m, networks.MLP)]
  assert len(nets) == 3
  assert ({v.ref() for v in flow.trainable_variables} ==
          {v.ref() for n in nets for v in n.trainable_weights})
