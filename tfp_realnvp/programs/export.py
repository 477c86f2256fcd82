"""Exports a trained model as a SavedModel for TensorFlow Serving.

  bin/export --model_dir runs/mnist --export_dir /srv/models/realnvp
  bin/export --model_dir gs://bucket/runs/mnist --export_dir gs://bucket/models/realnvp

Each run writes the latest checkpoint as the next version, export_dir/<n>,
with the signatures log_prob, sample, encode and decode (see
tfp_realnvp/export.py; a class-conditional model's also take the labels),
and ood_score when the run holds its out-of-distribution calibration
(ood_calibration.json, written by bin/train); a run without one exports
without it and says so in one line. `ood_score` serves the calibration's
recommended score, or --ood_score (`scales` costs one pass of the flow
where the recommended one costs 8). A run trained with bf16 or fp16
networks is served in float32 (its weights are float32), so that
`decode(encode(x)) == x`. The last line reads `exported: <path>`.
"""

import dataclasses

from absl import flags
from absl import logging

from tfp_realnvp import export
from tfp_realnvp import ood
from tfp_realnvp import storage
from tfp_realnvp import training
from tfp_realnvp.programs import _cli

flags.DEFINE_string('model_dir', None, 'Directory written by bin/train.',
                    required=True)
flags.DEFINE_string('export_dir', None, 'Base directory of the versions '
                    "(TensorFlow Serving's --model_base_path).", required=True)
flags.DEFINE_enum('ood_score', None, ood.SCORES,
                  'The score the ood_score signature serves; default: the '
                  "calibration's recommended one.")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  if not FLAGS['verbosity'].present:  # TF's INFO lines on saving are noise.
    logging.set_verbosity(logging.WARNING)
  # Checked before the model loads, which takes a while.
  storage.check_writable(FLAGS.export_dir, 'export_dir', directory=True)
  # Served in float32 whatever the run trained in: bfloat16 networks
  # round-trip pixels only to a few levels (bin/evaluate's round-trip
  # error), and decode(encode(x)) must give x back.
  model, config = training.load_model(FLAGS.model_dir,
                                      network_dtype='float32')
  calibration = None if config.conditional else ood.Calibration.load(
      FLAGS.model_dir)
  if FLAGS.ood_score:
    if calibration is None:
      raise ValueError(f'--ood_score={FLAGS.ood_score}: {FLAGS.model_dir} '
                       f'has no {ood.CALIBRATION_FILE} (a conditional run, or '
                       'one trained before out-of-distribution scores)')
    if FLAGS.ood_score not in calibration.thresholds:
      raise ValueError(f'--ood_score={FLAGS.ood_score}: {FLAGS.model_dir}/'
                       f'{ood.CALIBRATION_FILE} has no threshold of it '
                       f'(it has {sorted(calibration.thresholds)}); rerun '
                       'bin/train with this model_dir to calibrate again')
    calibration = dataclasses.replace(calibration,
                                      recommended=FLAGS.ood_score)
  if calibration is None and not config.conditional:
    print(f'no {ood.CALIBRATION_FILE} in {FLAGS.model_dir} (trained before '
          'out-of-distribution scores): exported without ood_score; rerun '
          'bin/train with this model_dir to calibrate')
  path = export.export(model.distribution, FLAGS.export_dir,
                       config.architecture.num_classes, calibration)
  print(f'exported: {path}')


def run():
  """The console script `tfp-realnvp-export`."""
  _cli.run(main)


if __name__ == '__main__':
  run()
