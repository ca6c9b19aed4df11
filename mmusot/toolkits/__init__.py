# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""mmusot under the field's own evaluation clients.

* :mod:`.vot_trax`: a TraX tracker server, so the VOT toolkit (``vot
  evaluate``) runs any mmusot tracker (optional extra ``vot``:
  ``vot-trax``, ``vot-toolkit``);
* :mod:`.got10k_tracker`: a ``got10k.trackers.Tracker`` adapter for the
  GOT-10k toolkit's experiments (optional extra ``got10k``);
* :mod:`.layouts`: OTB-style folders written as a VOT workspace's
  sequences or as a GOT-10k subset, to run both toolkits offline;
* :mod:`.vot_experiments`: VOT's supervised (reset) experiment for
  single-object TraX trackers, which vot-toolkit 0.9.0's own fails to
  run (named by class in a stack file; needs the toolkit, so it is not
  imported here);
* :mod:`.vot_summary`: the named scores of a ``vot analysis`` file.

The toolkits are imported only when used: this package imports without
them.
"""

from .got10k_tracker import GOT10kTracker, got10k_available, pil_to_bgr
from .layouts import got10k_labels, otb_to_got10k, otb_to_vot, read_polygons
from .vot_summary import vot_analysis_scores
from .vot_trax import (
    TraxInputError,
    TraxTrackerServer,
    image_to_bgr,
    isolate_protocol_streams,
    polygon_to_xywh,
    region_to_xywh,
    serve,
    trackers_ini_entry,
)

__all__ = [
    'GOT10kTracker',
    'got10k_available',
    'pil_to_bgr',
    'got10k_labels',
    'otb_to_got10k',
    'otb_to_vot',
    'read_polygons',
    'TraxInputError',
    'TraxTrackerServer',
    'image_to_bgr',
    'isolate_protocol_streams',
    'polygon_to_xywh',
    'region_to_xywh',
    'serve',
    'trackers_ini_entry',
    'vot_analysis_scores',
]
