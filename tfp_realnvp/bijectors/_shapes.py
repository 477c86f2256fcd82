"""Shape helpers shared by the bijectors."""

import tensorflow as tf


def map_over_batch(fn, x, event_ndims, nonempty=False):
  """Applies `fn` to `x` with all batch dimensions folded into one.

  Convolutions and `space_to_depth` want exactly one batch dimension; TFP
  passes `sample_shape + batch_shape + event_shape`. `fn` may return a tensor
  or a tuple of tensors, each with one leading batch dimension. `nonempty`:
  `fn` never sees an empty batch (it gets one zero event instead, and its
  output is cut back), for the coupling networks: with
  TF_ENABLE_ONEDNN_OPTS=1, TensorFlow 2.21's convolution returns an empty
  batch unchanged, with the input's channels.
  """
  batch_shape = tf.shape(x)[:-event_ndims]
  event_shape = x.shape[-event_ndims:]
  flat = tf.reshape(x, tf.concat([[-1], event_shape], axis=0))
  if nonempty:
    size = tf.shape(flat)[0]
    flat = tf.pad(flat, [[0, tf.cast(tf.equal(size, 0), tf.int32)]] +
                  [[0, 0]] * event_ndims)
    out = tf.nest.map_structure(lambda t: t[:size], fn(flat))
  else:
    out = fn(flat)

  def unfold(t):
    return tf.reshape(t, tf.concat([batch_shape, t.shape[1:]], axis=0))

  return tf.nest.map_structure(unfold, out)


def check_event_shape(x, expected, what):
  """Raises a ValueError naming the expected event shape if `x` lacks it."""
  expected = [None if d is None else int(d) for d in expected]
  ndims = len(expected)
  shape = x.shape
  if shape.rank is not None and shape.rank < ndims:
    raise ValueError(
        f'{what} expects inputs of shape [..., {_fmt(expected)}] '
        f'(rank >= {ndims}); got shape {shape}.')
  got = shape[-ndims:] if shape.rank is not None else None
  if got is not None and not got.is_compatible_with(expected):
    raise ValueError(
        f'{what} expects an event shape of [{_fmt(expected)}]; got inputs of '
        f'shape {shape}.')


def _fmt(dims):
  return ', '.join('?' if d is None else str(d) for d in dims)
