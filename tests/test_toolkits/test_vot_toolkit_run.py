# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The VOT toolkit recipe end to end (tools/vot/README.md), offline.

``vot initialize`` on the shipped stack (``tools/vot/sot_eval_stack.yaml``)
over a workspace laid out by ``mmusot-otb-to-vot``, ``vot evaluate`` of a
tracker registered by ``mmusot-vot-trax --print-trackers-ini`` (an OpenCV
MIL tracker: it starts in seconds), ``vot analysis``, and the scores read
back by ``mmusot-vot-summary``. The square jumps away once, so the
supervised experiment (mmusot's fix of the toolkit's) must mark a failure
there and re-initialise 5 frames later, as VOT's protocol says.

Skips when the optional extra (``vot-toolkit``) is not installed.
"""

import io
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from mmusot.cli import otb_to_vot, vot_summary, vot_trax
from tests.fixtures import REPO
from tests.test_apis.tiny_models import write_otb_sequence

STACK = REPO / 'tools' / 'vot' / 'sot_eval_stack.yaml'
#: The square moves 2 px a frame, then jumps away on this frame.
JUMP_FRAME = 14
NUM_FRAMES = 24
#: VOT's re-initialisation delay (``skip_initialize`` in the stack).
SKIP_INITIALIZE = 5


def jumping_square():
    """Frames (H, W, 3) uint8 BGR and [x, y, w, h] boxes: a checkered
    square drifting right, then jumping to the far corner."""
    rng = np.random.default_rng(0)
    background = rng.integers(40, 110, (120, 200, 3), dtype=np.uint8)
    side = 24
    yy, xx = np.mgrid[:side, :side]
    pattern = np.where(((yy // 6) + (xx // 6)) % 2 == 0, 235, 15)
    frames, boxes = [], []
    for i in range(NUM_FRAMES):
        x, y = (20 + 2 * i, 20) if i < JUMP_FRAME else (150, 80)
        frame = background.copy()
        frame[y : y + side, x : x + side] = pattern[..., None]
        frames.append(frame)
        boxes.append([x, y, side, side])
    return frames, np.array(boxes, dtype=np.float64)


def _run(command, cwd):
    result = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_vot_evaluate_and_analysis_on_a_local_workspace(tmp_path):
    pytest.importorskip('vot.experiment')
    vot = Path(sys.executable).parent / 'vot'
    if not vot.is_file():
        pytest.skip(f'the vot command is not beside {sys.executable}')
    from vot.region import Rectangle, Special
    from vot.tracker import Trajectory
    from vot.tracker.results import Results
    from vot.workspace.storage import LocalStorage

    frames, truth = jumping_square()
    write_otb_sequence(tmp_path / 'otb', 'jump', frames, truth)
    workspace = tmp_path / 'ws'
    # (in this process: each command would import mmtrack again)
    assert otb_to_vot.main([str(tmp_path / 'otb'), str(workspace)]) == 0
    with (
        open(workspace / 'trackers.ini', 'w') as handle,
        redirect_stdout(handle),
    ):
        assert (
            vot_trax.main(['--opencv', 'MIL', '--print-trackers-ini', 'MIL'])
            == 0
        )
    _run([vot, 'initialize', STACK, '--workspace', workspace], tmp_path)
    out = _run([vot, 'evaluate', '--workspace', workspace, 'MIL'], tmp_path)
    assert 'Evaluation concluded' in out
    _run(
        [vot, 'analysis', '--workspace', workspace, '--name', 'run', 'MIL'],
        tmp_path,
    )

    # the supervised run: failure at the jump, re-initialised 5 frames on
    storage = LocalStorage(str(workspace / 'results' / 'MIL' / 'baseline'))
    trajectory = Trajectory.read(
        Results(storage.substorage('jump')), 'jump_001'
    )
    codes = {
        i: trajectory.region(i).code
        for i in range(NUM_FRAMES)
        if isinstance(trajectory.region(i), Special)
    }
    restart = JUMP_FRAME + SKIP_INITIALIZE
    skipped = range(JUMP_FRAME + 1, restart)
    assert codes == {
        0: Trajectory.INITIALIZATION,
        JUMP_FRAME: Trajectory.FAILURE,
        **{i: Trajectory.UNKNOWN for i in skipped},
        restart: Trajectory.INITIALIZATION,
    }
    for i in list(range(1, JUMP_FRAME)) + list(range(restart + 1, NUM_FRAMES)):
        assert isinstance(trajectory.region(i), Rectangle), i

    output = io.StringIO()
    with redirect_stdout(output):
        assert (
            vot_summary.main([str(workspace / 'analysis' / 'run.json')]) == 0
        )
    summary = output.getvalue()
    header, _, row = summary.strip().splitlines()
    columns = [c.strip() for c in header.strip('|').split('|')]
    values = [c.strip() for c in row.strip('|').split('|')]
    scores = dict(zip(columns[1:], map(float, values[1:])))
    assert values[0] == 'MIL'
    assert set(scores) == {
        'baseline.A',
        'baseline.R',
        'baseline.EAO',
        'unsupervised.accuracy',
    }
    # one failure; accuracy over the tracked frames after the burn-in
    # (10 frames) is good; the unsupervised run (no reset) is lost after
    # the jump
    assert scores['baseline.A'] > 0.5
    assert scores['baseline.R'] > 0
    assert scores['unsupervised.accuracy'] < scores['baseline.A']
