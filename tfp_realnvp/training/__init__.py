"""Training, evaluation and sampling of Real NVP models (tf_keras `fit`)."""

from tfp_realnvp.training.callbacks import Checkpointing
from tfp_realnvp.training.callbacks import EpochSummary
from tfp_realnvp.training.experiment import build_model
from tfp_realnvp.training.experiment import evaluate
from tfp_realnvp.training.experiment import Evaluation
from tfp_realnvp.training.experiment import load_model
from tfp_realnvp.training.experiment import LockHeld
from tfp_realnvp.training.experiment import sample
from tfp_realnvp.training.experiment import train
from tfp_realnvp.training.experiment import TrainingInterrupted
from tfp_realnvp.training.experiment import TrainingStopped
from tfp_realnvp.training.experiment import TrainResult
from tfp_realnvp.training.images import encode_png
from tfp_realnvp.training.images import grid
from tfp_realnvp.training.images import write_png
from tfp_realnvp.training.model import DistributionModel
from tfp_realnvp.training.model import FlowModel
from tfp_realnvp.training.optimizers import FusedAdam
from tfp_realnvp.training.presets import Config
from tfp_realnvp.training.presets import HYPERPARAMETERS
from tfp_realnvp.training.presets import LEARNING_RATE_DECAYS
from tfp_realnvp.training.presets import make_config
from tfp_realnvp.training.presets import Preset
from tfp_realnvp.training.presets import PRESETS
from tfp_realnvp.training.presets import Training
from tfp_realnvp.training.strategies import default_precision

