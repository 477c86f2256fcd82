"""The smallest model the program, training and reliability tests train.

One scale, no residual block, 4 feature maps, two batches of 16 an epoch:
those tests check what the programs do, not what the model learns, and each
run's time goes mostly with the number of ops it traces.
"""

MODEL = dict(num_scales=1, num_res_blocks=0, num_filters=4)
RUN = dict(MODEL, steps_per_epoch=2, batch_size=16)


def flags(**changes):
  """`RUN`, updated by `changes`, as a program's command-line flags."""
  return [f'--{name}={value}' for name, value in {**RUN, **changes}.items()]
