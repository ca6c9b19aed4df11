# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""OPE scores of per-sequence result files, by mmtrack's ``SOTMetric``.

The numbers are mmtrack's: the predictions and the ground truth are handed
to :class:`mmtrack.evaluation.SOTMetric` exactly as ``tools/test.py``
hands them over on an :class:`~mmusot.datasets.OTBFolderDataset` config
(one sample per frame, the dataset's own ``instances``), and its
``compute_metrics`` gives the success AUC, precision@20 px and normalised
precision@0.2. The curves for plots are those of mmtrack's
``eval_sot_ope`` (the function ``SOTMetric`` calls) on the same inputs.

Result files are the OTB format ``SOTMetric(saved_track_res_path=...)``
writes: one ``x,y,w,h`` line per frame, ``<sequence>.txt``.
"""

import dataclasses
import os
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from mmusot.datasets.otb_folder_dataset import parse_groundtruth

#: Overlap thresholds of the success curve (``eval_sot_ope``).
SUCCESS_THRESHOLDS = np.arange(0, 1.05, 0.05)
#: Centre-distance thresholds (pixels) of the precision curve.
PRECISION_THRESHOLDS = np.arange(0, 51, 1)
#: Normalised centre-distance thresholds of the normalised precision.
NORM_PRECISION_THRESHOLDS = PRECISION_THRESHOLDS / 100.0
#: Index of the reported precision (20 px) / normalised precision (0.2).
REPORTED_THRESHOLD_INDEX = 20
#: Frame folder and ground-truth file of an OTB-style sequence.
OTB_IMG_DIR = 'img'
OTB_ANN_NAME = 'groundtruth_rect.txt'
#: Decimals of the result files (as ``SOTMetric`` writes them).
RESULT_DECIMALS = 4


@dataclasses.dataclass
class SequenceInfo:
    """One sequence as the test dataset describes it.

    Args:
        name (str): sequence (folder) name.
        img_paths (list[str]): frame files, in order.
        gt_xywh (np.ndarray): of shape (N, 4), ``[x, y, w, h]`` as in the
            ground-truth file (invalid boxes as zeros).
        samples (list[dict]): per frame, what the dataset hands to the
            test pipeline (``img_path``, ``frame_id``, ``video_id``,
            ``video_length``, ``instances``).
    """

    name: str
    img_paths: List[str]
    gt_xywh: np.ndarray
    samples: List[dict]

    def __len__(self) -> int:
        return len(self.img_paths)


def list_sequences(
    data_root: str,
    img_dir: str = OTB_IMG_DIR,
    ann_name: str = OTB_ANN_NAME,
) -> List[str]:
    """Sequence folders of an OTB-style root, sorted (the rule of
    :class:`~mmusot.datasets.OTBFolderDataset`: a sub-folder with a frame
    folder or a ground-truth file).

    Args:
        data_root (str): the folder.
        img_dir (str): frame folder name. Defaults to 'img'.
        ann_name (str): ground-truth file name. Defaults to
            'groundtruth_rect.txt'.

    Returns:
        list[str]: sequence names.

    Raises:
        FileNotFoundError: ``data_root`` does not exist.
    """
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'sequence folder not found: {data_root}')
    return [
        name
        for name in sorted(os.listdir(data_root))
        if osp.isdir(osp.join(data_root, name, img_dir))
        or osp.isfile(osp.join(data_root, name, ann_name))
    ]


def load_sequences(
    data_root: str,
    sequences: Optional[Sequence[str]] = None,
    max_frames: Optional[int] = None,
) -> List[SequenceInfo]:
    """Read an OTB-style folder with :class:`OTBFolderDataset`.

    Args:
        data_root (str): folder of ``<Seq>/img/*`` + ``<Seq>/
            groundtruth_rect.txt`` sequences.
        sequences (Sequence[str], optional): names to use, in order.
            Defaults to all (sorted).
        max_frames (int, optional): first frames only. Defaults to all.

    Returns:
        list[SequenceInfo]: in dataset order.

    Raises:
        FileNotFoundError / ValueError: from the dataset, naming the
            sequence and the problem.
    """
    from mmusot.datasets.otb_folder_dataset import OTBFolderDataset

    dataset = OTBFolderDataset(
        data_root=data_root,
        data_prefix=dict(img_path=''),
        sequences=sequences,
        max_frames=max_frames,
        pipeline=[],
        test_mode=True,
        serialize_data=False,
    )
    infos = []
    for video_idx in range(dataset.num_videos):
        img_infos = dataset.get_img_infos_from_video(video_idx)
        video_path = dataset.get_data_info(video_idx)['video_path']
        name = osp.normpath(video_path).split(os.sep)[0]
        samples = [
            dataset.prepare_test_data(video_idx, frame_idx)
            for frame_idx in range(img_infos['video_length'])
        ]
        infos.append(
            SequenceInfo(
                name=name,
                img_paths=list(img_infos['img_paths']),
                gt_xywh=dataset.get_bboxes_from_video(video_idx),
                samples=samples,
            )
        )
    return infos


# ------------------------------------------------------------ result files
def write_track_results(path: str, boxes: np.ndarray) -> None:
    """Write one ``x,y,w,h`` line per frame (4 decimals, as SOTMetric).

    Args:
        path (str): the ``<sequence>.txt`` file (folders are created).
        boxes (np.ndarray): of shape (N, 4), ``[x, y, w, h]``.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        for box in boxes:
            f.write(','.join(f'{v:.{RESULT_DECIMALS}f}' for v in box) + '\n')
    os.replace(tmp, path)


def read_track_results(path: str) -> np.ndarray:
    """Read an OTB result file (commas, spaces or tabs between values).

    Args:
        path (str): the ``<sequence>.txt`` file.

    Returns:
        np.ndarray: of shape (N, 4), float64, ``[x, y, w, h]``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a malformed line (naming file and line).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'result file not found: {path}')
    return parse_groundtruth(path, osp.splitext(osp.basename(path))[0])


def read_result_folder(
    folder: str, sequences: Sequence[SequenceInfo]
) -> Dict[str, np.ndarray]:
    """Read ``<folder>/<sequence>.txt`` for every sequence.

    Args:
        folder (str): a tracker's result folder.
        sequences (Sequence[SequenceInfo]): the sequences to read.

    Returns:
        dict[str, np.ndarray]: sequence name → (N, 4) ``[x, y, w, h]``.

    Raises:
        FileNotFoundError: naming the missing files.
    """
    missing = [
        s.name
        for s in sequences
        if not osp.isfile(osp.join(folder, f'{s.name}.txt'))
    ]
    if missing:
        raise FileNotFoundError(
            f'{folder}: no result file for sequence(s) {missing} '
            '(expected <sequence>.txt)'
        )
    return {
        s.name: read_track_results(osp.join(folder, f'{s.name}.txt'))
        for s in sequences
    }


# --------------------------------------------------------------- scoring
@dataclasses.dataclass
class OPEResult:
    """OPE scores of one tracker (all numbers in percent, as mmtrack).

    Args:
        name (str): tracker name.
        success (float): success AUC (mean over 21 IoU thresholds and
            sequences).
        precision (float): precision at 20 px.
        norm_precision (float): normalised precision at 0.2.
        success_curve (np.ndarray): of shape (21,), mean success per IoU
            threshold (``SUCCESS_THRESHOLDS``).
        precision_curve (np.ndarray): of shape (51,), mean precision per
            pixel threshold (``PRECISION_THRESHOLDS``).
        norm_precision_curve (np.ndarray): of shape (51,).
        per_sequence (dict[str, dict[str, float]]): sequence →
            ``success``, ``precision``, ``norm_precision``.
        num_frames (int): frames evaluated.
        fps (float, optional): tracking speed, when measured.
    """

    name: str
    success: float
    precision: float
    norm_precision: float
    success_curve: np.ndarray
    precision_curve: np.ndarray
    norm_precision_curve: np.ndarray
    per_sequence: Dict[str, Dict[str, float]]
    num_frames: int
    fps: Optional[float] = None


def _metric_samples(
    info: SequenceInfo, boxes_xywh: np.ndarray, ori_shape
) -> List[dict]:
    """What the test loop hands to ``SOTMetric.process`` for a sequence."""
    import torch

    boxes = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    xyxy = np.concatenate((boxes[:, :2], boxes[:, :2] + boxes[:, 2:]), 1)
    preds = torch.from_numpy(xyxy.astype(np.float32))
    samples = []
    for sample, pred in zip(info.samples, preds):
        sample = dict(sample)
        sample['ori_shape'] = ori_shape
        sample['pred_track_instances'] = dict(bboxes=pred[None])
        samples.append(sample)
    return samples


def evaluate_ope(
    predictions: Mapping[str, np.ndarray],
    sequences: Sequence[SequenceInfo],
    name: str = 'tracker',
    only_eval_visible: bool = False,
    fps: Optional[float] = None,
) -> OPEResult:
    """Score per-sequence boxes with mmtrack's ``SOTMetric`` (OPE).

    Args:
        predictions (Mapping[str, np.ndarray]): sequence name → (M, 4)
            ``[x, y, w, h]`` boxes, M >= the sequence length (OPE trackers
            are causal: the first N boxes of a longer run are what the
            tracker gives on N frames). The first box should be the
            first-frame ground truth (OPE).
        sequences (Sequence[SequenceInfo]): from :func:`load_sequences`.
        name (str): tracker name. Defaults to 'tracker'.
        only_eval_visible (bool): ``SOTMetric``'s option (LaSOT style).
            Defaults to False (OTB).
        fps (float, optional): stored in the result.

    Returns:
        OPEResult: mmtrack's numbers and curves.

    Raises:
        KeyError: a sequence has no prediction.
        ValueError: a prediction is shorter than its sequence.
    """
    import cv2
    from mmtrack.evaluation import SOTMetric
    from mmtrack.evaluation.functional import eval_sot_ope

    if not sequences:
        raise ValueError('no sequence to evaluate')
    metric = SOTMetric(
        metric='OPE',
        metric_options=dict(only_eval_visible=only_eval_visible),
    )
    for info in sequences:
        if info.name not in predictions:
            raise KeyError(f'{name}: no result for sequence {info.name!r}')
        boxes = np.asarray(predictions[info.name]).reshape(-1, 4)
        if len(boxes) < len(info):
            raise ValueError(
                f'{name}: sequence {info.name!r} has {len(info)} frames but '
                f'only {len(boxes)} result boxes'
            )
        first = cv2.imread(info.img_paths[0], cv2.IMREAD_UNCHANGED)
        shape = first.shape[:2] if first is not None else (0, 0)
        metric.process({}, _metric_samples(info, boxes[: len(info)], shape))
    scores = metric.compute_metrics(metric.results)
    preds = [r['pred_bboxes'] for r in metric.results]
    gts = [r['gt_bboxes'] for r in metric.results]
    visible = (
        [r['visible'] for r in metric.results] if only_eval_visible else None
    )
    curves = eval_sot_ope(preds, gts, visible)
    index = REPORTED_THRESHOLD_INDEX
    per_sequence = {
        info.name: dict(
            success=float(np.mean(curves['ori_success'][i])),
            precision=float(curves['ori_precision'][i, index]),
            norm_precision=float(curves['ori_norm_precision'][i, index]),
        )
        for i, info in enumerate(sequences)
    }
    return OPEResult(
        name=name,
        success=float(scores['success']),
        precision=float(scores['precision']),
        norm_precision=float(scores['norm_precision']),
        success_curve=np.mean(curves['ori_success'], axis=0),
        precision_curve=np.mean(curves['ori_precision'], axis=0),
        norm_precision_curve=np.mean(curves['ori_norm_precision'], axis=0),
        per_sequence=per_sequence,
        num_frames=int(sum(len(info) for info in sequences)),
        fps=fps,
    )
