"""Reading TensorBoard logs back, as TensorFlow's own summary reader sees them."""

import collections
from pathlib import Path

import tensorflow as tf


def read(log_dir):
  """{(run, tag): [(step, Summary.Value), ...] by step} of `log_dir`.

  `run` is an event file's directory relative to `log_dir` ('.' for the top
  one), as TensorBoard names runs.
  """
  found = collections.defaultdict(list)
  for path in Path(log_dir).rglob('events.out.tfevents.*'):
    run = path.parent.relative_to(log_dir).as_posix()
    for event in tf.compat.v1.train.summary_iterator(str(path)):
      for value in event.summary.value:
        found[run, value.tag].append((event.step, value))
  return {key: sorted(values, key=lambda v: v[0])
          for key, values in found.items()}


def summaries(log_dir):
  """{(run, tag): sorted steps} of every event file under `log_dir`."""
  return {key: [step for step, _ in values]
          for key, values in read(log_dir).items()}
