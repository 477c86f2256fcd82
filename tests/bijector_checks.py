"""TFP-style checks for every bijector, in eager, graph and XLA modes.

TFP checks its bijectors with `bijector_test_util.assert_bijective_and_finite`
(in TFP's source, not its wheel) inside `test_all_tf_execution_regimes`.
These are our equivalents: `REGIMES` parametrizes a test over the three
execution modes and `run` executes a function in one of them;
`assert_bijective_and_finite` makes the same checks as TFP's, with every
second pass given a new tensor so that the bijector cache cannot answer;
`assert_log_det_is_brute_force` compares the log-det with the log-determinant
of the full Jacobian; `assert_sample_shapes` sweeps sample shapes `()`,
`[n]` and `[n, m]`.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

REGIMES = pytest.mark.parametrize('regime', ['eager', 'graph', 'xla'])


def run(regime, fn, *args):
  """`fn(*args)` eagerly, in a `tf.function`, or XLA-compiled; numpy out."""
  if regime != 'eager':
    fn = tf.function(fn, jit_compile=regime == 'xla', autograph=False)
  return tf.nest.map_structure(lambda t: t.numpy(), fn(*args))


def assert_bijective_and_finite(bijector, x, y, event_ndims, regime,
                                rtol=1e-5, atol=0., inverse_event_ndims=None,
                                **kwargs):
  """Round trips from both sides, log-dets that agree, nothing infinite.

  `x` is in the domain of `forward`, `y` in that of `inverse`.
  """
  inverse_event_ndims = (event_ndims if inverse_event_ndims is None
                         else inverse_event_ndims)

  def check(x, y):
    f_x = bijector.forward(x, **kwargs)
    g_y = bijector.inverse(y, **kwargs)
    # tf.identity: a new tensor, so the bijector cache cannot answer.
    return dict(
        f_x=f_x, g_y=g_y,
        x_from_x=bijector.inverse(tf.identity(f_x), **kwargs),
        y_from_y=bijector.forward(tf.identity(g_y), **kwargs),
        fldj_x=bijector.forward_log_det_jacobian(x, event_ndims, **kwargs),
        ildj_f_x=bijector.inverse_log_det_jacobian(
            tf.identity(f_x), inverse_event_ndims, **kwargs),
        ildj_y=bijector.inverse_log_det_jacobian(
            y, inverse_event_ndims, **kwargs),
        fldj_g_y=bijector.forward_log_det_jacobian(
            tf.identity(g_y), event_ndims, **kwargs))

  out = run(regime, check, x, y)
  for name, value in out.items():
    assert np.isfinite(value).all(), f'{name} is not finite'
  np.testing.assert_allclose(out['x_from_x'], x, rtol=rtol, atol=atol)
  np.testing.assert_allclose(out['y_from_y'], y, rtol=rtol, atol=atol)
  np.testing.assert_allclose(-out['ildj_f_x'], out['fldj_x'], rtol=rtol,
                             atol=atol)
  np.testing.assert_allclose(-out['ildj_y'], out['fldj_g_y'], rtol=rtol,
                             atol=atol)
  return out


def brute_force_log_det(fn, x):
  """log|det J| of `fn` at each event of the batch `x` (one batch axis).

  Events may have any rank, in and out; `fn` maps a batch to a batch.
  """
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = fn(tf.identity(x))  # a new tensor, so no bijector cache answers
  jacobian = tape.batch_jacobian(y, x)
  n = x.shape[0]
  dim_in = math.prod(x.shape[1:])
  dim_out = math.prod(y.shape[1:])
  assert dim_in == dim_out, (x.shape, y.shape)
  return tf.linalg.slogdet(tf.reshape(jacobian, [n, dim_out, dim_in]))[1]


def assert_log_det_is_brute_force(bijector, x, event_ndims, rtol=1e-6,
                                  **kwargs):
  """Both log-dets against the full Jacobian, at `x` and at `forward(x)`."""
  fldj = bijector.forward_log_det_jacobian(x, event_ndims, **kwargs)
  np.testing.assert_allclose(
      fldj, brute_force_log_det(lambda t: bijector.forward(t, **kwargs), x),
      rtol=rtol)
  y = tf.identity(bijector.forward(x, **kwargs))
  np.testing.assert_allclose(
      bijector.inverse_log_det_jacobian(y, event_ndims, **kwargs),
      brute_force_log_det(lambda t: bijector.inverse(t, **kwargs), y),
      rtol=rtol)
  return fldj


def assert_sample_shapes(bijector, event, event_ndims, rtol=1e-5, **kwargs):
  """Sample shapes (), [n] and [n, m] give what a loop over events gives.

  `event` is one event, in the domain of `forward`.
  """
  one_y = bijector.forward(event, **kwargs)
  one_ldj = bijector.forward_log_det_jacobian(event, event_ndims, **kwargs)
  # A constant Jacobian's log-det may be a scalar that broadcasts, as in TFP.
  assert one_ldj.shape == []
  for sample_shape in ([], [2], [2, 3]):
    x = tf.broadcast_to(event, sample_shape + event.shape.as_list())
    y = bijector.forward(x, **kwargs)
    assert y.shape == sample_shape + one_y.shape.as_list()
    assert bijector.forward_event_shape(x.shape) == y.shape
    np.testing.assert_array_equal(
        bijector.forward_event_shape_tensor(tf.shape(x)), tf.shape(y))
    assert bijector.inverse_event_shape(y.shape) == x.shape
    ldj = bijector.forward_log_det_jacobian(x, event_ndims, **kwargs)
    assert ldj.shape in (sample_shape, [])
    np.testing.assert_allclose(
        y, tf.broadcast_to(one_y, y.shape), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(ldj, np.full(sample_shape, one_ldj),
                               rtol=rtol, atol=rtol)
    x_again = bijector.inverse(tf.identity(y), **kwargs)
    assert x_again.shape == x.shape
  assert bijector.experimental_batch_shape() == []
