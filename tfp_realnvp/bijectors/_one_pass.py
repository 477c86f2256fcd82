"""A bijector base whose value and log-det come out of one computation, and
the bijector cache that gradient tapes can trust."""

import tensorflow as tf
from tensorflow.python.eager import record  # pylint: disable=g-direct-tensorflow-import
from tensorflow_probability.python.bijectors import bijector
from tensorflow_probability.python.internal import cache_util


class IdentityEquality:
  """Bijectors that hold networks and variables: only the same object is equal.

  TFP's default hashes every parameter, recursively, on each cache lookup,
  which for a whole flow costs seconds per call.
  """

  def __hash__(self):
    return id(self)

  def __eq__(self, other):
    return self is other


class _TapeAwareCache:
  """A TFP bijector cache whose answers a gradient tape can differentiate.

  TFP's cache answers `inverse(y)` for a `y` that `forward` produced with the
  `x` (and log-det) computed then. If a tape records now but did not record
  that computation (samples drawn outside a `tf.GradientTape`, scored inside
  it), the stored tensors are constants to it: the gradient of `log_prob`
  with respect to the weights would be `None`, and with respect to a watched
  `y` wrong. So while a tape records, a stored entry is used only if the
  tape recorded the pass that computed it, or if computing it again could
  not change a gradient (the bijector has no trainable variables and no tape
  watches its input); otherwise the entry is computed again, inside the
  tape. With no tape recording, the check costs one call.
  """

  def _lookup(self, input, forward_name, inverse_name, **kwargs):  # pylint: disable=redefined-builtin
    self._forget_if_untaped(input, forward_name, kwargs)
    return super()._lookup(input, forward_name, inverse_name, **kwargs)

  def _attributes(self, input, fn_name, **kwargs):  # pylint: disable=redefined-builtin
    self._forget_if_untaped(input, fn_name, kwargs)
    return super()._attributes(input, fn_name, **kwargs)

  def _forget_if_untaped(self, input, fn_name, kwargs):  # pylint: disable=redefined-builtin
    if input is None or not record.could_possibly_record():
      return
    edge = self._get_or_create_edge(input, fn_name, kwargs)
    output = edge.output_ref() if edge.output_ref else None
    if output is None:
      return
    if edge.dependencies is None:  # keyed by its input: `output` was computed
      recorded = record.should_record_backprop(_tensors(output))
    else:
      # Keyed by the computation's result, which a tape may also watch as a
      # leaf (tape.watch(samples)). A recorded pass also recorded its input
      # or its log-det.
      recorded = record.should_record_backprop(_tensors(input)) and (
          self.bijector.is_constant_jacobian or record.should_record_backprop(
              _tensors((output, edge.attributes))))
    if recorded:
      return
    if (record.should_record_backprop(_tensors(input))
        or self.bijector.trainable_variables):
      # Same key (its weak-reference callback stays valid), no value: the
      # next lookup computes the value and its attributes afresh.
      self.storage[edge.input_ref] = edge._replace(
          output_ref=None, attributes={}, dependencies=None)


def _tensors(structure):
  return [t for t in tf.nest.flatten(structure) if tf.is_tensor(t)]


class TapeAwareCache(_TapeAwareCache, cache_util.BijectorCache):
  """TFP's bijector cache, for bijectors that compute values alone."""


class TapeAwareGreedyCache(_TapeAwareCache,
                           cache_util.BijectorCacheWithGreedyAttrs):
  """TFP's greedy cache (value and log-det together), tape-aware."""


class NoCache(cache_util.BijectorCache):
  """No cache, for compositions: their steps cache, and decide for a tape.

  A composition's own entry would hold its steps' results as they were when
  stored; walking the steps lets each one's tape-aware cache answer.
  """

  def _lookup(self, input, forward_name, inverse_name, **kwargs):  # pylint: disable=redefined-builtin
    return self._invoke(input, forward_name, kwargs, {})

  def _attributes(self, input, fn_name, **kwargs):  # pylint: disable=redefined-builtin
    return {}


class OnePassBijector(IdentityEquality, bijector.Bijector):
  """Base for bijectors that compute `y` and its log-det together.

  `tfb.RealNVP` runs its network once in `_forward` and again in
  `_forward_log_det_jacobian`. Subclasses of this base implement
  `_forward_and_log_det(x, **kwargs) -> (y, fldj)` and
  `_inverse_and_log_det(y, **kwargs) -> (x, ildj)` instead, with the log-det
  already summed over `forward_min_event_ndims`. TFP's greedy bijector cache
  (the mechanism `tfb.FFJORD` uses) stores the log-det beside the value, so
  `log_prob`, which asks for `inverse(y)` and `inverse_log_det_jacobian(y)`,
  evaluates each network once. The cache is tape-aware (`TapeAwareCache`).
  """

  _cache = TapeAwareGreedyCache(
      forward_name='_one_pass_forward', inverse_name='_one_pass_inverse')

  def _forward_and_log_det(self, x, **kwargs):
    raise NotImplementedError

  def _inverse_and_log_det(self, y, **kwargs):
    raise NotImplementedError

  # The base class reads the cached attribute 'ildj' for both directions.
  def _one_pass_forward(self, x, **kwargs):
    y, fldj = self._forward_and_log_det(x, **kwargs)
    return y, {'ildj': -fldj}

  def _one_pass_inverse(self, y, **kwargs):
    x, ildj = self._inverse_and_log_det(y, **kwargs)
    return x, {'ildj': ildj}

  def _forward(self, x, **kwargs):
    return self._one_pass_forward(x, **kwargs)[0]

  def _inverse(self, y, **kwargs):
    return self._one_pass_inverse(y, **kwargs)[0]

  # Reached only when the log-det is asked for before the value. The cache
  # holds values weakly, so a value computed here would be dropped at once:
  # callers that want both should ask for the value first.
  def _forward_log_det_jacobian(self, x, **kwargs):
    return -self._one_pass_forward(x, **kwargs)[1]['ildj']

  def _inverse_log_det_jacobian(self, y, **kwargs):
    return self._one_pass_inverse(y, **kwargs)[1]['ildj']
