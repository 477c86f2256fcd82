"""The examples in examples/, each run small and checked for its claim."""

import os
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

import tfp_realnvp

sys.path.insert(0, os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'examples'))

import joint_distribution  # pylint: disable=g-import-not-at-top,wrong-import-position
import neural_transport_hmc  # pylint: disable=g-import-not-at-top,wrong-import-position
import variational_posterior  # pylint: disable=g-import-not-at-top,wrong-import-position

tfd = tfp.distributions


@pytest.fixture(autouse=True)
def _seed():
  tf_keras.utils.set_random_seed(0)


def test_joint_log_prob_is_prior_plus_likelihood_and_samples():
  prior = tfp_realnvp.real_nvp_vector_distribution(2, num_couplings=2,
                                                   hidden_units=(8,), name='z')
  # Non-identity weights, so the flow's term is not a plain normal's.
  for v in prior.trainable_variables:
    v.assign(tf.random.normal(v.shape, stddev=0.3))
  joint = joint_distribution.model(prior, sigma=0.5)
  z, x = joint.sample(7, seed=1)
  assert z.shape == x.shape == [7, 2]
  by_hand = prior.log_prob(z) + tf.reduce_sum(
      tfd.Normal(z, 0.5).log_prob(x), axis=-1)
  np.testing.assert_allclose(joint.log_prob(z=z, x=x), by_hand, rtol=1e-5)
  assert not np.allclose(prior.log_prob(z),
                         tfd.MultivariateNormalDiag(tf.zeros(2)).log_prob(z))


@pytest.mark.slow
def test_joint_distribution_fits_prior_and_denoises():
  result = joint_distribution.main(num_steps=150, num_points=300)
  assert result['losses'][-1] < result['losses'][0] - 0.5
  assert result['mse_posterior_mean'] < 0.9 * result['mse_readings']


@pytest.mark.slow
def test_flow_surrogate_beats_gaussian_elbo():
  elbos = variational_posterior.main(num_steps=300)
  # The funnel is normalized: ELBO <= 0, and the Gaussian cannot reach it.
  assert elbos['Real NVP'] > elbos['diagonal Gaussian'] + 0.3
  assert elbos['Real NVP'] < 0.05


@pytest.mark.slow
def test_neural_transport_has_higher_ess_per_gradient():
  results = neural_transport_hmc.main(vi_steps=300, num_results=150)
  assert results['transported'] > 3 * results['plain']
