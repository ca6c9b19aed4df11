# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .otb_folder_dataset import OTBFolderDataset
from .pseudo_label_loading import PseudoLabelLoader
from .pseudo_label_sot_dataset import PseudoLabelSOTDataset
from .samplers import PseudoLabelSampler, SamplingState, USOTQuotaSampler
from .transforms import *  # noqa: F401,F403

__all__ = [
    'OTBFolderDataset',
    'PseudoLabelLoader',
    'PseudoLabelSOTDataset',
    'PseudoLabelSampler',
    'SamplingState',
    'USOTQuotaSampler',
]
