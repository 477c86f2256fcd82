"""The one version constraint pip cannot state: tf-keras matches TensorFlow."""

import tensorflow as tf
import tf_keras


def _minor(version):
  return tuple(version.split('.')[:2])


def check_tf_keras(tensorflow_version=tf.__version__,
                   tf_keras_version=tf_keras.__version__):
  """Raises ImportError unless tf-keras has TensorFlow's minor version.

  Each tf-keras release is built against one TensorFlow minor version; with
  another one it imports but its layers break in ways that do not name the
  cause.
  """
  if _minor(tensorflow_version) != _minor(tf_keras_version):
    major, minor = _minor(tensorflow_version)
    raise ImportError(
        f'tfp_realnvp needs tf-keras of the installed TensorFlow\'s minor '
        f'version: tensorflow is {tensorflow_version}, tf-keras is '
        f'{tf_keras_version}; pip install "tf-keras=={major}.{minor}.*"')
