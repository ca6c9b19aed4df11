# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The scalar scores of a ``vot analysis`` JSON file, with their names.

``vot analysis --format json`` writes, per experiment, each analysis's
results as unnamed arrays (one per tracker). Their names come from the
analyses' own ``describe()`` (e.g. the supervised AR analysis gives
accuracy "A", robustness "R", an AR point and a placeholder):
:func:`vot_analysis_scores` pairs them up and keeps the numbers, the
values ``vot report`` puts in its table.
"""

import json
from typing import Dict, List


def _measure_names(analysis: dict, count: int) -> List[str]:
    """The toolkit's names of an analysis's results (``describe()``).

    Args:
        analysis (dict): the analysis's stored parameters, with ``type``.
        count (int): the number of results.
    """
    from vot.analysis import Measure
    from vot.utilities import import_class

    parameters = {k: v for k, v in analysis.items() if k != 'type'}
    described = (None,) * count
    # Some analyses need their parameters (EAO: its interval), some do
    # not take all of their stored ones back.
    for kwargs in (parameters, {}):
        try:
            described = import_class(analysis['type'])(**kwargs).describe()
            break
        except Exception:  # an analysis the toolkit cannot build here
            continue
    names = []
    for index, item in enumerate(described):
        is_measure = isinstance(item, Measure)
        names.append((item.abbreviation or item.name) if is_measure else None)
        if index + 1 == count:
            break
    return names + [None] * (count - len(names))


def vot_analysis_scores(path: str) -> Dict[str, Dict[str, float]]:
    """Scalar scores of a ``vot analysis`` JSON file.

    Args:
        path (str): ``<workspace>/analysis/<name>.json``.

    Returns:
        dict: tracker reference -> ``'<experiment>.<measure>'`` -> value,
        e.g. ``{'USOT': {'baseline.A': 0.30, 'baseline.R': 0.77,
        'baseline.EAO': 0.13, 'unsupervised.accuracy': 0.26}}``. An
        analysis with a ``name`` in the stack uses it for its single
        measure.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a ``vot analysis`` JSON file.
    """
    with open(path, encoding='utf-8') as handle:
        doc = json.load(handle)
    if 'results' not in doc or 'trackers' not in doc:
        raise ValueError(f'{path}: not a `vot analysis` JSON file')
    trackers = list(doc['trackers'])
    scores: Dict[str, Dict[str, float]] = {t: {} for t in trackers}
    for experiment, entry in doc['results'].items():
        analyses = entry['parameters'].get('analyses', [])
        for analysis, per_tracker in zip(analyses, entry['results']):
            for tracker, values in zip(trackers, per_tracker):
                values = list(values)
                names = _measure_names(analysis, len(values))
                measures = [
                    (name, value)
                    for name, value in zip(names, values)
                    if name is not None and isinstance(value, (int, float))
                ]
                if analysis.get('name') and len(measures) == 1:
                    measures = [(analysis['name'], measures[0][1])]
                for name, value in measures:
                    scores[tracker][f'{experiment}.{name}'] = float(value)
    return scores
