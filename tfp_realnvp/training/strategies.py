"""tf.distribute strategies and mixed precision for training.

`bin/train --strategy=...` runs the same Keras `fit` under one of
`STRATEGIES`; `DistributionModel.train_step` makes the loss the global
batch's and keeps the replicas in step.
"""

import tensorflow as tf

from tfp_realnvp import networks
from tfp_realnvp import storage

__all__ = ['STRATEGIES', 'PRECISIONS', 'default_precision', 'make',
           'write_dir', 'remove_write_dir']

STRATEGIES = ('default', 'mirrored', 'multi_worker', 'tpu')
# `Architecture.network_dtype` of the coupling networks, by the name the
# programs take; log-dets and the loss stay float32. DistributionModel adds
# loss scaling to float16.
SCRATCH_PREFIX = 'workertemp_'  # + task id: a non-chief worker's write_dir
PRECISIONS = {'fp32': None, 'bf16': 'mixed_bfloat16', 'fp16': 'mixed_float16'}


def default_precision():
  """The precision a new run takes unless told: 'bf16' or 'fp32'.

  'bf16' on a host with no GPU or TPU whose CPU has bfloat16 units
  (`networks.half_precision_gradients(tf.bfloat16) == 'native'`: flags
  `avx512_bf16` or `amx_bf16`), 'fp32' elsewhere. On such a CPU the default
  MNIST run trains about a fifth faster in bf16 and ends as good or better
  (docs/training.md, Quality of the default run). Elsewhere bf16 has no
  fast gradient kernels (CPUs) or was not measured here (GPUs, TPUs).

  #### Example

  ```python
  from tfp_realnvp import training

  precision = training.default_precision()  # 'bf16' or 'fp32'
  config = training.make_config('mnist')  # networks in this precision
  assert config.architecture.network_dtype == training.strategies.PRECISIONS[
      precision]
  ```
  """
  if (tf.config.list_logical_devices('GPU')
      or tf.config.list_logical_devices('TPU')):
    return 'fp32'
  native = networks.half_precision_gradients(tf.bfloat16) == 'native'
  return 'bf16' if native else 'fp32'


def make(name='default', collective_timeout=None):
  """The strategy `name`, one of `STRATEGIES`.

  'mirrored': every GPU of this host (its CPU if there is none).
  'multi_worker': every GPU (or the CPU) of each host of `TF_CONFIG`; a
    collective that waits more than `collective_timeout` seconds for another
    worker (e.g. a dead one) fails instead of hanging.
  'tpu': the TPU of `TPUClusterResolver()` (the `TPU_NAME` environment
    variable, or this TPU VM's).
  """
  if name == 'default':
    return tf.distribute.get_strategy()
  if name == 'mirrored':
    return tf.distribute.MirroredStrategy()
  if name == 'multi_worker':
    return tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=tf.distribute.experimental.CommunicationOptions(
            timeout_seconds=collective_timeout))
  if name == 'tpu':
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)
  raise ValueError(f'unknown strategy {name!r}; one of {STRATEGIES}')


def write_dir(model_dir, strategy):
  """Where this worker writes checkpoints, logs and samples; created.

  `model_dir` on the chief. The other workers of a MultiWorkerMirroredStrategy
  must still save (saving reads the variables, which takes every worker), so
  each writes to its own scratch directory `model_dir/workertemp_<task id>`,
  on the same filesystem (a gs:// model_dir works for every worker), as in
  TensorFlow's multi-worker Keras guide; `remove_write_dir` deletes it. A
  scratch directory left by a killed worker is emptied first.
  """
  model_dir = storage.as_str(model_dir)
  if strategy.extended.should_checkpoint:
    tf.io.gfile.makedirs(model_dir)
    return model_dir
  path = storage.join(model_dir,
                      f'{SCRATCH_PREFIX}{strategy.cluster_resolver.task_id}')
  storage.remove(path)
  tf.io.gfile.makedirs(path)
  return path


def remove_write_dir(model_dir, write_dir_path):
  """Deletes a worker's scratch `write_dir`; the chief's model_dir stays."""
  if storage.as_str(write_dir_path) != storage.as_str(model_dir):
    storage.remove(write_dir_path)
