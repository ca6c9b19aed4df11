# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .otb_folder_dataset import OTBFolderDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['OTBFolderDataset']
