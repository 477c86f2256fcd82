"""A Real NVP flow as a learned prior inside a TFP joint distribution.

  python examples/joint_distribution.py

Model: a position z ~ RealNVP on R^2 (the prior, learned) and a noisy reading
of it, x | z ~ Normal(z, sigma). Calibration pairs (z, x), with z on two
moons, fit the flow's weights by maximizing the joint's log_prob (only the
prior's term depends on them). Then for new readings alone the posterior
mean E[z | x], by importance sampling with p(z | x) proportional to
joint(z, x), denoises them: it lands closer to the true positions than the
readings do.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

import tfp_realnvp

tfd = tfp.distributions


def two_moons(num_points, noise=0.08, seed=0):
  """`[N, 2]` points on two interleaved half circles, centred at 0."""
  rng = np.random.default_rng(seed)
  angle = rng.uniform(0., np.pi, num_points)
  upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
  lower = np.stack([1. - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
  points = np.where((np.arange(num_points) % 2 == 0)[:, None], upper, lower)
  points += noise * rng.standard_normal(points.shape) - [0.5, 0.25]
  return points.astype(np.float32)


def model(prior, sigma):
  """`p(z, x) = prior(z) Normal(x | z, sigma)` as a JointDistribution."""
  @tfd.JointDistributionCoroutine
  def joint():
    z = yield tfd.JointDistributionCoroutine.Root(prior)
    yield tfd.Independent(tfd.Normal(z, sigma), 1, name='x')
  return joint


def posterior_mean(joint, prior, x, num_samples=2000, seed=0):
  """E[z | x] for each reading `x [N, 2]`, with the prior as proposal."""
  z = prior.sample(num_samples, seed=seed)[:, tf.newaxis]  # [K, 1, 2]
  # Importance weights p(z, x) / prior(z): the likelihood, [K, N].
  weights = tf.nn.softmax(joint.log_prob(z=z, x=x) - prior.log_prob(z), axis=0)
  return tf.reduce_sum(weights[..., tf.newaxis] * z, axis=0)


def main(num_steps=500, sigma=0.3, num_points=1000, seed=0):
  """Fits the prior; returns the NLL trace and the denoising errors."""
  prior = tfp_realnvp.real_nvp_vector_distribution(
      2, num_couplings=4, hidden_units=(32, 32), name='z')
  joint = model(prior, sigma)
  # The readings are drawn from the model itself, given the true positions.
  z_train = two_moons(num_points, seed=seed)
  x_train = joint.sample(z=z_train, seed=seed).x
  losses = tfp.math.minimize(
      lambda: -tf.reduce_mean(joint.log_prob(z=z_train, x=x_train)),
      num_steps, tf_keras.optimizers.Adam(3e-3),
      trainable_variables=prior.trainable_variables)

  z_test = two_moons(num_points, seed=seed + 1)
  x_test = joint.sample(z=z_test, seed=seed + 1).x
  mse = lambda z: float(tf.reduce_mean(tf.reduce_sum((z - z_test)**2, -1)))
  result = {'losses': losses.numpy(), 'mse_readings': mse(x_test),
            'mse_posterior_mean': mse(posterior_mean(joint, prior, x_test))}
  print(f'joint NLL per pair: {result["losses"][0]:.3f} -> '
        f'{result["losses"][-1]:.3f} nats')
  print(f'squared error of the readings {result["mse_readings"]:.4f}, of the '
        f'posterior means {result["mse_posterior_mean"]:.4f}')
  return result


if __name__ == '__main__':
  tf_keras.utils.set_random_seed(0)
  main()
