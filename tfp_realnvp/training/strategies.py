"""tf.distribute strategies and mixed precision for training.

`bin/train --strategy=...` runs the same Keras `fit` under one of
`STRATEGIES`; `DistributionModel.train_step` makes the loss the global
batch's and keeps the replicas in step.
"""

import atexit
from pathlib import Path
import shutil
import tempfile

import tensorflow as tf

__all__ = ['STRATEGIES', 'PRECISIONS', 'make', 'write_dir']

STRATEGIES = ('default', 'mirrored', 'multi_worker', 'tpu')
# `Architecture.network_dtype` of the coupling networks, by the name the
# programs take; log-dets and the loss stay float32. DistributionModel adds
# loss scaling to float16.
PRECISIONS = {'fp32': None, 'bf16': 'mixed_bfloat16', 'fp16': 'mixed_float16'}


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
  """Where this worker writes checkpoints, logs and samples.

  `model_dir` on the chief. The other workers of a MultiWorkerMirroredStrategy
  must still save (saving reads the variables, which takes every worker), so
  they write to a temporary directory, removed at exit, as in TensorFlow's
  multi-worker Keras tutorial.
  """
  if strategy.extended.should_checkpoint:
    return Path(model_dir)
  path = tempfile.mkdtemp(prefix='tfp_realnvp_worker_')
  atexit.register(shutil.rmtree, path, ignore_errors=True)
  return Path(path)
