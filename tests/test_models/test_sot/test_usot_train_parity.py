# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""PARITY: mmusot's training step is the official one.

The fixtures ``train_golden_bneval.npz`` / ``train_golden.npz`` (see
``../shared/docs/parity/README.md``) hold the official ``USOT.forward``
losses and gradients for a batch of 2 with 4 memory searches, formula
weights, frozen backbone, naive and cycle-memory stage, with every
BatchNorm in eval mode and in train mode. The batch goes through
``USOT.loss`` with the documented data contract.

* BN in eval mode checks the loss and gradient math: losses within 1e-5
  (relative) and every recorded gradient within 3e-3 of its max |value|.
* BN in train mode depends on which tensors each BN layer normalises
  together. :func:`test_batchnorm_call_structure` checks that every BN
  layer sees exactly the batches of the official call structure, and the
  train-mode losses must match within 2e-2. The train-mode *gradients* of
  these formula weights are dominated by float32 rounding: un-normalised
  0-255 inputs through the frozen backbone in train mode amplify rounding
  about 1e5-fold (measured: the official-structure step run with 1 instead
  of 2 CPU threads changes those gradients by 16 % to 2200 % and flips all
  8 forward-tracking argmax cells; a 1e-7 relative change of the pooled
  template moves ``bbox_tower.0`` gradients by 1 %), so no
  re-implementation can meet a 1e-2 gradient tolerance on them; they are
  not compared.

The fixtures hold the rounding of the CPU they were made on, not only the
mathematics. The same step in float64 (the mathematics without our
rounding) differs from them by up to 1.04e-3 of a gradient's max in BN
eval mode (``neck.downsample.0.weight``, naive stage) and by 0.58 %
(cls) and 1.4 % (reg) in the train-mode losses. On the machine of the
first measurement our float32 step reproduced the fixtures' rounding
closely (gradients 3.3e-6, train-mode losses 7.8e-5); on an AVX2 AMD EPYC
it gives 2.5e-3 and 0.34 %, the code before the "Learning that pays"
work included. The tolerances above are set from the float64 figures,
so that the check holds for the mathematics on any CPU.
"""

from collections import defaultdict

import numpy as np
import pytest
import torch

pytest.importorskip('mmtrack')

from mmengine.structures import InstanceData  # noqa: E402
from mmtrack.structures import TrackDataSample  # noqa: E402
from torch.nn.modules.batchnorm import _BatchNorm  # noqa: E402

from mmusot.utils.checkpoint_convert import (  # noqa: E402
    USOT_PREFIX_RULES,
    convert_usot_state_dict,
)
from tests.fixtures import PARITY, require_shared  # noqa: E402
from tests.official_layout import (  # noqa: E402
    build_formula_state_dict,
    read_key_list,
)

from .utils import build_usot  # noqa: E402

# Stage -> (lambda1, cls_ratio) of the fixture (epoch 6 for the cycle).
STAGES = dict(naive=(0.3, 0.6), cycle=(0.3, 0.6))
# Loss entries of the fixture: raw cls, raw memory, raw reg, total.
RAW_WEIGHTS = dict(naive=(0.2, None, 1.0), cycle=(0.3, 0.6, 1.0))
TOLERANCES = {
    'train_golden_bneval.npz': dict(loss=1e-5, grad=3e-3),
    'train_golden.npz': dict(loss=2e-2),
}
# Loss terms compared per fixture: in train mode the raw memory loss rides
# on the forward-tracking argmax cells, which rounding flips (docstring).
LOSS_TERMS = {
    'train_golden_bneval.npz': ('cls', 'mem', 'reg', 'total'),
    'train_golden.npz': ('cls', 'reg', 'total'),
}
# The fixture ran on CPU with 2 threads; train-mode BN needs the same
# reduction order to reproduce its losses.
NUM_THREADS = 2


def official_name(key: str) -> str:
    for official, ours in USOT_PREFIX_RULES:
        if key.startswith(ours):
            return official + key[len(ours) :]
    raise KeyError(key)


@pytest.fixture(scope='module')
def converted_weights():
    specs = read_key_list(
        str(require_shared(PARITY / 'usot_official_keys.txt'))
    )
    state, leftover = convert_usot_state_dict(build_formula_state_dict(specs))
    assert not leftover
    return state


def make_batch(golden, stage):
    inputs = dict(
        img=torch.from_numpy(golden['template']).float()[:, None],
        search_img=torch.from_numpy(golden['search']).float()[:, None],
    )
    if stage == 'cycle':
        inputs['memory_img'] = torch.from_numpy(golden['memory']).float()
    samples = []
    for i in range(golden['template'].shape[0]):
        sample = TrackDataSample()
        sample.gt_instances = InstanceData(
            bboxes=torch.from_numpy(golden['template_box'][i : i + 1])
        )
        sample.search_gt_instances = InstanceData(
            bboxes=torch.from_numpy(golden['search_box'][i : i + 1])
        )
        sample.set_metainfo(dict(search_shift=golden['search_shift'][i]))
        samples.append(sample)
    return inputs, samples


def training_step(weights, golden, stage, train_mode, bn_calls=None):
    """One official-recipe step: returns the model (grads set), losses."""
    threads = torch.get_num_threads()
    torch.set_num_threads(NUM_THREADS)
    try:
        model = build_usot(frozen_modules='backbone')
        model.load_state_dict(weights, strict=True)
        model.train(train_mode)
        model.head.lambda1, model.head.cls_ratio = STAGES[stage]
        handles = []
        if bn_calls is not None:
            for name, module in model.named_modules():
                if isinstance(module, _BatchNorm):
                    handles.append(
                        module.register_forward_hook(
                            lambda m, args, out, name=name: bn_calls[
                                name
                            ].append(args[0].shape[0])
                        )
                    )
        losses = model.loss(*make_batch(golden, stage))
        sum(losses.values()).backward()
        for handle in handles:
            handle.remove()
    finally:
        torch.set_num_threads(threads)
    return model, losses


@pytest.fixture(scope='module')
def step(converted_weights):
    """``step(fixture_name, stage)``: cached (golden, model, losses)."""
    cache = {}

    def run(name, stage):
        if (name, stage) not in cache:
            golden = dict(np.load(require_shared(PARITY / name)))
            train_mode = name == 'train_golden.npz'
            cache[name, stage] = (golden,) + training_step(
                converted_weights, golden, stage, train_mode
            )
        return cache[name, stage]

    return run


@pytest.mark.parametrize('name', list(TOLERANCES))
@pytest.mark.parametrize('stage', list(STAGES))
def test_losses(step, name, stage):
    golden, _, losses = step(name, stage)
    ref = golden[f'{stage}_losses']
    tol = TOLERANCES[name]['loss']
    w_cls, w_mem, w_reg = RAW_WEIGHTS[stage]
    raw = dict(
        cls=losses['loss_cls'].item() / w_cls,
        reg=losses['loss_reg'].item() / w_reg,
        total=sum(v.item() for v in losses.values()),
    )
    expected = dict(cls=ref[0], reg=ref[2], total=ref[3])
    if w_mem is None:
        assert np.isnan(ref[1]) and 'loss_mem' not in losses
    else:
        raw['mem'] = losses['loss_mem'].item() / w_mem
        expected['mem'] = ref[1]
    for key, value in expected.items():
        if key not in LOSS_TERMS[name]:
            continue
        rel = abs(raw[key] - value) / abs(value)
        assert rel <= tol, f'{name} {stage} {key}: {raw[key]} vs {value}'


@pytest.mark.parametrize('name', list(TOLERANCES))
@pytest.mark.parametrize('stage', list(STAGES))
def test_gradient_presence(step, name, stage):
    """Backbone frozen; the memory branch learns only in the cycle stage."""
    golden, model, _ = step(name, stage)
    params = {official_name(k): p for k, p in model.named_parameters()}
    assert bool(golden[f'{stage}_backbone_grads_none'])
    no_grad = set(golden[f'{stage}_no_grad'].tolist())
    for key, param in params.items():
        got_grad = param.grad is not None and bool(param.grad.any())
        if key.startswith('features'):
            assert not got_grad, key
        else:
            assert got_grad == (key not in no_grad), key


@pytest.mark.parametrize('stage', list(STAGES))
def test_gradients_bn_eval(step, stage):
    name = 'train_golden_bneval.npz'
    golden, model, _ = step(name, stage)
    params = {official_name(k): p for k, p in model.named_parameters()}
    tol = TOLERANCES[name]['grad']
    recorded = [
        k
        for k in golden
        if k.startswith(f'{stage}_grad/') and np.abs(golden[k]).max() >= 1e-9
    ]
    assert len(recorded) >= 8
    for key in recorded:
        ref = golden[key]
        grad = params[key.split('/', 1)[1]].grad
        ours = grad.reshape(grad.shape[0], -1)[: ref.shape[0]].numpy()
        diff = np.abs(ours - ref).max() / np.abs(ref).max()
        assert diff <= tol, f'{key}: {diff:.3g} of max |grad|'


def test_batchnorm_call_structure(converted_weights):
    """Every BN layer normalises exactly the official batches.

    Official ``USOT.forward`` (``lib/models/models.py``) for B = 2 and M = 4
    memory searches: the backbone and neck run on the templates (2), the
    searches (2) and the memory searches (8), each its own call; the
    offline head runs on the search (2) and, forward tracking, on the
    memory searches with the template repeated (8); the online forward
    pass encodes the pooled search target (8) and fuses one map per memory
    search (8) through the memory tower (8), reusing the memory searches'
    cls encodings; the backward pass encodes the 8 memory kernels, fuses
    4 maps per sample (8) and runs the memory tower on the search (2).
    """
    golden = dict(np.load(require_shared(PARITY / 'train_golden.npz')))
    b, m = 2, 4
    expected = {
        'naive': {
            'backbone': [b, b],
            'neck': [b, b],
            'head.cls_encode.k': [b],
            'head.cls_encode.s': [b],
            'head.reg_encode.k': [b],
            'head.reg_encode.s': [b],
            'head.cls_tower': [b],
            'head.bbox_tower': [b],
        },
        'cycle': {
            'backbone': [b, b, b * m],
            'neck': [b, b, b * m],
            'head.cls_encode.k': [b, b * m, b * m, b * m],
            'head.cls_encode.s': [b, b * m],
            'head.reg_encode.k': [b, b * m],
            'head.reg_encode.s': [b, b * m],
            'head.cls_tower': [b, b * m],
            'head.bbox_tower': [b, b * m],
            'head.conf_fusion': [b * m, b * m],
            'head.cls_memory_tower': [b * m, b],
        },
    }
    for stage, groups in expected.items():
        calls = defaultdict(list)
        training_step(converted_weights, golden, stage, True, calls)
        seen = defaultdict(set)
        for module, sizes in calls.items():
            parts = module.split('.')
            if parts[0] == 'head' and parts[1] in ('cls_encode', 'reg_encode'):
                group = f'head.{parts[1]}.{parts[2][-1]}'  # matrix11_k -> k
            elif parts[0] == 'head':
                group = '.'.join(parts[:2])
            else:
                group = parts[0]
            seen[group].add(tuple(sizes))
        assert set(seen) == set(groups), stage
        for group, sizes in groups.items():
            assert seen[group] == {tuple(sizes)}, (stage, group, seen[group])
