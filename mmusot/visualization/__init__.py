# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Drawing: tracked boxes, pseudo labels, annotated videos, contact sheets.

No torch, mmengine or mmtrack imports (OpenCV and numpy only).
"""

from .drawing import (
    VisualizationError,
    contact_sheet,
    draw_label_check,
    draw_pseudo_label,
    draw_tracking,
    film_strip,
    open_video_writer,
    pseudo_label_videos,
)

__all__ = [
    'VisualizationError',
    'contact_sheet',
    'draw_label_check',
    'draw_pseudo_label',
    'draw_tracking',
    'film_strip',
    'open_video_writer',
    'pseudo_label_videos',
]
