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
serving_default                       the log_prob signature: same inputs,
                                      outputs and function
ood_score images uint8 [N, H, W, C]   -> score float32 [N],
                                         threshold float32 [],
                                         is_ood bool [N]
```

`ood_score` is there when the export is given a `calibration`
(`ood.Calibration`, which `bin/train` writes to the run's
`ood_calibration.json`): `score` is the calibration's recommended
out-of-distribution score (tfp_realnvp/ood.py; higher = more anomalous, at
bin centres as `log_prob`), `threshold` the calibrated one (at most its
false-positive rate of the in-distribution validation images above it) and
`is_ood` is `score > threshold`. Unconditional models only.

`serving_default` is what TensorFlow Serving runs for a request that names
no `signature_name`.

A class-conditional model's signatures also take the class: `labels` int32
[N] (one class id per image or latent) in `log_prob`, `encode` and `decode`,
and `label` int32 [] (the class of every sample) in `sample`. A class id
outside [0, num_classes), or a number of labels that is not the batch's,
fails (InvalidArgumentError) with a message naming the range.

`export_dir` may be on any TensorFlow filesystem (gs://, ...). A version
directory never appears partial to a reader: locally it is renamed into
place; elsewhere (an object store renames file by file) its files are
copied with `saved_model.pb` last, which is the marker a loader waits for
(`complete_versions`): TensorFlow Serving cannot load a version without it.

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
import uuid

import tensorflow as tf

from tfp_realnvp import distributions
from tfp_realnvp import latent
from tfp_realnvp import ood
from tfp_realnvp import storage

__all__ = ['export', 'versions', 'complete_versions', 'Servable',
           'SAVED_MODEL_FILE']

# Copied last: a version directory holding it is whole.
SAVED_MODEL_FILE = 'saved_model.pb'


class Servable(tf.Module):
  """The variables of `dist` and the signatures as tf.functions.

  With `num_classes`, `dist` is class-conditional (its bijector takes a
  one-hot `conditional_input`) and every signature takes the class ids.
  With `calibration` (an `ood.Calibration`; unconditional models) there is
  an `ood_score` signature too.
  Only the variables and the traced functions are tracked, not `dist`: the
  SavedModel then holds no Keras or TFP objects.

  #### Example

  ```python
  import tensorflow as tf
  import tfp_realnvp
  from tfp_realnvp import export

  dist = tfp_realnvp.real_nvp_distribution(
      [4, 4, 1], num_scales=1, num_res_blocks=0, num_filters=4)
  servable = export.Servable(dist)
  images = tf.zeros([2, 4, 4, 1], tf.uint8)
  outputs = servable.signatures()['log_prob'](images)
  assert outputs['log_prob'].shape == [2]  # and 'bits_per_dim'
  ```
  """

  def __init__(self, dist, num_classes=None, calibration=None):
    if dist.dtype != tf.float32:
      raise ValueError(f'a float32 distribution is needed, not {dist.dtype}')
    if calibration is not None and num_classes is not None:
      raise ValueError('out-of-distribution scores are for unconditional '
                       'models; pass no calibration with num_classes')
    super().__init__(name='real_nvp')
    self._variables = list(dist.variables)
    shape = [int(d) for d in dist.event_shape]
    size = math.prod(shape)
    self.num_classes = num_classes
    images_spec = tf.TensorSpec([None, *shape], tf.uint8, name='images')
    z_spec = tf.TensorSpec([None, size], tf.float32, name='z')
    sample_specs = [tf.TensorSpec([], tf.int32, name='num_samples'),
                    tf.TensorSpec([], tf.float32, name='temperature'),
                    tf.TensorSpec([], tf.int32, name='seed')]

    def checked(x):
      # A call through a signature checks the dtype but not the shape.
      return tf.ensure_shape(x, x.shape)

    def condition(labels, batch):
      """bijector kwargs of class ids `labels`, checked against `batch`."""
      if num_classes is None:
        return {}
      message = f'labels must be class ids in [0, {num_classes})'
      checks = [
          tf.debugging.assert_non_negative(labels, message=message),
          tf.debugging.assert_less(labels, num_classes, message=message),
          tf.debugging.assert_equal(
              tf.size(labels), tf.shape(batch)[0],
              message='one label per image (or latent) is needed')]
      with tf.control_dependencies(checks):
        return {'conditional_input': tf.one_hot(labels, num_classes)}

    def log_prob(images, labels=None):
      kwargs = condition(labels, images)
      log_prob = dist.log_prob(tf.cast(checked(images), tf.float32) + 0.5,
                               **({'bijector_kwargs': kwargs} if kwargs
                                  else {}))
      return {'log_prob': log_prob,
              'bits_per_dim': distributions.bits_per_dim(log_prob, shape)}

    def sample(num_samples, temperature, seed, label=None):
      # Checked in this order, before any work: one error names the problem.
      temperature = latent.check_temperature(temperature)
      with tf.control_dependencies([temperature]):
        checked_num = tf.debugging.assert_non_negative(
            num_samples, message='sample: num_samples must be >= 0')
      with tf.control_dependencies([checked_num]):
        kwargs = condition(
            None if label is None else tf.fill([num_samples], label),
            tf.zeros([num_samples]))
        return {'images': latent.to_uint8(
            latent.sample(dist, num_samples, temperature, seed, **kwargs))}

    def encode(images, labels=None):
      kwargs = condition(labels, images)
      return {'z': tf.reshape(latent.encode(dist, checked(images), **kwargs),
                              [-1, size])}

    def decode(z, labels=None):
      kwargs = condition(labels, z)
      return {'images': latent.decode(
          dist, tf.reshape(checked(z), [-1, *shape]), **kwargs)}

    if num_classes is None:
      signatures = [images_spec], sample_specs, [images_spec], [z_spec]
    else:
      labels = tf.TensorSpec([None], tf.int32, name='labels')
      label = tf.TensorSpec([], tf.int32, name='label')
      signatures = ([images_spec, labels], [*sample_specs, label],
                    [images_spec, labels], [z_spec, labels])
    log_prob, sample, encode, decode = (
        tf.function(f, input_signature=s)
        for f, s in zip((log_prob, sample, encode, decode), signatures))

    self.log_prob, self.sample = log_prob, sample
    self.encode, self.decode = encode, decode
    self.ood_score = None
    if calibration is not None:
      threshold = calibration.threshold()
      # The orientation statistics' 7 more passes only when the served score
      # needs them.
      orientations = calibration.recommended in ood.ORIENTED_SCORES

      @tf.function(input_signature=[images_spec])
      def ood_score(images):
        score = ood.score(ood.statistics(dist, checked(images), orientations),
                          calibration)
        return {'score': score, 'threshold': tf.constant(threshold),
                'is_ood': score > threshold}

      self.ood_score = ood_score

  def signatures(self):
    """The tf.functions by signature name, `serving_default` being
    `log_prob`."""
    # Not concrete functions: saving traces again in its own context (another
    # cache key), so tracing them here first would double the work.
    signatures = {name: getattr(self, name)
                  for name in ('log_prob', 'sample', 'encode', 'decode')}
    if self.ood_score is not None:
      signatures['ood_score'] = self.ood_score
    return {**signatures, 'serving_default': self.log_prob}


def export(dist, export_dir, num_classes=None, calibration=None):
  """Writes `dist` as SavedModel version `export_dir/<n>`; returns its path.

  `export_dir` is a string on any TensorFlow filesystem. `n` is one more
  than the largest version there (1 in a new directory). The model is saved
  into a temporary directory inside `export_dir`, then published (see the
  module docstring): renamed into place locally, elsewhere copied with
  `saved_model.pb` last. `num_classes`: `dist` is class-conditional.
  `calibration`: an `ood.Calibration`, which adds the `ood_score` signature.

  #### Example

  ```python
  import tensorflow as tf
  import tfp_realnvp
  from tfp_realnvp import export

  dist = tfp_realnvp.real_nvp_distribution(
      [4, 4, 1], num_scales=1, num_res_blocks=0, num_filters=4)
  path = export.export(dist, 'ram://docs/models/realnvp')  # .../1
  served = tf.saved_model.load(path)
  bits = served.signatures['log_prob'](
      images=tf.zeros([2, 4, 4, 1], tf.uint8))['bits_per_dim']  # [2]
  ```
  """
  export_dir = storage.check_writable(export_dir, 'export_dir',
                                      directory=True)
  tf.io.gfile.makedirs(export_dir)
  servable = Servable(dist, num_classes, calibration)
  tmp = storage.join(export_dir, f'.tmp-export-{uuid.uuid4().hex}')
  try:
    tf.io.gfile.makedirs(tmp)
    tf.saved_model.save(servable, tmp, signatures=servable.signatures())
    path = storage.join(export_dir,
                        str(max(versions(export_dir), default=0) + 1))
    return storage.publish_dir(tmp, path, last=SAVED_MODEL_FILE)
  finally:
    storage.remove(tmp)


def versions(export_dir):
  """The version numbers in `export_dir`, ascending, whole or not.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import export

  for name in ('1', '2', 'notes'):
    tf.io.gfile.makedirs(f'ram://docs/versions/{name}')
  assert export.versions('ram://docs/versions') == [1, 2]
  ```
  """
  return sorted(int(name.rstrip('/'))
                for name in tf.io.gfile.listdir(export_dir)
                if name.rstrip('/').isdigit() and
                tf.io.gfile.isdir(storage.join(export_dir, name)))


def complete_versions(export_dir):
  """The versions of `export_dir` a loader may read: the complete ones.

  A version is complete when its `saved_model.pb`, published last, is there.

  #### Example

  ```python
  import tensorflow as tf
  from tfp_realnvp import export
  from tfp_realnvp import storage

  for version in ('1', '2'):
    tf.io.gfile.makedirs(f'ram://docs/complete/{version}')
  storage.write_atomic('ram://docs/complete/1/saved_model.pb', b'...')
  # 2 is being copied still: no saved_model.pb yet.
  assert export.complete_versions('ram://docs/complete') == [1]
  ```
  """
  return [v for v in versions(export_dir) if tf.io.gfile.exists(
      storage.join(export_dir, str(v), SAVED_MODEL_FILE))]
