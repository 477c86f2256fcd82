"""Exports a trained model as a SavedModel for TensorFlow Serving.

  bin/export --model_dir runs/mnist --export_dir /srv/models/realnvp
  bin/export --model_dir gs://bucket/runs/mnist --export_dir gs://bucket/models/realnvp

Each run writes the latest checkpoint as the next version, export_dir/<n>,
with the signatures log_prob, sample, encode and decode (see
tfp_realnvp/export.py; a class-conditional model's also take the labels),
and ood_score when the run holds its out-of-distribution calibration
(ood_calibration.json, written by bin/train); a run without one exports
without it and says so in one line. A run trained with bf16 or fp16
networks is served in float32 (its weights are float32), so that
`decode(encode(x)) == x`. The last line reads `exported: <path>`.
"""

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
