"""SavedModel export of a Real NVP image distribution, for TensorFlow Serving.

`export(dist, export_dir)` writes `export_dir/<version>` (1, 2, ...: the next
free integer, the layout TensorFlow Serving polls) with these signatures,
every batch dimension dynamic, for images of shape [H, W, C] and D = H*W*C:

```none
log_prob  images uint8 [N, H, W, C]   -> log_prob float32 [N],
                                         bits_per_dim float32 [N]
sample    num_samples int32 [], temperature float32 [], seed int32 []
                                      -> images uint8 [num_samples, H, W, C]
encode    images uint8 [N, H, W, C]   -> z float32 [N, D]
decode    z float32 [N, D]            -> images uint8 [N, H, W, C]
```

The model is a density on dequantized pixels in [0, 256)^D. A served request
must be deterministic, so `log_prob` and `encode` evaluate it at the centre of
each pixel's bin, `images + 0.5`, not at a random point in the bin as
training does. `log_prob` is the exact log-density at that point: a point
estimate of the image's discrete log-likelihood `log E_u p(x + u)`, close to
but not the bits/dim measured with uniform noise. Decoding floors and clips to
[0, 255], so `decode(encode(x)) == x` for every 8-bit image. `sample` draws
`z = temperature * N(0, I)` from a stateless RNG: the same seed gives the same
images. `z` is the flow's latent (every scale, laid out like the image)
flattened row-major. Batch normalization uses its running averages. A wrong
dtype or shape fails with an error naming the expected one; a NaN or infinite
`z`, or a `temperature` that is not a finite number > 0, fails
(InvalidArgumentError) instead of returning images.

The graphs are traced at export time; loading needs TensorFlow only (no
tfp_realnvp, TensorFlow Probability or Keras).
"""

import math
import os
from pathlib import Path
import shutil
import tempfile

import tensorflow as tf

from tfp_realnvp import distributions
from tfp_realnvp import latent

__all__ = ['export', 'versions', 'Servable']


class Servable(tf.Module):
  """The variables of `dist` and the four signatures as tf.functions.

  Only the variables and the traced functions are tracked, not `dist`: the
  SavedModel then holds no Keras or TFP objects.
  """

  def __init__(self, dist):
    if dist.dtype != tf.float32:
      raise ValueError(f'a float32 distribution is needed, not {dist.dtype}')
    super().__init__(name='real_nvp')
    self._variables = list(dist.variables)
    shape = [int(d) for d in dist.event_shape]
    size = math.prod(shape)
    images_spec = tf.TensorSpec([None, *shape], tf.uint8, name='images')

    def checked(x):
      # A call through a signature checks the dtype but not the shape.
      return tf.ensure_shape(x, x.shape)

    @tf.function(input_signature=[images_spec])
    def log_prob(images):
      log_prob = dist.log_prob(tf.cast(checked(images), tf.float32) + 0.5)
      return {'log_prob': log_prob,
              'bits_per_dim': distributions.bits_per_dim(log_prob, shape)}

    @tf.function(input_signature=[
        tf.TensorSpec([], tf.int32, name='num_samples'),
        tf.TensorSpec([], tf.float32, name='temperature'),
        tf.TensorSpec([], tf.int32, name='seed')])
    def sample(num_samples, temperature, seed):
      # Checked in this order, before any work: one error names the problem.
      temperature = latent.check_temperature(temperature)
      with tf.control_dependencies([temperature]):
        checked_num = tf.debugging.assert_non_negative(
            num_samples, message='sample: num_samples must be >= 0')
      with tf.control_dependencies([checked_num]):
        return {'images': latent.to_uint8(
            latent.sample(dist, num_samples, temperature, seed))}

    @tf.function(input_signature=[images_spec])
    def encode(images):
      return {'z': tf.reshape(latent.encode(dist, checked(images)),
                              [-1, size])}

    @tf.function(input_signature=[tf.TensorSpec([None, size], tf.float32,
                                                name='z')])
    def decode(z):
      return {'images': latent.decode(dist, tf.reshape(checked(z),
                                                       [-1, *shape]))}

    self.log_prob, self.sample = log_prob, sample
    self.encode, self.decode = encode, decode

  def signatures(self):
    """The four tf.functions by signature name."""
    # Not concrete functions: saving traces again in its own context (another
    # cache key), so tracing them here first would double the work.
    return {name: getattr(self, name)
            for name in ('log_prob', 'sample', 'encode', 'decode')}


def export(dist, export_dir):
  """Writes `dist` as SavedModel version `export_dir/<n>`; returns its path.

  `n` is one more than the largest version there (1 in a new directory). The
  model is saved into a temporary directory inside `export_dir` and renamed
  into place, so a version directory is never partial: TensorFlow Serving
  may load a version as soon as its directory appears.
  """
  export_dir = Path(export_dir)
  export_dir.mkdir(parents=True, exist_ok=True)
  servable = Servable(dist)
  tmp = Path(tempfile.mkdtemp(prefix='.tmp-export-', dir=export_dir))
  try:
    tf.saved_model.save(servable, str(tmp), signatures=servable.signatures())
    path = export_dir / str(max(versions(export_dir), default=0) + 1)
    os.rename(tmp, path)
    return path
  finally:
    shutil.rmtree(tmp, ignore_errors=True)


def versions(export_dir):
  """The version numbers in `export_dir`, ascending."""
  return sorted(int(p.name) for p in Path(export_dir).iterdir()
                if p.is_dir() and p.name.isdigit())
