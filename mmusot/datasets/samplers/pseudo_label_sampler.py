# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT's frame sampler on pseudo-labelled tracks, and its random stream.

"Learning to Track Objects from Unlabeled Videos", ICCV 2021,
https://arxiv.org/abs/2108.12711, Sec. 3.2-3.3 and 4.1; official
``lib/dataset_loader/datasets_usot.py``.

:class:`PseudoLabelSampler` holds the draw (θ1 gate and nearby
re-sampling, candidate frames and the stage's template score, memory
frames, random boxes) and the control shared with the DataLoader workers
(stage, epoch, seed: :class:`SamplingState`). It reads the tracks' data
infos (``q_v``, ``corner_freq``, ``frame_quality_short``, ``corner``,
``t_l``, ``t_u``, ``bboxes``, optional ``frame_valid``) and never loads a
file, so :class:`~mmusot.datasets.PseudoLabelSOTDataset` (training) and
``mmusot-eval-pseudo-labels`` (the paper's Table 5) draw through the same
object.
"""

import os
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dist import get_rank

STAGES = ('naive', 'cycle')
BOX_SOURCES = ('pseudo', 'random')

# Official sampler constants (``lib/dataset_loader/datasets_usot.py``,
# ``experiments/train/USOT.yaml``; paper Sec. 3.2-3.3 and 4.1).
VIDEO_QUALITY_THRESHOLD = 0.40  # θ1 on Q = Q_v - corner_freq / 3
MAX_CORNER_FREQ = 0.25  # branch-1 gate on the corner frequency
CORNER_FREQ_WEIGHT = 1.0 / 3.0  # Q = Q_v - CORNER_FREQ_WEIGHT * corner_freq
RESAMPLE_BEFORE = 30  # nearby videos: [i - 30, ...
RESAMPLE_AFTER = 31  # ... min(N - 1, i + 31))
RESAMPLE_TRIES = 20
RESAMPLE_DRAWS = 3
CANDIDATE_FACTOR = 3.0  # n_cand = int(3 / Q_v)
NAIVE_CORNER_WEIGHT = 2.0 / 3.0  # naive score: Q_f + 2/3 corner
CYCLE_CORNER_WEIGHT = 0.5  # cycle score: Q_f + 0.5 corner + ...
FRAGMENT_WEIGHT = 0.5  # ... + 0.5 (T_u - T_l) / n_frames
NUM_MEMORY_FRAMES = 4  # MEMORY_NUM
FAR_MEMORY_DRAWS = 3  # FAR_SAMPLE: 4 + 3 draws, the 4 farthest kept
# Random boxes (Table 4 "random boxes" control): side fractions of the
# frame side and the largest aspect ratio.
RANDOM_BOX_SIDE_RANGE = (0.1, 0.5)
RANDOM_BOX_MAX_ASPECT = 3.0

_UINT32 = 2**32
_SEED_HIGH = 2**31 - 1  # exclusive bound of the drawn seeds


def check_stage(stage: str) -> str:
    """``stage`` if it is one of :data:`STAGES`, else a ValueError."""
    if stage not in STAGES:
        raise ValueError(f'stage must be one of {STAGES}, got {stage!r}')
    return stage


class SamplingState:
    """Stage, epoch and shared seed, visible to every DataLoader worker.

    The values live in a small shared-memory tensor: a worker (forked or
    spawned, persistent or not) holds a copy of the dataset but the *same*
    cells, so a :meth:`set_stage` or :meth:`set_epoch` made in the main
    process between two epochs is what the workers read when the next
    epoch's indices reach them. A deep copy (or a plain ``pickle``) gets
    its own cells.

    Args:
        stage (str): 'naive' or 'cycle'. Defaults to 'naive'.
    """

    # cells: epoch, stage index, has a shared seed, the shared seed
    def __init__(self, stage: str = 'naive') -> None:
        self._cells = torch.zeros(4, dtype=torch.int64).share_memory_()
        self.stage = stage

    @property
    def stage(self) -> str:
        """str: the sampling stage, 'naive' or 'cycle'."""
        return STAGES[int(self._cells[1])]

    @stage.setter
    def stage(self, stage: str) -> None:
        self._cells[1] = STAGES.index(check_stage(stage))

    @property
    def epoch(self) -> int:
        """int: the epoch mixed into the generator's seed."""
        return int(self._cells[0])

    @epoch.setter
    def epoch(self, epoch: int) -> None:
        self._cells[0] = int(epoch)

    @property
    def shared_seed(self) -> Optional[int]:
        """int, optional: the seed set by :meth:`PseudoLabelSampler.
        set_epoch` (the index sampler's), modulo 2**32; None if unset."""
        return int(self._cells[3]) if int(self._cells[2]) else None

    @shared_seed.setter
    def shared_seed(self, seed: Optional[int]) -> None:
        if seed is None:
            self._cells[2] = 0
            return
        self._cells[3] = int(seed) % _UINT32
        self._cells[2] = 1


class PseudoLabelSampler:
    """USOT's training draw on pseudo-labelled tracks (paper Sec. 3.2-3.3).

    Official ``lib/dataset_loader/datasets_usot.py``; see
    :class:`~mmusot.datasets.PseudoLabelSOTDataset` for the whole recipe.
    One draw (:meth:`draw`) is:

    * :meth:`select_video`: a track drawn uniformly among the video's
      tracks; the θ1 gate (Eq. 4, ``Q = Q_v - corner_freq / 3 >= 0.40`` and
      ``corner_freq < 0.25``) or up to 20 tries of 3 nearby videos;
    * :meth:`draw_frames`: ``int(3 / Q_v)`` candidate frames, the best by
      the stage's :meth:`frame_scores` (Eq. 5, 7) is the template (and the
      search frame); in the cycle stage the :meth:`memory_positions`;
    * with ``box_source='random'``, :meth:`random_boxes` replace the boxes.

    **Control interface** (the stage hook and the index sampler use only
    these): :meth:`set_stage` and :meth:`set_epoch`. They write a
    :class:`SamplingState` shared with the DataLoader workers, so a call
    made between epochs reaches the next epoch's draws with persistent
    workers too; :meth:`rng` is the generator of the current process and
    epoch.

    Args:
        stage (str): 'naive' or 'cycle'. Defaults to 'naive'.
        num_memory_frames (int): memory frames in the cycle stage
            (MEMORY_NUM). Defaults to 4.
        box_source (str): 'pseudo' or 'random' (Table 4 control).
            Defaults to 'pseudo'.
        seed (int, optional): base seed of :meth:`rng`. None: the shared
            seed of :meth:`set_epoch`. Defaults to None.
        video_quality_threshold (float): θ1. Defaults to 0.40.
        max_corner_freq (float): branch-1 corner-frequency bound.
            Defaults to 0.25.
        corner_freq_weight (float): weight of the corner frequency in
            ``Q``. Defaults to 1/3.
        resample_before (int): nearby range start offset. Defaults to 30.
        resample_after (int): nearby range end offset (exclusive).
            Defaults to 31.
        resample_tries (int): re-sampling tries. Defaults to 20.
        resample_draws (int): videos per try. Defaults to 3.
        candidate_factor (float): ``n_cand = int(candidate_factor /
            Q_v)``. Defaults to 3.
        naive_corner_weight (float): corner weight of the naive score.
            Defaults to 2/3.
        cycle_corner_weight (float): corner weight of the cycle score.
            Defaults to 0.5.
        fragment_weight (float): weight of ``(T_u - T_l) / n_frames`` in
            the cycle score. Defaults to 0.5.
        far_memory_draws (int): extra memory draws (FAR_SAMPLE). Defaults
            to 3.
        random_box_side_range (tuple[float, float]): random-box side as a
            fraction of the frame side. Defaults to (0.1, 0.5).
        random_box_max_aspect (float): largest random-box aspect ratio.
            Defaults to 3.
    """

    def __init__(
        self,
        stage: str = 'naive',
        num_memory_frames: int = NUM_MEMORY_FRAMES,
        box_source: str = 'pseudo',
        seed: Optional[int] = None,
        video_quality_threshold: float = VIDEO_QUALITY_THRESHOLD,
        max_corner_freq: float = MAX_CORNER_FREQ,
        corner_freq_weight: float = CORNER_FREQ_WEIGHT,
        resample_before: int = RESAMPLE_BEFORE,
        resample_after: int = RESAMPLE_AFTER,
        resample_tries: int = RESAMPLE_TRIES,
        resample_draws: int = RESAMPLE_DRAWS,
        candidate_factor: float = CANDIDATE_FACTOR,
        naive_corner_weight: float = NAIVE_CORNER_WEIGHT,
        cycle_corner_weight: float = CYCLE_CORNER_WEIGHT,
        fragment_weight: float = FRAGMENT_WEIGHT,
        far_memory_draws: int = FAR_MEMORY_DRAWS,
        random_box_side_range: Tuple[float, float] = RANDOM_BOX_SIDE_RANGE,
        random_box_max_aspect: float = RANDOM_BOX_MAX_ASPECT,
    ) -> None:
        check_stage(stage)
        if box_source not in BOX_SOURCES:
            raise ValueError(
                f'box_source must be one of {BOX_SOURCES}, got {box_source!r}'
            )
        if num_memory_frames < 1:
            raise ValueError(
                f'num_memory_frames must be >= 1, got {num_memory_frames}'
            )
        lo, hi = random_box_side_range
        if not 0 < lo <= hi <= 1 or random_box_max_aspect < 1:
            raise ValueError(
                'random boxes need 0 < side fractions <= 1 and an aspect '
                f'bound >= 1, got {random_box_side_range}, '
                f'{random_box_max_aspect}'
            )
        self.state = SamplingState(stage)
        self.num_memory_frames = int(num_memory_frames)
        self.box_source = box_source
        self.seed = seed
        self.video_quality_threshold = video_quality_threshold
        self.max_corner_freq = max_corner_freq
        self.corner_freq_weight = corner_freq_weight
        self.resample_before = int(resample_before)
        self.resample_after = int(resample_after)
        self.resample_tries = int(resample_tries)
        self.resample_draws = int(resample_draws)
        self.candidate_factor = candidate_factor
        self.naive_corner_weight = naive_corner_weight
        self.cycle_corner_weight = cycle_corner_weight
        self.fragment_weight = fragment_weight
        self.far_memory_draws = int(far_memory_draws)
        self.random_box_side_range = (float(lo), float(hi))
        self.random_box_max_aspect = float(random_box_max_aspect)
        # The video index (bind) and this process's generator (rng).
        self.video_groups: List[np.ndarray] = []
        self.track_q_v = np.zeros(0, np.float64)
        self.track_corner_freq = np.zeros(0, np.float64)
        self._rng: Optional[np.random.Generator] = None
        self._rng_key: Optional[tuple] = None

    # ------------------------------------------------------------ control
    @property
    def stage(self) -> str:
        """str: the current stage (shared with the workers)."""
        return self.state.stage

    def set_stage(self, stage: str) -> None:
        """Switch the stage for the next draws, in every worker.

        Call it between epochs (the stage hook does, before each epoch):
        DataLoader workers, persistent or not, read it when the next
        epoch's indices reach them.

        Args:
            stage (str): 'naive' (template + search) or 'cycle' (also
                ``num_memory_frames`` memory frames).
        """
        self.state.stage = stage

    @property
    def epoch(self) -> int:
        """int: the current epoch (shared with the workers)."""
        return self.state.epoch

    def set_epoch(self, epoch: int, seed: Optional[int] = None) -> None:
        """Set the epoch (and the index sampler's seed) of :meth:`rng`.

        Called through the dataset by
        :class:`~mmusot.datasets.samplers.USOTQuotaSampler` before each
        epoch; reaches persistent workers as :meth:`set_stage` does.

        Args:
            epoch (int): the epoch, mixed into the generator's seed.
            seed (int, optional): a shared seed, used when the sampler has
                no ``seed`` of its own. Defaults to None (keep the last).
        """
        self.state.epoch = epoch
        if seed is not None:
            self.state.shared_seed = seed

    def rng(self, stream_key: int) -> np.random.Generator:
        """The generator of this process and epoch.

        Seeded from ``seed`` (or the shared seed of :meth:`set_epoch`),
        the epoch, the rank, the DataLoader worker id and ``stream_key``
        (the dataset's key of the labels' names); made again when the
        process or the epoch changes. Without any seed: torch's worker
        seed, or numpy's global generator in the main process.

        Args:
            stream_key (int): a 32-bit key of the labels.

        Returns:
            np.random.Generator: the generator.
        """
        info = torch.utils.data.get_worker_info()
        epoch = self.state.epoch
        key = (os.getpid(), epoch)
        if self._rng is None or self._rng_key != key:
            seed = self.seed if self.seed is not None else self.shared_seed
            if seed is not None:
                entropy = [
                    seed % _UINT32,
                    epoch,
                    get_rank(),
                    0 if info is None else info.id + 1,
                    stream_key,
                ]
            elif info is not None:
                entropy = [info.seed % _UINT32]
            else:
                entropy = [int(np.random.randint(0, _SEED_HIGH))]
            self._rng = np.random.default_rng(entropy)
            self._rng_key = key
        return self._rng

    @property
    def shared_seed(self) -> Optional[int]:
        """int, optional: the seed of the last :meth:`set_epoch`."""
        return self.state.shared_seed

    # ------------------------------------------------------------ index
    def bind(self, get_info: Callable[[int], dict], num_tracks: int) -> None:
        """Index the tracks by video (tracks that share a sidecar).

        Args:
            get_info (callable): data info of a track index.
            num_tracks (int): the number of tracks.
        """
        groups = {}
        q_v = np.zeros(num_tracks, np.float64)
        corner = np.zeros(num_tracks, np.float64)
        for idx in range(num_tracks):
            info = get_info(idx)
            groups.setdefault(info['quality_path'], []).append(idx)
            q_v[idx] = info['q_v']
            corner[idx] = info['corner_freq']
        self.video_groups = [np.asarray(v, np.int64) for v in groups.values()]
        self.track_q_v = q_v
        self.track_corner_freq = corner

    @property
    def num_videos(self) -> int:
        """int: the videos :meth:`select_video` indexes."""
        return len(self.video_groups)

    # ------------------------------------------------------------ draws
    def video_score(self, track_index: int) -> Tuple[float, float]:
        """``(Q, corner_freq)`` of a track, ``Q = Q_v - corner_freq / 3``.

        Args:
            track_index (int): data-list index of the track.

        Returns:
            tuple[float, float]: the θ1 score and the corner frequency.
        """
        corner = float(self.track_corner_freq[track_index])
        q = float(self.track_q_v[track_index]) - (
            self.corner_freq_weight * corner
        )
        return q, corner

    def _pick_track(self, video_index: int, rng: np.random.Generator) -> int:
        group = self.video_groups[video_index]
        return int(group[rng.integers(len(group))])

    def select_video(
        self, index: int, rng: np.random.Generator
    ) -> Tuple[int, int, bool]:
        """The θ1 gate and the nearby re-sampling (paper Sec. 4.1).

        A video whose ``Q_v - corner_freq / 3`` (Q_v of Eq. (4)) is below
        θ1 is replaced by a nearby one.

        Args:
            index (int): the video index given by the index sampler.
            rng (np.random.Generator): the generator.

        Returns:
            tuple[int, int, bool]: the video index, the data-list index of
            its track, and whether the video was re-sampled.
        """
        num = len(self.video_groups)
        if not 0 <= index < num:
            raise IndexError(f'video index {index} out of range [0, {num})')
        track = self._pick_track(index, rng)
        q, corner = self.video_score(track)
        if q >= self.video_quality_threshold and corner < self.max_corner_freq:
            return index, track, False
        lo = max(0, index - self.resample_before)
        # The official end bound is min(N - 1, i + 31), exclusive, so the
        # last video is never a re-sampling candidate; with a single video
        # the range would be empty, and the video itself is used.
        hi = max(min(num - 1, index + self.resample_after), lo + 1)
        best = (index, track)
        for _ in range(self.resample_tries):
            videos = rng.integers(lo, hi, self.resample_draws)
            tracks = [self._pick_track(int(v), rng) for v in videos]
            scores = [self.video_score(t)[0] for t in tracks]
            k = int(np.argmax(scores))
            best = (int(videos[k]), tracks[k])
            if scores[k] > self.video_quality_threshold:
                break
        return best[0], best[1], True

    def num_candidates(self, q_v: float, num_frames: int) -> int:
        """``n_cand = int(3 / Q_v)`` (at least 1; ``num_frames`` if Q_v<=0).

        Args:
            q_v (float): the track's video quality (Eq. 4).
            num_frames (int): the track's frame count.

        Returns:
            int: the number of candidate frames.
        """
        if q_v <= 0:
            return num_frames
        return max(1, int(self.candidate_factor / q_v))

    def frame_scores(
        self, info: dict, positions: np.ndarray, stage: str
    ) -> np.ndarray:
        """Template frame scores of the stage (Q_f of Eq. (5), T_l / T_u of
        Eq. (7)).

        naive: ``Q_f + 2/3 corner``; cycle: ``Q_f + 0.5 corner + 0.5 (T_u -
        T_l) / n_frames``.

        Args:
            info (dict): the track's ``frame_quality_short``, ``corner``,
                ``t_l`` and ``t_u`` arrays (n,).
            positions (np.ndarray): 0-based frame positions in the track.
            stage (str): 'naive' or 'cycle'.

        Returns:
            np.ndarray: float64 scores, one per position.
        """
        qf = info['frame_quality_short'][positions].astype(np.float64)
        corner = info['corner'][positions].astype(np.float64)
        if stage == 'naive':
            return qf + self.naive_corner_weight * corner
        span = (info['t_u'][positions] - info['t_l'][positions]).astype(
            np.float64
        )
        n = len(info['frame_quality_short'])
        return (
            qf
            + self.cycle_corner_weight * corner
            + self.fragment_weight * span / n
        )

    def memory_positions(
        self, info: dict, template: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Memory frames: the farthest of M + 3 draws in ``[T_l, T_u]``.

        Args:
            info (dict): the track's ``t_l``, ``t_u`` (and optional
                ``frame_valid``) arrays.
            template (int): the template position.
            rng (np.random.Generator): the generator.

        Returns:
            np.ndarray: int64 positions (M,), farthest first.
        """
        t_l, t_u = int(info['t_l'][template]), int(info['t_u'][template])
        num = self.num_memory_frames + self.far_memory_draws
        valid = info.get('frame_valid')
        if valid is None:
            draws = rng.integers(t_l, t_u + 1, num)
        else:  # strict=False: only frames with a good box
            usable = t_l + np.flatnonzero(valid[t_l : t_u + 1])
            draws = usable[rng.integers(0, len(usable), num)]
        order = np.argsort(-np.abs(draws - template), kind='stable')
        return draws[order[: self.num_memory_frames]]

    def draw_frames(
        self, info: dict, rng: np.random.Generator, stage: str
    ) -> Tuple[int, List[int], int]:
        """The template and memory frames of one track (Eq. 5, 7).

        Args:
            info (dict): the track's ``q_v`` and per-frame arrays
                ``frame_quality_short``, ``corner``, ``t_l``, ``t_u`` (and
                optional ``frame_valid``: only such frames are drawn).
            rng (np.random.Generator): the generator.
            stage (str): 'naive' (no memory frames) or 'cycle'.

        Returns:
            tuple[int, list[int], int]: the template position, the memory
            positions (farthest first; empty in the naive stage) and the
            number of candidate frames.
        """
        check_stage(stage)
        n = len(info['frame_quality_short'])
        n_cand = self.num_candidates(info['q_v'], n)
        valid = info.get('frame_valid')
        if valid is None:
            cands = rng.integers(0, n, n_cand)
        else:  # strict=False: only frames with a good box
            usable = np.flatnonzero(valid)
            cands = usable[rng.integers(0, len(usable), n_cand)]
        scores = self.frame_scores(info, cands, stage)
        template = int(cands[int(np.argmax(scores))])
        memory = []
        if stage == 'cycle':
            memory = [
                int(m) for m in self.memory_positions(info, template, rng)
            ]
        return template, memory, n_cand

    def random_boxes(
        self, frame_size: Sequence[float], num: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Random boxes for the Table 4 control (``box_source='random'``).

        Each side is ``U(lo, hi)`` times the frame side (``lo, hi =
        random_box_side_range``); the longer side is then shrunk so that the
        aspect ratio is at most ``random_box_max_aspect``; the centre is
        uniform over the positions that keep the box inside the frame.

        Args:
            frame_size (Sequence[float]): (W, H) of the original frame.
            num (int): number of boxes.
            rng (np.random.Generator): the generator.

        Returns:
            np.ndarray: of shape (num, 4), float32 xyxy in frame pixels.
        """
        width, height = float(frame_size[0]), float(frame_size[1])
        lo, hi = self.random_box_side_range
        w = rng.uniform(lo, hi, num) * width
        h = rng.uniform(lo, hi, num) * height
        aspect = self.random_box_max_aspect
        w = np.minimum(w, aspect * h)
        h = np.minimum(h, aspect * w)
        cx = rng.uniform(w / 2, width - w / 2)
        cy = rng.uniform(h / 2, height - h / 2)
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
        return boxes.astype(np.float32)

    def draw(
        self,
        index: int,
        get_info: Callable[[int], dict],
        rng: np.random.Generator,
        stage: Optional[str] = None,
    ) -> dict:
        """One draw: video, track, template, search and memory frames.

        Args:
            index (int): video index (``0 <= index < num_videos``).
            get_info (callable): data info of a track index (the tracks
                given to :meth:`bind`).
            rng (np.random.Generator): the generator.
            stage (str, optional): 'naive' or 'cycle'. Defaults to None
                (the current :attr:`stage`).

        Returns:
            dict: ``video_index``, ``resampled``, ``track_index``,
            ``num_candidates``, ``stage``, ``template_position``,
            ``memory_positions``, ``positions`` ([template, search,
            memory...], template == search) and ``bboxes`` ((K, 4) float32
            xyxy in original-frame pixels, pseudo or random).
        """
        stage = check_stage(self.stage if stage is None else stage)
        video, track, resampled = self.select_video(int(index), rng)
        info = get_info(track)
        template, memory, n_cand = self.draw_frames(info, rng, stage)
        positions = [template, template] + memory
        if self.box_source == 'pseudo':
            bboxes = info['bboxes'][positions].astype(np.float32)
        else:
            drawn = self.random_boxes(
                info['frame_size'], len(positions) - 1, rng
            )
            bboxes = np.concatenate([drawn[:1], drawn], axis=0)
        return dict(
            video_index=video,
            resampled=resampled,
            track_index=track,
            num_candidates=n_cand,
            stage=stage,
            template_position=template,
            memory_positions=memory,
            positions=positions,
            bboxes=bboxes,
        )

    @staticmethod
    def aug_seeds(num: int, rng: np.random.Generator) -> List[int]:
        """One augmentation seed per frame (read by the USOT transforms).

        Args:
            num (int): the number of frames.
            rng (np.random.Generator): the generator.

        Returns:
            list[int]: seeds in ``[0, 2**31 - 1)``.
        """
        return [int(s) for s in rng.integers(0, _SEED_HIGH, num)]
