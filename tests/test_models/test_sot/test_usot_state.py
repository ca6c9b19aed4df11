# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOTTrackState: the per-target state and its torch-free arithmetic.

* the post-processing (:mod:`mmusot.tracking`) imports without torch and
  runs a frame on numpy arrays;
* on network outputs recorded from the real USOT (random weights), the
  numpy float32 path picks the same cell and moves the state as the
  torch path does, up to float rounding;
* several states go through one batched network call, no state on the
  model.
"""

import subprocess
import sys

import numpy as np
import pytest
import torch

from mmusot.tracking import USOTTestConfig, USOTTrackState, cosine_window
from tests.test_models.test_sot.test_usot_tracking import (
    make_sample,
    textured_frame,
    usot_model,  # noqa: F401  (fixture)
)

TORCH_FREE_SCRIPT = """
import sys
sys.modules['torch'] = None  # any import of torch now fails
sys.modules['mmtrack'] = None
import numpy as np
from mmusot.tracking import USOTTestConfig, USOTTrackState
state = USOTTrackState.start(
    USOTTestConfig(), np.array([60.0, 50.0, 20.0, 16.0], np.float32),
    (120, 160))
s_z, z_box, s_x, x_boxes = state.init_windows()
axis = (np.arange(5) * 8 + 31).astype(np.float32)
state.set_response(5, axis, (23.0, 71.0))
s_x, scale_z = state.search_window()
logits = np.zeros((1, 1, 5, 5), np.float32)
reg = np.full((1, 4, 5, 5), 8.0, np.float32)
best = state.select(logits, logits, reg, scale_z)
box = state.advance(best, scale_z, (120, 160))
assert box.shape == (1, 4) and best.indices.tolist() == [12], best
assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]
print('ok')
"""


def test_post_processing_runs_without_torch():
    out = subprocess.run(
        [sys.executable, '-c', TORCH_FREE_SCRIPT],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith('ok')


def test_cosine_window_numpy_equals_torch():
    win = cosine_window(25, np.zeros(1, np.float32))
    assert win.dtype == np.float32
    ref = cosine_window(25, torch.zeros(1))
    np.testing.assert_allclose(win, ref.numpy(), rtol=1e-5, atol=1e-6)


def _record(model, boxes, hw=(240, 320)):
    """Track ``boxes`` with ``model``; per frame, what the state got from
    the network and what it made of it (torch)."""
    records = []
    with torch.no_grad():
        model.predict(
            dict(img=textured_frame(boxes[0], hw)[None, None]),
            [make_sample(0, boxes[0], hw)],
        )
        state = model.memo
        select, advance = state.select, state.advance

        def recording_select(cls_logits, mem_logits, reg, scale_z):
            records.append(
                dict(
                    center=state.center.clone(),
                    size=state.size.clone(),
                    inputs=(cls_logits, mem_logits, reg, scale_z),
                )
            )
            best = select(cls_logits, mem_logits, reg, scale_z)
            records[-1]['best'] = best
            return best

        def recording_advance(best, scale_z, frame_hw):
            out = advance(best, scale_z, frame_hw)
            records[-1].update(
                out=out, new_center=state.center, new_size=state.size
            )
            return out

        state.select, state.advance = recording_select, recording_advance
        for frame_id, box in enumerate(boxes[1:], start=1):
            model.predict(
                dict(img=textured_frame(box, hw, seed=frame_id)[None, None]),
                [make_sample(frame_id, box, hw)],
            )
    return state, records


@pytest.mark.parametrize('size_smoothing', ['double', 'single'])
def test_numpy_post_processing_matches_torch_on_network_outputs(
    usot_model,  # noqa: F811
    size_smoothing,
):
    boxes = [
        (100 + 6 * t, 80 + 3 * t, 160 + 6 * t, 150 + 2 * t) for t in range(6)
    ]
    saved = dict(usot_model.test_cfg)
    usot_model.test_cfg.update(size_smoothing=size_smoothing)
    try:
        torch_state, records = _record(usot_model, boxes)
    finally:
        usot_model.test_cfg.clear()
        usot_model.test_cfg.update(saved)
    assert len(records) == len(boxes) - 1
    assert torch_state.cfg.size_smoothing == size_smoothing

    def as_numpy(x):
        return x.detach().cpu().numpy()

    for rec in records:
        state = USOTTrackState(
            cfg=torch_state.cfg,
            center=as_numpy(rec['center']),
            size=as_numpy(rec['size']),
            instance_size=torch_state.instance_size,
        )
        state.set_response(
            torch_state.score_size,
            as_numpy(torch_state.response_axis),
            torch_state.memory_clamp,
        )
        inputs = [as_numpy(x) for x in rec['inputs']]
        best = state.select(*inputs)
        out = state.advance(best, inputs[3], (240, 320))
        assert best.indices.tolist() == rec['best'].indices.tolist()
        for name in ('bboxes', 'scores', 'penalties'):
            np.testing.assert_allclose(
                getattr(best, name),
                as_numpy(getattr(rec['best'], name)),
                rtol=1e-5,
                atol=1e-4,
            )
        assert out.dtype == np.float32 and state.center.dtype == np.float32
        np.testing.assert_allclose(out, as_numpy(rec['out']), atol=1e-3)
        np.testing.assert_allclose(
            state.center, as_numpy(rec['new_center']), atol=1e-3
        )
        np.testing.assert_allclose(
            state.size, as_numpy(rec['new_size']), atol=1e-3
        )


def test_states_batch_through_one_network_call(usot_model):  # noqa: F811
    """``track_states``: K states, one backbone pass, no model state."""
    hw = (240, 320)
    boxes = [(100, 80, 160, 150), (40, 30, 90, 100)]
    frame = textured_frame(boxes[0], hw)[None]
    cfg = USOTTestConfig()
    with torch.no_grad():
        states = [
            usot_model.init_state(
                frame,
                torch.tensor([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]),
                cfg,
            )
            for x1, y1, x2, y2 in boxes
        ]
        solo = [
            usot_model.init_state(frame, torch.tensor([130.0, 115, 60, 70]))
        ]
        if hasattr(usot_model, 'memo'):
            del usot_model.memo
        calls = []
        hook = usot_model.backbone.register_forward_hook(
            lambda module, args, out: calls.append(args[0].shape[0])
        )
        try:
            nxt = textured_frame(boxes[0], hw, seed=1)[None]
            results = usot_model.track_states(nxt, states)
            single = usot_model.track_states(nxt, solo)
        finally:
            hook.remove()
    assert calls == [2, 1]
    assert not hasattr(usot_model, 'memo')
    assert [s.memory.num_history for s in states] == [2, 2]
    assert [s.frame_id for s in states] == [0, 0]  # the caller's to move
    torch.testing.assert_close(
        results[0].bboxes, single[0].bboxes, atol=1e-3, rtol=0
    )
    # the deprecated mmusot 0.1 entry point still works
    samples = [make_sample(1, box, hw) for box in boxes]
    with pytest.deprecated_call(), torch.no_grad():
        old = usot_model.track_batch(dict(img=nxt[None]), samples, states)
    assert len(old) == 2 and [s.frame_id for s in states] == [1, 1]
