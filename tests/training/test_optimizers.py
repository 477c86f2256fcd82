"""FusedAdam: Adam's arithmetic and checkpoints, one kernel per variable."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tfp_realnvp.training import optimizers

SHAPES = [[3, 4], [4], [2, 2, 3]]


def run(optimizer, steps=5, function=False):
  """Variables after `steps` updates on a fixed quadratic-ish loss."""
  variables = [tf.Variable(tf.random.stateless_normal(shape, [i, 0]))
               for i, shape in enumerate(SHAPES)]
  optimizer.build(variables)

  def step():
    with tf.GradientTape() as tape:
      loss = sum(tf.reduce_sum(tf.sin(v) * v**2) for v in variables)
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

  step = tf.function(step) if function else step
  for _ in range(steps):
    step()
  return [v.numpy() for v in variables], optimizer


@pytest.mark.parametrize('function', [False, True])
def test_matches_keras_adam(function):
  kwargs = dict(learning_rate=0.05, beta_1=0.8, beta_2=0.95, epsilon=1e-3,
                global_clipnorm=3.)
  expected, _ = run(tf_keras.optimizers.Adam(**kwargs), function=function)
  got, fused = run(optimizers.FusedAdam(**kwargs), function=function)
  assert int(fused.iterations) == 5
  for e, g in zip(expected, got):
    np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_restores_a_keras_adam_checkpoint(tmp_path):
  _, adam = run(tf_keras.optimizers.Adam(0.05), steps=3)
  path = tf.train.Checkpoint(optimizer=adam).save(str(tmp_path / 'ckpt'))
  fused = optimizers.FusedAdam(0.05)
  fused.build([tf.Variable(tf.zeros(shape)) for shape in SHAPES])
  tf.train.Checkpoint(optimizer=fused).restore(path).assert_consumed()
  assert int(fused.iterations) == 3
  for a, b in zip(adam.variables, fused.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_refuses_what_it_does_not_fuse():
  with pytest.raises(ValueError, match='amsgrad'):
    optimizers.FusedAdam(amsgrad=True)


def test_builds_the_step_constants_once():
  """One set of hyperparameter ops per step, not one per variable."""
  variables = [tf.Variable(tf.zeros(shape)) for shape in SHAPES]
  optimizer = optimizers.FusedAdam(0.05)
  optimizer.build(variables)

  @tf.function
  def step():
    optimizer.apply_gradients(
        zip([tf.ones_like(v) for v in variables], variables))

  ops = step.get_concrete_function().graph.get_operations()
  assert sum(op.type == 'Pow' for op in ops) == 2
  assert sum(op.type == 'ResourceApplyAdam' for op in ops) == len(SHAPES)
