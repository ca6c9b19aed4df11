# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Packaging: shipped configs (``mmusot::``), console commands, one version,
thin scripts; and a real non-editable install into a temporary folder."""

import ast
import importlib
import importlib.metadata
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mmusot
from mmusot.config import CONFIG_DIR, get_config_path
from tests.fixtures import REPO
from tests.script_loader import load_script

COMMANDS = {
    'mmusot-train': 'mmusot.cli.train:cli_main',
    'mmusot-test': 'mmusot.cli.test:cli_main',
    'mmusot-videos-to-pseudo': 'mmusot.cli.videos_to_pseudo_sot:main',
    'mmusot-datasets-to-pseudo': 'mmusot.cli.datasets_to_pseudo_sot:main',
    'mmusot-eval-pseudo-labels': 'mmusot.cli.eval_pseudo_labels:main',
    'mmusot-convert-checkpoint': 'mmusot.cli.convert_checkpoint:main',
    'mmusot-fetch-weights': 'mmusot.cli.fetch_weights:main',
    'mmusot-track': 'mmusot.cli.track_video:cli_main',
    'mmusot-demo': 'mmusot.cli.learn_and_track:main',
    'mmusot-vot-trax': 'mmusot.cli.vot_trax:main',
    'mmusot-otb-to-vot': 'mmusot.cli.otb_to_vot:main',
    'mmusot-otb-to-got10k': 'mmusot.cli.otb_to_got10k:main',
    'mmusot-got10k': 'mmusot.cli.got10k_eval:main',
    'mmusot-vot-summary': 'mmusot.cli.vot_summary:main',
    'mmusot-export': 'mmusot.cli.export:main',
}
# script -> the mmusot.cli module it runs (named after it).
THIN_SCRIPTS = {
    'data_converters/videos_to_pseudo_sot.py': (
        'mmusot.cli.videos_to_pseudo_sot'
    ),
    'data_converters/datasets_to_pseudo_sot.py': (
        'mmusot.cli.datasets_to_pseudo_sot'
    ),
    'data_converters/eval_pseudo_labels.py': 'mmusot.cli.eval_pseudo_labels',
    'tools/train.py': 'mmusot.cli.train',
    'tools/test.py': 'mmusot.cli.test',
    'tools/convert_checkpoint.py': 'mmusot.cli.convert_checkpoint',
    'tools/fetch_weights.py': 'mmusot.cli.fetch_weights',
    'tools/track_video.py': 'mmusot.cli.track_video',
    'tools/demo/learn_and_track.py': 'mmusot.cli.learn_and_track',
    'tools/deploy/export.py': 'mmusot.cli.export',
}
# Old script names, kept for one release: old name -> new name.
DEPRECATED_SCRIPTS = {
    'tools/convert_usot_checkpoint.py': 'tools/convert_checkpoint.py',
    'tools/demo.py': 'tools/track_video.py',
}
TEST_CONFIG = 'usot/usot_r50_test-otb100.py'
TRAIN_CONFIG = 'usot/usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py'
# A user's config inheriting a shipped one (no weights to load).
USER_CONFIG = textwrap.dedent(f"""\
    _base_ = ['mmusot::{TRAIN_CONFIG}']
    model = dict(backbone=dict(init_cfg=None))
    """)


def pyproject() -> dict:
    tomllib = pytest.importorskip('tomllib')  # Python >= 3.11
    with open(REPO / 'pyproject.toml', 'rb') as handle:
        return tomllib.load(handle)


def test_console_commands_are_declared_and_importable():
    assert pyproject()['project']['scripts'] == COMMANDS
    for target in COMMANDS.values():
        module, _, name = target.partition(':')
        assert callable(getattr(importlib.import_module(module), name))


def test_installed_commands_match_pyproject():
    """The .venv's (editable) install is current: same console commands."""
    installed = {
        ep.name: ep.value
        for ep in importlib.metadata.entry_points(group='console_scripts')
        if ep.name.startswith('mmusot-')
    }
    assert installed == COMMANDS, 'stale install: run `make setup`'


def test_version_is_written_once():
    project = pyproject()
    assert 'version' not in project['project']
    assert 'version' in project['project']['dynamic']
    dynamic = project['tool']['setuptools']['dynamic']['version']
    assert dynamic == {'attr': 'mmusot.__version__'}
    assert importlib.metadata.version('mmusot') == mmusot.__version__


def _bare_sibling_imports(path: Path) -> list:
    siblings = {p.stem for p in path.parent.glob('*.py')} - {path.stem}
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or '']
        else:
            continue
        found += [n for n in names if n.split('.')[0] in siblings]
    return found


def test_scripts_do_not_edit_sys_path_or_import_siblings():
    scripts = sorted(REPO.glob('tools/**/*.py')) + sorted(
        REPO.glob('data_converters/*.py')
    )
    assert len(scripts) >= len(THIN_SCRIPTS)
    for script in scripts:
        text = script.read_text()
        assert 'sys.path' not in text, script
        assert not _bare_sibling_imports(script), script


def test_thin_scripts_call_the_package_main():
    scripts = dict(THIN_SCRIPTS)
    for old, new in DEPRECATED_SCRIPTS.items():
        scripts[old] = THIN_SCRIPTS[new]
    for script, module in scripts.items():
        loaded = load_script(script)
        assert loaded.main is importlib.import_module(module).main, script


def _cli_modules(path: Path) -> set:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.level:
            name = node.module or ''
            if name.startswith('mmusot.cli.'):
                found.add(name)
    return found


def test_one_name_per_program():
    """Every script that runs a program is listed here, is named after its
    module, and runs a program of ``[project.scripts]``."""
    registered = {target.partition(':')[0] for target in COMMANDS.values()}
    scripts = sorted(REPO.glob('tools/*.py')) + sorted(
        REPO.glob('tools/demo/*.py')
    )
    scripts += sorted(REPO.glob('tools/deploy/*.py'))
    scripts += sorted(REPO.glob('data_converters/*.py'))
    for script in scripts:
        relative = script.relative_to(REPO).as_posix()
        modules = _cli_modules(script)
        if relative in DEPRECATED_SCRIPTS:
            continue
        if not modules:
            assert relative not in THIN_SCRIPTS, relative
            continue
        assert THIN_SCRIPTS.get(relative) in modules, relative
        module = THIN_SCRIPTS[relative]
        assert module.rsplit('.', 1)[1] == script.stem, relative
        assert module in registered, relative
    assert set(THIN_SCRIPTS.values()) <= registered
    for old, new in DEPRECATED_SCRIPTS.items():
        assert (REPO / old).is_file() and (REPO / new).is_file()


def test_deprecated_script_warns(tmp_path):
    done = subprocess.run(
        [sys.executable, 'tools/convert_usot_checkpoint.py', '--help'],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'tools/convert_checkpoint.py' in done.stderr
    assert done.stdout.startswith('usage:')


def test_package_config_paths_in_the_checkout():
    path = get_config_path('mmusot::' + TEST_CONFIG)
    assert osp.samefile(path, REPO / 'configs' / TEST_CONFIG)
    assert get_config_path(TEST_CONFIG) == path
    with pytest.raises(FileNotFoundError, match='usot/nope.py'):
        get_config_path('mmusot::usot/nope.py')
    # every config of the checkout is reachable through the package
    shipped = {
        p.relative_to(CONFIG_DIR).as_posix()
        for p in Path(CONFIG_DIR).rglob('*.py')
    }
    assert TRAIN_CONFIG in shipped and TEST_CONFIG in shipped
    assert shipped == {
        p.relative_to(REPO / 'configs').as_posix()
        for p in (REPO / 'configs').rglob('*.py')
    }


def test_mmengine_resolves_and_builds_package_configs(tmp_path):
    pytest.importorskip('mmtrack')
    from mmengine.config import Config
    from mmengine.hub import get_config
    from mmengine.registry import MODELS

    from mmusot.engine import load_config
    from mmusot.models import USOT

    cfg = get_config('mmusot::' + TEST_CONFIG)
    assert osp.samefile(cfg.filename, REPO / 'configs' / TEST_CONFIG)
    assert cfg.model.type == 'USOT'
    tool_cfg = load_config('mmusot::' + TEST_CONFIG)
    assert tool_cfg.model.type == 'USOT'
    assert tool_cfg.work_dir == osp.join('./work_dirs', 'usot_r50_test-otb100')
    (tmp_path / 'user.py').write_text(USER_CONFIG)
    user = Config.fromfile(str(tmp_path / 'user.py'))
    # mmengine builds an inherited base's objects in the base's scope
    assert user.model._scope_ == 'mmusot'
    assert user.model.backbone.init_cfg is None
    assert isinstance(MODELS.build(user.model), USOT)


def _copy_source(dst: Path) -> Path:
    """The files a wheel is built from (no build/ left in the checkout)."""
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
    for name in ('mmusot', 'configs'):
        shutil.copytree(REPO / name, dst / name, symlinks=True, ignore=ignore)
    for name in ('pyproject.toml', 'README.md'):
        shutil.copy(REPO / name, dst / name)
    return dst


# Run in the installed copy: where mmusot comes from, and what it resolves.
INSTALLED_CHECK = textwrap.dedent(f"""\
    import importlib.metadata, os.path as osp, sys
    import mmusot
    from mmengine.config import Config
    from mmengine.hub import get_config
    from mmengine.registry import MODELS
    from mmusot.models import USOT
    from mmusot.config import get_config_path
    target = sys.argv[1]
    assert mmusot.__file__.startswith(target), mmusot.__file__
    assert importlib.metadata.version('mmusot') == mmusot.__version__
    shipped = osp.join(target, 'mmusot', '.mim', 'configs')
    for path in (
        get_config_path('mmusot::{TEST_CONFIG}'),
        get_config('mmusot::{TEST_CONFIG}').filename,
    ):
        assert path == osp.join(shipped, '{TEST_CONFIG}'), path
        assert not osp.islink(path)
    model = MODELS.build(Config.fromfile('user.py').model)
    assert isinstance(model, USOT)
    print('installed copy OK')
    """)


def test_non_editable_install(tmp_path):
    """``pip install --target`` (a wheel build): configs, commands, import."""
    pytest.importorskip('mmtrack')
    src = _copy_source(tmp_path / 'src')
    target = tmp_path / 'target'
    subprocess.run(
        [
            sys.executable,
            '-m',
            'pip',
            'install',
            '--quiet',
            '--no-deps',
            '--no-build-isolation',
            '--no-index',
            '--no-compile',
            '--disable-pip-version-check',
            '--target',
            str(target),
            str(src),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    shipped = {
        p.relative_to(target / 'mmusot' / '.mim' / 'configs').as_posix()
        for p in (target / 'mmusot' / '.mim' / 'configs').rglob('*')
        if p.is_file()
    }
    assert shipped == {
        p.relative_to(REPO / 'configs').as_posix()
        for p in (REPO / 'configs').rglob('*')
        if p.is_file() and '__pycache__' not in p.parts
    }
    assert (target / 'mmusot' / '.mim' / 'model-index.yml').is_file()
    assert sorted(p.name for p in (target / 'bin').iterdir()) == sorted(
        COMMANDS
    )
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'user.py').write_text(USER_CONFIG)
    env = dict(os.environ, PYTHONPATH=str(target))
    done = subprocess.run(
        [sys.executable, '-c', INSTALLED_CHECK, str(target)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'installed copy OK' in done.stdout
    usage = subprocess.run(
        [str(target / 'bin' / 'mmusot-videos-to-pseudo'), '--help'],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert usage.returncode == 0, usage.stderr[-3000:]
    assert usage.stdout.startswith('usage: mmusot-videos-to-pseudo')


def test_one_config_resolver_and_old_import_paths():
    """:mod:`mmusot.config` resolves every config name; the old homes of
    its functions are aliases (deprecated ones warn)."""
    import mmusot.apis.builder
    import mmusot.config
    import mmusot.package_data
    from mmusot.cli import runner_args

    config = mmusot.config
    assert mmusot.package_data.get_config_path is config.get_config_path
    assert mmusot.apis.resolve_config_path is config.resolve_config_path
    assert mmusot.apis.builder.load_tracker_config is (
        config.load_tracker_config
    )
    path = config.resolve_config_path('mmusot::' + TEST_CONFIG)
    assert path == get_config_path(TEST_CONFIG)
    with pytest.raises(FileNotFoundError, match='no such config in mmusot'):
        config.resolve_config_path('mmusot::usot/nope.py')
    pytest.importorskip('mmtrack')
    import mmusot.engine

    assert mmusot.engine.load_config is config.load_config
    for name in ('add_runner_arguments', 'parse_runner_args'):
        with pytest.warns(DeprecationWarning, match='mmusot.cli.runner_args'):
            assert getattr(mmusot.engine, name) is getattr(runner_args, name)


def test_checkpoint_convert_is_an_alias_of_checkpoint_conversion(
    monkeypatch,
):
    pytest.importorskip('torch')
    import mmusot.utils
    from mmusot.utils import checkpoint_conversion

    monkeypatch.delitem(sys.modules, 'mmusot.utils.checkpoint_convert', False)
    with pytest.warns(DeprecationWarning, match='checkpoint_conversion'):
        old = importlib.import_module('mmusot.utils.checkpoint_convert')
    assert old is checkpoint_conversion
    assert mmusot.utils.convert_checkpoint is old.convert_checkpoint
