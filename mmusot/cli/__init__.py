# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The command-line programs: one module per program.

``[project.scripts]`` in ``pyproject.toml`` is the one list of the
programs: each console command (``mmusot-train``, ``mmusot-track``, ...)
names its module here and the function it runs. Each module has
``main(argv=None)``: the exit status, or, where a Python caller wants a
result (``train``, ``test``, ``track_video``), that result, with
``cli_main(argv=None) -> int`` for the command. The scripts under
``tools/`` and ``data_converters/`` are thin wrappers with the module's
name that call the same function: ``tools/train.py`` runs :mod:`.train`,
``tools/demo/learn_and_track.py`` :mod:`.learn_and_track`,
``data_converters/videos_to_pseudo_sot.py`` :mod:`.videos_to_pseudo_sot`.
The README's "Programs" section lists them all.

The option groups shared by several programs are modules too:
:mod:`.runner_args` (train, test), :mod:`.tracker_args` (the toolkit
commands), :mod:`.pseudo_label_args` (the pseudo-label converters).

The submodules are imported on demand: the converters need only numpy and
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
    'runner_args',
    'test',
    'track_video',
    'tracker_args',
    'train',
    'videos_to_pseudo_sot',
    'vot_summary',
    'vot_trax',
]
