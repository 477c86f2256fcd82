import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_realnvp import bijectors
from tfp_realnvp import networks
from tests import bijector_checks
from tests import flow_testing

tfb = tfp.bijectors


def _coupling(mask, channels, dtype=tf.float64, seed=0):
  if mask.ndim == 1:  # a channel split: the network sees the conditioning half
    net = networks.ResNet(channels // 2, num_blocks=1, num_filters=8,
                          initial_scale=1., dtype=dtype)
  else:
    net = networks.ResNet(channels, num_blocks=1, num_filters=8, mask=mask,
                          dtype=dtype)
  coupling = bijectors.AffineCoupling(mask, net, event_ndims=3, dtype=dtype)
  return flow_testing.perturb(coupling, seed=seed, scale=0.3)


MASKS = [
    ('checkerboard0', lambda: bijectors.checkerboard_mask(4, 4, parity=0)),
    ('checkerboard1', lambda: bijectors.checkerboard_mask(4, 4, parity=1)),
    ('channel0', lambda: bijectors.channel_mask(4, parity=0)),
    ('channel1', lambda: bijectors.channel_mask(4, parity=1)),
]


def _x(shape, seed=1, dtype=tf.float64):
  return tf.random.stateless_normal(shape, seed=[seed, 2], dtype=dtype)


@pytest.mark.parametrize('name,make_mask', MASKS)
def test_log_det_matches_brute_force_jacobian(name, make_mask):
  coupling = _coupling(make_mask(), channels=4)
  fldj = bijector_checks.assert_log_det_is_brute_force(
      coupling, _x([3, 4, 4, 4]), event_ndims=3)
  assert np.abs(fldj).min() > 1e-3  # the weights really are non-identity


@bijector_checks.REGIMES
@pytest.mark.parametrize('name,make_mask', MASKS[::2])
def test_bijective_and_finite(regime, name, make_mask):
  coupling = _coupling(make_mask(), channels=4, dtype=tf.float32)
  bijector_checks.assert_bijective_and_finite(
      coupling, _x([2, 4, 4, 4], 3, tf.float32), _x([2, 4, 4, 4], 4, tf.float32),
      event_ndims=3, regime=regime, rtol=1e-4, atol=1e-5)


def test_sample_shapes_and_batch_shape():
  coupling = _coupling(bijectors.checkerboard_mask(4, 4), channels=2)
  bijector_checks.assert_sample_shapes(coupling, _x([4, 4, 2]), 3)


@pytest.mark.parametrize('name,make_mask', MASKS)
def test_masked_half_passes_through_and_forward_is_generative(name, make_mask):
  mask = make_mask()
  coupling = _coupling(mask, channels=4)
  z = _x([2, 4, 4, 4], 3)
  x = coupling.forward(z)
  b = np.broadcast_to(mask, z.shape[1:]).astype(bool)
  np.testing.assert_array_equal(x.numpy()[:, b], z.numpy()[:, b])
  if mask.ndim == 1:  # the network sees the conditioning channels alone
    shift, log_scale = coupling.shift_and_log_scale_fn(z.numpy()[..., b[0, 0]])
    changed = z.numpy()[..., ~b[0, 0]]
  else:  # the network sees the masked event
    shift, log_scale = coupling.shift_and_log_scale_fn(z * mask)
    shift, log_scale, changed = (t.numpy()[:, ~b] for t in (shift, log_scale,
                                                          z))
  expected = changed * np.exp(log_scale) + shift  # tfb.RealNVP's forward
  changed_x = x.numpy()[..., ~b[0, 0]] if mask.ndim == 1 else x.numpy()[:, ~b]
  np.testing.assert_allclose(changed_x, expected, rtol=1e-12)
  assert np.abs(x.numpy()[:, ~b] - z.numpy()[:, ~b]).max() > 1e-3
  assert coupling.kwarg_names == {'training', 'conditional_input'}


@pytest.mark.parametrize('num_masked', [2, 3])
def test_agrees_with_tfp_real_nvp(num_masked):
  size = 5
  net = flow_testing.perturb(networks.MLP(
      num_masked, size - num_masked, hidden_units=[16], dtype=tf.float64),
                             scale=0.5)

  def shift_and_log_scale(x_masked, output_units=None):
    del output_units  # tfb.RealNVP passes it; the network knows its size
    return net(x_masked)

  theirs = tfb.RealNVP(num_masked=num_masked,
                       shift_and_log_scale_fn=shift_and_log_scale)
  mask = (np.arange(size) < num_masked).astype(np.float64)
  ours = bijectors.AffineCoupling(mask, shift_and_log_scale, dtype=tf.float64)
  x = _x([6, size], 5)
  for method in ('forward', 'inverse'):
    np.testing.assert_allclose(getattr(ours, method)(tf.identity(x)),
                               getattr(theirs, method)(tf.identity(x)),
                               rtol=1e-6, atol=1e-12)
    ldj = f'{method}_log_det_jacobian'
    np.testing.assert_allclose(getattr(ours, ldj)(tf.identity(x), 1),
                               getattr(theirs, ldj)(tf.identity(x), 1),
                               rtol=1e-6)


def test_half_mask_splits_odd_sizes():
  np.testing.assert_array_equal(bijectors.half_mask(5, 0), [1, 1, 0, 0, 0])
  np.testing.assert_array_equal(bijectors.half_mask(5, 1), [0, 0, 1, 1, 1])


def test_masks_are_complementary_checkerboards():
  a = bijectors.checkerboard_mask(4, 6, 0)[..., 0]
  b = bijectors.checkerboard_mask(4, 6, 1)[..., 0]
  np.testing.assert_array_equal(a + b, np.ones([4, 6]))
  assert a[0, 0] == 1 and a[0, 1] == 0 and a[1, 0] == 0 and a[1, 1] == 1


def test_declared_kwargs_reach_the_network():
  seen = []

  def shift_and_log_scale(x, label):
    seen.append(label)
    return tf.zeros([1, 2]), tf.constant([[1., 0.]]) * label

  coupling = bijectors.AffineCoupling(bijectors.half_mask(3),
                                      shift_and_log_scale)
  assert coupling.kwarg_names == {'label'}
  # A channel split: the network sees the first entry, returns the others'.
  y = coupling.forward(tf.ones([1, 3]), label=3.)
  np.testing.assert_allclose(y, [[1., np.exp(3.), 1.]])
  assert seen == [3.]


def test_rejects_bad_masks():
  net = networks.MLP(1, 1)
  with pytest.raises(ValueError, match='0s and 1s'):
    bijectors.AffineCoupling(np.array([0.5, 1.]), net)
  with pytest.raises(ValueError, match='both'):
    bijectors.AffineCoupling(np.ones([2]), net)
  with pytest.raises(ValueError, match='even number'):
    bijectors.channel_mask(3)
