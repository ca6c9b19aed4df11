# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""mmusot trackers behind the ``got10k`` toolkit's ``Tracker`` interface.

The GOT-10k toolkit (``got10k`` 0.1.3, PyPI) runs a tracker through
``got10k.trackers.Tracker``: ``init(image, box)`` and ``update(image) ->
box``, images as RGB PIL images and boxes ``[x, y, w, h]``.
``ExperimentGOT10k(root, subset).run(tracker)`` writes
``<result_dir>/GOT-10k/<name>/<seq>/<seq>_001.txt`` (one ``x,y,w,h`` line
per frame) and ``<seq>_time.txt`` (seconds per frame), the files the
GOT-10k server takes (``report`` zips them for the test subset) and the
toolkit scores locally for the val subset (average overlap AO, success
rate SR at IoU 0.5).

:class:`GOT10kTracker` wraps any object with mmusot's tracking interface
(:class:`mmusot.apis.Tracker` for every mmtrack SOT model,
:class:`mmusot.apis.OpenCVTracker`): frames are handed over as (H, W, 3)
uint8 BGR, as ``cv2.imread`` gives them. The toolkit decodes JPEG frames
with PIL, whose decoder may differ from OpenCV's by a grey level here and
there, so boxes can differ slightly from a run on ``cv2.imread`` frames.

The toolkit downloads GOT-10k when ``<root>/<subset>/list.txt`` is
missing: to run offline, lay local sequences out as it expects with
:func:`mmusot.toolkits.otb_to_got10k`.
"""

from typing import Optional

import numpy as np

from ..tracking import INIT_SCORE

try:  # the optional extra: pip install 'mmusot[got10k]'
    from got10k.trackers import Tracker as _ToolkitTracker
except ImportError:  # pragma: no cover - depends on the environment
    _ToolkitTracker = None

#: How to install the toolkit.
INSTALL_HINT = (
    "the GOT-10k toolkit is not installed: pip install 'got10k==0.1.3' "
    "(mmusot's optional extra 'got10k')"
)
#: GOT-10k's protocol: a tracker that gives the same boxes on every run
#: is run once per sequence instead of 3 times.
DETERMINISTIC = True


def got10k_available() -> bool:
    """bool: whether the ``got10k`` toolkit can be imported."""
    return _ToolkitTracker is not None


def pil_to_bgr(image) -> np.ndarray:
    """A PIL image (or an RGB array) as an (H, W, 3) uint8 BGR array.

    Args:
        image (PIL.Image.Image | np.ndarray): RGB (the toolkit converts
            every frame to RGB), grey or RGBA.

    Returns:
        np.ndarray: of shape (H, W, 3), uint8, C-contiguous.
    """
    if hasattr(image, 'mode') and image.mode != 'RGB':
        image = image.convert('RGB')
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    return np.ascontiguousarray(array[..., 2::-1])


_Base = _ToolkitTracker if _ToolkitTracker is not None else object


class GOT10kTracker(_Base):
    """A ``got10k.trackers.Tracker`` that runs an mmusot tracker.

    Example::

        from got10k.experiments import ExperimentGOT10k
        tracker = GOT10kTracker.from_config(
            'configs/usot/usot_r50_test-got10k.py', 'usot.pth',
            name='USOT')
        experiment = ExperimentGOT10k('data/GOT10k', subset='val')
        experiment.run(tracker)
        experiment.report([tracker.name])

    Args:
        tracker: an object with ``init(frame, box)`` and ``track(frame) ->
            (box, score)`` (frames (H, W, 3) uint8 BGR, boxes ``[x, y, w,
            h]``), e.g. :class:`mmusot.apis.Tracker`.
        name (str): the result folder name (``<result_dir>/GOT-10k/
            <name>``). Defaults to 'mmusot'.
        is_deterministic (bool): whether one run per sequence is enough
            (true for USOT and the other Siamese trackers). Defaults to
            True.

    Attributes:
        scores (list[float]): the tracker's scores on the frames of the
            current sequence (-1 on the first frame).

    Raises:
        ImportError: the ``got10k`` toolkit is not installed.
    """

    def __init__(
        self,
        tracker,
        name: str = 'mmusot',
        is_deterministic: bool = DETERMINISTIC,
    ) -> None:
        if _ToolkitTracker is None:
            raise ImportError(INSTALL_HINT)
        super().__init__(name=name, is_deterministic=is_deterministic)
        self.tracker = tracker
        self.scores = []

    @classmethod
    def from_config(
        cls,
        config,
        checkpoint: Optional[str] = None,
        device='cpu',
        cfg_options: Optional[dict] = None,
        name: str = 'mmusot',
    ) -> 'GOT10kTracker':
        """Build an mmtrack SOT model (:func:`mmusot.apis.build_tracker`)
        and wrap it.

        Args:
            config (str | Config): config file, ``package::path`` name or
                ``Config``.
            checkpoint (str, optional): the weights. Defaults to None.
            device (str | torch.device): Defaults to 'cpu'.
            cfg_options (dict, optional): config overrides.
            name (str): the result folder name. Defaults to 'mmusot'.

        Returns:
            GOT10kTracker: ready for ``ExperimentGOT10k.run``.
        """
        if _ToolkitTracker is None:
            raise ImportError(INSTALL_HINT)
        from mmusot.apis import Tracker

        return cls(
            Tracker.from_config(config, checkpoint, device, cfg_options),
            name=name,
        )

    def init(self, image, box) -> None:
        """Start on ``box`` (``[x, y, w, h]``) in ``image`` (PIL RGB)."""
        self.tracker.init(pil_to_bgr(image), np.asarray(box, np.float64))
        score = getattr(self.tracker, 'score', None)
        self.scores = [INIT_SCORE if score is None else float(score)]

    def update(self, image) -> np.ndarray:
        """Locate the target in the next image.

        Returns:
            np.ndarray: of shape (4,), float64, ``[x, y, w, h]``.
        """
        box, score = self.tracker.track(pil_to_bgr(image))
        self.scores.append(float(score))
        return np.asarray(box, dtype=np.float64).reshape(4)
