"""A chain of bijectors that routes keyword arguments by the names they take."""

import tensorflow as tf
from tensorflow_probability.python.bijectors import composition

from tfp_realnvp.bijectors import _one_pass

__all__ = ['Flow', 'kwarg_names']


def kwarg_names(bijector):
  """The flow-wide keyword arguments `bijector` declares it takes."""
  return getattr(bijector, 'kwarg_names', frozenset())


class Flow(_one_pass.IdentityEquality, composition.Composition):
  """`tfb.Chain` whose keyword arguments reach every step that declares them.

  As in `tfb.Chain(bijectors)`, `forward` applies the bijectors from the last
  to the first and `inverse` from the first to the last, so for a
  normalizing flow the list reads in the paper's order, data to latent,
  each step in TFP's generative direction:

  ```none
  forward(z) = b_1.forward(b_2.forward(... b_n.forward(z)))   # generation
  inverse(x) = b_n.inverse(... b_2.inverse(b_1.inverse(x)))   # the paper's f
  ```

  A keyword argument of a call (TFP's `bijector_kwargs`) goes to each step
  whose `kwarg_names` hold its name, and on into nested flows: `training`
  reaches every batch normalization, `conditional_input` every conditional
  network. A dictionary keyed by a step's `name` goes to that step alone, as
  in `tfb.Chain`, which serves bijectors that declare nothing.

  #### Example

  ```python
  import tensorflow as tf
  import tensorflow_probability as tfp
  from tfp_realnvp import bijectors
  from tfp_realnvp import networks

  tfd = tfp.distributions
  flow = bijectors.Flow([
      bijectors.AffineCoupling(bijectors.half_mask(4, 0),
                               networks.MLP(2, 2, hidden_units=(8,))),
      bijectors.BatchNormalization(4, event_ndims=1),
      bijectors.AffineCoupling(bijectors.half_mask(4, 1),
                               networks.MLP(2, 2, hidden_units=(8,)))])
  dist = tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0., 1.), 4), flow)
  x = tf.random.normal([8, 4])
  dist.log_prob(x, bijector_kwargs={'training': True})  # batch statistics
  dist.log_prob(x)  # running averages
  ```
  """

  _cache = _one_pass.NoCache()

  def __init__(self, bijectors, validate_args=False, name='flow'):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      bijectors = list(bijectors)
      if not bijectors:
        raise ValueError('A Flow needs at least one bijector.')
      self._kwarg_names = frozenset().union(*map(kwarg_names, bijectors))
      super().__init__(
          bijectors=bijectors,
          forward_min_event_ndims=None,  # inferred from the bijectors
          inverse_min_event_ndims=None,
          validate_args=validate_args,
          parameters=parameters,
          name=name)

  @property
  def kwarg_names(self):
    return self._kwarg_names

  def _kwargs_for(self, bijector, kwargs):
    names = kwarg_names(bijector)
    routed = {k: v for k, v in kwargs.items() if k in names}
    by_name = kwargs.get(bijector.name)
    if isinstance(by_name, dict):
      routed.update(by_name)
    return routed

  def _walk_forward(self, step_fn, x, **kwargs):
    for bijector in reversed(self._bijectors):
      x = step_fn(bijector, x, **self._kwargs_for(bijector, kwargs))
    return x

  def _walk_inverse(self, step_fn, y, **kwargs):
    for bijector in self._bijectors:
      y = step_fn(bijector, y, **self._kwargs_for(bijector, kwargs))
    return y
