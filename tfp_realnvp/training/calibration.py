"""A run's out-of-distribution calibration (tfp_realnvp/ood.py), kept with it.

```none
model_dir/ood_calibration.json   in-distribution statistics and thresholds,
                                 fitted on the validation split
```
"""

import sys

import tensorflow as tf

from tfp_realnvp import data
from tfp_realnvp import ood

__all__ = ['dataset_statistics', 'write_calibration']

BATCH_SIZE = 250


def dataset_statistics(dist, images, batch_size=BATCH_SIZE,
                       orientations=False):
  """`ood.statistics` of a dataset of uint8 images, as numpy arrays."""
  shape = [None, *(int(d) for d in dist.event_shape)]

  @tf.function(input_signature=[tf.TensorSpec(shape, tf.uint8)])
  def statistics(batch):
    return ood.statistics(dist, batch, orientations)

  parts = [statistics(batch) for batch in images.batch(batch_size)]
  if not parts:
    raise ValueError('no images to score')
  return {key: tf.concat([part[key] for part in parts], axis=0)
          for key in parts[0]}


def write_calibration(dist, config, out_dir, download=False,
                      false_positive_rate=ood.DEFAULT_FALSE_POSITIVE_RATE):
  """Calibrates `dist`'s scores on its run's validation split; writes
  `out_dir/ood_calibration.json` atomically and returns its path.

  `config` is the run's `presets.Config`. A class-conditional run gets
  none (None): the scores need the unconditional likelihood. Nor does a
  validation split too small to fit the statistics' covariance: training
  has done its work, so that is one line on stderr, not an error.
  """
  if config.conditional:
    return None
  images = data.load(config.dataset, 'validation', config.data_dir, download,
                     image_size=config.image_size)
  # With the orientation statistics (8 passes over the split): the
  # recommended score needs them.
  stats = dataset_statistics(dist, images, orientations=True)
  try:
    calibration = ood.calibrate(stats, false_positive_rate)
  except ood.TooFewImages as e:
    print(f'no {ood.CALIBRATION_FILE}: {e} (the validation split)',
          file=sys.stderr, flush=True)
    return None
  return calibration.save(out_dir)
