"""Real NVP (Dinh, Sohl-Dickstein, Bengio, ICLR 2017) for TensorFlow Probability."""

__version__ = '0.2.0'
__all__ = ['Architecture', 'bijectors', 'bits_per_dim', 'networks',
           'real_nvp_distribution', 'real_nvp_vector_distribution']

from tfp_realnvp import _versions

_versions.check_tf_keras()

from tfp_realnvp import bijectors
from tfp_realnvp import networks
from tfp_realnvp.config import Architecture
from tfp_realnvp.distributions import bits_per_dim
from tfp_realnvp.distributions import real_nvp_distribution
from tfp_realnvp.distributions import real_nvp_vector_distribution
