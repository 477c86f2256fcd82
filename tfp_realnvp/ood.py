"""Out-of-distribution scores of a Real NVP image model, and their calibration.

A flow's raw likelihood answers "is this input like the training data?"
badly: simple inputs (blank or constant images) get a higher likelihood than
the data itself (Nalisnick et al., "Do Deep Generative Models Know What They
Don't Know?", ICLR 2019; Kirichenko et al., "Why Normalizing Flows Fail to
Detect Out-of-Distribution Data", NeurIPS 2020). This module computes scores
from the literature that correct for it, and a threshold on them fitted on
in-distribution data that training did not use.

Every score is higher for more anomalous inputs. Images are 8-bit
`[N, H, W, C]`, scored at the centre of each pixel's bin (`images + 0.5`), as
the export's `log_prob` scores them, so a score is deterministic. With
`D = H W C` and `nll(x) = -log p(x + 1/2) / (D ln 2)` (bits/dim):

```none
nll          nll(x)                                  raw likelihood
typicality   |nll(x) - m|                            Nalisnick et al. 2019
complexity   nll(x) - L(x) / D                       Serra et al. 2020
last_scale   n_K(x) D / D_K                          Schirrmeister et al. 2020
scales       (f(x) - mu)^T Sigma^-1 (f(x) - mu)      Morningstar et al. 2021
orientation  nll(x) - min_T nll(T x)                 geometric shifts only
scales_orientation  -ln min(P_scales(x), P_orientation(x))   both combined
```

- `typicality`: the distance of the log-likelihood from its in-distribution
  mean `m` (Nalisnick et al., "Detecting Out-of-Distribution Inputs to Deep
  Generative Models Using Typicality", 2019, with one input per test).
- `complexity`: the input-complexity-corrected likelihood of Serra et al.
  ("Input Complexity and Out-of-Distribution Detection with Likelihood-based
  Generative Models", ICLR 2020), `L(x)` the length in bits of the image
  compressed losslessly by PNG (`tf.io.encode_png`, compression 9). PNG's
  fixed overhead (about 70 bytes) shifts every score alike.
- `last_scale`: the negative log-likelihood contribution of the coarsest
  scale (its latent's density and its couplings' log-determinants) in bits
  per dimension of that scale, `D_K` of them (Schirrmeister et al.,
  "Understanding Anomaly Detection with Deep Invertible Networks through
  Hierarchies of Distributions and Features", NeurIPS 2020): the finer
  scales carry the local pixel statistics that make simple images likely.
  `n_k(x)`: the bits/dim of scale `k`'s contribution, so that
  `sum_k n_k(x) = nll(x)` (`scale_bits_per_dim`).
- `scales`: the Mahalanobis distance of the statistics `f(x)` from their
  in-distribution mean `mu` and covariance `Sigma`, a Gaussian "density of
  states" of the model's statistics (Morningstar et al., "Density of States
  Estimation for Out-of-Distribution Detection", AISTATS 2021). `f(x)`: the
  terms of `nll(x)` (`likelihood_terms`: the logit transform's and each
  scale's log-determinant, each scale's latent density) and `L(x) / D`. It
  sees both a likelihood too high for the input's complexity and one
  distributed across the scales and terms unlike the data's.
- `orientation`: is another orientation of the image more likely? `T`
  ranges over the 7 other symmetries of the square (quarter turns, half
  turn, the 4 reflections), the flow serving as a Bayes classifier of the
  orientation (after Golan and El-Yaniv, "Deep Anomaly Detection Using
  Geometric Transformations", NeurIPS 2018, who train a classifier for it).
  Made for inputs turned or flipped, which keep the data's low-level
  statistics: it is blind to shifts that look alike in every orientation (a
  constant image scores 0, about the data's own) and costs 8 passes of the
  flow (`statistics(..., orientations=True)`). Images in the data in
  several orientations (horizontal flips) score near 0 rather than below
  it; turned ones still score above.
- `scales_orientation`: `scales` and `orientation` as one test, an input as
  anomalous as the more anomalous of the two finds it. `P_s(x)` is score
  `s`'s empirical p-value among the `n` calibration images: `(n - i) /
  (n + 1)` at the i-th smallest of their scores (from 0), linear between
  them, so from `n / (n + 1)` to `1 / (n + 1)`; the two are combined by
  their minimum (Tippett, "The Methods of Statistics", 1931). It keeps most
  of what each catches (simple and unlike images; turned and flipped ones)
  at the cost of `orientation`'s 8 passes, and it saturates at `ln(n + 1)`
  from the most anomalous calibration image on: past that, the other
  scores rank inputs further.

`RECOMMENDED` is the default, chosen by measurement on the default MNIST
run (docs/serving.md, "Out-of-distribution scores").

A `Calibration` holds the in-distribution statistics (`m`, `mu`, `Sigma`,
the calibration images' `scales` and `orientation` scores) and each score's
threshold at a false-positive rate (default 5%): at most
that fraction of the calibration images score above it.

```python
stats = ood.statistics(dist, validation_images, orientations=True)
calibration = ood.calibrate(stats)            # 5% false positives
calibration.save(model_dir)                   # model_dir/ood_calibration.json
stats = ood.statistics(dist, images, orientations=True)
score = ood.score(stats, calibration)         # the recommended score
is_ood = score > calibration.threshold()
```
"""

import dataclasses
import json
import math

import numpy as np
import tensorflow as tf

from tfp_realnvp import storage
from tfp_realnvp.bijectors import factor_out

__all__ = ['SCORES', 'ORIENTED_SCORES', 'RECOMMENDED', 'CALIBRATION_FILE',
           'TooFewImages',
           'DEFAULT_FALSE_POSITIVE_RATE', 'Calibration', 'likelihood_terms',
           'scale_bits_per_dim', 'png_bits_per_dim', 'symmetries',
           'statistics', 'score', 'threshold_at', 'calibrate', 'perturb',
           'auroc', 'fpr_at_tpr']


class TooFewImages(ValueError):
  """Too few in-distribution images to fit a calibration's covariance.

  #### Example

  ```python
  import numpy as np
  import tfp_realnvp
  from tfp_realnvp import ood

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  one = np.zeros([1, 8, 8, 1], np.uint8)
  try:
    ood.calibrate(ood.statistics(dist, one))
  except ood.TooFewImages as e:
    print(e)  # calibration needs more than ... images; got 1
  ```
  """


# The scores' names, as `score` and `Calibration.thresholds` take them.
SCORES = ('nll', 'typicality', 'complexity', 'last_scale', 'scales',
          'orientation', 'scales_orientation')
_ORIENTATION = 'orientation'
_COMBINED = 'scales_orientation'
# The scores `_COMBINED` combines, whose calibration scores a calibration
# keeps (`Calibration.tails`).
_PARTS = ('scales', _ORIENTATION)
# The scores that need `statistics(..., orientations=True)`; a calibration
# has their thresholds only if calibrated with them.
ORIENTED_SCORES = (_ORIENTATION, _COMBINED)
# The default score: of those with AUROC >= 0.95 on each of docs/serving.md's
# easy sets, the best worst case on its semantic shifts.
RECOMMENDED = _COMBINED
# The calibration's file in a run's model_dir, written by bin/train.
CALIBRATION_FILE = 'ood_calibration.json'
# In-distribution images allowed above a threshold, by default.
DEFAULT_FALSE_POSITIVE_RATE = 0.05
_LN2 = math.log(2.)


def _standard_normal_log_prob(z):
  """log N(z; 0, I) summed over the last three axes."""
  return tf.reduce_sum(-0.5 * (tf.square(z) + math.log(2. * math.pi)),
                       axis=[-3, -2, -1])


def _scale_terms(scale, x):
  """(latent, log-dets, latent log-densities) of `scale` and the coarser
  scales, each list finest first, in nats.

  A scale's log-det: of its own steps; its latent: the half it factors out
  (the last scale: its whole output).
  """
  log_det = tf.zeros(tf.shape(x)[:-3], x.dtype)
  log_dets, latents = [], []
  for step in scale.bijectors:
    if isinstance(step, factor_out.FactorOut):
      rest, part = step.split(x)
      rest_z, log_dets, latents = _scale_terms(step.bijector, rest)
      latents = [_standard_normal_log_prob(part), *latents]
      x = tf.concat([rest_z, part], axis=-1)
      continue
    y = step.inverse(x)  # The value first: the log-det comes from its cache.
    log_det += step.inverse_log_det_jacobian(x, event_ndims=3)
    x = y
  if not latents:
    latents = [_standard_normal_log_prob(x)]
  return x, [log_det, *log_dets], latents


def likelihood_terms(dist, images):
  """The terms of `nll(x)`: each step's log-determinant and latent density.

  `log p(x + 1/2)` is the sum of the logit transform's log-determinant, each
  scale's log-determinant (of its own steps) and the standard-normal
  log-density of the latent each scale factors out (the last scale: its
  whole output). Returns `(log_det, latent)`, float32 `[N, K + 1]` (the logit
  transform first, then the scales, finest first) and `[N, K]`, each term
  `t` as `-t / (D ln 2)`: together they sum to the bits/dim of `x`. For the
  unconditional `real_nvp_distribution`; batch normalization uses its
  running averages.

  #### Example

  ```python
  import numpy as np
  import tfp_realnvp
  from tfp_realnvp import ood

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  images = np.random.default_rng(0).integers(0, 256, [3, 8, 8, 1], np.uint8)
  log_det, latent = ood.likelihood_terms(dist, images)  # [3, 3], [3, 2]
  bits = tfp_realnvp.bits_per_dim(dist.log_prob(images + 0.5), [8, 8, 1])
  total = log_det.numpy().sum(-1) + latent.numpy().sum(-1)
  np.testing.assert_allclose(total, bits, rtol=1e-4)
  ```
  """
  flow = dist.bijector
  pixels = tf.cast(images, dist.dtype) + 0.5
  y = flow.logit.inverse(pixels)
  logit_log_det = flow.logit.inverse_log_det_jacobian(pixels, event_ndims=3)
  _, log_dets, latents = _scale_terms(flow.scales[0], y)
  to_bits = -1. / (math.prod(int(d) for d in dist.event_shape) * _LN2)
  return (to_bits * tf.stack([logit_log_det, *log_dets], axis=-1),
          to_bits * tf.stack(latents, axis=-1))


def _shares(log_det, latent):
  """Each scale's share: its log-det and latent, the logit's in the first."""
  shares = log_det[:, 1:] + latent
  return tf.concat([shares[:, :1] + log_det[:, :1], shares[:, 1:]], axis=-1)


def scale_bits_per_dim(dist, images):
  """Each scale's share of `nll(x)`, finest first: float32 `[N, K]`.

  A scale's share is its terms of `likelihood_terms`: the log-determinant of
  its own steps and the density of the latent it factors out (the logit
  transform's log-determinant counts in the finest scale's). The shares sum
  to the bits/dim of `x`.

  #### Example

  ```python
  import numpy as np
  import tfp_realnvp
  from tfp_realnvp import ood

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  images = np.random.default_rng(0).integers(0, 256, [3, 8, 8, 1], np.uint8)
  n = ood.scale_bits_per_dim(dist, images)  # [3, 2]
  bits = tfp_realnvp.bits_per_dim(dist.log_prob(images + 0.5), [8, 8, 1])
  np.testing.assert_allclose(n.numpy().sum(-1), bits, rtol=1e-4)
  ```
  """
  return _shares(*likelihood_terms(dist, images))


def png_bits_per_dim(images):
  """`L(x) / D`: bits of each image's PNG (compression 9) per dimension.

  float32 `[N]` of uint8 `images` `[N, H, W, C]`.

  #### Example

  ```python
  import numpy as np
  from tfp_realnvp import ood

  blank = np.zeros([1, 28, 28, 1], np.uint8)
  noise = np.random.default_rng(0).integers(0, 256, [1, 28, 28, 1], np.uint8)
  ood.png_bits_per_dim(np.concatenate([blank, noise]))  # about [0.7, 9.0]
  ```
  """
  images = tf.convert_to_tensor(images, tf.uint8)
  lengths = tf.map_fn(
      lambda image: tf.strings.length(tf.io.encode_png(image, compression=9)),
      images, fn_output_signature=tf.int32)
  num_dims = tf.cast(tf.reduce_prod(tf.shape(images)[1:]), tf.float32)
  return 8. * tf.cast(lengths, tf.float32) / num_dims


def symmetries(images):
  """The 8 symmetries of the square applied to `images` `[N, H, W, C]`.

  A list: `k` quarter turns (`tf.image.rot90`) of the images (k = 0..3),
  then of their transposes (4..7); the first is `images` itself. Needs
  square images.

  #### Example

  ```python
  import numpy as np
  from tfp_realnvp import ood

  images = np.arange(4, dtype=np.uint8).reshape([1, 2, 2, 1])
  turned = ood.symmetries(images)  # 8 of [1, 2, 2, 1]
  np.testing.assert_array_equal(turned[2], images[:, ::-1, ::-1])
  ```
  """
  images = tf.convert_to_tensor(images)
  if images.shape[1] != images.shape[2]:
    raise ValueError('the orientation score needs square images; got '
                     f'{images.shape[1]}x{images.shape[2]}')
  transposed = tf.transpose(images, [0, 2, 1, 3])
  return [tf.image.rot90(x, k) for x in (images, transposed)
          for k in range(4)]


def _nll(log_det, latent):
  return tf.reduce_sum(_shares(log_det, latent), axis=-1)


def statistics(dist, images, orientations=False):
  """The model's statistics of `images`, from which every score follows.

  Returns a dict of float32 tensors: `log_det` `[N, K + 1]` and `latent`
  `[N, K]` (`likelihood_terms`), `scales` `[N, K]` (`scale_bits_per_dim`),
  `nll` `[N]` (their sum: bits/dim at bin centres), `png` `[N]`
  (`png_bits_per_dim`); with `orientations`, also `orientation` `[N]`: `nll`
  minus the smallest `nll` of the 7 other `ood.symmetries` (7 more passes
  of the flow).

  #### Example

  ```python
  import numpy as np
  import tfp_realnvp
  from tfp_realnvp import ood

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  images = np.random.default_rng(0).integers(0, 256, [3, 8, 8, 1], np.uint8)
  stats = ood.statistics(dist, images)
  ood.score(stats, None, 'complexity')  # nll - png, [3]
  ood.score(ood.statistics(dist, images, orientations=True), None,
            'orientation')
  ```
  """
  log_det, latent = likelihood_terms(dist, images)
  scales = _shares(log_det, latent)
  stats = {'log_det': log_det, 'latent': latent, 'scales': scales,
           'nll': tf.reduce_sum(scales, axis=-1),  # = _nll(log_det, latent)
           'png': png_bits_per_dim(images)}
  if orientations:
    # The same arithmetic as `nll`: an image alike in every orientation
    # scores exactly 0. One pass at a time: side by side, the 7 passes
    # doubled the peak memory (the CIFAR-10 model, batch 250: 5.6 GB
    # against 2.9) and took longer.
    others = tf.map_fn(lambda turned: _nll(*likelihood_terms(dist, turned)),
                       tf.stack(symmetries(images)[1:]),
                       fn_output_signature=stats['nll'].dtype,
                       parallel_iterations=1)
    stats[_ORIENTATION] = stats['nll'] - tf.reduce_min(others, axis=0)
  return stats


def _scorable(names, stats):
  """Those of `names` that `stats` can score."""
  return [name for name in names
          if name not in ORIENTED_SCORES or _ORIENTATION in stats]


def _features(stats):
  """`f(x)` of the `scales` score: the likelihood's terms, PNG bits/dim."""
  return tf.concat([stats['log_det'], stats['latent'], stats['png'][:, None]],
                   axis=-1)


@dataclasses.dataclass(frozen=True)
class Calibration:
  """In-distribution statistics and each score's threshold.

  Attributes:
    nll_mean: `m`, the mean bits/dim of the calibration images.
    feature_mean: `mu`, the mean of `f(x)` (the `scales` score), 2K + 2.
    feature_precision: `Sigma^-1`, its inverse covariance (pseudo-inverse),
      (2K+2)^2 (nested lists).
    thresholds: score name -> threshold: at most `false_positive_rate` of
      the calibration images score above it. Every score's; those of
      `ORIENTED_SCORES` if calibrated with `orientations=True`.
    false_positive_rate: the fraction the thresholds allow above.
    num_images: how many images calibrated.
    recommended: the score the export serves, `RECOMMENDED` by default.
    tails: 'scales' and (if calibrated with it) 'orientation' -> the
      calibration images' scores, ascending: `scales_orientation`'s p-values.

  #### Example

  ```python
  import tempfile
  import numpy as np
  import tfp_realnvp
  from tfp_realnvp import ood

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  images = np.random.default_rng(0).integers(0, 256, [40, 8, 8, 1], np.uint8)
  calibration = ood.calibrate(ood.statistics(dist, images, orientations=True))
  model_dir = tempfile.mkdtemp()
  calibration.save(model_dir)  # model_dir/ood_calibration.json
  assert ood.Calibration.load(model_dir) == calibration
  calibration.threshold()  # the recommended score's
  ```
  """
  nll_mean: float
  feature_mean: list
  feature_precision: list
  thresholds: dict
  false_positive_rate: float
  num_images: int
  recommended: str = RECOMMENDED
  tails: dict = dataclasses.field(default_factory=dict)

  def threshold(self, name=None):
    """The threshold of score `name` (default: the recommended one)."""
    name = name or self.recommended
    if name not in self.thresholds:
      raise ValueError(f'this calibration has no threshold of {name!r}; '
                       'calibrate on statistics(..., orientations=True)')
    return self.thresholds[name]

  def completed(self, stats):
    """This calibration with the thresholds and tails it lacks, fitted on
    `statistics` of in-distribution images (its own statistics kept).

    What a calibration written without `orientations=True` needs to score
    `ORIENTED_SCORES` (pass statistics with them); one that lacks nothing
    comes back as it is.
    """
    tails = {name: np.sort(score(stats, self, name).numpy()).tolist()
             for name in _scorable(_PARTS, stats) if name not in self.tails}
    partial = dataclasses.replace(self, tails={**self.tails, **tails})
    names = [name for name in _scorable(SCORES, stats)
             if name not in self.thresholds]
    return dataclasses.replace(partial, thresholds={
        **self.thresholds,
        **{name: threshold_at(score(stats, partial, name),
                              self.false_positive_rate) for name in names}})

  def to_json(self):
    return json.dumps(dataclasses.asdict(self), indent=2) + '\n'

  @classmethod
  def from_json(cls, text, path='calibration'):
    try:
      fields = json.loads(text)
      calibration = cls(**fields)
    except (ValueError, TypeError) as e:
      raise ValueError(f'{path} is not an out-of-distribution calibration '
                       f'({e}); run bin/train again to rewrite it') from e
    required = set(SCORES) - set(ORIENTED_SCORES)
    if not required <= set(calibration.thresholds) <= set(SCORES) or (
        calibration.recommended not in calibration.thresholds):
      raise ValueError(f'{path} has thresholds of {sorted(calibration.thresholds)} '
                       f'(recommended: {calibration.recommended!r}); expected '
                       f'{sorted(required)}, {list(ORIENTED_SCORES)} optional')
    if _COMBINED in calibration.thresholds and not set(_PARTS) <= set(
        calibration.tails):
      raise ValueError(f'{path} has a threshold of {_COMBINED!r} but tails of '
                       f'{sorted(calibration.tails)}; expected {list(_PARTS)}')
    return calibration

  def save(self, model_dir):
    """Writes `model_dir/ood_calibration.json` atomically; returns its path."""
    return storage.write_atomic(
        storage.join(model_dir, CALIBRATION_FILE), self.to_json())

  @classmethod
  def load(cls, model_dir):
    """The calibration saved in `model_dir`, or None if there is none."""
    path = storage.join(storage.check_filesystem(model_dir, 'model_dir'),
                        CALIBRATION_FILE)
    if not tf.io.gfile.exists(path):
      return None
    return cls.from_json(storage.read_bytes(path).decode(), path)


def score(stats, calibration, name=None):
  """Score `name` of `statistics(dist, images)`: higher = more anomalous.

  `name` is one of `SCORES`, by default the calibration's recommended one;
  returns float32 `[N]`. `nll`, `complexity`, `last_scale` and
  `orientation` need no calibration (pass None); `ORIENTED_SCORES` need
  `statistics(..., orientations=True)`.

  #### Example

  ```python
  import numpy as np
  import tfp_realnvp
  from tfp_realnvp import ood

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  images = np.random.default_rng(0).integers(0, 256, [40, 8, 8, 1], np.uint8)
  calibration = ood.calibrate(ood.statistics(dist, images[:30]),
                              recommended='scales')
  score = ood.score(ood.statistics(dist, images[30:]), calibration)
  is_ood = score > calibration.threshold()
  ```
  """
  name = name or calibration.recommended
  if name not in SCORES:
    raise ValueError(f'unknown score {name!r}; expected one of {SCORES}')
  if name == 'nll':
    return stats['nll']
  if name == 'complexity':
    return stats['nll'] - stats['png']
  if name == 'last_scale':
    num_scales = stats['scales'].shape[-1]
    # The coarsest scale holds 2^-(K-1) of the dimensions.
    return stats['scales'][:, -1] * 2. ** (num_scales - 1)
  if name == _ORIENTATION:
    if _ORIENTATION not in stats:
      raise ValueError(f'score {name!r} needs statistics(dist, images, '
                       'orientations=True)')
    return stats[_ORIENTATION]
  if calibration is None:
    raise ValueError(f'score {name!r} needs a calibration')
  if name == _COMBINED:
    missing = [part for part in _PARTS if part not in calibration.tails]
    if missing:
      raise ValueError(f'score {name!r} needs a calibration with the '
                       f'calibration images\' {missing} scores; calibrate on '
                       'statistics(..., orientations=True)')
    return -tf.math.log(tf.minimum(*(
        _p_value(score(stats, calibration, part), calibration.tails[part])
        for part in _PARTS)))
  if name == 'typicality':
    return tf.abs(stats['nll'] - calibration.nll_mean)
  offset = _features(stats) - tf.constant(calibration.feature_mean,
                                          tf.float32)
  precision = tf.constant(calibration.feature_precision, tf.float32)
  return tf.einsum('ni,ij,nj->n', offset, precision, offset)


def _p_value(scores, ascending):
  """The tail fraction of `scores` among the `n` calibration scores
  `ascending`: `(n - i) / (n + 1)` at the i-th (from 0), linear between
  them, held beyond the first and last. Continuous, so that the round-off
  of one computation against another (eager, graph, XLA) moves it little.
  """
  ascending = tf.constant(ascending, tf.float32)
  num = tf.size(ascending)
  upper = tf.clip_by_value(
      tf.searchsorted(ascending, scores, side='right'), 1, num - 1)
  low, high = tf.gather(ascending, upper - 1), tf.gather(ascending, upper)
  # Equal calibration scores: the step past them.
  fraction = tf.where(high > low, tf.clip_by_value(
      tf.math.divide_no_nan(scores - low, high - low), 0., 1.), 1.)
  rank = tf.cast(upper - 1, tf.float32) + fraction
  return (tf.cast(num, tf.float32) - rank) / tf.cast(num + 1, tf.float32)


def threshold_at(scores, false_positive_rate):
  """A threshold on in-distribution `scores` at a false-positive rate.

  The smallest of `scores` with at most `false_positive_rate` of them above
  it.

  #### Example

  ```python
  from tfp_realnvp import ood

  ood.threshold_at([1., 2., 3., 4.], 0.25)  # 3.0: only 4 is above
  ```
  """
  ordered = np.sort(np.asarray(scores, np.float64))[::-1]
  allowed = math.floor(false_positive_rate * len(ordered) + 1e-9)
  return float(ordered[min(allowed, len(ordered) - 1)])


def calibrate(stats, false_positive_rate=DEFAULT_FALSE_POSITIVE_RATE,
              recommended=RECOMMENDED):
  """A `Calibration` from `statistics` of in-distribution images.

  Use images training did not use (the validation split): on the training
  images the likelihood is optimistic. Each threshold lets at most
  `false_positive_rate` of these images score above it; `ORIENTED_SCORES`
  get theirs if `stats` has the orientation statistics (else `recommended`
  must be another).

  #### Example

  ```python
  import numpy as np
  import tfp_realnvp
  from tfp_realnvp import ood

  dist = tfp_realnvp.real_nvp_distribution(
      [8, 8, 1], num_scales=2, num_res_blocks=0, num_filters=4)
  images = np.random.default_rng(0).integers(0, 256, [40, 8, 8, 1], np.uint8)
  stats = ood.statistics(dist, images, orientations=True)
  calibration = ood.calibrate(stats, false_positive_rate=0.1)
  scores = ood.score(stats, calibration)
  assert np.mean(scores > calibration.threshold()) <= 0.1
  ```
  """
  if not 0. <= false_positive_rate < 1.:
    raise ValueError('false_positive_rate must lie in [0, 1); got '
                     f'{false_positive_rate!r}')
  features = _features(stats).numpy().astype(np.float64)
  num_images, num_features = features.shape
  if num_images <= num_features:
    raise TooFewImages(f'calibration needs more than {num_features} images; '
                       f'got {num_images}')
  mean = features.mean(axis=0)
  # The pseudo-inverse: a statistic constant on these images (PNG lengths
  # of incompressible noise) adds nothing rather than failing.
  precision = np.linalg.pinv(np.cov(features, rowvar=False))
  names = _scorable(SCORES, stats)
  if recommended not in names:
    raise ValueError(f'recommended score {recommended!r} is not among the '
                     f'calibrated ones, {names}')
  return Calibration(
      nll_mean=float(stats['nll'].numpy().astype(np.float64).mean()),
      feature_mean=mean.tolist(), feature_precision=precision.tolist(),
      thresholds={}, false_positive_rate=false_positive_rate,
      num_images=num_images, recommended=recommended).completed(stats)


def perturb(images, rate, seed):
  """Each pixel replaced, with probability `rate`, by a uniform 8-bit value.

  The inputs of the background model of Ren et al. ("Likelihood Ratios for
  Out-of-Distribution Detection", NeurIPS 2019), which learns the data's
  low-level statistics but not its meaning; `seed` makes it repeatable.

  #### Example

  ```python
  import numpy as np
  from tfp_realnvp import ood

  images = np.zeros([2, 28, 28, 1], np.uint8)
  noisy = ood.perturb(images, rate=0.2, seed=0)  # about 20% of pixels
  ```
  """
  images = tf.convert_to_tensor(images, tf.uint8)
  seeds = tf.random.experimental.stateless_split([seed, 0], 2)
  replace = tf.random.stateless_uniform(tf.shape(images), seeds[0]) < rate
  noise = tf.random.stateless_uniform(tf.shape(images), seeds[1], 0, 256,
                                      tf.int32)
  return tf.where(replace, tf.cast(noise, tf.uint8), images)


def auroc(in_scores, out_scores):
  """Area under the ROC curve of flagging `out_scores` over `in_scores`.

  The positives are `out_scores`, flagged by a higher score:
  `P(out > in) + P(out = in) / 2` over all pairs.

  #### Example

  ```python
  from tfp_realnvp import ood

  ood.auroc([0., 1., 2.], [1.5, 3.])  # 5/6
  ```
  """
  in_scores = np.asarray(in_scores, np.float64)
  out_scores = np.asarray(out_scores, np.float64)
  ordered = np.sort(in_scores)
  below = np.searchsorted(ordered, out_scores, side='left')
  not_above = np.searchsorted(ordered, out_scores, side='right')
  return float(np.mean((below + not_above) / 2.) / len(ordered))


def fpr_at_tpr(in_scores, out_scores, tpr=0.95):
  """The false-positive rate at a true-positive rate of `tpr`.

  The fraction of `in_scores` flagged at the highest threshold that flags
  at least `tpr` of `out_scores` (flagged: score >= threshold).

  #### Example

  ```python
  from tfp_realnvp import ood

  ood.fpr_at_tpr([0., 1., 2., 3.], [2.5, 3.5])  # 0.25
  ```
  """
  out_scores = np.sort(np.asarray(out_scores, np.float64))
  # The largest threshold flagging at least `tpr` of the positives.
  threshold = out_scores[len(out_scores) - math.ceil(tpr * len(out_scores) -
                                                     1e-9)]
  return float(np.mean(np.asarray(in_scores, np.float64) >= threshold))
