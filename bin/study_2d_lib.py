"""Real NVP on 2-D toy data: how depth shapes the density, ours vs. tfb.RealNVP.

Trains `real_nvp_vector_distribution` and TFP's own `tfb.RealNVP` (at equal
depth and hidden width) by maximum likelihood on two moons and a ring of 8
Gaussians, then writes held-out NLLs (`results.md`) and figures: densities,
loss curves and the latent codes of the data. Both train by the library's one
training step (`training.DistributionModel`), as `bin/train` does.
"""

import io
import time

import matplotlib
matplotlib.use('Agg')  # Files only; no display.
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from tfp_realnvp import distributions
from tfp_realnvp import storage
from tfp_realnvp import training

tfb = tfp.bijectors
tfd = tfp.distributions

__all__ = ['make_moons', 'make_ring', 'DATASETS', 'FLOWS', 'tfb_real_nvp',
           'nll', 'train', 'run_study']


def make_moons(num_points, noise=0.08, seed=0):
  """Two interleaved half circles, as sklearn's `make_moons`, centred at 0.

  Returns `(points [N, 2] float32, labels [N] int32)`, label 0 for the upper
  moon and 1 for the lower.
  """
  rng = np.random.default_rng(seed)
  labels = np.arange(num_points) % 2
  angle = rng.uniform(0., np.pi, num_points)
  upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
  lower = np.stack([1. - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
  points = np.where(labels[:, None] == 0, upper, lower) - [0.5, 0.25]
  points += noise * rng.standard_normal(points.shape)
  return points.astype(np.float32), labels.astype(np.int32)


def make_ring(num_points, num_modes=8, radius=2., std=0.15, seed=0):
  """Gaussians evenly spaced on a circle; labels are the mode indices."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(num_modes, size=num_points)
  angle = 2. * np.pi * labels / num_modes
  centres = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
  points = centres + std * rng.standard_normal(centres.shape)
  return points.astype(np.float32), labels.astype(np.int32)


DATASETS = {'moons': make_moons, 'ring': make_ring}


class _ShiftAndLogScale(tf_keras.layers.Layer):
  """`tfb.RealNVP`'s `shift_and_log_scale_fn` as a tf_keras MLP.

  `tfb.real_nvp_default_template` does not track its variables under TF2;
  a tf_keras layer does, so `dist.trainable_variables` finds them. Like
  the template, the output layer is unbounded; zero-initialised so the
  coupling starts as the identity, as ours does.
  """

  def __init__(self, hidden_units, **kwargs):
    super().__init__(**kwargs)
    # In 2-D each coupling reads one coordinate and moves the other.
    self.net = tf_keras.Sequential(
        [tf_keras.Input([1])] +
        [tf_keras.layers.Dense(units, activation='relu')
         for units in hidden_units] +
        [tf_keras.layers.Dense(2, kernel_initializer='zeros')])

  def call(self, x0, output_units):
    del output_units  # Always 1 here.
    shift, log_scale = tf.split(self.net(x0), 2, axis=-1)
    return shift, log_scale


def tfb_real_nvp(num_couplings, hidden_units=(64, 64)):
  """TFP's `tfb.RealNVP` couplings, alternating halves via `tfb.Permute`."""
  steps = []
  for i in range(num_couplings):
    if i:
      steps.append(tfb.Permute([1, 0]))  # Transform the other half next.
    steps.append(tfb.RealNVP(num_masked=1,
                             shift_and_log_scale_fn=_ShiftAndLogScale(
                                 hidden_units),
                             name=f'coupling_{i}'))
  return tfd.TransformedDistribution(
      tfd.MultivariateNormalDiag(tf.zeros(2)), tfb.Chain(steps),
      name='tfb_real_nvp')


FLOWS = {
    'ours': lambda depth, hidden_units: (
        distributions.real_nvp_vector_distribution(
            2, num_couplings=depth, hidden_units=hidden_units)),
    'tfb.RealNVP': tfb_real_nvp,
}


def nll(dist, points):
  """Mean negative log-likelihood in nats."""
  return -float(tf.reduce_mean(dist.log_prob(points)))


def train(dist, points, steps, batch_size=256, learning_rate=2e-3, seed=0):
  """Maximum likelihood with Adam on minibatches; returns the loss per step."""
  model = training.DistributionModel(dist)
  model.compile(tf_keras.optimizers.Adam(learning_rate))
  rng = np.random.default_rng(seed)
  batches = iter(tf.data.Dataset.from_tensor_slices(
      points[rng.integers(len(points), size=[steps, batch_size])]))
  step = model.make_train_function()  # `fit`'s step function.
  losses = []
  for _ in range(steps):
    model.reset_metrics()  # So that the step reports its own loss.
    losses.append(float(step(batches)['loss']))
  return np.array(losses)


def _smooth(values, window=25):
  window = min(window, len(values))
  return np.convolve(values, np.ones(window) / window, mode='valid')


def _save(fig, path):
  """Saves `fig` as PNG to `path` on any TensorFlow filesystem."""
  buffer = io.BytesIO()
  fig.savefig(buffer, format='png', dpi=80)
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(buffer.getvalue())


def _plot_densities(path, dataset, train_points, models, depths, lim=3.):
  """Rows: flows; columns: the training data, then the density per depth."""
  grid = np.linspace(-lim, lim, 150, dtype=np.float32)
  xx, yy = np.meshgrid(grid, grid)
  mesh = np.stack([xx.ravel(), yy.ravel()], axis=1)
  kinds = list(FLOWS)
  fig, axes = plt.subplots(len(kinds), len(depths) + 1, squeeze=False,
                           figsize=(2.2 * (len(depths) + 1), 2.2 * len(kinds)))
  for row, kind in enumerate(kinds):
    axes[row, 0].scatter(*train_points[:2000].T, s=1, c='k')
    axes[row, 0].set_title(f'{dataset} data')
    axes[row, 0].set_ylabel(kind)
    for col, depth in enumerate(depths, start=1):
      density = np.exp(models[kind, depth].log_prob(mesh).numpy())
      axes[row, col].imshow(density.reshape(xx.shape), origin='lower',
                            extent=[-lim, lim, -lim, lim], cmap='viridis')
      axes[row, col].set_title(f'{depth} coupling{"s" * (depth > 1)}')
  for ax in axes.flat:
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xticks=[], yticks=[])
  fig.tight_layout()
  _save(fig, path)
  plt.close(fig)


def _plot_latents(path, dataset, test_points, labels, models, depths):
  """The inverse of the data, one colour per moon (or ring mode)."""
  kinds = list(FLOWS)
  fig, axes = plt.subplots(len(kinds), len(depths), squeeze=False,
                           figsize=(2.2 * len(depths), 2.2 * len(kinds)))
  for row, kind in enumerate(kinds):
    axes[row, 0].set_ylabel(kind)
    for col, depth in enumerate(depths):
      z = models[kind, depth].bijector.inverse(test_points).numpy()
      axes[row, col].scatter(*z.T, s=1, c=labels, cmap='tab10', vmin=0,
                             vmax=9)
      axes[row, col].set(title=f'{dataset}, {depth} coupling'
                         f'{"s" * (depth > 1)}', xlim=(-4, 4), ylim=(-4, 4),
                         xticks=[], yticks=[])
  fig.tight_layout()
  _save(fig, path)
  plt.close(fig)


def _plot_losses(path, losses, depths):
  fig, axes = plt.subplots(1, len(DATASETS), figsize=(5 * len(DATASETS), 3.5))
  colours = plt.cm.viridis(np.linspace(0., 0.9, len(depths)))
  for ax, dataset in zip(axes, DATASETS):
    for kind, style in zip(FLOWS, ['-', '--']):
      for depth, colour in zip(depths, colours):
        ax.plot(_smooth(losses[dataset, kind, depth]), style, c=colour,
                label=f'{kind}, {depth}')
    ax.set(title=f'{dataset}: training NLL (moving average)', xlabel='step',
           ylabel='nats')
    ax.set_ylim(top=4.)
  axes[-1].legend(fontsize=6, ncol=2)
  fig.tight_layout()
  _save(fig, path)
  plt.close(fig)


def _table(results, depths, steps):
  columns = [(d, k) for d in DATASETS for k in FLOWS]
  lines = [
      '| couplings | ' + ' | '.join(f'{d}: {k}' for d, k in columns) + ' |',
      '|---:|' + '---:|' * len(columns)]
  for depth in depths:
    lines.append(f'| {depth} | ' + ' | '.join(
        f'{results[d, k, depth]:.3f}' for d, k in columns) + ' |')
  return (f'Held-out NLL (nats, lower is better) after {steps} Adam steps.\n\n'
          + '\n'.join(lines) + '\n')


def run_study(out_dir, depths=(1, 2, 4, 8, 50), steps=500,
              hidden_units=(64, 64), batch_size=256, learning_rate=2e-3,
              num_train=4000, num_test=2000, seed=0, log=print):
  """Trains every (dataset, flow, depth); writes figures and `results.md`.

  Returns `{(dataset, flow, depth): held-out NLL}`.
  """
  tf.io.gfile.makedirs(out_dir)
  results, losses = {}, {}
  for dataset, make in DATASETS.items():
    train_points, _ = make(num_train, seed=seed)
    test_points, test_labels = make(num_test, seed=seed + 1)
    models = {}
    for kind, make_flow in FLOWS.items():
      for depth in depths:
        start = time.perf_counter()
        tf_keras.utils.set_random_seed(seed)  # Same initial weights per run.
        models[kind, depth] = dist = make_flow(depth, hidden_units)
        losses[dataset, kind, depth] = train(
            dist, train_points, steps, batch_size, learning_rate, seed)
        results[dataset, kind, depth] = nll(dist, test_points)
        log(f'{dataset} {kind} depth={depth}: held-out NLL '
            f'{results[dataset, kind, depth]:.3f} nats '
            f'({time.perf_counter() - start:.0f} s)')
    _plot_densities(storage.join(out_dir, f'density_{dataset}.png'), dataset,
                    train_points, models, depths)
    _plot_latents(storage.join(out_dir, f'latent_{dataset}.png'), dataset,
                  test_points, test_labels, models, depths)
  _plot_losses(storage.join(out_dir, 'loss.png'), losses, depths)
  storage.write_atomic(storage.join(out_dir, 'results.md'),
                       _table(results, depths, steps))
  return results
