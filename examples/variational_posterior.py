"""A Real NVP flow as the variational posterior, fitted with tfp.vi.

  python examples/variational_posterior.py

The target is Neal's funnel in 2-D, v ~ N(0, 3), x | v ~ N(0, exp(v / 2)):
the spread of x changes by orders of magnitude with v, which no Gaussian can
follow, while an affine coupling (x scaled given v) can. A Real NVP surrogate
and a diagonal Gaussian are each fitted by maximizing the ELBO with
`tfp.vi.fit_surrogate_posterior`. The funnel is normalized, so the ELBO is
-KL(q || p) <= 0, 0 being a perfect fit.
"""

import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

import tfp_realnvp

tfb = tfp.bijectors
tfd = tfp.distributions

FUNNEL = tfd.JointDistributionSequential([
    tfd.Normal(0., 3., name='v'),
    lambda v: tfd.Normal(0., tf.exp(v / 2.), name='x'),
])


def funnel_log_prob(z):
  """The funnel's log density at points `z = [..., (v, x)]`."""
  return FUNNEL.log_prob(tf.unstack(z, axis=-1))


def funnel_sample(n, seed):
  return tf.stack(FUNNEL.sample(n, seed=seed), axis=-1)


def flow_surrogate(num_couplings=4, hidden_units=(32, 32)):
  return tfp_realnvp.real_nvp_vector_distribution(
      2, num_couplings=num_couplings, hidden_units=hidden_units)


def gaussian_surrogate():
  return tfd.MultivariateNormalDiag(
      loc=tf.Variable(tf.zeros(2)),
      scale_diag=tfp.util.TransformedVariable(tf.ones(2), tfb.Softplus()))


def fit(surrogate, num_steps, learning_rate=3e-3, sample_size=64, seed=0):
  """Maximizes the ELBO; returns the loss (negative ELBO) per step."""
  return tfp.vi.fit_surrogate_posterior(
      funnel_log_prob, surrogate,
      optimizer=tf_keras.optimizers.Adam(learning_rate), num_steps=num_steps,
      sample_size=sample_size, seed=seed)


def elbo(surrogate, num_samples=20_000, seed=1):
  """Monte Carlo ELBO, E_q[log p(z) - log q(z)], in nats."""
  z = surrogate.sample(num_samples, seed=seed)
  return float(tf.reduce_mean(funnel_log_prob(z) - surrogate.log_prob(z)))


def main(num_steps=500, num_couplings=4, hidden_units=(32, 32), seed=0):
  """Fits both surrogates; returns `{name: final ELBO}`."""
  surrogates = {'Real NVP': flow_surrogate(num_couplings, hidden_units),
                'diagonal Gaussian': gaussian_surrogate()}
  elbos = {}
  for name, surrogate in surrogates.items():
    fit(surrogate, num_steps, seed=seed)
    elbos[name] = elbo(surrogate)
    print(f'{name:>17} surrogate: ELBO {elbos[name]:.3f} nats '
          '(log Z = 0: the gap is KL(q || p))')
  return elbos


if __name__ == '__main__':
  tf_keras.utils.set_random_seed(0)
  main()
