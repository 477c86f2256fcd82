"""The smallest model the program, training and reliability tests train.

One scale, no residual block, 4 feature maps, two batches of 16 an epoch:
those tests check what the programs do, not what the model learns, and each
run's time goes mostly with the number of ops it traces.
"""

# fp32 on every machine (not `default_precision()`'s bf16 on CPUs with bf16
# units): what the tests check of a run does not depend on the machine.
MODEL = dict(num_scales=1, num_res_blocks=0, num_filters=4, precision='fp32')
RUN = dict(MODEL, steps_per_epoch=2, batch_size=16)


def flags(**changes):
  """`RUN`, updated by `changes`, as a program's command-line flags."""
  return [f'--{name}={value}' for name, value in {**RUN, **changes}.items()]
