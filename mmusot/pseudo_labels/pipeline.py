# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""One video -> pseudo boxes, quality and mmtrack files (paper Sec. 3.1).

What the official
``preprocessing/datasets_train/<dataset>/parse_<dataset>_flow.py`` and
``gen_json.py`` compute, in one pass. Frames
are decoded once, written as JPEG and streamed through the flow / candidate
stage, so memory stays bounded however long the video is.
"""

import os
import re
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .candidates import CandidateConfig, candidate_boxes
from .dp import dp_select_boxes
from .fill import fill_boxes, video_rng
from .flow import (
    INTERVAL_GROW_FLOW,
    INTERVAL_SHRINK_FLOW,
    MAX_FRAME_INTERVAL,
    MIN_FRAME_INTERVAL,
    WORK_SIZE,
    FlowBackend,
    build_flow_backend,
    max_flow_component,
    next_frame_interval,
    resize_flow,
)
from .quality import (
    FRAGMENT_MAX_GAP,
    FRAGMENT_SEARCH_GAP,
    FRAGMENT_THETA2,
    FRAGMENT_THETA3,
    MAX_CORNER_FREQ,
    MIN_COMBINED_QUALITY,
    MIN_VIDEO_QUALITY,
    corner_frequency,
    corner_score,
    fragment_bounds,
    frame_quality,
    passes_video_filter,
    video_quality,
)
from .shots import ShotCutDetector, check_shot_cut
from .video_io import VideoReadError, VideoSource, count_frames, iter_frames
from .writer import (
    FRAME_TEMPLATE,
    AnnotationError,
    atomic_write_json,
    atomic_write_text,
    box_problems,
    format_boxes_xywh,
)

# A unit whose largest flow component stays below this (pixels) did not
# move at all (reported as "no motion", not as "no candidate box").
NO_MOTION_FLOW = 1e-3
# Q_f of Eq. (5) is counted within 3 (short score, T_s) and 10 (long score,
# stored but unused) sub-sampled frames, i.e. these multiples of ``gap``.
FRAME_QUALITY_SHORT_RADIUS = 3
FRAME_QUALITY_LONG_RADIUS = 10
# The official units hold at most the first 2000 frames of a video.
MAX_UNIT_FRAMES = 2000
# LaSOT: windows of 221 frames starting every 200.
LASOT_WINDOW = (221, 200)
# The Eq. (7) fragment span of LaSOT (windows) and YouTube-VOS.
SHORT_MAX_FRAME_GAP = 220
# YouTube-VOS's Eq. (7) thresholds theta2 / theta3.
YTVOS_THETA2 = 0.40
YTVOS_THETA3 = 0.35
# Decimals of the values in the quality sidecar.
QUALITY_DECIMALS = 6
FLOW_DECIMALS = 4


@dataclass(frozen=True)
class PseudoLabelSettings:
    """Every setting of pseudo-label generation (paper Sec. 3.1-3.3, 4.1).

    Defaults are the official ones (GOT-10k / ImageNet VID, apart from the
    2000-frame cap, see :data:`PRESETS`). The thresholds of the adaptive
    frame interval are :data:`~.flow.INTERVAL_SHRINK_FLOW` and
    :data:`~.flow.INTERVAL_GROW_FLOW`.

    Args:
        flow (str): flow backend name. Defaults to 'dis'.
        flow_kwargs (dict): backend arguments. Defaults to DIS 'medium'.
        work_size (tuple[int, int]): flow working (height, width).
            Defaults to (384, 640).
        gap (int): flow every ``gap`` frames. Defaults to 3.
        init_interval (int): initial T_f. Defaults to 4.
        min_interval (int): smallest T_f. Defaults to 1.
        max_interval (int): largest T_f. Defaults to 7.
        search_gap (int): fragment walk stride. Defaults to 2.
        max_frame_gap (int): fragment max span. Defaults to 320.
        theta2 (float): fragment DIoU threshold. Defaults to 0.45.
        theta3 (float): fragment Q_f threshold. Defaults to 0.40.
        max_frames (int, optional): use only the first frames (the official
            code caps units at 2000). Defaults to None (all).
        window (tuple[int, int], optional): (length, stride) windows, each
            its own track (LaSOT: (221, 200)). Defaults to None.
        reversed_interpolation (bool): official reversed interpolation
            (a documented bug of the official code). Defaults to False.
        dp_gamma (float): Eq. 3 gamma. Defaults to 4.1.
        dp_node_reward (float): Eq. 3 K. Defaults to 0.091.
        dp_look_back (int): DP look-back in nodes. Defaults to 100.
        dp_negative_factor (float): x on negative rewards. Defaults to 3.
        min_q_v (float): pre-filter Q_v. Defaults to 0.35.
        max_corner (float): pre-filter corner frequency. Defaults to 0.4.
        min_combined (float): pre-filter Q_v - corner/3. Defaults to 0.33.
        jpeg_quality (int): quality of decoded frames. Defaults to 95.
        keep_filtered_frames (bool): keep frames of videos without any kept
            track. Defaults to False.
        candidates (CandidateConfig): Eq. 1-2 constants.
        shot_cut (float, optional): split videos at shot cuts, frames whose
            colour histogram is farther than this from the previous frame's
            (see :mod:`.shots`); every shot becomes its own track. Not with
            ``window``. Defaults to None (no splitting, as the official
            code).
    """

    flow: str = 'dis'
    flow_kwargs: Dict = field(default_factory=lambda: dict(preset='medium'))
    work_size: Tuple[int, int] = WORK_SIZE
    gap: int = 3
    init_interval: int = 4
    min_interval: int = MIN_FRAME_INTERVAL
    max_interval: int = MAX_FRAME_INTERVAL
    search_gap: int = FRAGMENT_SEARCH_GAP
    max_frame_gap: int = FRAGMENT_MAX_GAP
    theta2: float = FRAGMENT_THETA2
    theta3: float = FRAGMENT_THETA3
    max_frames: Optional[int] = None
    window: Optional[Tuple[int, int]] = None
    reversed_interpolation: bool = False
    dp_gamma: float = 4.1
    dp_node_reward: float = 0.091
    dp_look_back: int = 100
    dp_negative_factor: float = 3.0
    min_q_v: float = MIN_VIDEO_QUALITY
    max_corner: float = MAX_CORNER_FREQ
    min_combined: float = MIN_COMBINED_QUALITY
    jpeg_quality: int = 95
    keep_filtered_frames: bool = False
    candidates: CandidateConfig = field(default_factory=CandidateConfig)
    shot_cut: Optional[float] = None

    def __post_init__(self) -> None:
        check_shot_cut(self.shot_cut)
        if self.shot_cut is not None and self.window:
            raise ValueError(
                'shot_cut and window cannot be combined: a windowed '
                'dataset (LaSOT) holds single-shot videos'
            )

    def to_dict(self) -> dict:
        """JSON-able form (tuples become lists).

        ``shot_cut`` is left out when off, so that folders written before
        it existed keep matching their settings.
        """
        d = asdict(self)
        d['work_size'] = list(self.work_size)
        d['window'] = list(self.window) if self.window else None
        d['candidates']['alphas'] = list(self.candidates.alphas)
        if self.shot_cut is None:
            del d['shot_cut']
        return d


# Per-dataset presets: the settings of each official
# ``preprocessing/datasets_train/<dataset>/parse_<dataset>_flow.py`` and
# ``gen_json.py``. YouTube-VOS frames are already every 5th frame of the
# source video, hence gap 1 and the lower Eq. (7) thresholds.
PRESETS: Dict[str, dict] = dict(
    default=dict(),
    got10k=dict(max_frames=MAX_UNIT_FRAMES),
    vid=dict(max_frames=MAX_UNIT_FRAMES),
    lasot=dict(window=LASOT_WINDOW, max_frame_gap=SHORT_MAX_FRAME_GAP),
    ytvos=dict(
        gap=1,
        init_interval=1,
        search_gap=1,
        max_frame_gap=SHORT_MAX_FRAME_GAP,
        theta2=YTVOS_THETA2,
        theta3=YTVOS_THETA3,
        max_frames=MAX_UNIT_FRAMES,
    ),
)


def preset_settings(name: str, **overrides) -> PseudoLabelSettings:
    """Settings of a dataset preset with optional overrides."""
    if name not in PRESETS:
        raise KeyError(f'unknown preset {name!r}; one of {sorted(PRESETS)}')
    return replace(PseudoLabelSettings(), **{**PRESETS[name], **overrides})


def unit_ranges(
    num_frames: int, window: Optional[Tuple[int, int]]
) -> List[Tuple[int, int]]:
    """Processing units as inclusive (start, end) frame ranges.

    With ``window=(length, stride)`` (LaSOT: 221, 200) windows start at
    stride * k; the last one is aligned to the end of the video.
    """
    if num_frames <= 0:
        return []
    if not window or num_frames <= window[0]:
        return [(0, num_frames - 1)]
    length, stride = window
    out = []
    start = 0
    while start + length <= num_frames:
        out.append((start, start + length - 1))
        start += stride
    if out[-1][1] < num_frames - 1:
        out.append((num_frames - length, num_frames - 1))
    return out


class _Unit:
    """Flow and candidates of one processing unit, fed frame by frame."""

    def __init__(
        self,
        start: int,
        end: Optional[int],
        settings: PseudoLabelSettings,
        backend: FlowBackend,
        frame_hw: Tuple[int, int],
    ) -> None:
        self.start, self.end = start, end
        self.s = settings
        self.backend = backend
        self.frame_hw = frame_hw
        self.buf: Dict[int, np.ndarray] = {}
        self.received = -1
        self.next_t = settings.gap
        self.interval = settings.init_interval
        self.flow_frames: List[int] = []
        self.intervals: List[int] = []
        self.cands: List[np.ndarray] = []
        self.nan_frames = 0
        self.max_flows: List[float] = []
        self.lookahead = max(settings.max_interval, settings.gap)

    def push(self, index: int, prepared: np.ndarray) -> None:
        if index < self.start or (self.end is not None and index > self.end):
            return
        local = index - self.start
        self.buf[local] = prepared
        self.received = local
        while self.next_t + self.lookahead <= self.received:
            self._flow_at(self.next_t, None)
            self.next_t += self.s.gap

    def finish(self) -> int:
        length = self.received + 1
        while self.next_t < length - self.s.gap:
            self._flow_at(self.next_t, length)
            self.next_t += self.s.gap
        self.buf.clear()
        return length

    def _flow_at(self, t: int, length: Optional[int]) -> None:
        s = self.s
        tf = self.interval
        increased = decreased = False
        while True:
            nxt = t + tf if length is None else min(t + tf, length - 1)
            prev = (
                self.buf[max(t - tf, 0)]
                if self.backend.uses_previous_frame
                else None
            )
            flow = self.backend(self.buf[t], self.buf[nxt], prev)
            # m is taken over the flow resized to the frame (as in the
            # official code), not over the working map: align-corners
            # resizing to a smaller frame skips working pixels, and with
            # them isolated spikes.
            full = resize_flow(flow, self.frame_hw)
            m = max_flow_component(full)
            new = next_frame_interval(
                m,
                tf,
                increased,
                decreased,
                high=INTERVAL_SHRINK_FLOW,
                low=INTERVAL_GROW_FLOW,
                min_interval=s.min_interval,
                max_interval=s.max_interval,
            )
            if new is None:
                break
            increased |= new > tf
            decreased |= new < tf
            tf = new
        self.interval = tf
        finite = np.isfinite(flow)
        if not finite.all():
            self.nan_frames += 1
        if finite.any():
            boxes = candidate_boxes(full, s.candidates)
        else:
            boxes = np.zeros((0, 4))
        self.flow_frames.append(t)
        self.intervals.append(tf)
        self.cands.append(boxes)
        self.max_flows.append(round(m, FLOW_DECIMALS))
        for k in [k for k in self.buf if k < t + s.gap - s.max_interval]:
            del self.buf[k]


def _rounded(values: np.ndarray) -> List[float]:
    """Per-frame sidecar values, rounded to :data:`QUALITY_DECIMALS`."""
    return [round(float(v), QUALITY_DECIMALS) for v in values]


def _label_unit(
    unit: _Unit,
    length: int,
    name: str,
    track_id: int,
    settings: PseudoLabelSettings,
) -> dict:
    """DP, filling and quality of one finished unit (a track)."""
    s = settings
    h, w = unit.frame_hw
    track = dict(
        track_id=track_id,
        start_frame_id=unit.start + 1,
        end_frame_id=unit.start + length,
        num_frames=length,
        flow_frames=unit.flow_frames,
        flow_intervals=unit.intervals,
        max_flow=unit.max_flows,
        nan_flow_frames=unit.nan_frames,
    )
    nodes = [i for i, c in enumerate(unit.cands) if len(c)]
    track['bbox_found_freq'] = (
        len(nodes) / len(unit.flow_frames) if unit.flow_frames else 0.0
    )
    if not unit.flow_frames:
        track.update(
            kept=False,
            reason=(
                f'too short: {length} frame(s), flow needs more than '
                f'{2 * s.gap}'
            ),
        )
        return track
    if unit.nan_frames == len(unit.flow_frames) and not nodes:
        track.update(kept=False, reason='optical flow is NaN everywhere')
        return track
    if not nodes:
        still = max(unit.max_flows) < NO_MOTION_FLOW
        track.update(
            kept=False,
            reason=(
                'no motion at all (flow is zero)'
                if still
                else 'no candidate box (no distinctive motion)'
            ),
        )
        return track
    path = dp_select_boxes(
        [unit.cands[i] for i in nodes],
        s.dp_gamma,
        s.dp_node_reward,
        s.dp_look_back,
        s.dp_negative_factor,
    )
    picked = [unit.flow_frames[nodes[n]] for n, _ in path]
    picked_boxes = np.stack([unit.cands[nodes[n]][c] for n, c in path])
    rng = video_rng(f'{name}#{track_id}')
    raw_boxes = fill_boxes(
        picked,
        picked_boxes,
        length,
        rng,
        s.reversed_interpolation,
        truncate=False,
    )
    # As in the official code, the video statistics use the boxes before
    # the int truncation; the per-frame scores use the stored int boxes.
    with np.errstate(invalid='ignore'):  # NaN boxes: checked below
        boxes = np.trunc(raw_boxes).astype(np.int64)
    # Checked before writing: a NaN box would be written as -2**63.
    xywh = (boxes[:, 2:] - boxes[:, :2]).astype(np.float64)
    xywh = np.concatenate([boxes[:, :2].astype(np.float64), xywh], 1)
    xywh[~np.isfinite(raw_boxes).all(1)] = np.nan
    track['box_problems'] = box_problems(xywh, (w, h))
    q_v = video_quality(len(picked), len(unit.flow_frames))
    corner_freq = corner_frequency(raw_boxes, w, h)
    kept, reason = passes_video_filter(
        q_v, corner_freq, s.min_q_v, s.max_corner, s.min_combined
    )
    qf_short = frame_quality(
        picked, unit.flow_frames, length, FRAME_QUALITY_SHORT_RADIUS * s.gap
    )
    qf_long = frame_quality(
        picked, unit.flow_frames, length, FRAME_QUALITY_LONG_RADIUS * s.gap
    )
    t_l, t_u = fragment_bounds(
        boxes, qf_short, s.search_gap, s.max_frame_gap, s.theta2, s.theta3
    )
    vary = (
        np.abs(np.diff(raw_boxes, axis=0)).sum(1).mean() if length > 1 else 0.0
    )
    track.update(
        kept=kept,
        reason=reason,
        q_v=round(q_v, QUALITY_DECIMALS),
        corner_freq=round(corner_freq, QUALITY_DECIMALS),
        aver_vary=round(float(vary), FLOW_DECIMALS),
        picked_frames=picked,
        boxes=boxes,
        frame_quality_short=_rounded(qf_short),
        frame_quality_long=_rounded(qf_long),
        corner=_rounded(corner_score(boxes, w, h)),
        t_l=t_l.tolist(),
        t_u=t_u.tolist(),
    )
    return track


def _remove_outputs(out_root: str, name: str) -> None:
    frames = os.path.join(out_root, 'frames', name)
    if os.path.isdir(frames):
        shutil.rmtree(frames)
    for sub, ext in (('annotations', '.txt'), ('quality', '.json')):
        folder = os.path.dirname(os.path.join(out_root, sub, name))
        base = os.path.basename(name)
        if os.path.isdir(folder):
            # name.txt, name.wNNN.txt (windows), name.sNNN.txt (shots);
            # not another video's files ("name.small.txt")
            mine = re.compile(
                re.escape(base) + r'(\.[ws]\d{3,})?' + re.escape(ext)
            )
            for f in os.listdir(folder):
                if mine.fullmatch(f):
                    os.unlink(os.path.join(folder, f))


def temp_prefix(name: str) -> str:
    """Name prefix of a video's temporary frame folder under ``.tmp``."""
    return name.replace('/', '%') + '.'


def process_video(
    source: VideoSource,
    out_root: str,
    settings: PseudoLabelSettings,
    fix: bool = False,
) -> dict:
    """Pseudo-label one video and write its frames, boxes and sidecar.

    Every track's boxes are checked before they are written (finite,
    positive width and height, overlapping the frame; see
    :func:`~.writer.box_problems`).

    Args:
        source (VideoSource): the input video or frame folder.
        out_root (str): dataset root (see :mod:`.writer` for the layout).
        settings (PseudoLabelSettings): all settings.
        fix (bool): a track with an unusable box is filtered (``kept``
            False, no annotation file, the count in its reason and in the
            record's warnings) instead of raising. Defaults to False.

    Returns:
        dict: the video's record: ``status`` ('kept' or 'filtered'),
        ``reason``, ``warnings``, ``num_frames``, ``frame_size`` [W, H],
        ``tracks`` (per track: ids, paths, Q_v, corner frequency, kept,
        reason) and ``elapsed_s``.

    Raises:
        VideoReadError: the input is unreadable or has no frames.
        AnnotationError: a track has an unusable box (not with ``fix``);
            the message names its annotation file and line.
    """
    t0 = time.perf_counter()
    name = source.name
    s = settings
    _remove_outputs(out_root, name)
    tmp_root = os.path.join(out_root, '.tmp')
    os.makedirs(tmp_root, exist_ok=True)
    for f in os.listdir(tmp_root):  # leftovers of a killed run of this one
        if f.startswith(temp_prefix(name)):
            shutil.rmtree(os.path.join(tmp_root, f), ignore_errors=True)
    tmp = os.path.join(tmp_root, temp_prefix(name) + uuid.uuid4().hex)
    os.makedirs(tmp)
    try:
        record = _process(source, out_root, s, tmp, t0, fix)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return record


def _process(source, out_root, s, tmp, t0, fix=False):
    name = source.name
    backend = build_flow_backend(s.flow, **s.flow_kwargs)
    warnings: List[str] = []
    ranges = None
    if s.window:
        total = count_frames(source)
        if s.max_frames is not None:
            total = min(total, s.max_frames)
        ranges = unit_ranges(total, s.window)
    units: List[_Unit] = []
    detect_cut = ShotCutDetector(s.shot_cut) if s.shot_cut else None
    cuts: List[int] = []  # 1-based first frames of the 2nd, 3rd... shots
    frame_hw = None
    resized = 0
    n = 0
    encode = [cv2.IMWRITE_JPEG_QUALITY, s.jpeg_quality]
    for n, frame in enumerate(iter_frames(source, s.max_frames)):
        if frame_hw is None:
            frame_hw = frame.shape[:2]
            units = [
                _Unit(a, b, s, backend, frame_hw)
                for a, b in (ranges or [(0, None)])
            ]
        elif frame.shape[:2] != frame_hw:
            resized += 1
            frame = cv2.resize(
                frame, (frame_hw[1], frame_hw[0]), interpolation=cv2.INTER_AREA
            )
        if detect_cut is not None and detect_cut(frame):
            # the shot so far is one unit; this frame starts the next
            units[-1].end = n - 1
            units[-1].finish()
            units.append(_Unit(n, None, s, backend, frame_hw))
            cuts.append(n + 1)
        ok, jpg = cv2.imencode('.jpg', frame, encode)
        if not ok:
            raise VideoReadError(f'{source.path}: cannot encode frame {n}')
        with open(os.path.join(tmp, FRAME_TEMPLATE % (n + 1)), 'wb') as f:
            f.write(jpg.tobytes())
        prepared = backend.prepare(frame, s.work_size)
        for u in units:
            u.push(n, prepared)
    if frame_hw is None:
        raise VideoReadError(
            f'{source.path}: no decodable frame (empty video or folder)'
        )
    num_frames = n + 1
    if resized:
        warnings.append(
            f'{resized} frame(s) differ in size from the first '
            f'frame {frame_hw[1]}x{frame_hw[0]}; resized to it'
        )
    tracks = []
    for k, u in enumerate(units):
        length = u.finish()
        if length <= 0:
            continue
        tracks.append(_label_unit(u, length, name, k, s))
    nan = sum(t['nan_flow_frames'] for t in tracks)
    if nan:
        warnings.append(f'{nan} flow map(s) contained NaN/inf values')
    h, w = frame_hw
    windowed = s.window is not None
    quality = dict(
        video=name,
        frame_size=[w, h],
        num_frames=num_frames,
        frame_template=FRAME_TEMPLATE,
        tracks=[],
    )
    summary_tracks = []
    if cuts:
        quality['shot_cuts'] = cuts
    for t in tracks:
        if windowed:
            ann_rel = f'annotations/{name}.w{t["track_id"]:03d}.txt'
        elif cuts:
            ann_rel = f'annotations/{name}.s{t["track_id"]:03d}.txt'
        else:
            ann_rel = f'annotations/{name}.txt'
        boxes = t.pop('boxes', None)
        bad = t.pop('box_problems', None)
        if bad:
            first = min(bad)
            where = (
                f'{ann_rel} line {first + 1}: {bad[first]} ({len(bad)} '
                'unusable box(es) in this track)'
            )
            if not fix:
                raise AnnotationError(
                    f'{where}; re-run with --fix to filter such tracks'
                )
            boxes = None
            t.update(kept=False, reason=f'unusable boxes: {where}')
            warnings.append(
                f'track {t["track_id"]} dropped (--fix): {len(bad)} '
                'unusable box(es)'
            )
        t['ann_path'] = ann_rel if boxes is not None else None
        if boxes is not None:
            atomic_write_text(
                os.path.join(out_root, ann_rel), format_boxes_xywh(boxes)
            )
        quality['tracks'].append(t)
        summary_tracks.append(
            {
                k: t.get(k)
                for k in (
                    'track_id',
                    'start_frame_id',
                    'end_frame_id',
                    'ann_path',
                    'kept',
                    'reason',
                    'q_v',
                    'corner_freq',
                    'num_frames',
                )
            }
        )
    quality_rel = f'quality/{name}.json'
    atomic_write_json(os.path.join(out_root, quality_rel), quality)
    any_kept = any(t['kept'] for t in tracks)
    frames_rel = f'frames/{name}'
    if any_kept or s.keep_filtered_frames:
        dest = os.path.join(out_root, frames_rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.replace(tmp, dest)  # atomic: the folder appears complete
    reasons = sorted({t['reason'] for t in tracks if not t['kept']})
    return dict(
        video=name,
        source=os.path.abspath(source.path),
        status='kept' if any_kept else 'filtered',
        reason='' if any_kept else '; '.join(reasons),
        warnings=warnings,
        num_frames=num_frames,
        frame_size=[w, h],
        frames_path=frames_rel
        if (any_kept or s.keep_filtered_frames)
        else None,
        quality_path=quality_rel,
        shot_cuts=cuts,
        tracks=summary_tracks,
        elapsed_s=round(time.perf_counter() - t0, 3),
    )
