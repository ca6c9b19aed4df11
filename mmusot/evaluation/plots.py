# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Success and precision plots (OTB style) of several trackers.

The curves are :class:`~mmusot.evaluation.OPEResult`'s, i.e. mmtrack's
``eval_sot_ope``: success rate per IoU threshold (legend: the success AUC)
and precision per centre-distance threshold (legend: precision at 20 px).
"""

import os
import os.path as osp
from typing import Optional, Sequence

from .ope import PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS, OPEResult

#: Pixel threshold marked on the precision plot (the reported one).
PRECISION_MARK_PX = 20
#: Figure size in inches (two panels) and resolution.
FIGURE_SIZE = (12.0, 5.0)
FIGURE_DPI = 100


def success_label(result: OPEResult) -> str:
    """Legend entry of the success plot: ``'NAME [AUC]'``."""
    return f'{result.name} [{result.success:.1f}]'


def precision_label(result: OPEResult) -> str:
    """Legend entry of the precision plot: ``'NAME [P@20]'``."""
    return f'{result.name} [{result.precision:.1f}]'


def plot_success_precision(
    results: Sequence[OPEResult],
    out_file: Optional[str] = None,
    title: Optional[str] = None,
):
    """Draw the success and precision plots side by side.

    Trackers are listed best first in each legend (by success AUC, by
    precision@20).

    Args:
        results (Sequence[OPEResult]): one per tracker.
        out_file (str, optional): PNG to write (folders are created).
            Defaults to None (not saved).
        title (str, optional): figure title, e.g. the benchmark name.

    Returns:
        matplotlib.figure.Figure: the figure; ``axes[0]`` is the success
        plot, ``axes[1]`` the precision plot. Close it with
        ``matplotlib.pyplot.close(fig)``.

    Raises:
        ValueError: no result given.
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if not results:
        raise ValueError('no tracker result to plot')
    fig, (ax_s, ax_p) = plt.subplots(1, 2, figsize=FIGURE_SIZE)
    for result in sorted(results, key=lambda r: -r.success):
        ax_s.plot(
            SUCCESS_THRESHOLDS,
            result.success_curve / 100.0,
            label=success_label(result),
        )
    for result in sorted(results, key=lambda r: -r.precision):
        ax_p.plot(
            PRECISION_THRESHOLDS,
            result.precision_curve / 100.0,
            label=precision_label(result),
        )
    ax_s.set(
        title='Success plot of OPE',
        xlabel='Overlap threshold',
        ylabel='Success rate',
        xlim=(0, 1),
        ylim=(0, 1.02),
    )
    ax_p.set(
        title='Precision plot of OPE',
        xlabel='Location error threshold (pixels)',
        ylabel='Precision',
        xlim=(0, PRECISION_THRESHOLDS[-1]),
        ylim=(0, 1.02),
    )
    ax_p.axvline(PRECISION_MARK_PX, color='grey', linestyle=':', lw=1)
    ax_s.legend(loc='lower left', title='AUC')
    ax_p.legend(loc='lower right', title=f'P@{PRECISION_MARK_PX}')
    for ax in (ax_s, ax_p):
        ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if out_file is not None:
        os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
        fig.savefig(out_file, dpi=FIGURE_DPI)
    return fig
