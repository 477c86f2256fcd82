"""Out-of-distribution scores: arithmetic, per-scale terms, calibration."""

import dataclasses
import json
import math

import numpy as np
import pytest
import tensorflow as tf

from tfp_realnvp import distributions
from tfp_realnvp import ood
from tests import flow_testing

SHAPE = [8, 8, 1]
D = 64


@pytest.fixture(scope='module')
def dist():
  """Two scales (squeeze, factor-out), moved away from the identity."""
  dist = distributions.real_nvp_distribution(
      SHAPE, num_scales=2, num_res_blocks=1, num_filters=4)
  flow_testing.perturb(dist.bijector, scale=0.02)
  return dist


@pytest.fixture(scope='module')
def images():
  rng = np.random.default_rng(0)
  noise = rng.integers(0, 256, [6, *SHAPE], dtype=np.uint8)
  constant = np.full([2, *SHAPE], 200, np.uint8)
  return np.concatenate([noise, constant, np.zeros([1, *SHAPE], np.uint8)])


def normal_log_prob(z):
  return np.sum(-0.5 * (z ** 2 + math.log(2 * math.pi)), axis=(1, 2, 3))


def test_likelihood_terms_and_scale_shares_by_hand(dist, images):
  pixels = tf.cast(images, tf.float32) + 0.5
  log_det, latent = (t.numpy() for t in ood.likelihood_terms(dist, images))
  n = ood.scale_bits_per_dim(dist, images).numpy()
  assert log_det.shape == (len(images), 3) and latent.shape == (
      len(images), 2) and n.shape == (len(images), 2)
  # From the public API: the latents split_latent gives, the logit
  # transform's log-det, and the coarse scale's forward log-det at its
  # latent (the inverse's is its negative).
  flow = dist.bijector
  fine_z, coarse_z = flow.split_latent(flow.inverse(pixels))
  logit = flow.logit.inverse_log_det_jacobian(pixels, event_ndims=3).numpy()
  coarse_fldj = flow.scales[1].forward_log_det_jacobian(
      coarse_z, event_ndims=3).numpy()
  total = dist.log_prob(pixels).numpy()
  ln2d = D * math.log(2)
  check = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  check(latent[:, 0], -normal_log_prob(fine_z.numpy()) / ln2d)
  check(latent[:, 1], -normal_log_prob(coarse_z.numpy()) / ln2d)
  check(log_det[:, 0], -logit / ln2d)
  check(log_det[:, 2], coarse_fldj / ln2d)
  # The fine scale's own steps: the rest of log p.
  fine = total - logit + coarse_fldj - normal_log_prob(fine_z.numpy()) - \
      normal_log_prob(coarse_z.numpy())
  check(log_det[:, 1], -fine / ln2d)
  # Shares: the coarse scale's terms, and the rest (the logit's included).
  check(n[:, 1], latent[:, 1] + log_det[:, 2])
  check(n[:, 0], latent[:, 0] + log_det[:, 0] + log_det[:, 1])
  np.testing.assert_allclose(
      n.sum(-1), distributions.bits_per_dim(total, SHAPE), rtol=1e-5)


def test_png_bits_per_dim_is_each_images_png_length(images):
  bits = ood.png_bits_per_dim(images).numpy()
  for image, b in zip(images, bits):
    length = len(tf.io.encode_png(image, compression=9).numpy())
    assert b == 8 * length / D
  # Noise does not compress; a constant image does.
  assert bits[:6].min() > bits[6:].max() + 4


def stats_of(rng, n, num_scales=2):
  log_det = rng.normal(-0.5, 0.2, [n, num_scales + 1])
  latent = rng.normal(1., 0.2, [n, num_scales])
  scales = log_det[:, 1:] + latent
  scales[:, 0] += log_det[:, 0]
  return {'log_det': tf.constant(log_det, tf.float32),
          'latent': tf.constant(latent, tf.float32),
          'scales': tf.constant(scales, tf.float32),
          'nll': tf.constant(scales.sum(-1), tf.float32),
          'png': tf.constant(rng.normal(3., 0.5, n), tf.float32),
          'orientation': tf.constant(rng.normal(-0.1, 0.05, n), tf.float32)}


def test_scores_against_hand_computations():
  rng = np.random.default_rng(1)
  calibration_stats, stats = stats_of(rng, 200), stats_of(rng, 7)
  calibration = ood.calibrate(calibration_stats)
  as_np = lambda s: {k: v.numpy().astype(np.float64) for k, v in s.items()}
  c, s = as_np(calibration_stats), as_np(stats)
  features = np.column_stack([c['log_det'], c['latent'], c['png']])
  mean = features.mean(0)
  offset = np.column_stack([s['log_det'], s['latent'], s['png']]) - mean
  precision = np.linalg.inv(np.cov(features.T))
  mahalanobis = lambda x: np.einsum('ni,ij,nj->n', x - mean, precision,
                                    x - mean)
  def p_value(calibration_scores, scores):
    n = len(calibration_scores)
    return np.interp(scores, np.sort(calibration_scores),
                     (n - np.arange(n)) / (n + 1))

  scales = mahalanobis(np.column_stack([s['log_det'], s['latent'],
                                        s['png']]))
  expected = {
      'nll': s['nll'],
      'typicality': np.abs(s['nll'] - c['nll'].mean()),
      'complexity': s['nll'] - s['png'],
      'last_scale': 2 * s['scales'][:, 1],  # half the dimensions
      'scales': np.einsum('ni,ij,nj->n', offset, precision, offset),
      'orientation': s['orientation'],
      'scales_orientation': -np.log(np.minimum(
          p_value(mahalanobis(features), scales),
          p_value(c['orientation'], s['orientation']))),
  }
  assert set(expected) == set(ood.SCORES)
  for name, values in expected.items():
    np.testing.assert_allclose(ood.score(stats, calibration, name), values,
                               rtol=1e-4, err_msg=name)
  np.testing.assert_array_equal(ood.score(stats, calibration),
                                ood.score(stats, calibration, ood.RECOMMENDED))
  with pytest.raises(ValueError, match="unknown score 'x'"):
    ood.score(stats, calibration, 'x')
  with pytest.raises(ValueError, match="'typicality' needs a calibration"):
    ood.score(stats, None, 'typicality')
  del stats['orientation']
  with pytest.raises(ValueError, match=r"'orientation' needs statistics\("
                     r"dist, images, orientations=True\)"):
    ood.score(stats, None, 'orientation')


def test_combined_score_counts_the_calibration_images_above():
  rng = np.random.default_rng(6)
  stats = stats_of(rng, 99)
  calibration = ood.calibrate(stats)
  assert calibration.recommended == 'scales_orientation'
  for part in ('scales', 'orientation'):
    np.testing.assert_array_equal(
        calibration.tails[part],
        np.sort(ood.score(stats, calibration, part).numpy()))
  # From the most anomalous calibration image by either score on, 1 of 100;
  # the least, as anomalous as the other score finds it.
  combined = ood.score(stats, calibration).numpy()
  assert combined.max() == pytest.approx(math.log(100))
  far = {k: v[:1] for k, v in stats.items()}
  far['orientation'] = tf.constant([9.], tf.float32)
  assert ood.score(far, calibration).numpy() == pytest.approx(math.log(100))
  least = int(np.argmin(stats['orientation']))
  scales_p = np.interp(ood.score(stats, calibration, 'scales')[least],
                       calibration.tails['scales'], (99 - np.arange(99)) / 100)
  assert combined[least] == pytest.approx(
      -math.log(min(99 / 100, scales_p)), rel=1e-5)


def test_orientation_score_by_hand(dist, images):
  # A digit-like stroke: no symmetry of the square leaves it alone.
  stroke = np.zeros([1, *SHAPE], np.uint8)
  stroke[0, 1:7, 2] = 255
  stroke[0, 1, 2:6] = 180
  images = np.concatenate([images, stroke])
  stats = ood.statistics(dist, images, orientations=True)
  # The 8 symmetries by numpy: quarter turns of the image and its transpose.
  turned = [np.rot90(x, k, axes=(1, 2)) for x in
            (images, images.transpose(0, 2, 1, 3)) for k in range(4)]
  for mine, expected in zip(ood.symmetries(images), turned):
    np.testing.assert_array_equal(mine, expected)
  assert len({t[-1].tobytes() for t in turned}) == 8
  nll = [distributions.bits_per_dim(
      dist.log_prob(tf.cast(t, tf.float32) + 0.5), SHAPE).numpy()
         for t in turned]
  np.testing.assert_allclose(
      ood.score(stats, None, 'orientation'),
      nll[0] - np.min(nll[1:], axis=0), atol=2e-5)
  # Constant images are alike in every orientation: exactly 0.
  np.testing.assert_array_equal(stats['orientation'][6:9], 0.)
  with pytest.raises(ValueError, match='needs square images; got 8x4'):
    ood.symmetries(np.zeros([1, 8, 4, 1], np.uint8))


def test_orientation_threshold_only_when_calibrated_with_it():
  stats = stats_of(np.random.default_rng(5), 100)
  with_it = ood.calibrate(stats, recommended='orientation')
  assert with_it.threshold() == with_it.thresholds['orientation']
  oriented = dict(stats)
  del stats['orientation']
  without = ood.calibrate(stats, recommended='scales')
  assert set(without.thresholds) == set(ood.SCORES) - set(ood.ORIENTED_SCORES)
  assert set(without.tails) == {'scales'}
  for name in ood.ORIENTED_SCORES:
    with pytest.raises(ValueError, match=f"no threshold of '{name}'"):
      without.threshold(name)
    with pytest.raises(ValueError, match=f"recommended score '{name}' is "
                       'not among the calibrated ones'):
      ood.calibrate(stats, recommended=name)
  with pytest.raises(ValueError, match=r"needs a calibration with the "
                     r"calibration images' \['orientation'\] scores"):
    ood.score(oriented, without, 'scales_orientation')
  # Files with and without them load (bin/train wrote them without before
  # the combined score).
  for calibration in (with_it, without):
    assert ood.Calibration.from_json(calibration.to_json()) == calibration
  # Completed with the orientation statistics, an older calibration is the
  # one calibrated with them from the start.
  assert without.completed(oriented) == dataclasses.replace(
      ood.calibrate(oriented), recommended='scales')
  assert with_it.completed(oriented) == with_it
  no_tails = json.dumps({**json.loads(with_it.to_json()), 'tails': {}})
  with pytest.raises(ValueError, match="a threshold of 'scales_orientation' "
                     r"but tails of \[\]"):
    ood.Calibration.from_json(no_tails)


@pytest.mark.parametrize('rate', [0.05, 0.1, 0.013])
def test_thresholds_let_at_most_the_rate_above_and_no_lower_one(rate):
  rng = np.random.default_rng(2)
  stats = stats_of(rng, 300)
  calibration = ood.calibrate(stats, rate)
  assert calibration.false_positive_rate == rate
  assert calibration.num_images == 300
  for name in ood.SCORES:
    scores = ood.score(stats, calibration, name).numpy()
    threshold = calibration.threshold(name)
    assert np.mean(scores > threshold) <= rate
    # The threshold is a calibration score: the next one down lets more by.
    assert np.mean(scores >= threshold) > rate


def test_calibration_round_trips_and_names_a_bad_file(tmp_path):
  calibration = ood.calibrate(stats_of(np.random.default_rng(3), 50))
  path = calibration.save(tmp_path)
  assert path == str(tmp_path / ood.CALIBRATION_FILE)
  assert ood.Calibration.load(tmp_path) == calibration
  assert ood.Calibration.load(tmp_path / 'elsewhere') is None
  missing = calibration.to_json().replace('"nll":', '"other":')
  with pytest.raises(ValueError, match="has thresholds of .*'other'"):
    ood.Calibration.from_json(missing)
  (tmp_path / ood.CALIBRATION_FILE).write_text('{"nll_mean": 1}')
  with pytest.raises(ValueError, match=f'{tmp_path}.*is not an '
                     'out-of-distribution calibration'):
    ood.Calibration.load(tmp_path)


def test_calibrate_refuses_bad_rates_and_too_few_images():
  stats = stats_of(np.random.default_rng(4), 20)
  for rate in (-0.1, 1., 5.):
    with pytest.raises(ValueError, match='false_positive_rate must lie in'):
      ood.calibrate(stats, rate)
  with pytest.raises(ValueError, match='more than 6 images; got 3'):
    ood.calibrate({k: v[:3] for k, v in stats.items()})


def test_auroc_and_fpr_at_tpr_by_hand():
  # Out 1.5 beats 2 of 3, out 3 all 3; a tie counts half.
  assert ood.auroc([0., 1., 2.], [1.5, 3.]) == pytest.approx(5 / 6)
  assert ood.auroc([1.], [1.]) == 0.5
  assert ood.auroc([0., 1.], [-1., -2.]) == 0.
  # Flagging both positives needs threshold 2.5, which flags 1 of 4.
  assert ood.fpr_at_tpr([0., 1., 2., 3.], [2.5, 3.5]) == 0.25
  assert ood.fpr_at_tpr([0., 1.], [5., 6.]) == 0.


def test_perturb_replaces_about_the_rate_of_pixels():
  images = np.full([50, 28, 28, 1], 7, np.uint8)
  assert np.array_equal(ood.perturb(images, 0., 0), images)
  changed = np.mean(ood.perturb(images, 0.2, 0).numpy() != images)
  assert 0.19 < changed < 0.21
  assert np.array_equal(ood.perturb(images, 0.2, 0), ood.perturb(images, 0.2,
                                                                  0))


def test_statistics_score_the_real_model(dist, images):
  stats = ood.statistics(dist, images)
  nll = distributions.bits_per_dim(
      dist.log_prob(tf.cast(images, tf.float32) + 0.5), SHAPE)
  np.testing.assert_allclose(stats['nll'], nll, rtol=1e-5)
  for key, value in zip(('log_det', 'latent'),
                        ood.likelihood_terms(dist, images)):
    np.testing.assert_allclose(stats[key], value, rtol=1e-6)
  np.testing.assert_allclose(stats['scales'],
                             ood.scale_bits_per_dim(dist, images), rtol=1e-6)
  np.testing.assert_allclose(
      ood.score(stats, None, 'complexity'),
      nll - ood.png_bits_per_dim(images), rtol=1e-5)
