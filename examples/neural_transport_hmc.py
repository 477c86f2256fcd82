"""Neural-transport HMC (Hoffman et al. 2019) on the funnel, with Real NVP.

  python examples/neural_transport_hmc.py

A Real NVP flow fitted to the funnel by VI (as in variational_posterior.py)
maps N(0, I) close to it. HMC run in that latent space, through
`tfp.mcmc.TransformedTransitionKernel(hmc, bijector=flow.bijector)`, sees a
nearly standard normal, while plain HMC needs one step size for both the
funnel's narrow neck and wide mouth. Both samplers get the same budget
(chains, steps, leapfrog steps, step-size adaptation, start from exact
draws); the script reports the effective sample size of the slower
coordinate per gradient evaluation of the target. (Each transported
gradient also runs the flow; the VI fit is a one-off cost not counted.)
"""

import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

import variational_posterior as vp

tfb = tfp.bijectors


def ess_per_gradient(bijector, num_chains=16, num_results=300, num_burnin=200,
                     num_leapfrog_steps=4, seed=0):
  """HMC on the funnel in the space `bijector` maps from; min ESS per grad."""
  kernel = tfp.mcmc.SimpleStepSizeAdaptation(
      tfp.mcmc.TransformedTransitionKernel(
          tfp.mcmc.HamiltonianMonteCarlo(
              vp.funnel_log_prob, step_size=0.1,
              num_leapfrog_steps=num_leapfrog_steps),
          bijector),
      num_adaptation_steps=int(0.8 * num_burnin))

  @tf.function
  def run(init):
    return tfp.mcmc.sample_chain(
        num_results, init, kernel=kernel, num_burnin_steps=num_burnin,
        trace_fn=None, seed=seed)

  samples = run(vp.funnel_sample(num_chains, seed=seed))
  # Pooled over chains, so chains stuck in different places count as such.
  ess = tfp.mcmc.effective_sample_size(samples, cross_chain_dims=1)
  return float(tf.reduce_min(ess)) / (
      num_chains * num_results * num_leapfrog_steps)


def main(vi_steps=400, num_results=300, seed=0):
  """Returns `{'plain': ..., 'transported': ...}` ESS per gradient."""
  flow = vp.flow_surrogate()
  vp.fit(flow, vi_steps, seed=seed)
  results = {
      'plain': ess_per_gradient(tfb.Identity(), num_results=num_results,
                                seed=seed),
      'transported': ess_per_gradient(flow.bijector, num_results=num_results,
                                      seed=seed),
  }
  for name, value in results.items():
    print(f'{name:>11} HMC: min ESS per gradient evaluation {value:.4f}')
  print(f'neural transport: {results["transported"] / results["plain"]:.1f}x')
  return results


if __name__ == '__main__':
  tf_keras.utils.set_random_seed(0)
  main()
