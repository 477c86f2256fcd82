"""tf-keras must have TensorFlow's minor version; a mismatch is named."""

import pytest
import tensorflow as tf
import tf_keras

import tfp_realnvp
from tfp_realnvp import _versions


def test_installed_versions_match():
  _versions.check_tf_keras()  # what `import tfp_realnvp` ran
  assert tfp_realnvp.__version__.count('.') == 2


@pytest.mark.parametrize('tensorflow, keras', [
    ('2.21.0', '2.20.1'), ('2.21.0', '3.21.0'), ('2.18.1', '2.21.0')])
def test_another_minor_version_fails_naming_both(tensorflow, keras):
  with pytest.raises(ImportError) as raised:
    _versions.check_tf_keras(tensorflow, keras)
  message = str(raised.value)
  assert tensorflow in message and keras in message
  assert f'tf-keras=={".".join(tensorflow.split(".")[:2])}.*' in message


@pytest.mark.parametrize('tensorflow, keras', [
    ('2.21.0', '2.21.3'), ('2.18.0rc1', '2.18.0'),
    (tf.__version__, tf_keras.__version__)])
def test_same_minor_version_passes(tensorflow, keras):
  _versions.check_tf_keras(tensorflow, keras)
