"""A bijector base whose value and log-det come out of one computation."""

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


class OnePassBijector(IdentityEquality, bijector.Bijector):
  """Base for bijectors that compute `y` and its log-det together.

  `tfb.RealNVP` runs its network once in `_forward` and again in
  `_forward_log_det_jacobian`. Subclasses of this base implement
  `_forward_and_log_det(x, **kwargs) -> (y, fldj)` and
  `_inverse_and_log_det(y, **kwargs) -> (x, ildj)` instead, with the log-det
  already summed over `forward_min_event_ndims`. TFP's greedy bijector cache
  (the mechanism `tfb.FFJORD` uses) stores the log-det beside the value, so
  `log_prob`, which asks for `inverse(y)` and `inverse_log_det_jacobian(y)`,
  evaluates each network once.
  """

  _cache = cache_util.BijectorCacheWithGreedyAttrs(
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
