"""Real NVP's bijectors, one per module; `forward` generates, as in TFP."""

from tfp_realnvp.bijectors.affine_coupling import AffineCoupling
from tfp_realnvp.bijectors.affine_coupling import channel_mask
from tfp_realnvp.bijectors.affine_coupling import checkerboard_mask
from tfp_realnvp.bijectors.affine_coupling import half_mask
from tfp_realnvp.bijectors.batch_normalization import BatchNormalization
from tfp_realnvp.bijectors.factor_out import FactorOut
from tfp_realnvp.bijectors.flow import Flow
from tfp_realnvp.bijectors.logit import LogitTransform
from tfp_realnvp.bijectors.multi_scale import multi_scale_real_nvp
from tfp_realnvp.bijectors.multi_scale import MultiScaleRealNVP
from tfp_realnvp.bijectors.multi_scale import Scale
from tfp_realnvp.bijectors.multi_scale import vector_real_nvp
from tfp_realnvp.bijectors.unsqueeze import Unsqueeze
