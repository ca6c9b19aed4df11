# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Results tables: Markdown for READMEs and reports, CSV for scripts."""

import csv
import math
import numbers
import os
import os.path as osp
from typing import Any, Dict, List, Mapping, Optional, Sequence

from .ope import OPEResult

#: Columns of :func:`ope_rows` tables and their headers.
OPE_COLUMNS = (
    ('tracker', 'Tracker'),
    ('success', 'Success AUC'),
    ('precision', 'Precision@20'),
    ('norm_precision', 'Norm. precision'),
    ('fps', 'FPS'),
    ('frames', 'Frames'),
)
#: Decimals of floats in Markdown tables.
DEFAULT_DECIMALS = 1
#: What a missing value looks like in a Markdown table.
MISSING = '-'


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _format(value: Any, decimals: int) -> str:
    if value is None:
        return MISSING
    if _is_number(value) and not isinstance(value, numbers.Integral):
        if math.isnan(float(value)):
            return MISSING
        return f'{float(value):.{decimals}f}'
    return str(value).replace('|', '\\|').replace('\n', ' ')


def markdown_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Optional[Sequence[str]] = None,
    headers: Optional[Mapping[str, str]] = None,
    decimals: int = DEFAULT_DECIMALS,
) -> str:
    """A GitHub-flavoured Markdown table.

    Args:
        rows (Sequence[Mapping]): one dict per row.
        columns (Sequence[str], optional): keys to show, in order.
            Defaults to the keys of all rows, in first-seen order.
        headers (Mapping[str, str], optional): column key → header text.
            Defaults to the keys.
        decimals (int): decimals of floats. Defaults to 1.

    Returns:
        str: the table, one line per row, ending with a newline. Text
        columns are left-aligned, numeric ones (numbers or missing values)
        right-aligned; missing values show as ``-``.
    """
    columns = list(columns) if columns is not None else _keys(rows)
    headers = dict(headers or {})
    cells = [[_format(row.get(c), decimals) for c in columns] for row in rows]
    numeric = [
        all(row.get(c) is None or _is_number(row.get(c)) for row in rows)
        for c in columns
    ]
    lines = [
        '| ' + ' | '.join(str(headers.get(c, c)) for c in columns) + ' |',
        '|' + '|'.join('---:' if num else ':---' for num in numeric) + '|',
    ]
    lines += ['| ' + ' | '.join(row) + ' |' for row in cells]
    return '\n'.join(lines) + '\n'


def _keys(rows: Sequence[Mapping[str, Any]]) -> List[str]:
    keys: Dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return list(keys)


def write_csv(
    path: str,
    rows: Sequence[Mapping[str, Any]],
    columns: Optional[Sequence[str]] = None,
) -> None:
    """Write rows as CSV (full float precision, empty for missing).

    Args:
        path (str): the file (folders are created).
        rows (Sequence[Mapping]): one dict per row.
        columns (Sequence[str], optional): keys, in order. Defaults to the
            keys of all rows.
    """
    columns = list(columns) if columns is not None else _keys(rows)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction='ignore')
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {c: '' if row.get(c) is None else row.get(c) for c in columns}
            )


def write_markdown(path: str, text: str) -> None:
    """Write a Markdown document (folders are created)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def ope_rows(results: Sequence[OPEResult]) -> List[Dict[str, Any]]:
    """Rows of an OPE results table, best success AUC first.

    Args:
        results (Sequence[OPEResult]): one per tracker.

    Returns:
        list[dict]: keys of ``OPE_COLUMNS``.
    """
    return [
        dict(
            tracker=r.name,
            success=r.success,
            precision=r.precision,
            norm_precision=r.norm_precision,
            fps=r.fps,
            frames=r.num_frames,
        )
        for r in sorted(results, key=lambda r: -r.success)
    ]


def ope_markdown_table(
    results: Sequence[OPEResult], decimals: int = DEFAULT_DECIMALS
) -> str:
    """Markdown table of OPE results (Tracker, Success AUC, Precision@20,
    Norm. precision, FPS, Frames), best success AUC first."""
    return markdown_table(
        ope_rows(results),
        [key for key, _ in OPE_COLUMNS],
        dict(OPE_COLUMNS),
        decimals,
    )


def per_sequence_markdown_table(
    results: Sequence[OPEResult], decimals: int = DEFAULT_DECIMALS
) -> str:
    """Markdown table of success AUC / precision@20 per sequence.

    One row per sequence (in the results' order) and
    one column per tracker (as in :func:`ope_markdown_table`, best success
    AUC first), each cell ``AUC / precision``: where a pooled score hides a
    tracker that wins most sequences but loses the long ones.

    Args:
        results (Sequence[OPEResult]): one per tracker, on the same
            sequences.
        decimals (int): decimals of the scores. Defaults to 1.

    Returns:
        str: the table (ends with a newline).
    """
    ordered = sorted(results, key=lambda r: -r.success)
    if not ordered:
        return ''
    names = list(ordered[0].per_sequence)
    rows = []
    for name in names:
        row: Dict[str, Any] = {'sequence': name}
        for result in ordered:
            scores = result.per_sequence.get(name)
            row[result.name] = (
                None
                if scores is None
                else f'{_format(scores["success"], decimals)} / '
                f'{_format(scores["precision"], decimals)}'
            )
        rows.append(row)
    columns = ['sequence'] + [r.name for r in ordered]
    headers = {'sequence': 'Sequence (AUC / prec.@20)'}  # others: the names
    return markdown_table(rows, columns, headers, decimals)
