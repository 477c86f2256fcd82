"""Real NVP's bijectors, one per module."""

from tfp_realnvp.bijectors.affine_coupling import AffineCoupling
from tfp_realnvp.bijectors.affine_coupling import channel_mask
from tfp_realnvp.bijectors.affine_coupling import checkerboard_mask
from tfp_realnvp.bijectors.affine_coupling import half_mask
from tfp_realnvp.bijectors.batch_normalization import BatchNormalization
from tfp_realnvp.bijectors.factor_out import FactorOut
from tfp_realnvp.bijectors.logit import LogitTransform
from tfp_realnvp.bijectors.real_nvp import default_num_scales
from tfp_realnvp.bijectors.real_nvp import merge_scales
from tfp_realnvp.bijectors.real_nvp import multi_scale_real_nvp
from tfp_realnvp.bijectors.real_nvp import RealNVP
from tfp_realnvp.bijectors.real_nvp import split_scales
from tfp_realnvp.bijectors.real_nvp import vector_real_nvp
from tfp_realnvp.bijectors.squeeze import Squeeze
