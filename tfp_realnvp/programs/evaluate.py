"""Bits/dim of a trained model on a split, with its standard error; or how
well its out-of-distribution scores tell another dataset from its own.

  bin/evaluate --model_dir runs/mnist
  bin/evaluate --model_dir runs/mnist --ood_data_dir=photos.npz
  bin/evaluate --model_dir runs/mnist --ood_dataset=folder --ood_data_dir=pictures/

The last line reads `bits_per_dim=<value> stderr=<value> n=<images>`. With
--ood_dataset or --ood_data_dir, a table instead: per score
(tfp_realnvp/ood.py) its AUROC, its false-positive rate at 95% true
positives, and the fractions of both sets above the run's calibrated
threshold; then the histograms' PNG (`histogram: <path>`).
"""

from absl import flags

from tfp_realnvp import data
from tfp_realnvp import training
from tfp_realnvp.programs import _cli
from tfp_realnvp.training import ood_evaluation

flags.DEFINE_string('model_dir', None, 'Directory written by bin/train.',
                    required=True)
flags.DEFINE_enum('dataset', None, data.DATASET_NAMES,
                  "Dataset; default: the model's.")
flags.DEFINE_string('data_dir', None, "Data directory; default: the model's.")
flags.DEFINE_enum('split', 'validation', ['train', 'validation', 'all'],
                  "Split to score; 'all': the whole file (--dataset=npz).")
flags.DEFINE_integer('batch_size', None, "Default: the model's.",
                     lower_bound=1)
flags.DEFINE_integer('seed', 0, 'Seed of the dequantization noise.',
                     lower_bound=0)
flags.DEFINE_integer('image_size', None, 'Side of folder or npz images, as '
                     "in bin/train; default: the model's.", lower_bound=1)
flags.DEFINE_enum('ood_dataset', 'npz', data.DATASET_NAMES,
                  'The other dataset of an out-of-distribution evaluation.')
flags.DEFINE_string('ood_data_dir', None, 'Its data directory, folder or '
                    '.npz file, as --data_dir.')
flags.DEFINE_enum('ood_split', None, ['train', 'validation', 'all'],
                  "Its split; default: 'all' of an npz file, else "
                  "'validation'.")
flags.DEFINE_integer('ood_image_size', None, 'Side its folder or npz images '
                     "are made; default: the model's.", lower_bound=1)
flags.DEFINE_string('ood_histogram', None, 'Where the histograms go (PNG); '
                    'default: <model_dir>/ood_histogram.png.')
FLAGS = flags.FLAGS


def print_ood(result, ood_name):
  dataset = FLAGS.dataset or "the model's dataset"
  print(f'{ood_name} ({result.num_out} images) vs {dataset}, '
        f'{FLAGS.split} ({result.num_in} images)')
  print(f'{"score":<19}{"AUROC":>8}{"FPR@95%TPR":>12}{"threshold":>11}'
        f'{"in>thr":>8}{"out>thr":>9}')
  for name, r in result.scores.items():
    print(f'{name:<19}{r.auroc:>8.3f}{r.fpr_at_95_tpr:>12.3f}'
          f'{r.threshold:>11.4g}{r.in_above:>8.3f}{r.out_above:>9.3f}')
  here = 'fitted here on these in-distribution images'
  if set(result.fitted_here) == set(result.scores):
    source = f'{here} (the run has no ood_calibration.json)'
  else:
    source = "the run's ood_calibration.json" + ''.join(
        f'; {name}: {here}' for name in result.fitted_here)
  print(f'recommended: {result.recommended}; thresholds: {source}')
  print(f'histogram: {result.histogram}')


def main(argv):
  del argv
  if FLAGS['ood_dataset'].present or FLAGS.ood_data_dir is not None:
    result = ood_evaluation.evaluate_ood(
        FLAGS.model_dir, FLAGS.ood_dataset, FLAGS.ood_data_dir,
        FLAGS.ood_split, FLAGS.ood_image_size, FLAGS.dataset, FLAGS.data_dir,
        FLAGS.split, FLAGS.image_size, FLAGS.ood_histogram)
    print_ood(result, f'{FLAGS.ood_dataset} {FLAGS.ood_data_dir or ""}'
              .strip())
    return
  result = training.evaluate(FLAGS.model_dir, FLAGS.dataset, FLAGS.data_dir,
                             FLAGS.split, FLAGS.batch_size, FLAGS.seed,
                             FLAGS.image_size)
  # bf16 networks invert only up to their rounding (docs/training.md).
  networks = training.Config.load(FLAGS.model_dir).architecture.network_dtype
  print(f'round-trip error max|forward(inverse(x)) - x| (pixels): '
        f'{result.roundtrip_error:.3g} (networks: {networks or "float32"})')
  print(f'bits_per_dim={result.bits_per_dim:.6f} stderr={result.stderr:.6f} '
        f'n={result.num_images}')


def run():
  """The console script `tfp-realnvp-evaluate`."""
  _cli.run(main)


if __name__ == '__main__':
  run()
