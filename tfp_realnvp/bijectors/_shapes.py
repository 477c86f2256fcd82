"""Shape helpers shared by the bijectors."""

import tensorflow as tf


def map_over_batch(fn, x, event_ndims):
  """Applies `fn` to `x` with all batch dimensions folded into one.

  Convolutions and `space_to_depth` want exactly one batch dimension; TFP
  passes `sample_shape + batch_shape + event_shape`. `fn` may return a tensor
  or a tuple of tensors, each with one leading batch dimension.
  """
  batch_shape = tf.shape(x)[:-event_ndims]
  event_shape = x.shape[-event_ndims:]
  flat = tf.reshape(x, tf.concat([[-1], event_shape], axis=0))
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
