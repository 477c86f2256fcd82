"""How bin/benchmark times a step and reads peak memory, free of TensorFlow.

Shared by `benchmark_lib` (our model) and `torch_reference` (the PyTorch
reference), so that both sides are timed the same way and the reference's
process does not load TensorFlow.
"""

import resource
import statistics
import time

import numpy as np

__all__ = ['images_per_second', 'peak_rss_gb', 'system_cpu_s',
           'first_touch_s_per_gb', 'best_gflops', 'PEAK_CONVOLUTION',
           'PEAK_CONVOLUTION_FLOPS']

# The kernels that measure a machine's peak, in each framework: square
# matrix products, and the widest 3x3 convolution of the paper's CIFAR-10
# model at batch 64: input [batch, height, width, channels], kernel side,
# output channels.
PEAK_CONVOLUTION = ((64, 32, 32, 64), 3, 64)
(_BATCH, _HEIGHT, _WIDTH, _CHANNELS), _SIDE, _OUT = PEAK_CONVOLUTION
PEAK_CONVOLUTION_FLOPS = (2 * _BATCH * _HEIGHT * _WIDTH * _CHANNELS * _OUT
                          * _SIDE**2)


def best_gflops(run, flops, repeats=5):
  """`flops` over the best of `repeats` timed calls of `run`, in GFLOP/s.

  `run()` must return only when its work is done; one untimed call first
  warms it up.
  """
  run()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    run()
    times.append(time.perf_counter() - start)
  return flops / min(times) / 1e9


def peak_rss_gb():
  """This program's peak resident set so far, in 1e9 bytes.

  Linux's `VmHWM`, the high-water mark of this program's own memory. Not
  `getrusage`'s `ru_maxrss`: that survives fork and exec, so a child started
  by a process holding TensorFlow would report at least the parent's size.
  """
  try:
    with open('/proc/self/status') as status:
      for line in status:
        if line.startswith('VmHWM:'):
          return int(line.split()[1]) * 1024 / 1e9
  except OSError:
    pass
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def system_cpu_s():
  """CPU seconds this program has spent in the kernel so far.

  Most of it, in a step that grows the program's memory, is the kernel
  handing out and zeroing the new pages (page faults).
  """
  return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def first_touch_s_per_gb(gb=0.5):
  """Kernel CPU seconds per 1e9 bytes of new memory a program first writes.

  Returns `(fresh, again)`: writing `gb` of memory this program has not
  used, then the same amount again right after freeing it. On a machine of
  its own the two are alike (the kernel zeroes the pages); on a virtual
  machine whose hypervisor takes back the memory its guest frees (free page
  reporting), fresh memory also waits for the host to back it, and `fresh`
  is several times `again`. Either way it is what a step's
  `first_run_system_s` is made of, per GB of its new memory.
  """
  def touch():
    before = system_cpu_s()
    np.ones(int(gb * 1e9) // 8)  # Written, then freed back to the kernel.
    return (system_cpu_s() - before) / gb
  return touch(), touch()


def images_per_second(step, batch_size, seconds):
  """batch_size / median step time; the median shrugs off a busy machine.

  `step` has run once already (traced), as one more warm-up step costs
  minutes for the large models on a small CPU. Runs for `seconds`, and at
  least 3 steps.
  """
  times = []
  end = time.perf_counter() + seconds
  while time.perf_counter() < end or len(times) < 3:
    start = time.perf_counter()
    step()
    times.append(time.perf_counter() - start)
  return batch_size / statistics.median(times)
