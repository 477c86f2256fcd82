"""The 2-D study: data, the tfb.RealNVP baseline, training and the report."""

import os
import re
import sys

import numpy as np
import pytest
import tensorflow_probability as tfp
import tf_keras

sys.path.insert(0, os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'bin'))

import study_2d_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

tfb = tfp.bijectors


def test_moons_shapes_and_labels():
  points, labels = study_2d_lib.make_moons(500, noise=0.)
  assert points.shape == (500, 2) and points.dtype == np.float32
  assert set(labels) == {0, 1} and abs(np.mean(labels) - 0.5) < 0.01
  # Without noise each moon is a unit half circle about its own centre.
  centres = np.where(labels[:, None] == 0, [-0.5, -0.25], [0.5, 0.25])
  np.testing.assert_allclose(np.linalg.norm(points - centres, axis=1), 1.,
                             atol=1e-5)
  upper = points[labels == 0, 1] - (-0.25)
  assert np.all(upper >= -1e-6)


def test_ring_has_8_modes():
  points, labels = study_2d_lib.make_ring(4000, std=0.1)
  assert points.shape == (4000, 2)
  angles = 2 * np.pi * np.arange(8) / 8
  centres = 2. * np.stack([np.cos(angles), np.sin(angles)], axis=1)
  nearest = np.argmin(
      np.linalg.norm(points[:, None] - centres, axis=-1), axis=1)
  np.testing.assert_array_equal(nearest, labels)
  np.testing.assert_allclose(np.bincount(labels) / 4000, 1 / 8, atol=0.02)


@pytest.mark.parametrize('depth', [1, 3])
def test_tfb_baseline_matches_ours_in_couplings_and_starts_at_identity(depth):
  ours = study_2d_lib.FLOWS['ours'](depth, (8,))
  theirs = study_2d_lib.FLOWS['tfb.RealNVP'](depth, (8,))
  couplings = [b for b in theirs.bijector.bijectors
               if isinstance(b, tfb.RealNVP)]
  assert len(couplings) == len(ours.bijector.bijectors) == depth
  # Every coupling network's weights are tracked (2 Dense layers each).
  assert len(theirs.trainable_variables) == 4 * depth
  points, _ = study_2d_lib.make_moons(10)
  np.testing.assert_allclose(theirs.log_prob(points), ours.log_prob(points),
                             rtol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize('kind', list(study_2d_lib.FLOWS))
def test_training_lowers_held_out_nll(kind):
  tf_keras.utils.set_random_seed(0)
  dist = study_2d_lib.FLOWS[kind](2, (16, 16))
  train_points, _ = study_2d_lib.make_moons(1000, seed=0)
  test_points, _ = study_2d_lib.make_moons(500, seed=1)
  before = study_2d_lib.nll(dist, test_points)
  losses = study_2d_lib.train(dist, train_points, steps=100, learning_rate=1e-2)
  assert losses.shape == (100,)
  assert study_2d_lib.nll(dist, test_points) < before - 0.3


@pytest.mark.slow
def test_tiny_study_writes_figures_and_table(tmp_path):
  results = study_2d_lib.run_study(str(tmp_path), depths=[1, 2], steps=5,
                               hidden_units=(8,), num_train=200,
                               num_test=100, log=lambda _: None)
  assert sorted(os.listdir(tmp_path)) == [
      'density_moons.png', 'density_ring.png', 'latent_moons.png',
      'latent_ring.png', 'loss.png', 'results.md']
  for png in tmp_path.glob('*.png'):
    assert png.stat().st_size > 5000
  assert len(results) == 2 * 2 * 2 and all(np.isfinite(list(results.values())))
  table = (tmp_path / 'results.md').read_text()
  rows = [line for line in table.splitlines() if re.match(r'\| \d+ \|', line)]
  assert len(rows) == 2
  for row, depth in zip(rows, [1, 2]):
    cells = row.strip('|').split('|')
    assert int(cells[0]) == depth
    assert [float(c) for c in cells[1:]] == pytest.approx(
        [results[d, k, depth] for d in study_2d_lib.DATASETS
         for k in study_2d_lib.FLOWS], abs=1e-3)
