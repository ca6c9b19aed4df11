# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Evaluation conveniences around mmtrack's ``SOTMetric``: OPE scores of
result files, success/precision plots, Markdown and CSV tables."""

from .ope import (
    NORM_PRECISION_THRESHOLDS,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
    OPEResult,
    SequenceInfo,
    evaluate_ope,
    list_sequences,
    load_sequences,
    read_result_folder,
    read_track_results,
    write_track_results,
)
from .plots import plot_success_precision, precision_label, success_label
from .tables import (
    markdown_table,
    ope_markdown_table,
    ope_rows,
    per_sequence_markdown_table,
    write_csv,
    write_markdown,
)

__all__ = [
    'NORM_PRECISION_THRESHOLDS',
    'PRECISION_THRESHOLDS',
    'SUCCESS_THRESHOLDS',
    'OPEResult',
    'SequenceInfo',
    'evaluate_ope',
    'list_sequences',
    'load_sequences',
    'read_result_folder',
    'read_track_results',
    'write_track_results',
    'plot_success_precision',
    'precision_label',
    'success_label',
    'markdown_table',
    'ope_markdown_table',
    'ope_rows',
    'per_sequence_markdown_table',
    'write_csv',
    'write_markdown',
]
