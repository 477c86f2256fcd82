"""Data input for Real NVP: the paper's datasets, image folders, .npz files."""

from tfp_realnvp.data.datasets import DATASET_NAMES
from tfp_realnvp.data.datasets import flips
from tfp_realnvp.data.datasets import image_shape
from tfp_realnvp.data.datasets import load
from tfp_realnvp.data.folder import folder_report
from tfp_realnvp.data.folder import FolderReport
from tfp_realnvp.data.lsun import lmdb_report
from tfp_realnvp.data.pipeline import pipeline
