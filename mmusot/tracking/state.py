# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""One target's USOT tracking state and its per-frame update.

pysot keeps the network (``ModelBuilder``) apart from the per-video tracker
(``SiamRPNTracker``); so does mmusot: :class:`USOTTrackState` is the
per-target half. It owns the target's centre and size, the search size
chosen for the video, the cosine window, the crop's pad value, the memory
queue and the frame id, and does the box arithmetic of a frame (the crop
geometry of both crop modes, the penalised argmax, the size update, the
clamps, the 1-based box shift). The network half is
:class:`mmusot.models.sot.USOT` (``init_target`` / ``track_targets``),
which runs the backbone and heads for one or several states at once.

This module never imports torch: the arithmetic runs on the state's own
arrays, torch tensors (the model's device; nothing read back to the host)
or numpy arrays (see :mod:`mmusot.tracking.postprocess`).
"""

import dataclasses
from typing import Any, Optional, Tuple

from .memory import MEMORY_INDEX_MODES
from .postprocess import (
    SIZE_SMOOTHING_MODES,
    Array,
    BestCell,
    array_ops,
    box_in_crop,
    context_side,
    cosine_window,
    flip_box,
    python2round,
    select_best,
    update_size,
)

#: ``test_cfg.test_mode`` values (mmtrack's OPE and VOT protocols).
TEST_MODES = ('OPE', 'VOT')
#: ``test_cfg.crop_mode`` values.
CROP_MODES = ('exact', 'official')
#: The score reported on an initialisation frame (mmtrack convention).
INIT_SCORE = -1.0
#: 1-based (MATLAB) box files start counting pixels here.
ONE_BASED_ORIGIN = 1.0
#: Smallest crop side in frame pixels (a sub-pixel box still crops).
MIN_CROP_SIDE = 1.0


@dataclasses.dataclass(frozen=True)
class USOTTestConfig:
    """USOT inference settings and their defaults.

    The defaults are the official tracker's (``experiments/test/USOT.yaml``
    and constants of ``lib/tracker/usot_tracker.py``), except
    ``crop_mode`` and ``one_based_gt``, which default to mmtrack's
    conventions (see ``configs/usot/README.md`` for the configs that
    reproduce the official tracker). A model's ``test_cfg`` may set any of
    these keys; other keys are rejected.

    Args:
        test_mode (str): ``'OPE'`` or ``'VOT'`` (supervised resets).
        exemplar_size (int): template crop side (127).
        instance_size (int): search crop side (255).
        big_instance_size (int): search crop side for small targets (271).
        small_object_area_ratio (float): a target covering less than this
            fraction of the first frame is searched with
            ``big_instance_size`` for the whole video (0.004).
        context_amount (float): SiamFC context factor (0.5).
        window_influence (float): cosine-window weight (0.321).
        penalty_k (float): size/ratio change penalty factor (0.021).
        lr (float): size update rate, times penalty × score (0.73).
        offline_weight (float): weight of the offline branch in the fused
            score, ``w σ(cls) + (1 - w) σ(mem)`` (0.3).
        memory_queue_size (int): N_q kernels of the memory head (7).
        init_memory_score (float): score of the first history entry (0.9).
        memory_clamp_margin (float): memory pooling boxes are clamped to
            the response grid ± this many search pixels (8).
        memory_index (str): ``'official'`` reproduces the reference's queue
            index bug (see ``USOTMemoryQueue``); ``'corrected'`` picks
            one best-scored entry per equal history segment (the paper's
            design).
        size_smoothing (str): ``'double'`` reproduces the reference's size
            update smoothed twice (rate lr², see
            :func:`~mmusot.tracking.postprocess.update_size`); ``'single'``
            applies lr once.
        min_size (float): minimum box side in frame pixels (10).
        dedupe_memory (bool): speed only: queue entries that are the same
            history entry go through the memory head once, weighted by
            their count in the fusion softmax (same response up to float
            rounding). Used when one target is tracked. Defaults to True.
        crop_mode (str): ``'exact'`` (default): the exact float crop on the
            model's device (``crop_siamfc`` in
            :mod:`mmusot.models.sot.usot_subwindow`); ``'official'``: the
            official uint8 OpenCV crop on the host (``crop_official``),
            slower, needed to reproduce the official trajectories exactly.
        one_based_gt (bool): the dataset's boxes are 1-based (MATLAB)
            pixel coordinates, as in the OTB, LaSOT and UAV123 files. The
            official evaluation then starts the tracker from ``box - (1, 1)``
            and reports ``box + (1, 1)``, so that the metric compares in
            the coordinates of the ground-truth files. OPE only.
            Defaults to False (boxes used as given, mmtrack's convention).
    """

    test_mode: str = 'OPE'
    exemplar_size: int = 127
    instance_size: int = 255
    big_instance_size: int = 271
    small_object_area_ratio: float = 0.004
    context_amount: float = 0.5
    window_influence: float = 0.321
    penalty_k: float = 0.021
    lr: float = 0.73
    offline_weight: float = 0.3
    memory_queue_size: int = 7
    init_memory_score: float = 0.9
    memory_clamp_margin: float = 8.0
    memory_index: str = 'official'
    size_smoothing: str = 'double'
    min_size: float = 10.0
    dedupe_memory: bool = True
    crop_mode: str = 'exact'
    one_based_gt: bool = False

    def __post_init__(self) -> None:
        for key, choices in (
            ('test_mode', TEST_MODES),
            ('memory_index', MEMORY_INDEX_MODES),
            ('size_smoothing', SIZE_SMOOTHING_MODES),
            ('crop_mode', CROP_MODES),
        ):
            value = getattr(self, key)
            if value not in choices:
                raise ValueError(
                    f'test_cfg.{key} must be one of {choices}, got {value!r}'
                )

    @classmethod
    def from_cfg(cls, test_cfg: Optional[dict] = None) -> 'USOTTestConfig':
        """The defaults overridden by the keys of ``test_cfg``.

        Args:
            test_cfg (dict, optional): a model's ``test_cfg``.

        Returns:
            USOTTestConfig: the effective settings.

        Raises:
            ValueError: for an unknown key or an invalid mode.
        """
        test_cfg = dict(test_cfg or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(test_cfg) - known)
        if unknown:
            raise ValueError(
                f'unknown USOT test_cfg key(s) {unknown}; known keys: '
                f'{sorted(known)} (the response stride and size come from '
                'the head)'
            )
        return cls(**test_cfg)

    @property
    def origin(self) -> float:
        """float: the box origin of the dataset (1 for 1-based boxes)."""
        return ONE_BASED_ORIGIN if self.one_based_gt else 0.0


@dataclasses.dataclass(eq=False)
class USOTTrackState:
    """One target's tracking state (pysot's per-video tracker).

    Made by :meth:`start` on the first frame; the network then fills in
    the template kernel, the memory queue and the response geometry
    (:meth:`set_response`). Per frame: :meth:`search_window` gives the
    search crop, :meth:`select` picks the box from the network's
    responses, :meth:`advance` moves the target, :meth:`report` writes the
    box in the dataset's convention.

    Args:
        cfg (USOTTestConfig): the inference settings read at init.
        center (Array): of shape (2,), ``[cx, cy]``, frame pixels
            (0-based). The reference's position, kept apart from the output
            box, which is shifted inside the image.
        size (Array): of shape (2,), ``[w, h]``, frame pixels.
        instance_size (int): the search crop side for the whole video.
        pad_value (Array): the crop's fill value: (C,) float on the model's
            device (``'exact'``) or (C,) uint8 on the host (``'official'``).
        frame_id (int): frames since the first (0 on it).
        score_size (int): response cells per axis (:meth:`set_response`).
        window (Array): of shape (S, S), the cosine window.
        response_axis (Array): of shape (S,), float32, the search-crop pixel
            of each response cell.
        memory_clamp (tuple[float, float]): pixel range memory pooling
            boxes are clamped to.
        z_kernel (Any): the template kernel (network output).
        memory (Any): the memory queue (``USOTMemoryQueue``).
    """

    cfg: USOTTestConfig
    center: Array
    size: Array
    instance_size: int
    pad_value: Any = None
    frame_id: int = 0
    score_size: int = 0
    window: Optional[Array] = None
    response_axis: Optional[Array] = None
    memory_clamp: Tuple[float, float] = (0.0, 0.0)
    z_kernel: Any = None
    memory: Any = None

    # ------------------------------------------------------------ start
    @classmethod
    def start(
        cls,
        cfg: USOTTestConfig,
        bbox: Array,
        frame_hw: Tuple[int, int],
        frame_id: int = 0,
    ) -> 'USOTTrackState':
        """A state for a target at ``bbox`` on its first frame.

        Fixes the search size for the video: ``big_instance_size`` when the
        target covers less than ``small_object_area_ratio`` of the frame
        (one host read, on the first frame only).

        Args:
            cfg (USOTTestConfig): inference settings.
            bbox (Array): of shape (4,), ``[cx, cy, w, h]``, 0-based frame
                pixels (the dataset's box minus ``cfg.origin``).
            frame_hw (tuple[int, int]): the frame's height and width.
            frame_id (int): the first frame's id. Defaults to 0.

        Returns:
            USOTTrackState: the state, before the network's part.
        """
        height, width = frame_hw
        center, size = (
            array_ops(bbox).copy(bbox[:2]),
            array_ops(bbox).copy(bbox[2:]),
        )
        area_ratio = float(size[0] * size[1]) / float(width * height)
        instance_size = (
            cfg.big_instance_size
            if area_ratio < cfg.small_object_area_ratio
            else cfg.instance_size
        )
        return cls(
            cfg=cfg,
            center=center,
            size=size,
            instance_size=instance_size,
            frame_id=frame_id,
        )

    def init_windows(self) -> Tuple[Array, Array, Array, Array]:
        """The first frame's crops: template and search-size window.

        The template side is rounded half-to-even, the search side as
        Python 2 rounds; both are at least :data:`MIN_CROP_SIDE`. The
        search-size window (and its horizontal flip) gives the two
        permanent memory entries.

        Returns:
            tuple[Array, Array, Array, Array]: the template side ``s_z``
            (), the target box in the template crop (4,), the search side
            ``s_x`` () and the target boxes in the search crop and in its
            flip (2, 4), ``[x1, y1, x2, y2]``, crop pixels.
        """
        cfg = self.cfg
        ops = array_ops(self.size)
        s_z_raw = context_side(self.size, cfg.context_amount)
        s_z = ops.clip(ops.round(s_z_raw), MIN_CROP_SIDE, None)
        z_box = box_in_crop(self.center, self.size, s_z, cfg.exemplar_size)
        s_x = ops.clip(
            python2round(s_z_raw * self.instance_size / cfg.exemplar_size),
            MIN_CROP_SIDE,
            None,
        )
        x_box = box_in_crop(self.center, self.size, s_x, self.instance_size)
        x_boxes = ops.stack((x_box, flip_box(x_box, self.instance_size)))
        return s_z, z_box, s_x, x_boxes

    def set_response(
        self,
        score_size: int,
        response_axis: Array,
        memory_clamp: Tuple[float, float],
    ) -> None:
        """Fix the response geometry of the video (from the network).

        Args:
            score_size (int): response cells per axis.
            response_axis (Array): of shape (S,), float32, the search-crop
                pixel of each cell.
            memory_clamp (tuple[float, float]): pixel range of memory
                pooling boxes.
        """
        self.score_size = score_size
        self.response_axis = response_axis
        self.memory_clamp = memory_clamp
        self.window = cosine_window(score_size, response_axis)

    # ------------------------------------------------------------ track
    def search_window(self) -> Tuple[Array, Array]:
        """This frame's search crop: its side and scale.

        Returns:
            tuple[Array, Array]: the integral crop side ``s_x`` in frame
            pixels, and ``scale_z``, crop pixels per frame pixel.
        """
        cfg = self.cfg
        s_z = context_side(self.size, cfg.context_amount)
        scale_z = cfg.exemplar_size / s_z
        s_x = python2round(s_z * self.instance_size / cfg.exemplar_size)
        return s_x, scale_z

    def select(
        self,
        cls_logits: Array,
        mem_logits: Array,
        reg: Array,
        scale_z: Array,
    ) -> BestCell:
        """The best cell of this target's responses (penalty, window).

        Args:
            cls_logits, mem_logits (Array): of shape (1, 1, S, S).
            reg (Array): of shape (1, 4, S, S), ``[l, t, r, b]``.
            scale_z (Array): from :meth:`search_window`.

        Returns:
            BestCell: the chosen cell, box in search-crop pixels.
        """
        cfg = self.cfg
        return select_best(
            cls_logits,
            mem_logits,
            reg,
            self.response_axis,
            self.size * scale_z,
            self.window,
            cfg.offline_weight,
            cfg.penalty_k,
            cfg.window_influence,
        )

    def advance(
        self, best: BestCell, scale_z: Array, frame_hw: Tuple[int, int]
    ) -> Array:
        """Move the target to the chosen box and smooth its size.

        The centre follows the box; the size moves towards it at rate
        ``penalty × score × lr`` (:func:`update_size`); the centre is
        clamped to the frame, the size to ``[min_size, frame side]``.

        Args:
            best (BestCell): from :meth:`select`.
            scale_z (Array): from :meth:`search_window`.
            frame_hw (tuple[int, int]): the frame's height and width.

        Returns:
            Array: of shape (1, 4), the output box ``[x1, y1, x2, y2]``,
            0-based frame pixels, its top-left corner clamped at 0.
        """
        cfg = self.cfg
        ops = array_ops(self.center)
        height, width = frame_hw
        box = best.bboxes[0]
        score = best.scores[0]
        pred_center = (box[:2] + box[2:]) / 2
        pred_size = (box[2:] - box[:2]) / scale_z
        lr = best.penalties[0] * score * cfg.lr
        center = self.center + (pred_center - self.instance_size // 2) / (
            scale_z
        )
        size = update_size(self.size, pred_size, lr, cfg.size_smoothing)
        # python-scalar clamps: no host-to-device copy (a CUDA sync point)
        self.center = ops.stack(
            (ops.clip(center[0], 0, width), ops.clip(center[1], 0, height))
        )
        self.size = ops.stack(
            (
                ops.clip(size[0], cfg.min_size, width),
                ops.clip(size[1], cfg.min_size, height),
            )
        )
        top_left = ops.clip(self.center - self.size / 2, 0, None)
        return ops.concat((top_left, top_left + self.size))[None]

    def report(self, bboxes: Array) -> Array:
        """Boxes in the dataset's convention (``+ 1`` for 1-based boxes).

        Args:
            bboxes (Array): of shape (N, 4), 0-based frame pixels.

        Returns:
            Array: the same boxes in the ground truth's coordinates.
        """
        origin = self.cfg.origin
        return bboxes + origin if origin else bboxes
