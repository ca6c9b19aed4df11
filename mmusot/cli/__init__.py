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
``mmusot-demo``                :mod:`.learn_and_track` (``make demo``)
``mmusot-track``               :mod:`.track_video` (``cli_main``)
``mmusot-vot-trax``            :mod:`.vot_trax`
``mmusot-otb-to-vot``          :mod:`.otb_to_vot`
``mmusot-otb-to-got10k``       :mod:`.otb_to_got10k`
``mmusot-got10k``              :mod:`.got10k_eval`
``mmusot-vot-summary``         :mod:`.vot_summary`
=============================  =========================================

Each module has ``main(argv=None) -> int`` (the exit status;
``track_video.main`` returns its summary and ``cli_main`` the status).
The scripts under ``data_converters/`` and ``tools/`` call the same
``main``. The
submodules are imported on demand: the converters need only numpy and
OpenCV, while the checkpoint tools import torch.
"""

__all__ = [
    'convert_checkpoint',
    'datasets_to_pseudo_sot',
    'eval_pseudo_labels',
    'fetch_weights',
    'got10k_eval',
    'learn_and_track',
    'otb_to_got10k',
    'otb_to_vot',
    'pseudo_label_args',
    'track_video',
    'videos_to_pseudo_sot',
    'vot_summary',
    'vot_trax',
]
