# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""PARITY: mmusot's USOT reproduces the official network's outputs.

The official state dict is rebuilt from ``usot_official_keys.txt`` with the
formula of ``parity/README.md``, converted with the checkpoint converter,
loaded into USOT with the official-behaviour switches, and run in eval mode
on the ``golden.npz`` inputs. Tolerances are the README's.
"""

import numpy as np
import pytest
import torch

pytest.importorskip('mmtrack')

from mmengine.runner import load_checkpoint  # noqa: E402

from tests.fixtures import require_shared  # noqa: E402
from tests.official_layout import (  # noqa: E402
    build_formula_state_dict,
    read_key_list,
)
from tests.test_tools.test_convert_checkpoint import load_tool  # noqa

from .utils import PARITY, build_usot  # noqa: E402

TOLERANCES = dict(
    zf=1e-4, xf=1e-4, memory=1e-4, reg=1e-4, cls=1e-5, cls_mem=1e-5
)


@pytest.fixture(scope='module')
def outputs(tmp_path_factory):
    # Official layout, as released (.pth with a 'state_dict'), through the
    # converter CLI, then mmengine's loader (weights_only by default).
    specs = read_key_list(
        str(require_shared(PARITY / 'usot_official_keys.txt'))
    )
    tmp = tmp_path_factory.mktemp('parity')
    src, dst = tmp / 'usot_official.pth', tmp / 'usot_mmusot.pth'
    torch.save(dict(state_dict=build_formula_state_dict(specs)), src)
    assert load_tool().main([str(src), str(dst)]) == 0
    model = build_usot(
        head=dict(search_pool_axis='official'), frozen_bn_mode='train'
    )
    load_checkpoint(model, str(dst), map_location='cpu', strict=True)
    model.eval()
    golden = dict(np.load(require_shared(PARITY / 'golden.npz')))
    tensor = {k: torch.from_numpy(v) for k, v in golden.items()}
    with torch.no_grad():
        z_feat = model.forward_template(tensor['z'])
        zf = model.head.pool(z_feat, tensor['template_box'])
        xf = model.forward_search(tensor['x'])
        num_mem = tensor['mem_boxes'].shape[0]
        memory = model.head.pool(
            xf.expand(num_mem, -1, -1, -1), tensor['mem_boxes']
        )
        enc = model.head.encode_search(xf)
        cls, reg = model.head.forward_offline(enc, zf)
        cls_mem = model.head.forward_memory(enc, memory[None])
    ours = dict(zf=zf, xf=xf, memory=memory, cls=cls, reg=reg, cls_mem=cls_mem)
    return ours, tensor


@pytest.mark.parametrize('name', list(TOLERANCES))
def test_parity(outputs, name):
    ours, golden = outputs
    assert ours[name].shape == golden[name].shape
    diff = (ours[name] - golden[name]).abs().max().item()
    assert diff <= TOLERANCES[name], f'{name}: max abs diff {diff:.3g}'
