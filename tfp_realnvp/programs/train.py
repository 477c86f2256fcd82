"""Trains Real NVP on a dataset; rerunning the same command resumes.

  bin/train                                 # embedded MNIST subset, ~3 min
  bin/train --dataset=cifar10 --data_dir=~/tensorflow_datasets
  tensorboard --logdir runs/mnist/logs

Checkpoints are written at the end of each epoch, every
--checkpoint_every_minutes and every --checkpoint_every_steps; SIGTERM or
Ctrl-C saves the step reached and exits with status 1 (docs/training.md,
Long runs).
"""

from absl import flags
from absl import logging

from tfp_realnvp import data
from tfp_realnvp import training
from tfp_realnvp.programs import _cli
from tfp_realnvp.training import experiment
from tfp_realnvp.training import strategies

flags.DEFINE_enum('dataset', 'mnist', data.DATASET_NAMES, 'Dataset to model.')
flags.DEFINE_string('data_dir', None, 'tfds data directory, image folder or '
                    '.npz file; default: tfds default (embedded for mnist).')
flags.DEFINE_string('model_dir', None, 'Where checkpoints, logs and samples '
                    'go; default runs/<dataset> (runs/<dataset>_conditional '
                    'with --conditional).')
flags.DEFINE_bool('download', False, 'Let tfds download missing data.')
# The hyperparameter flags carry the names of `training.HYPERPARAMETERS`
# (Architecture and Training fields, precision); None keeps the preset's, or
# the saved model's, value. Bounds absl can state are flag bounds; the rest
# (a rate > 0, finite) is checked by Architecture and Training.
flags.DEFINE_integer('num_scales', None, 'Scales of the flow.', lower_bound=1)
flags.DEFINE_integer('num_res_blocks', None, 'Residual blocks per coupling.',
                     lower_bound=0)
flags.DEFINE_integer('num_filters', None, 'Feature maps at the finest scale.',
                     lower_bound=1)
flags.DEFINE_integer('batch_size', None, 'Images per batch.', lower_bound=1)
flags.DEFINE_float('learning_rate', None, 'Adam learning rate, > 0.')
flags.DEFINE_enum('learning_rate_decay', None,
                  list(training.LEARNING_RATE_DECAYS),
                  'none: a constant rate (the paper); cosine: from '
                  '--learning_rate down to 0 over the epochs.')
flags.DEFINE_integer('epochs', None, 'Train until this many epochs are done.',
                     lower_bound=1)
flags.DEFINE_bool('batch_norm', None, 'Batch norm in the s,t networks and '
                  'after each coupling (the paper); false: none.')
flags.DEFINE_float('l2', None, "L2 penalty on the networks' gains and "
                   'checkerboard scalars, the loss in nats per image.',
                   lower_bound=0.)
flags.DEFINE_float('clip_norm', None, 'Clip gradients to this global norm, '
                   '> 0.')
flags.DEFINE_bool('recompute_gradients', None, "Compute the s,t networks' "
                  'activations again for the gradient instead of keeping '
                  'them: less memory, one more forward pass.')
flags.DEFINE_integer('steps_per_epoch', None, 'Cap on batches per epoch.',
                     lower_bound=1)
flags.DEFINE_integer('image_size', None, 'Side of the square images of '
                     '--dataset=folder (default 64) and npz (default: the '
                     "file's size), resized to this shorter side then "
                     'cropped; saved with the run.', lower_bound=1)
flags.DEFINE_integer('log_every_steps', None, 'Also log the mean training '
                     'bits/dim of every this many steps (TensorBoard '
                     'step_bits_per_dim); default: per epoch only.',
                     lower_bound=1)
flags.DEFINE_integer('validate_every_steps', None, 'Also log the bits/dim '
                     f'of the first {experiment.VALIDATION_SUBSET} validation '
                     'images (fixed noise) every this many steps '
                     '(TensorBoard validation step_bits_per_dim).',
                     lower_bound=1)
flags.DEFINE_integer('checkpoint_every_steps', None, 'Also save a checkpoint '
                     'every this many batches, inside epochs too.',
                     lower_bound=1)
flags.DEFINE_float('checkpoint_every_minutes', 10., 'Also save a checkpoint '
                   'after the first batch ending this many minutes after the '
                   'last save.', lower_bound=1e-3)
flags.DEFINE_integer('keep_checkpoints', 3, 'Keep the latest this many '
                     'checkpoints.', lower_bound=1)
flags.DEFINE_integer('seed', None, 'Seed of shuffling, noise and samples; '
                     'default: the saved one, or 0.', lower_bound=0)
flags.DEFINE_bool('jit_compile', False, 'Compile the training step with XLA.')
flags.DEFINE_enum('strategy', 'default', strategies.STRATEGIES,
                  'tf.distribute strategy: mirrored (GPUs of this host), '
                  'multi_worker (hosts of TF_CONFIG), tpu (TPU_NAME).')
flags.DEFINE_integer('collective_timeout', 300, 'multi_worker: fail after '
                     'waiting this many seconds for another worker.',
                     lower_bound=1)
flags.DEFINE_enum('precision', None, list(strategies.PRECISIONS),
                  'fp32, or bf16/fp16 coupling networks (mixed precision); '
                  'default: the saved one, else bf16 on a CPU with '
                  'bfloat16 units (avx512_bf16, amx_bf16) and no GPU, else '
                  'fp32.')
flags.DEFINE_bool('conditional', False, 'A class-conditional model of the '
                  'labels (mnist); bin/sample --label draws one class.')
flags.DEFINE_integer('max_nonfinite', 10, 'Stop after this many steps with a '
                     'non-finite loss or gradient (each one is skipped).',
                     lower_bound=1)
flags.DEFINE_bool('deterministic', False, 'Deterministic kernels and seeds: '
                  'a killed and resumed run ends with the same weights as an '
                  'uninterrupted one.')
flags.DEFINE_bool('strict_data', False, 'Stop at the first bad image file '
                  'of a folder instead of skipping it.')
FLAGS = flags.FLAGS


def _report_bad_files(data_dir):
  """Prints which files of a folder training skips (decodes each once)."""
  report = data.folder_report(data_dir)
  print(f'{data_dir}: {report.num_images} images, {len(report.skipped)} bad '
        'files skipped')
  for reason in report.skipped.values():
    print(f'  skipped: {reason}')


def main(argv):
  del argv
  if not FLAGS['verbosity'].present:  # Keep absl's INFO lines out of the progress bar.
    logging.set_verbosity(logging.WARNING)
  # Decoding every file takes long on a large folder: reported once, when the
  # run starts, not again at each resume.
  if (FLAGS.dataset == 'folder' and FLAGS.data_dir and not FLAGS.strict_data
      and not experiment.has_checkpoint(FLAGS.model_dir or
                                        experiment.default_model_dir(
                                            FLAGS.dataset, FLAGS.conditional))):
    _report_bad_files(FLAGS.data_dir)
  result = training.train(
      FLAGS.dataset, FLAGS.model_dir, FLAGS.data_dir, FLAGS.download,
      FLAGS.seed, FLAGS.steps_per_epoch, FLAGS.jit_compile,
      FLAGS.max_nonfinite, conditional=FLAGS.conditional,
      deterministic=FLAGS.deterministic, strict_data=FLAGS.strict_data,
      strategy=strategies.make(FLAGS.strategy, FLAGS.collective_timeout),
      image_size=FLAGS.image_size, log_every_steps=FLAGS.log_every_steps,
      checkpoint_every_steps=FLAGS.checkpoint_every_steps,
      checkpoint_every_minutes=FLAGS.checkpoint_every_minutes,
      keep_checkpoints=FLAGS.keep_checkpoints,
      validate_every_steps=FLAGS.validate_every_steps,
      **{name: FLAGS[name].value for name in training.HYPERPARAMETERS
         if name in FLAGS})
  print(f'validation bits/dim: {result.bits_per_dim:.4f} (epoch '
        f'{result.epoch}, step {result.step}, {result.nonfinite_steps} '
        'non-finite steps skipped)')
  print(f'checkpoint: {result.checkpoint}')
  print(f'TensorBoard logs: {result.logs}')
  print(f'samples: {result.samples}')
  if result.ood_calibration:
    print(f'out-of-distribution calibration: {result.ood_calibration}')


def run():
  """The console script `tfp-realnvp-train`."""
  _cli.run(main, errors=(training.TrainingStopped, training.LockHeld,
                         training.TrainingInterrupted))


if __name__ == '__main__':
  run()
