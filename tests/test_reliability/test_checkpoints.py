# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Checkpoints that would give a silently wrong network are refused.

Issue 19, area B: a checkpoint with NaN weights, one of another network,
an empty or damaged file, an absent device, and a demo run shorter than
its weight average: each is an error naming the file (or the config) and
what to do, in the tracker API, the toolkit options, ``tools/test.py`` and
``tools/train.py``. Legitimate checkpoints (EMA-averaged, ``module.``
prefixed, without BN's batch counter) still load.
"""

import os
from pathlib import Path

import pytest
import torch

from tests.script_loader import load_script
from tests.test_apis.tiny_models import (
    moving_square,
    save_init_checkpoint,
    write_otb_sequence,
    write_tiny_usot_config,
)
from tests.test_tools.toy_modules import toy_train_config

pytestmark = pytest.mark.usefixtures('torch_one_thread')

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = str(
    REPO / 'configs/usot/usot_mobilenetv2_1xb8-15e-demo_pseudo-folder.py'
)
#: A narrower head than the tiny tracker's: the checkpoint of a sibling
#: config, every key there but many shapes different.
NARROW_HEAD = {'model.neck.out_channels': 64, 'model.head.in_channels': 64}
POISONED = 'head.cls_pred.weight'


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The tiny USOT test config on a 3-frame OTB folder, its weights."""
    root = tmp_path_factory.mktemp('tiny')
    frames, boxes = moving_square(3)
    write_otb_sequence(root / 'otb', 'square', frames, boxes)
    config = write_tiny_usot_config(root / 'tiny.py', root / 'otb')
    checkpoint = save_init_checkpoint(config, root / 'good.pth', seed=1)
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    return dict(root=root, config=config, checkpoint=checkpoint, state=state)


def save(path: Path, obj) -> str:
    torch.save(obj, path)
    return str(path)


def weights_equal(model, state, prefix=''):
    own = model.state_dict()
    return all(
        torch.equal(own[key[len(prefix) :]], value)
        for key, value in state.items()
        if key.startswith(prefix) and key[len(prefix) :] in own
    )


# ---------------------------------------------------------------- NaN


def test_tracker_refuses_nan_weights_in_the_model_or_its_average(
    tiny, tmp_path
):
    from mmusot.apis import build_tracker
    from mmusot.engine import NonFiniteCheckpointError

    state = dict(tiny['state'])
    state[POISONED] = torch.full_like(state[POISONED], float('nan'))
    bad = save(tmp_path / 'nan.pth', dict(state_dict=state))
    with pytest.raises(NonFiniteCheckpointError) as err:
        build_tracker(tiny['config'], bad)
    message = str(err.value)
    assert bad in message and f'state_dict: {POISONED}' in message
    assert 'NaN or Inf' in message and 'earlier checkpoint' in message

    # An EMA-averaged checkpoint (as EMAHook saves it: the average as
    # state_dict, the last iterate under module.*) loads; an Inf in the
    # last iterate is refused too.
    last = {f'module.{k}': v.clone() for k, v in tiny['state'].items()}
    last['steps'] = torch.tensor(5)
    ema = dict(state_dict=tiny['state'], ema_state_dict=last)
    model = build_tracker(tiny['config'], save(tmp_path / 'ema.pth', ema))
    assert weights_equal(model, tiny['state'])
    last['module.neck.convs.0.bn.running_var'][0] = float('inf')
    bad = save(tmp_path / 'ema_inf.pth', ema)
    with pytest.raises(NonFiniteCheckpointError, match='ema_state_dict: '):
        build_tracker(tiny['config'], bad)


# ----------------------------------------------------------- mismatch


def test_tracker_refuses_a_checkpoint_of_another_network(tiny, tmp_path):
    from mmusot.apis import build_tracker
    from mmusot.engine import CheckpointMismatchError

    # What legitimately differs loads: module. prefixes (DDP), no BN batch
    # counters, mmcv's old ema_* copies, a bare state dict.
    legit = {
        f'module.{k}': v
        for k, v in tiny['state'].items()
        if not k.endswith('num_batches_tracked')
    }
    legit['ema_head_cls_pred_weight'] = torch.zeros(1)
    model = build_tracker(tiny['config'], save(tmp_path / 'legit.pth', legit))
    assert weights_equal(model, legit, 'module.')

    random = save(
        tmp_path / 'random.pth',
        dict(state_dict={'foo.weight': torch.ones(3, 3)}),
    )
    with pytest.raises(CheckpointMismatchError) as err:
        build_tracker(tiny['config'], random)
    message = str(err.value)
    assert random in message and tiny['config'] in message
    assert "354 of the network's 420 weights are not in it" in message
    assert 'backbone.features.0.0.weight' in message
    assert '(and 344 more)' in message
    assert '1 of its 1 weights are not in the network: foo.weight' in message
    assert 'mmusot-convert-checkpoint' in message
    assert '--allow-partial' in message

    sibling = save_init_checkpoint(
        tiny['config'], tmp_path / 'narrow.pth', cfg_options=NARROW_HEAD
    )
    with pytest.raises(CheckpointMismatchError) as err:
        build_tracker(tiny['config'], sibling)
    message = str(err.value)
    assert 'have another shape' in message
    assert 'neck.convs.0.conv.weight: checkpoint (64, 96, 1, 1), model ' in (
        message
    )
    assert 'not in it' not in message

    # Experts may load what fits; the rest keeps the initial values.
    narrow = torch.load(sibling, weights_only=True)['state_dict']
    model = build_tracker(tiny['config'], sibling, allow_partial=True)
    backbone = {k: v for k, v in narrow.items() if k.startswith('backbone.')}
    assert weights_equal(model, backbone)


# ---------------------------------------------------- unreadable files


def test_unreadable_files_say_what_is_wrong_with_them(tmp_path):
    from mmusot.utils import CheckpointLoadError, safe_torch_load

    full = tmp_path / 'full.pth'
    torch.save(dict(state_dict={'w': torch.arange(1000.0)}), full)
    data = full.read_bytes()
    cases = {
        'empty.pth': (b'', 'the file is empty (0 bytes)'),
        'random.pth': (os.urandom(2048), 'not a PyTorch checkpoint'),
        'notes.pth': (b'some text\n', 'not a PyTorch checkpoint'),
        'cut.pth': (data[: len(data) // 2], 'truncated or damaged'),
    }
    for name, (content, reason) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        for trusted in (False, True):
            with pytest.raises(CheckpointLoadError) as err:
                safe_torch_load(str(path), trusted=trusted)
            message = str(err.value)
            assert message.startswith(f'{path}: ') and reason in message
            # not the weights-only hint: trusting would not help
            assert '--trusted' not in message, name


def test_tracker_names_the_empty_checkpoint(tiny, tmp_path):
    from mmusot.apis import build_tracker
    from mmusot.utils import CheckpointLoadError

    empty = tmp_path / 'epoch_3.pth'
    empty.write_bytes(b'')
    with pytest.raises(CheckpointLoadError, match='epoch_3.pth: the file is'):
        build_tracker(tiny['config'], str(empty))


# --------------------------------------------------------------- device


def absent_cuda_device() -> str:
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return f'cuda:{count}'


def test_an_absent_device_is_a_clear_error(tiny):
    from mmusot.apis import DeviceError, build_tracker, check_device
    from mmusot.cli import got10k_eval

    assert check_device('cpu') == torch.device('cpu')
    device = absent_cuda_device()
    with pytest.raises(DeviceError, match=f'--device {device}: ') as err:
        build_tracker(tiny['config'], tiny['checkpoint'], device)
    assert 'cuda' in str(err.value).lower()
    with pytest.raises(DeviceError, match='not a device'):
        check_device('gpu0')
    # the toolkit options refuse it while parsing, with the reason
    with pytest.raises(SystemExit) as exit_:
        got10k_eval.parse_args([tiny['config'], '--device', device])
    assert exit_.value.code == 2


def test_toolkit_options_pass_allow_partial(tiny, tmp_path):
    from mmusot.cli import tracker_args, vot_trax
    from mmusot.engine import CheckpointMismatchError

    sibling = save_init_checkpoint(
        tiny['config'], tmp_path / 'narrow.pth', cfg_options=NARROW_HEAD
    )
    argv = [tiny['config'], '--checkpoint', sibling]
    with pytest.raises(CheckpointMismatchError):
        tracker_args.build(vot_trax.parse_args(argv))
    args = vot_trax.parse_args(argv + ['--allow-partial'])
    assert '--allow-partial' in vot_trax.serve_command(args)
    tracker = tracker_args.build(args)
    assert tracker.model.neck.convs[0].conv.out_channels == 128


# ---------------------------------------------------------- tools/test.py


def test_test_tool_refuses_bad_checkpoints(tiny, tmp_path):
    tool = load_script('tools/test.py')
    state = dict(tiny['state'])
    state[POISONED] = state[POISONED] * float('inf')
    nan = save(tmp_path / 'inf.pth', dict(state_dict=state))
    sibling = save_init_checkpoint(
        tiny['config'], tmp_path / 'narrow.pth', cfg_options=NARROW_HEAD
    )
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    base = ['--work-dir', str(tmp_path / 'work')]
    for checkpoint, reason in (
        (nan, f'state_dict: {POISONED}'),
        (sibling, 'have another shape'),
        (str(empty), 'the file is empty'),
    ):
        with pytest.raises(SystemExit) as exit_:
            tool.main([tiny['config'], checkpoint] + base)
        message = str(exit_.value.code)
        assert message.startswith(f'error: {checkpoint}')
        assert reason in message
    metrics = tool.main([tiny['config'], sibling, '--allow-partial'] + base)
    assert 'sot/success' in metrics


# --------------------------------------------------------- tools/train.py

TOY_CONFIG = toy_train_config()


@pytest.fixture
def train_tool(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    (tmp_path / 'toy.py').write_text(TOY_CONFIG)
    return load_script('tools/train.py')


def test_resume_refuses_nan_and_foreign_checkpoints(train_tool, tmp_path):
    config = str(tmp_path / 'toy.py')
    work = tmp_path / 'run'
    one_epoch = ['--cfg-options', 'train_cfg.max_epochs=1']
    train_tool.main([config, '--work-dir', str(work), *one_epoch])
    checkpoint = torch.load(work / 'epoch_1.pth', weights_only=False)
    checkpoint['state_dict']['linear.weight'][0, 0] = float('nan')
    nan = save(tmp_path / 'nan.pth', checkpoint)
    checkpoint['state_dict'] = {'linear.weight': torch.ones(1, 4)}
    partial = save(tmp_path / 'partial.pth', checkpoint)
    for path, reason in (
        (nan, 'state_dict: linear.weight'),
        (partial, 'linear.bias'),
    ):
        with pytest.raises(SystemExit) as exit_:
            train_tool.main(
                [config, '--work-dir', str(work), '--resume', path]
            )
        message = str(exit_.value.code)
        assert message.startswith(f'error: {path}') and reason in message
    assert not (work / 'epoch_2.pth').exists()
    # an expert resumes the partial one
    runner = train_tool.main(
        [config, '--work-dir', str(work), '--resume', partial]
        + ['--allow-partial']
    )
    assert runner.epoch == 2


def test_a_demo_run_shorter_than_its_weight_average_says_so(train_tool):
    with pytest.raises(SystemExit) as exit_:
        train_tool.main(
            [DEMO_CONFIG, '--cfg-options', 'train_cfg.max_epochs=1']
        )
    message = str(exit_.value.code)
    assert message.startswith(f'error: {DEMO_CONFIG}: train_cfg.max_epochs=1')
    assert 'begin_epoch=10' in message
    assert 'cycle_start_epoch - 1 = 10' in message
    assert '--cfg-options custom_hooks.1.begin_epoch=1' in message
    # the override it suggests passes the check
    from mmusot.engine import load_config

    cfg = load_config(
        DEMO_CONFIG,
        {'train_cfg.max_epochs': 1, 'custom_hooks.1.begin_epoch': 1},
    )
    train_tool.check_ema_schedule(cfg, DEMO_CONFIG)


def test_track_command_names_a_foreign_checkpoint(tiny, tmp_path):
    from mmusot.cli import track_video

    random = save(
        tmp_path / 'random.pth',
        dict(state_dict={'foo.weight': torch.ones(3, 3)}),
    )
    seq = str(tiny['root'] / 'otb' / 'square')
    argv = [seq, '--config', tiny['config'], '--checkpoint', random]
    with pytest.raises(SystemExit) as exit_info:
        track_video.main(argv + ['--out', str(tmp_path / 'a.mp4')])
    message = str(exit_info.value.code)
    assert message.startswith('error: ') and random in message
    assert 'does not fit the network' in message
    assert not (tmp_path / 'a.txt').exists()
    # the expert's way: what fits is loaded, tracking runs
    out = tmp_path / 'b.mp4'
    argv += ['--out', str(out), '--allow-partial']
    track_video.main(argv)
    assert len((tmp_path / 'b.txt').read_text().splitlines()) == 3
