# Copyright (c) mmw2s contributors. All rights reserved.
"""The `.mim` folder an installed mmw2s carries (tools, configs,
model-index.yml) for `mim train/test/search mmw2s`, and the import hook's
``.pth``: linked for an editable install, copied into a wheel."""
import importlib.metadata
import importlib.util
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import REPO_ROOT, TEST_CONFIGS, run_tool

# what setup.py needs to build a wheel
SOURCES = ('setup.py', 'setup.cfg', 'MANIFEST.in', 'README.md', 'requirements',
           'mmw2s', 'mmw2s_mmrazor_hook.py', 'tools', 'configs',
           'model-index.yml')


def test_the_installed_package_has_a_mim_folder():
    package_dir = importlib.util.find_spec(
        'mmw2s').submodule_search_locations[0]
    mim_dir = osp.join(package_dir, '.mim')
    assert osp.isdir(mim_dir), (
        f'no {mim_dir}: `pip install -e .` makes it (setup.py, build_py)')
    for item in ('tools', 'configs', 'model-index.yml'):
        assert osp.samefile(osp.join(mim_dir, item), osp.join(REPO_ROOT, item))


@pytest.fixture(scope='module')
def installed_wheel(tmp_path_factory) -> str:
    """mmw2s built as a wheel from a copy of the sources and unpacked, as
    pip installs a pure-Python wheel; returns the site directory."""
    root = tmp_path_factory.mktemp('wheel')
    source = root / 'source'
    source.mkdir()
    for name in SOURCES:
        path = osp.join(REPO_ROOT, name)
        if osp.isdir(path):
            shutil.copytree(
                path,
                source / name,
                ignore=shutil.ignore_patterns('__pycache__', '.mim'))
        else:
            shutil.copy(path, source / name)
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-q', '-w',
        str(root / 'dist'),
        str(source)
    ],
                   check=True,
                   capture_output=True,
                   timeout=300)
    (wheel, ) = (root / 'dist').iterdir()
    site = root / 'site'
    zipfile.ZipFile(wheel).extractall(site)
    return str(site)


def test_the_wheel_carries_the_mim_folder_and_the_hook(installed_wheel):
    mim_dir = osp.join(installed_wheel, 'mmw2s', '.mim')
    assert osp.isfile(osp.join(mim_dir, 'model-index.yml'))
    assert osp.isfile(osp.join(mim_dir, 'tools', 'dist_train.sh'))
    assert osp.isfile(
        osp.join(mim_dir, 'configs', 'adaptconf',
                 'adaptconf_resnet18_resnet50_8xb16_cifar10.py'))
    with open(osp.join(installed_wheel, 'mmw2s_mmrazor_hook.pth')) as file:
        line = file.read()
    # site runs a .pth line only if it starts with `import`
    assert line.startswith('import ')
    assert "__import__('mmw2s_mmrazor_hook').install()" in line


def test_mim_train_mmw2s_runs_the_installed_train_tool(installed_wheel,
                                                       tmp_path, image_root):
    # `mim train mmw2s CONFIG` (openmim 0.3.9, mim/commands/train.py) runs
    # `python {location}/mmw2s/.mim/tools/train.py CONFIG --launcher none`,
    # `location` being where the distribution's metadata is installed
    (dist, ) = importlib.metadata.distributions(
        name='mmw2s', path=[installed_wheel])
    train_script = osp.join(
        dist.locate_file('mmw2s'), '.mim', 'tools', 'train.py')
    env = dict(PYTHONPATH=installed_wheel)
    imported = run_tool(
        [sys.executable, '-c', 'import mmw2s; print(mmw2s.__file__)'],
        cwd=str(tmp_path),
        extra_env=env).stdout
    assert imported.strip() == osp.join(installed_wheel, 'mmw2s',
                                        '__init__.py')
    usage = run_tool([sys.executable, train_script, '-h'],
                     cwd=str(tmp_path),
                     extra_env=env).stdout
    assert '--gpus' not in usage  # else mim would add --gpus or --device
    run_tool([
        sys.executable, train_script,
        osp.join(TEST_CONFIGS, 'w2s_tiny_no_package_base.py'), '--launcher',
        'none', '--work-dir',
        str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.data_root={image_root}'
    ],
             cwd=str(tmp_path),
             extra_env=env)
    assert osp.isfile(tmp_path / 'epoch_1.pth')
