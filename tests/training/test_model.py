"""The training step (DistributionModel) and FlowModel: the loss,
inference-mode evaluation, skipped steps."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tfp_realnvp import config
from tfp_realnvp import distributions
from tfp_realnvp import networks
from tfp_realnvp.training import model as model_lib

SHAPE = (8, 8, 1)
TINY = config.Architecture(SHAPE, num_scales=1, num_res_blocks=1,
                           num_filters=4)


def tiny_model(l2=5e-5):
  """Eager by default: tracing the flow's graph takes far longer than a step."""
  model = model_lib.FlowModel(TINY, l2=l2)
  model.compile(tf_keras.optimizers.Adam(1e-2, global_clipnorm=100.),
                run_eagerly=True)
  return model


def pixels(seed=0, n=16):
  return tf.random.stateless_uniform([n, *SHAPE], [seed, 0], 0., 256.)


def values(variables):
  return [v.numpy().copy() for v in variables]


def test_call_is_bits_per_dim_of_the_distribution_with_running_averages():
  model = tiny_model()
  x = pixels()
  expected = distributions.bits_per_dim(model.distribution.log_prob(x), SHAPE)
  np.testing.assert_allclose(model(x), expected, rtol=1e-6)


def test_train_step_minimizes_nats_plus_l2_and_reports_bits_per_dim():
  model = tiny_model(l2=0.1)
  nets = [layer for layer in model.distribution.bijector.submodules
          if isinstance(layer, networks.ResNet)]
  # The authors' L2: the gains of the skip, block-output and output
  # convolutions, and the checkerboard couplings' log-scale scalars.
  regularized = [w for net in nets for w in net.regularized_weights]
  assert len(regularized) == len(nets) * (1 + 1 + 1 + 1 + 1)
  gains = [conv.g for net in nets for conv in net.submodules
           if isinstance(conv, networks.WeightNormConv2D) and conv.use_gain]
  assert {g.ref() for g in gains} < {w.ref() for w in regularized}
  penalty = 0.1 * sum(float(tf.reduce_sum(w**2)) for w in regularized)
  x = pixels()
  nats = -float(tf.reduce_mean(model.distribution.log_prob(
      x, bijector_kwargs={'training': True})))
  before = values(model.trainable_variables)
  logs = model.train_step(x)
  assert set(logs) == {'loss', 'bits_per_dim'}
  assert float(logs['loss']) == pytest.approx(nats + penalty, rel=1e-4)
  assert float(logs['bits_per_dim']) == pytest.approx(
      nats / (np.prod(SHAPE) * np.log(2.)), rel=1e-4)
  assert int(model.optimizer.iterations) == 1
  assert any(not np.array_equal(a, b) for a, b in
             zip(before, values(model.trainable_variables)))


def test_training_lowers_bits_per_dim():
  model = tiny_model()
  x = pixels()
  step = model.train_step
  first = float(step(x)['bits_per_dim'])
  for _ in range(3):
    step(x)
  model.reset_metrics()
  assert float(step(x)['bits_per_dim']) < first


@pytest.mark.slow
def test_nonfinite_step_changes_nothing_and_is_counted():
  model = tiny_model()
  step = tf.function(model.train_step)  # As in fit: tf.cond in a graph.
  step(pixels())  # Move the running averages and Adam's slots off zero.
  state = [v for v in model.variables + model.optimizer.variables
           if v is not model.nonfinite_steps]
  before = values(state)
  x = pixels(1).numpy()
  x[0, 0, 0, 0] = np.nan
  logs = step(tf.constant(x))
  assert int(model.nonfinite_steps) == 1
  for a, b in zip(before, values(state)):
    np.testing.assert_array_equal(a, b)
  assert np.isfinite(float(logs['bits_per_dim']))  # Not averaged in.


def test_test_step_uses_running_averages_and_leaves_them():
  model = tiny_model()
  model.train_step(pixels())
  averages = model.distribution.non_trainable_variables
  before = values(averages)
  x = pixels(2)
  model.reset_metrics()  # As evaluate() does.
  logs = model.test_step(x)
  np.testing.assert_allclose(float(logs['bits_per_dim']),
                             float(tf.reduce_mean(model(x))), rtol=1e-6)
  for a, b in zip(before, values(averages)):
    np.testing.assert_array_equal(a, b)
  assert float(logs['bits_per_dim']) != pytest.approx(
      float(tf.reduce_mean(model(x, training=True))), rel=1e-4)


def test_any_distribution_trains_on_its_negative_log_likelihood():
  dist = distributions.real_nvp_vector_distribution(2, num_couplings=2,
                                                    hidden_units=(8,))
  model = model_lib.DistributionModel(dist)
  model.compile(tf_keras.optimizers.Adam(1e-2), run_eagerly=True)
  x = tf.random.stateless_normal([64, 2], [0, 0]) * [2., 0.5] + 1.
  np.testing.assert_allclose(model(x), -dist.log_prob(x), rtol=1e-6)
  before = -float(tf.reduce_mean(dist.log_prob(x)))
  first = float(model.train_step(x)['nll'])
  assert first == pytest.approx(before, rel=1e-5)  # Scored before the update.
  for _ in range(10):
    model.train_step(x)
  model.reset_metrics()
  logs = model.train_step(x)
  assert set(logs) == {'loss', 'nll'}
  assert float(logs['loss']) == float(logs['nll']) < first


def test_training_step_without_the_graph_optimizer_computes_the_same():
  # Losses, not weights: Adam turns round-off in near-zero gradients into
  # steps of the learning rate.
  def losses(optimize_graph):
    tf_keras.utils.set_random_seed(0)
    model = model_lib.FlowModel(TINY, optimize_graph=optimize_graph)
    model.compile(tf_keras.optimizers.Adam(1e-2, global_clipnorm=100.))
    batches = iter(tf.data.Dataset.from_tensors(pixels()).repeat())
    train_function = model.make_train_function()
    return [float(train_function(batches)['loss']) for _ in range(3)]

  np.testing.assert_allclose(losses(False), losses(True), rtol=1e-5)


def test_recomputed_gradients_train_as_the_kept_ones():
  def train(recompute_gradients):
    tf_keras.utils.set_random_seed(0)
    model = model_lib.FlowModel(TINY, recompute_gradients=recompute_gradients)
    assert model.coupling_networks and all(
        net.recompute_gradients == recompute_gradients
        for net in model.coupling_networks)
    # Plain SGD: Adam would turn round-off in near-zero gradients into
    # steps of the learning rate.
    model.compile(tf_keras.optimizers.SGD(1e-3))
    batches = iter(tf.data.Dataset.from_tensors(pixels()).repeat())
    train_function = model.make_train_function()
    losses = [float(train_function(batches)['loss']) for _ in range(3)]
    return losses, values(model.variables)

  losses, weights = train(True)
  expected_losses, expected_weights = train(False)
  np.testing.assert_allclose(losses, expected_losses, rtol=1e-5)
  assert len(weights) == len(expected_weights)
  for got, expected in zip(weights, expected_weights):
    np.testing.assert_allclose(got, expected, rtol=1e-4,
                               atol=1e-5 * (np.abs(expected).max() + 1e-3))
