"""How well a trained model's scores tell another dataset from its own."""

import dataclasses
import os
import posixpath

import numpy as np
import tensorflow as tf

from tfp_realnvp import data
from tfp_realnvp import ood
from tfp_realnvp import storage
from tfp_realnvp.training import calibration as calibration_lib
from tfp_realnvp.training import experiment

__all__ = ['ScoreResult', 'OodEvaluation', 'evaluate_ood', 'write_histogram']


@dataclasses.dataclass(frozen=True)
class ScoreResult:
  auroc: float  # out-of-distribution images as the positives
  fpr_at_95_tpr: float
  threshold: float  # the calibrated one
  in_above: float  # fraction of in-distribution images above the threshold
  out_above: float  # fraction of the other images above it


@dataclasses.dataclass(frozen=True)
class OodEvaluation:
  scores: dict  # name (ood.SCORES) -> ScoreResult
  recommended: str
  num_in: int
  num_out: int
  fitted_here: tuple  # scores whose thresholds were fitted on the in-
  # distribution images here: all without the run's calibration file, else
  # those it lacks (ood.ORIENTED_SCORES, of a run trained before they were)
  histogram: str  # path of the PNG


def _matched(images, shape, name):
  """`images` with the model's channels (RGB to gray, or gray to RGB);
  another height or width raises ValueError."""
  have = tuple(images.element_spec.shape)
  if tuple(have[:2]) != tuple(shape[:2]):
    raise ValueError(f'ood_dataset {name!r} has images of shape {have}, the '
                     f'model takes {tuple(shape)}; pass --ood_image_size '
                     '(folder, npz) or another dataset')
  if have[2] == shape[2]:
    return images
  convert = {(3, 1): tf.image.rgb_to_grayscale,
             (1, 3): tf.image.grayscale_to_rgb}.get((have[2], shape[2]))
  if convert is None:
    raise ValueError(f'ood_dataset {name!r} has {have[2]} channels, the '
                     f'model {shape[2]}')
  return images.map(convert)


def evaluate_ood(model_dir, ood_dataset, ood_data_dir=None, ood_split=None,
                 ood_image_size=None, dataset=None, data_dir=None,
                 split='validation', image_size=None, histogram=None):
  """Scores `model_dir`'s data and another dataset with every `ood.SCORES`.

  The in-distribution images are the run's (or `dataset`'s) `split`; the
  others are `ood_dataset`'s `ood_split` (default: 'all' of an npz file,
  else 'validation'), folder and npz images made the model's size
  (`ood_image_size`, default the model's side) and channels (RGB and gray
  converted). Thresholds are the run's calibration (`ood_calibration.json`);
  a run without one is calibrated here on the in-distribution images, as
  are the scores an older run's calibration lacks.
  Writes a histogram of each score, both sets, to `histogram` (default
  `model_dir/ood_histogram.png`).
  """
  model, config = experiment.load_model(model_dir)
  if config.conditional:
    raise ValueError(f'{model_dir} holds a conditional model; the '
                     'out-of-distribution scores are for unconditional ones')
  histogram = storage.check_writable(
      histogram or storage.join(model_dir, 'ood_histogram.png'),
      'ood_histogram')
  shape = config.architecture.event_shape
  if dataset is None:
    dataset, data_dir, image_size = (config.dataset, config.data_dir,
                                     config.image_size)
  if ood_image_size is None and ood_dataset in ('folder', 'npz'):
    ood_image_size = shape[0]
  if ood_split is None:
    ood_split = 'all' if ood_dataset == 'npz' else 'validation'
  dist = model.distribution
  in_images = _matched(data.load(dataset, split, data_dir,
                                 image_size=image_size), shape, dataset)
  out_images = _matched(data.load(ood_dataset, ood_split, ood_data_dir,
                                  image_size=ood_image_size), shape,
                        ood_dataset)
  in_stats = calibration_lib.dataset_statistics(dist, in_images,
                                                orientations=True)
  out_stats = calibration_lib.dataset_statistics(dist, out_images,
                                                 orientations=True)
  calibration = ood.Calibration.load(model_dir)
  if calibration is None:
    calibration = ood.calibrate(in_stats)
    fitted_here = ood.SCORES
  else:
    fitted_here = tuple(name for name in ood.SCORES
                        if name not in calibration.thresholds)
    calibration = calibration.completed(in_stats)
  results, scores = {}, {}
  for name in ood.SCORES:
    s_in = ood.score(in_stats, calibration, name).numpy()
    s_out = ood.score(out_stats, calibration, name).numpy()
    threshold = calibration.threshold(name)
    scores[name] = s_in, s_out, threshold
    results[name] = ScoreResult(
        auroc=ood.auroc(s_in, s_out), fpr_at_95_tpr=ood.fpr_at_tpr(s_in, s_out),
        threshold=threshold, in_above=float(np.mean(s_in > threshold)),
        out_above=float(np.mean(s_out > threshold)))
  out_name = ood_dataset if ood_data_dir is None else (
      f'{ood_dataset} {posixpath.basename(str(ood_data_dir).rstrip("/"))}')
  write_histogram(histogram, scores, f'{dataset} {split}', out_name)
  return OodEvaluation(results, calibration.recommended, len(s_in),
                       len(s_out), fitted_here, histogram)


def write_histogram(path, scores, in_name, out_name):
  """A PNG of one histogram per score: in-distribution vs the other set,
  with the threshold. `scores`: name -> (in scores, out scores, threshold).
  """
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use('Agg')  # Files only; no display.
    from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError("the histogram needs matplotlib: pip install "
                      "'tfp_realnvp[plots]'") from e
  figure, axes = plt.subplots(1, len(scores), figsize=(4 * len(scores), 3.2))
  for axis, (name, (s_in, s_out, threshold)) in zip(np.atleast_1d(axes),
                                                     scores.items()):
    both = np.concatenate([s_in, s_out])
    # Clipped to the in-distribution range widened: far-off scores (noise
    # reaches tens of bits/dim) would squeeze the in-distribution bars.
    low, high = np.percentile(s_in, [0, 100])
    span = high - low or 1.
    bins = np.linspace(min(low - span, both.min()),
                       min(high + 2 * span, both.max()) + 1e-6, 50)
    for values, label in ((s_in, in_name), (s_out, out_name)):
      axis.hist(np.clip(values, bins[0], bins[-1]), bins=bins, alpha=0.6,
                label=f'{label} ({len(values)})', density=True)
    axis.axvline(threshold, color='black', linestyle='--', label='threshold')
    axis.set_title(name)
    axis.set_xlabel('score (clipped to the range shown)')
  axes_list = np.atleast_1d(axes)
  axes_list[0].legend(fontsize='small')
  figure.tight_layout()
  parent = (posixpath if storage.scheme(path) else os.path).dirname(path)
  if parent:
    tf.io.gfile.makedirs(parent)
  with tf.io.gfile.GFile(path, 'wb') as f:
    figure.savefig(f, format='png', dpi=80)
  plt.close(figure)
  return path
