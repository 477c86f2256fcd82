import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_realnvp import bijectors
from tfp_realnvp import config
from tfp_realnvp import networks
from tests import bijector_checks
from tests import flow_testing

tfb = tfp.bijectors
tfd = tfp.distributions


def _flow(shape=(8, 8, 3), dtype=tf.float64, seed=0, perturbation=0.2,
          **kwargs):
  kwargs = {'num_res_blocks': 1, 'num_filters': 4, **kwargs}
  flow = bijectors.multi_scale_real_nvp(
      config.Architecture(shape, **kwargs), dtype=dtype)
  return flow_testing.perturb(flow, seed=seed, scale=perturbation)


def _couplings(flow):
  return [m for m in flow.submodules if isinstance(m, bijectors.AffineCoupling)]


def test_architecture_follows_the_paper_and_is_named():
  flow = _flow((16, 16, 3), num_scales=3)
  assert [s.name for s in flow.scales] == ['scale0', 'scale1', 'scale2']
  assert isinstance(flow.logit, bijectors.LogitTransform)
  couplings = [[b for b in part if isinstance(b, bijectors.AffineCoupling)]
               for s in flow.scales for part in (s.checkerboard, s.channel)]
  masks = [[c.mask.shape for c in part] for part in couplings]
  # Scales 1 and 2: 3 checkerboard + 3 channel-wise; last: 4 checkerboard.
  assert masks == [[[16, 16, 1]] * 3, [[12]] * 3, [[8, 8, 1]] * 3, [[24]] * 3,
                   [[4, 4, 1]] * 4, []]
  # Feature maps double per scale; the channel couplings' are twice their
  # scale's.
  filters = [c.shift_and_log_scale_fn.conv_in.filters for c in _couplings(flow)]
  assert filters == [4] * 3 + [8] * 3 + [8] * 3 + [16] * 3 + [16] * 4
  assert flow.kwarg_names == {'training', 'conditional_input'}


@pytest.mark.slow
def test_log_det_matches_brute_force_jacobian():
  flow = _flow()
  z = flow.inverse(flow_testing.random_pixels([2, 8, 8, 3], dtype=tf.float64))
  bijector_checks.assert_log_det_is_brute_force(flow, tf.identity(z), 3)


@pytest.mark.slow
def test_log_det_matches_brute_force_without_batch_norm_three_scales():
  flow = _flow((8, 8, 2), num_scales=3, batch_norm=False, seed=3)
  z = flow.inverse(flow_testing.random_pixels([2, 8, 8, 2], seed=4,
                                              dtype=tf.float64))
  bijector_checks.assert_log_det_is_brute_force(flow, tf.identity(z), 3)


@bijector_checks.REGIMES
def test_bijective_and_finite(regime):
  flow = _flow(perturbation=0.05)
  # Latents of images: random weights map many normal draws to pixels where
  # the sigmoid rounds to 1, whose logit is infinite.
  z = tf.identity(flow.inverse(
      flow_testing.random_pixels([2, 8, 8, 3], seed=1, dtype=tf.float64)))
  x = flow_testing.random_pixels([2, 8, 8, 3], seed=2, dtype=tf.float64)
  bijector_checks.assert_bijective_and_finite(
      flow, z, x, event_ndims=3, regime=regime, rtol=1e-6, atol=1e-8)


def test_sample_shapes_and_batch_shape():
  flow = _flow(perturbation=0.05)
  bijector_checks.assert_sample_shapes(
      flow, tf.random.stateless_normal([8, 8, 3], [3, 3], dtype=tf.float64),
      3, rtol=1e-8)


def test_inverse_recomputes_exactly_32x32_float32():
  # Milder weights than elsewhere: at random weights 16 couplings compound
  # their scales, and float32 cannot invert a logit that has saturated.
  flow = _flow((32, 32, 3), dtype=tf.float32, seed=1, perturbation=0.02)
  x = flow_testing.random_pixels([4, 32, 32, 3], seed=2)
  z = flow.inverse(x)
  assert np.abs(z - flow.logit.inverse(x)).max() > 0.1  # not the identity
  x_again = flow.forward(tf.identity(z))
  # In pixel space the logit's slope (up to 256 / 0.9 / 4 = 71) scales
  # float32 round-off of the logit space; still far below one level.
  assert np.abs(x_again - x).max() <= 0.1
  assert np.abs(flow.logit.inverse(x_again) - flow.logit.inverse(x)).max() <= (
      1e-3)


def test_chain_of_the_public_bijectors_built_by_hand_is_the_same_model():
  flow = _flow((8, 8, 3), num_scales=2)
  s0, s1 = flow.scales
  # The TFP way: a Chain lists the steps data-to-latent, each generative.
  by_hand = tfb.Chain([
      flow.logit, *s0.checkerboard, bijectors.Unsqueeze(), *s0.channel,
      tfb.Invert(bijectors.Unsqueeze()), bijectors.Unsqueeze(True),
      bijectors.FactorOut(tfb.Chain(s1.checkerboard)),
      tfb.Invert(bijectors.Unsqueeze(True))])
  base = tfd.Sample(tfd.Normal(tf.constant(0., tf.float64), 1.), [8, 8, 3])
  ours = tfd.TransformedDistribution(base, flow)
  theirs = tfd.TransformedDistribution(base, by_hand)
  x = flow_testing.random_pixels([3, 8, 8, 3], seed=5, dtype=tf.float64)
  np.testing.assert_allclose(ours.log_prob(x), theirs.log_prob(tf.identity(x)),
                             rtol=1e-6)
  np.testing.assert_allclose(ours.sample(2, seed=(7, 0)), theirs.sample(2, seed=(7, 0)),
                             rtol=1e-6)


def test_training_reaches_every_batch_norm_and_nothing_else():
  flow = _flow(perturbation=0.05)
  norms = [m for m in flow.submodules
           if isinstance(m, bijectors.BatchNormalization)]
  assert len(norms) == 10
  before = [bn.moving_mean.numpy().copy() for bn in norms]
  flow.inverse(flow_testing.random_pixels([4, 8, 8, 3], dtype=tf.float64))
  assert all((bn.moving_mean.numpy() == b).all()
             for bn, b in zip(norms, before))
  flow.inverse(flow_testing.random_pixels([4, 8, 8, 3], dtype=tf.float64),
               training=True)
  assert all((bn.moving_mean.numpy() != b).all()
             for bn, b in zip(norms, before))


def test_per_scale_latents_round_trip_and_match_factor_out():
  flow = _flow((8, 8, 3), num_scales=2)
  x = flow_testing.random_pixels([2, 8, 8, 3], dtype=tf.float64)
  z = flow.inverse(x)
  parts = flow.split_latent(z)
  assert [p.shape for p in parts] == [[2, 4, 4, 6], [2, 4, 4, 6]]
  np.testing.assert_array_equal(flow.merge_latent(parts), z)
  # The finest part is what scale 0 factored out: the second half of the
  # channels after its channel couplings, unsqueezed and squeezed diagonal
  # sites first.
  h = flow.logit.inverse(tf.identity(x))
  for step in [*flow.scales[0].checkerboard, bijectors.Unsqueeze(),
               *flow.scales[0].channel, tfb.Invert(bijectors.Unsqueeze()),
               bijectors.Unsqueeze(diagonal_first=True)]:
    h = step.inverse(h)
  np.testing.assert_allclose(parts[0], h[..., 6:], rtol=1e-12)


def test_each_network_runs_once_per_log_prob_and_sample(monkeypatch):
  calls = []
  original = networks.ResNet.call

  def counting_call(self, x):
    calls.append(self.name)
    return original(self, x)

  monkeypatch.setattr(networks.ResNet, 'call', counting_call)
  flow = _flow()
  names = sorted(c.shift_and_log_scale_fn.name for c in _couplings(flow))
  dist = tfd.TransformedDistribution(
      tfd.Sample(tfd.Normal(tf.constant(0., tf.float64), 1.), [8, 8, 3]), flow)
  dist.log_prob(flow_testing.random_pixels([2, 8, 8, 3], dtype=tf.float64))
  assert sorted(calls) == names
  calls.clear()
  dist.experimental_sample_and_log_prob(2, seed=1)
  assert sorted(calls) == names


@pytest.mark.parametrize('shape,num_scales,match', [
    ((28, 28, 1), 4, 'divisible by 8'),
    ((12, 10, 3), 3, 'divisible by 4'),
    ((8, 8), None, r'\[height, width, channels\]'),
    ((8, 8, 3), 0, 'num_scales must be a positive integer'),
])
def test_sizes_the_squeezes_cannot_halve(shape, num_scales, match):
  with pytest.raises(ValueError, match=match):
    config.Architecture(shape, num_scales=num_scales)


def test_default_num_scales_ends_at_4x4_or_odd():
  assert config.default_num_scales(32, 32) == 4
  assert config.default_num_scales(64, 64) == 5
  assert config.default_num_scales(28, 28) == 3
  assert config.default_num_scales(4, 4) == 1


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
  chain = tfb.Chain([tfb.Scale(tf.constant(2., tf.float64)), tfb.Invert(flow)])
  np.testing.assert_allclose(chain.forward(x), 2. * flow.inverse(x))
  np.testing.assert_allclose(
      chain.forward_log_det_jacobian(x, event_ndims=3),
      flow.inverse_log_det_jacobian(x, event_ndims=3) + 192 * np.log(2.),
      rtol=1e-10)


@pytest.mark.slow
def test_cifar10_configuration_has_the_authors_parameter_count():
  # 19,609,545: the authors' `encoder` built with n_scale=2, 8 residual
  # blocks, base_dim 64 on 32x32x3, its trainable variables counted.
  flow = bijectors.multi_scale_real_nvp(config.Architecture(
      [32, 32, 3], num_scales=2, num_res_blocks=8, num_filters=64))
  assert sum(int(np.prod(v.shape)) for v in flow.trainable_variables) == (
      19_609_545)


def test_factor_out_order_is_the_authors():
  # The ordered squeeze: sub-pixel k of channel c at k * C + c, with k over
  # (0,0), (1,1), (0,1), (1,0); the diagonal half goes on to the coarser
  # scales, the anti-diagonal half is the scale's latent.
  block = tf.constant([[[100. * c + 10 * h + w for c in range(3)]
                        for w in range(2)] for h in range(2)])[None]
  ordered = bijectors.Unsqueeze(diagonal_first=True).inverse(block)
  np.testing.assert_array_equal(
      ordered[0, 0, 0], [0, 100, 200, 11, 111, 211, 1, 101, 201, 10, 110, 210])
  flow = bijectors.multi_scale_real_nvp(
      config.Architecture([4, 4, 1], num_scales=2, num_res_blocks=1,
                          num_filters=4), dtype=tf.float64)
  z = tf.reshape(tf.range(16., dtype=tf.float64), [1, 4, 4, 1])
  latent, coarser = flow.split_latent(z)
  # 4h + w at the h+w odd sites is scale 0's latent; the even sites go on.
  np.testing.assert_array_equal(np.sort(np.ravel(latent)),
                                [1, 3, 4, 6, 9, 11, 12, 14])
  np.testing.assert_array_equal(np.sort(np.ravel(coarser)),
                                [0, 2, 5, 7, 8, 10, 13, 15])
  np.testing.assert_array_equal(flow.merge_latent([latent, coarser]), z)
