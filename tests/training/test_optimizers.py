"""FusedAdam: Adam's arithmetic and checkpoints, one kernel per variable."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tfp_realnvp.training import optimizers

SHAPES = [[3, 4], [4], [2, 2, 3]]


def run(optimizer, steps=5, function=False, pass_norm=False):
  """Variables after `steps` updates on a fixed quadratic-ish loss; with
  `pass_norm`, the gradients' global norm is given to `apply_gradients`."""
  variables = [tf.Variable(tf.random.stateless_normal(shape, [i, 0]))
               for i, shape in enumerate(SHAPES)]
  optimizer.build(variables)

  def step():
    with tf.GradientTape() as tape:
      loss = sum(tf.reduce_sum(tf.sin(v) * v**2) for v in variables)
    gradients = tape.gradient(loss, variables)
    kwargs = ({'global_norm': tf.linalg.global_norm(gradients)}
              if pass_norm else {})
    optimizer.apply_gradients(zip(gradients, variables), **kwargs)

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


@pytest.mark.parametrize('function', [False, True])
def test_clips_with_the_callers_global_norm(function):
  """The same update as when FusedAdam computes the norm (which matches
  Keras's Adam: test_matches_keras_adam)."""
  clipped = optimizers.FusedAdam(0.05, global_clipnorm=1.)
  expected, _ = run(clipped, function=function)
  got, _ = run(optimizers.FusedAdam.from_config(clipped.get_config()),
               function=function, pass_norm=True)
  unclipped, _ = run(optimizers.FusedAdam(0.05), function=function)
  for e, g in zip(expected, got):
    np.testing.assert_array_equal(g, e)
  # The clipping took effect: these gradients' norm is above 1.
  assert not all(np.allclose(e, u, atol=1e-3)
                 for e, u in zip(expected, unclipped))


def test_does_not_compute_a_given_global_norm_again():
  variables = [tf.Variable(tf.ones(shape)) for shape in SHAPES]
  optimizer = optimizers.FusedAdam(0.05, global_clipnorm=1.)
  optimizer.build(variables)

  def l2_losses(pass_norm):
    @tf.function
    def step():
      gradients = [2. * v for v in variables]
      norm = tf.linalg.global_norm(gradients)  # The caller's own.
      optimizer.apply_gradients(zip(gradients, variables),
                                global_norm=norm if pass_norm else None)
    ops = step.get_concrete_function().graph.get_operations()
    return sum(op.type == 'L2Loss' for op in ops)

  assert l2_losses(pass_norm=False) == 2 * len(SHAPES)
  assert l2_losses(pass_norm=True) == len(SHAPES)


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
