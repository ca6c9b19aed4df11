# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The command-line programs, installed as console commands.

=============================  =========================================
command                        module
=============================  =========================================
``mmusot-videos-to-pseudo``    :mod:`.videos_to_pseudo_sot`
``mmusot-datasets-to-pseudo``  :mod:`.datasets_to_pseudo_sot`
``mmusot-eval-pseudo-labels``  :mod:`.eval_pseudo_labels`
``mmusot-convert-checkpoint``  :mod:`.convert_checkpoint`
``mmusot-fetch-weights``       :mod:`.fetch_weights`
=============================  =========================================

Each module has ``main(argv=None) -> int`` (the exit status). The scripts
under ``data_converters/`` and ``tools/`` call the same ``main``. The
submodules are imported on demand: the converters need only numpy and
OpenCV, while the checkpoint tools import torch.
"""

__all__ = [
    'convert_checkpoint',
    'datasets_to_pseudo_sot',
    'eval_pseudo_labels',
    'fetch_weights',
    'pseudo_label_args',
    'videos_to_pseudo_sot',
]
