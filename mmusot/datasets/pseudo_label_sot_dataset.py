# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Pseudo-labelled videos as an mmtrack SOT dataset, with USOT's sampler."""

import inspect
import os
import os.path as osp
import zlib
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmtrack.datasets import BaseSOTDataset
from mmtrack.registry import DATASETS

from ..pseudo_labels.writer import read_annotation
from .pseudo_label_loading import (
    PseudoLabelLoader,
    check_data_root,
    video_name,
)
from .samplers.pseudo_label_sampler import (
    BOX_SOURCES,
    STAGES,
    PseudoLabelSampler,
    check_stage,
)
from .transforms.usot_frames import FrameCheckingCompose

__all__ = ['PseudoLabelSOTDataset', 'STAGES', 'BOX_SOURCES']

#: The constructor arguments that go to :class:`PseudoLabelSampler`.
SAMPLER_ARGS = tuple(inspect.signature(PseudoLabelSampler).parameters)


@DATASETS.register_module()
class PseudoLabelSOTDataset(BaseSOTDataset):
    """Videos pseudo-labelled by ``mmusot.pseudo_labels``, for training.

    "Learning to Track Objects from Unlabeled Videos", ICCV 2021,
    https://arxiv.org/abs/2108.12711, Sec. 3.1-3.3.

    Reads the converter's ``<name>_infos.txt`` (``ann_file``, mmtrack's SOT
    infos format: ``frames/<video>,annotations/<video>.txt,start,end``, one
    line per kept track, frames named ``%08d.jpg``; ``data_prefix=
    dict(img_path='')``) and, when present, the quality sidecars
    ``<quality_prefix>/<video>.json`` (per track ``q_v``, ``corner_freq`` and
    the per-frame ``frame_quality_short``, ``corner``, ``t_l``, ``t_u``;
    see ``mmusot/pseudo_labels/pipeline.py``). ``<video>`` is ``video_path``
    without its leading ``frames_prefix`` folder.

    **Without sidecars** (``quality_prefix=None``, no such folder, or
    ``usot_sampling=False``) this is a plain mmtrack SOT dataset: training
    feeds two random videos to the pipeline (mmtrack's ``PairSampling``
    pipelines, e.g. SiamRPN++, train on it unchanged) and ``test_mode``
    iterates ``(video, frame)`` pairs as every SOT dataset does.

    **With sidecars** (``usot_sampling``, the default when they exist) it
    is USOT's training sampler (official
    ``lib/dataset_loader/datasets_usot.py``):

    * the index selects a *video* (all infos lines sharing a sidecar, e.g.
      the windows of a LaSOT video), ``len(dataset)`` is the number of
      videos, and a track is drawn uniformly among its listed tracks;
    * θ1 gate (paper Sec. 3.3, Eq. 4): with ``Q = Q_v - corner_freq / 3``
      the track is kept when ``Q >= 0.40`` and ``corner_freq < 0.25``;
      otherwise up to 20 times 3 videos are drawn with replacement from
      ``[max(0, i - 30), min(N - 1, i + 31))`` (each with a random track)
      and the best by ``Q`` is accepted once ``Q > 0.40``; after 20 failed
      tries the last try's best is used (no corner test in this branch);
    * ``int(3 / Q_v)`` candidate frames are drawn uniformly with
      replacement and the best by the stage's frame score is the template
      (paper Eq. 5): naive ``Q_f + 2/3 corner``; cycle ``Q_f + 0.5 corner
      + (T_u - T_l) / (2 n_frames)``. Template and search are the **same
      frame** (paper Sec. 3.2);
    * cycle stage (paper Sec. 3.3, Eq. 7): 4 + 3 = 7 positions are drawn
      uniformly with replacement from the template's fragment
      ``[T_l, T_u]`` and the 4 farthest from the template are the memory
      frames.

    ``prepare_train_data`` emits per-frame lists (mmtrack convention, all
    the same length) in the order ``[template, search, memory_1 ..
    memory_M]``: ``img_path``, ``frame_id`` (0-based position in the
    track), ``video_id`` (data-list index of the track), ``video_length``,
    ``instances`` (``[dict(bbox=(4,) float32 xyxy in original-frame pixels,
    bbox_label=np.array(1, int32))]``) and ``aug_seed`` (one int per frame,
    read by the USOT transforms so that augmentation follows the same
    seeding). So ``TransformBroadcaster([LoadImageFromFile,
    LoadTrackAnnotations, CropLikeSiamFC(crop_size=511)])`` loads and crops
    them as the official 511 crops (the official ``par_crop.py``).

    The dataset composes three parts: :class:`PseudoLabelLoader` (infos
    file, annotations, sidecars; :meth:`load_data_list`),
    :class:`~mmusot.datasets.samplers.PseudoLabelSampler` (the draw above,
    :attr:`sampler`; ``mmusot-eval-pseudo-labels`` draws through the same
    class) and :class:`~mmusot.datasets.samplers.USOTQuotaSampler` (the
    per-epoch index quota, read from ``samples_per_epoch``).

    Control: :meth:`set_stage` (the stage hook) and :meth:`set_epoch` (the
    quota sampler) write the sampler's state, which DataLoader workers
    share (:class:`~mmusot.datasets.samplers.SamplingState`): a call made
    between epochs reaches the next epoch's draws, with or without
    ``persistent_workers``.

    Randomness: draws use a ``numpy.random.Generator`` per worker process
    and epoch, seeded from ``seed`` (or the seed of
    :class:`~mmusot.datasets.samplers.USOTQuotaSampler`, which calls
    :meth:`set_epoch`), the epoch, the rank, the worker id and the
    labels' names (:meth:`stream_key`, not their folder), so a run is
    reproducible given mmengine's seed and the number of workers, the same
    wherever the labels are copied, and differs across epochs. Without
    any seed the stream comes from torch's per-epoch worker seed (or
    numpy's global generator in the main process).

    Args:
        quality_prefix (str, optional): sidecar folder, relative to
            ``data_root`` unless absolute. None: no sidecars. Defaults to
            'quality'.
        usot_sampling (bool, optional): use USOT's sampler. None: when the
            sidecar folder exists (and not ``test_mode``). True with no
            sidecar folder raises. Defaults to None.
        frames_prefix (str): first folder of ``video_path`` that is not
            part of the video name. Defaults to 'frames'.
        samples_per_epoch (int, optional): per-epoch sample count of this
            source, read by :class:`USOTQuotaSampler` (official: VID 14000,
            GOT-10k 19000, LaSOT 13000, YT-VOS 4000). None: one pass over
            the videos. Defaults to None.
        strict (bool): every annotation line must be 4 numbers ``x,y,w,h``
            with finite values, positive width and height and a box that
            overlaps the frame (frame size from the sidecar, else from the
            header of the track's first frame); a bad line raises an
            :class:`~mmusot.pseudo_labels.writer.AnnotationError` naming the
            file and line. False: a frame with a bad box is left out of
            sampling (USOT sampler: never a template, search or memory
            frame; plain mode: marked not visible, which mmtrack's frame
            samplers skip), a track with no good frame, a missing
            annotation file or a line count that disagrees with the infos
            line is dropped, and the counts are logged. Defaults to True.
        **kwargs: the :class:`~mmusot.datasets.samplers.PseudoLabelSampler`
            arguments, given to :attr:`sampler`: ``stage`` ('naive' or
            'cycle', see :meth:`set_stage`), ``num_memory_frames`` (4),
            ``box_source`` ('pseudo', or 'random': the paper's Table 4
            control, needs the sidecars), ``seed`` (None: the index
            sampler's, see above) and the official constants
            (``video_quality_threshold`` θ1, ``max_corner_freq``,
            ``corner_freq_weight``, ``resample_before`` /
            ``resample_after`` / ``resample_tries`` / ``resample_draws``,
            ``candidate_factor``, ``naive_corner_weight``,
            ``cycle_corner_weight``, ``fragment_weight``,
            ``far_memory_draws``, ``random_box_side_range``,
            ``random_box_max_aspect``); the rest are
            :class:`BaseSOTDataset` / mmengine ``BaseDataset`` arguments
            (``ann_file``, ``data_root``, ``data_prefix``, ``pipeline``,
            ``test_mode`` ...).

    Raises:
        FileNotFoundError: a ``data_root`` without pseudo labels (the
            message says how to make them), a missing infos file,
            annotation or sidecar.
        ValueError: naming the file: an empty or malformed infos file, a
            malformed sidecar (missing or non-numeric fields, bad fragment
            bounds), a sidecar without the listed track or whose lengths
            disagree with the infos line or the annotation file; with
            ``strict``, an annotation line that is not a usable box
            (:class:`~mmusot.pseudo_labels.writer.AnnotationError`, with
            the line number).
        VideoReadError: when a sample is loaded, a frame file that is
            missing, empty or not a decodable image (named).
    """

    def __init__(
        self,
        quality_prefix: Optional[str] = 'quality',
        usot_sampling: Optional[bool] = None,
        frames_prefix: str = 'frames',
        samples_per_epoch: Optional[int] = None,
        strict: bool = True,
        **kwargs,
    ) -> None:
        if samples_per_epoch is not None and samples_per_epoch < 0:
            raise ValueError(
                f'samples_per_epoch must be >= 0, got {samples_per_epoch}'
            )
        self.sampler = PseudoLabelSampler(
            **{k: kwargs.pop(k) for k in SAMPLER_ARGS if k in kwargs}
        )
        self.samples_per_epoch = samples_per_epoch
        self.frames_prefix = frames_prefix.strip('/')
        self.strict = bool(strict)

        data_root = kwargs.get('data_root') or ''
        if quality_prefix is None:
            self.quality_root = None
        else:
            self.quality_root = osp.join(data_root, quality_prefix)
        has_sidecars = self.quality_root is not None and osp.isdir(
            self.quality_root
        )
        check_data_root(data_root, kwargs.get('ann_file') or '', has_sidecars)
        if usot_sampling is None:
            usot_sampling = has_sidecars and not kwargs.get('test_mode')
        elif usot_sampling and not has_sidecars:
            raise FileNotFoundError(
                'PseudoLabelSOTDataset: usot_sampling=True needs the quality '
                f'sidecar folder, but {self.quality_root!r} does not exist '
                '(mmusot-videos-to-pseudo writes it; labels made by another '
                'tool train with usot_sampling=False)'
            )
        self.usot_sampling = bool(usot_sampling)
        if self.sampler.box_source == 'random' and not self.usot_sampling:
            raise ValueError(
                "box_source='random' needs USOT sampling (quality sidecars "
                'give the frame size and the sampling)'
            )
        self._indexed = False  # the sampler's video index (full_init)
        self._stream_key: Optional[int] = None
        # Only read by tools/benchmark/train_speed.py's --check-losses
        # patch of _train_rng (the same patch on older versions).
        self._rng: Optional[np.random.Generator] = None
        self._rng_key: Optional[tuple] = None
        super().__init__(**kwargs)
        # A corrupt frame then fails with its file name, not deep inside
        # LoadImageFromFile; a good sample runs the same transforms.
        self.pipeline = FrameCheckingCompose(self.pipeline.transforms)

    # ------------------------------------------------------------ loading
    def load_data_list(self) -> list:
        """Parse the infos file (and the sidecars in USOT mode).

        See :meth:`PseudoLabelLoader.load`.

        Returns:
            list[dict]: one data info per infos line (track).
        """
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'PseudoLabelSOTDataset: infos file {self.ann_file!r} not '
                'found (a converter run with --shard or --no-merge writes it '
                'when run again with --merge-only)'
            )
        loader = PseudoLabelLoader(
            self.ann_file,
            self.data_prefix['img_path'],
            self.quality_root,
            self.usot_sampling,
            frames_prefix=self.frames_prefix,
            strict=self.strict,
            test_mode=self.test_mode,
        )
        return loader.load(self._loadtxt(self.ann_file, return_ndarray=False))

    def video_name(self, video_path: str) -> str:
        """The video name of a ``video_path`` (:func:`video_name`)."""
        return video_name(video_path, self.frames_prefix)

    def get_bboxes_from_video(self, video_idx: int) -> np.ndarray:
        """(N, 4) xywh boxes of a track (plain mode; mmtrack's reader,
        or, for a track with bad lines under ``strict=False``, NaN rows
        for the lines that are not four numbers)."""
        info = self.get_data_info(video_idx)
        if 'frame_valid' not in info:
            return super().get_bboxes_from_video(video_idx)
        ann = osp.join(self.data_prefix['img_path'], info['ann_path'])
        return read_annotation(ann)[0]

    def get_ann_infos_from_video(self, video_idx: int) -> dict:
        """mmtrack's annotation infos; frames with a bad box (kept under
        ``strict=False``) are not visible and not valid."""
        infos = super().get_ann_infos_from_video(video_idx)
        valid = self.get_data_info(video_idx).get('frame_valid')
        if valid is not None:
            infos['visible'] = infos['visible'] & valid
            infos['bboxes_isvalid'] = infos['bboxes_isvalid'] & valid
        return infos

    def full_init(self) -> None:
        """Load the data list, then index the videos for the sampler."""
        super().full_init()
        if self.usot_sampling and not self._indexed:
            self.sampler.bind(self.get_data_info, self.num_videos)
            self._indexed = True

    def __len__(self) -> int:
        """Videos (USOT training), tracks (plain training) or frames (test)."""
        if not self._fully_initialized:
            self.full_init()
        if self.usot_sampling and not self.test_mode:
            return self.sampler.num_videos
        return super().__len__()

    # ------------------------------------------------------------ control
    @property
    def stage(self) -> str:
        """str: the sampling stage, 'naive' or 'cycle'."""
        return self.sampler.stage

    def set_stage(self, stage: str) -> None:
        """Switch the sampling stage (the stage hook calls it).

        Contract (:class:`~mmusot.engine.USOTStageHook`): called in the
        main process between epochs; the DataLoader workers, persistent or
        not, sample the next epoch in the new stage
        (:meth:`PseudoLabelSampler.set_stage`).

        Args:
            stage (str): 'naive' (template + search) or 'cycle' (also
                ``num_memory_frames`` memory frames).
        """
        self.sampler.set_stage(stage)

    #: :meth:`set_stage` reaches existing (persistent) DataLoader workers.
    stage_reaches_workers = True

    def set_epoch(self, epoch: int, seed: Optional[int] = None) -> None:
        """Set the epoch (and the index sampler's seed) of the draws.

        Called by :class:`~mmusot.datasets.samplers.USOTQuotaSampler`
        before each epoch; reaches persistent workers as
        :meth:`set_stage` does.

        Args:
            epoch (int): the epoch, mixed into the generator's seed.
            seed (int, optional): a shared seed (the index sampler's), used
                when the dataset has no ``seed`` of its own. Defaults to
                None.
        """
        self.sampler.set_epoch(epoch, seed=seed)

    @property
    def seed(self) -> Optional[int]:
        """int, optional: the dataset's own sampling seed."""
        return self.sampler.seed

    @property
    def _epoch(self) -> int:
        return self.sampler.epoch

    @property
    def _shared_seed(self) -> Optional[int]:
        return self.sampler.shared_seed

    @property
    def num_sampling_videos(self) -> int:
        """int: videos the USOT sampler indexes (sidecar groups)."""
        if not self._fully_initialized:
            self.full_init()
        if not self.usot_sampling:
            return self.num_videos
        return self.sampler.num_videos

    def stream_key(self) -> int:
        """A CRC of the labels' *names*, mixed into the sampling seed.

        The annotation file's base name and the tracks' ``video_path``
        entries (relative to ``data_root``), not the folder they are in:
        the same labels copied elsewhere (another checkout, another
        ``--out``) give the same draws, while two sources of a
        ``ConcatDataset`` get different streams.

        Returns:
            int: a 32-bit key.
        """
        if self._stream_key is None:
            if not self._fully_initialized:
                self.full_init()
            names = [osp.basename(str(self.ann_file))]
            names += [
                str(self.get_data_info(i)['video_path']).replace(os.sep, '/')
                for i in range(self.num_videos)
            ]
            self._stream_key = zlib.crc32('\n'.join(names).encode())
        return self._stream_key

    def _train_rng(self) -> np.random.Generator:
        """The generator of this process and epoch (see class docstring)."""
        return self.sampler.rng(self.stream_key())

    # ------------------------------------------------------------ sampling
    def video_score(self, track_index: int) -> Tuple[float, float]:
        """See :meth:`PseudoLabelSampler.video_score`."""
        return self.sampler.video_score(track_index)

    def select_video(
        self, index: int, rng: np.random.Generator
    ) -> Tuple[int, int, bool]:
        """See :meth:`PseudoLabelSampler.select_video`."""
        if not self._fully_initialized:
            self.full_init()
        return self.sampler.select_video(index, rng)

    def num_candidates(self, q_v: float, num_frames: int) -> int:
        """See :meth:`PseudoLabelSampler.num_candidates`."""
        return self.sampler.num_candidates(q_v, num_frames)

    def frame_scores(
        self, info: dict, positions: np.ndarray, stage: str
    ) -> np.ndarray:
        """See :meth:`PseudoLabelSampler.frame_scores`."""
        return self.sampler.frame_scores(info, positions, stage)

    def memory_positions(
        self, info: dict, template: int, rng: np.random.Generator
    ) -> np.ndarray:
        """See :meth:`PseudoLabelSampler.memory_positions`."""
        return self.sampler.memory_positions(info, template, rng)

    def random_boxes(
        self, frame_size: Sequence[int], num: int, rng: np.random.Generator
    ) -> np.ndarray:
        """See :meth:`PseudoLabelSampler.random_boxes`."""
        return self.sampler.random_boxes(frame_size, num, rng)

    def sample_instance(
        self,
        index: int,
        rng: np.random.Generator,
        stage: Optional[str] = None,
    ) -> dict:
        """Draw one training instance without loading images.

        Args:
            index (int): video index (``0 <= index < len(self)``).
            rng (np.random.Generator): the generator.
            stage (str, optional): 'naive' or 'cycle'. Defaults to None
                (the dataset's :attr:`stage`).

        Returns:
            dict: ``requested_index`` (int), ``video_index`` (int, after the
            θ1 gate), ``resampled`` (bool), ``track_index`` (int, data-list
            index), ``video`` (str), ``track_id`` (int), ``video_score``
            (float, Q), ``num_candidates`` (int), ``stage`` (str),
            ``template_position`` (int), ``memory_positions`` (list[int],
            empty in the naive stage), ``positions`` (list[int], [template,
            search, memory...], template == search), ``frame_ids``
            (list[int], file frame ids), ``img_paths`` (list[str]),
            ``video_length`` (int) and ``bboxes`` (np.ndarray (K, 4)
            float32 xyxy in original-frame pixels, pseudo or random).
        """
        if not self.usot_sampling:
            raise RuntimeError(
                'sample_instance needs USOT sampling (quality sidecars); '
                f'{self.ann_file} was loaded without them'
            )
        if not self._fully_initialized:
            self.full_init()
        check_stage(self.stage if stage is None else stage)
        draw = self.sampler.draw(index, self.get_data_info, rng, stage)
        info = self.get_data_info(draw['track_index'])
        frame_ids = [info['start_frame_id'] + p for p in draw['positions']]
        img_paths = [
            osp.join(
                self.data_prefix['img_path'],
                info['video_path'],
                info['framename_template'] % f,
            )
            for f in frame_ids
        ]
        return dict(
            requested_index=int(index),
            video_index=draw['video_index'],
            resampled=draw['resampled'],
            track_index=draw['track_index'],
            video=info['video_name'],
            track_id=info['track_id'],
            video_score=self.video_score(draw['track_index'])[0],
            num_candidates=draw['num_candidates'],
            stage=draw['stage'],
            template_position=draw['template_position'],
            memory_positions=draw['memory_positions'],
            positions=draw['positions'],
            frame_ids=frame_ids,
            img_paths=img_paths,
            video_length=len(info['frame_quality_short']),
            bboxes=draw['bboxes'],
        )

    def instance_to_results(
        self, instance: dict, rng: np.random.Generator
    ) -> Dict[str, list]:
        """Per-frame lists of a :meth:`sample_instance` draw (pipeline input).

        Args:
            instance (dict): a draw of :meth:`sample_instance`.
            rng (np.random.Generator): draws the per-frame ``aug_seed``.

        Returns:
            dict[str, list]: ``img_path``, ``frame_id``, ``video_id``,
            ``video_length``, ``instances`` and ``aug_seed``, each with one
            entry per frame in the order [template, search, memory...].
        """
        num = len(instance['positions'])
        seeds = self.sampler.aug_seeds(num, rng)
        return dict(
            img_path=list(instance['img_paths']),
            frame_id=list(instance['positions']),
            video_id=[instance['track_index']] * num,
            video_length=[instance['video_length']] * num,
            instances=[
                [dict(bbox=box, bbox_label=np.array(1, dtype=np.int32))]
                for box in instance['bboxes']
            ],
            aug_seed=seeds,
        )

    def prepare_train_data(self, video_idx: int) -> Optional[dict]:
        """One training sample.

        USOT mode: :meth:`sample_instance` for the video ``video_idx``,
        then the pipeline on :meth:`instance_to_results`. Plain mode:
        :class:`BaseSOTDataset`'s two random videos.

        Args:
            video_idx (int): video index (USOT mode) or ignored (plain).

        Returns:
            dict, optional: the pipeline output.
        """
        if not self.usot_sampling:
            return super().prepare_train_data(video_idx)
        rng = self._train_rng()
        instance = self.sample_instance(video_idx, rng)
        return self.pipeline(self.instance_to_results(instance, rng))
