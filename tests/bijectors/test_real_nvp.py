import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_realnvp import bijectors
from tfp_realnvp import networks
from tests import flow_testing

tfb = tfp.bijectors


def _flow(shape=(8, 8, 3), dtype=tf.float64, seed=0, perturbation=0.2,
          **kwargs):
  kwargs = {'num_res_blocks': 1, 'num_filters': 4, **kwargs}
  flow = bijectors.multi_scale_real_nvp(list(shape), dtype=dtype, **kwargs)
  return flow_testing.perturb(flow, seed=seed, scale=perturbation)


def _couplings(flow):
  return [m for m in flow.submodules if isinstance(m, bijectors.AffineCoupling)]


def test_architecture_follows_the_paper():
  flow = _flow((16, 16, 3), num_scales=3)
  masks = [c.mask.shape for c in _couplings(flow)]
  # Scales 1 and 2: 3 checkerboard + 3 channel-wise; last: 4 checkerboard.
  assert masks == ([[16, 16, 1]] * 3 + [[12]] * 3 +
                   [[8, 8, 1]] * 3 + [[24]] * 3 + [[4, 4, 1]] * 4)
  filters = [c.shift_and_log_scale_fn.conv_in.filters for c in _couplings(flow)]
  assert filters == [4] * 6 + [8] * 6 + [16] * 4


@pytest.mark.slow
def test_log_det_matches_brute_force_jacobian():
  flow = _flow()
  x = flow_testing.random_pixels([2, 8, 8, 3], dtype=tf.float64)
  ildj = flow.inverse_log_det_jacobian(x, event_ndims=3)
  expected = flow_testing.brute_force_log_det(flow.inverse, x)
  np.testing.assert_allclose(ildj, expected, rtol=1e-6)
  z = flow.inverse(x)
  np.testing.assert_allclose(
      flow.forward_log_det_jacobian(tf.identity(z), event_ndims=3), -ildj,
      rtol=1e-6)


@pytest.mark.slow
def test_log_det_matches_brute_force_without_batch_norm_three_scales():
  flow = _flow((8, 8, 2), num_scales=3, batch_norm=False, seed=3)
  x = flow_testing.random_pixels([2, 8, 8, 2], seed=4, dtype=tf.float64)
  np.testing.assert_allclose(
      flow.inverse_log_det_jacobian(x, event_ndims=3),
      flow_testing.brute_force_log_det(flow.inverse, x), rtol=1e-6)


def test_inverse_recomputes_exactly_32x32_float32():
  # Milder weights than elsewhere: at random weights 16 couplings compound
  # their scales, and float32 cannot invert a logit that has saturated.
  flow = _flow((32, 32, 3), dtype=tf.float32, seed=1, perturbation=0.02)
  # The flow's own space is logit space; the pixel-space error is that error
  # times the logit's slope (up to 256 / 0.9 / 4 = 71).
  logit_space = bijectors.RealNVP(flow.steps[1:], event_shape=[32, 32, 3])
  y = flow.steps[0].forward(flow_testing.random_pixels([4, 32, 32, 3], seed=2))
  z = logit_space.inverse(y)
  assert np.abs(z - y).max() > 0.1  # not the identity
  y_again = logit_space.forward(tf.identity(z))
  assert np.abs(y_again - y).max() <= 1e-4


def test_per_scale_latents_round_trip_and_match_factor_out():
  flow = _flow((8, 8, 3), num_scales=2)
  x = flow_testing.random_pixels([2, 8, 8, 3], dtype=tf.float64)
  z = flow.inverse(x)
  parts = bijectors.split_scales(z, num_scales=2)
  assert [p.shape for p in parts] == [[2, 4, 4, 6], [2, 4, 4, 6]]
  np.testing.assert_array_equal(bijectors.merge_scales(parts), z)
  # The finest part is exactly what scale 1 factored out: the first half of
  # the channels entering its FactorOut step.
  h = tf.identity(x)
  for step in flow.steps:
    if isinstance(step, bijectors.FactorOut):
      break
    h = step.forward(h)
  np.testing.assert_allclose(parts[0], h[..., :6], rtol=1e-12)


def test_each_network_runs_once_per_log_det_and_value(monkeypatch):
  calls = []
  original = networks.ResNet.call

  def counting_call(self, x):
    calls.append(self.name)
    return original(self, x)

  monkeypatch.setattr(networks.ResNet, 'call', counting_call)
  flow = _flow()
  x = flow_testing.random_pixels([2, 8, 8, 3], dtype=tf.float64)
  flow.inverse(x)
  flow.inverse_log_det_jacobian(x, event_ndims=3)
  names = [c.shift_and_log_scale_fn.name for c in _couplings(flow)]
  assert sorted(calls) == sorted(names)
  calls.clear()
  z = tf.random.stateless_normal([2, 8, 8, 3], seed=[2, 2], dtype=tf.float64)
  flow.forward(z)
  flow.forward_log_det_jacobian(z, event_ndims=3)
  assert sorted(calls) == sorted(names)


def test_default_num_scales_ends_at_4x4_or_odd():
  assert bijectors.default_num_scales(32, 32) == 4
  assert bijectors.default_num_scales(64, 64) == 5
  assert bijectors.default_num_scales(28, 28) == 3
  assert bijectors.default_num_scales(4, 4) == 1


@pytest.mark.parametrize('shape,num_scales,match', [
    ((28, 28, 1), 4, 'divisible by 8'),
    ((12, 10, 3), 3, 'divisible by 4'),
    ((8, 8), None, r'\[height, width, channels\]'),
])
def test_sizes_the_squeezes_cannot_halve(shape, num_scales, match):
  with pytest.raises(ValueError, match=match):
    bijectors.multi_scale_real_nvp(shape, num_scales=num_scales)


def test_wrong_event_shape_or_rank_names_the_expected_shape():
  flow = _flow(dtype=tf.float32)
  with pytest.raises(ValueError, match=r'\[8, 8, 3\]'):
    flow.inverse(tf.zeros([2, 8, 8, 1]))
  with pytest.raises(ValueError, match=r'rank >= 3'):
    flow.inverse(tf.zeros([8, 8]))
  with pytest.raises(ValueError, match=r'\[8, 8, 3\]'):
    flow.forward(tf.zeros([2, 4, 4, 3]))


def test_inside_chain_and_invert():
  flow = _flow(batch_norm=False)
  x = flow_testing.random_pixels([2, 8, 8, 3], dtype=tf.float64)
  inverted = tfb.Invert(flow)
  chain = tfb.Chain([tfb.Scale(tf.constant(2., tf.float64)), inverted])
  np.testing.assert_allclose(chain.forward(x), 2. * flow.inverse(x))
  np.testing.assert_allclose(
      chain.forward_log_det_jacobian(x, event_ndims=3),
      flow.inverse_log_det_jacobian(x, event_ndims=3) + 192 * np.log(2.),
      rtol=1e-10)
