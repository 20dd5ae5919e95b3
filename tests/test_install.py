# Copyright (c) mmw2s contributors. All rights reserved.
"""What the install guide (docs/get_started.md) rests on: mmcv-lite serves GPU
machines too, and its mim set-up satisfies torch's own requirements."""
import importlib.metadata
import importlib.util
import os
import os.path as osp
import re

import pytest
from conftest import REPO_ROOT
from packaging.requirements import Requirement

COMPILED_OPS = re.compile(r'mmcv\.ops|from mmcv import .*\bops\b|mmcv\._ext')


def python_files(package: str):
    root = osp.dirname(importlib.util.find_spec(package).origin)
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name != '.mim']
        for name in files:
            if name.endswith('.py'):
                yield osp.join(folder, name)


def test_the_pattern_finds_mmcvs_own_use_of_its_ops():
    path = osp.join(
        osp.dirname(importlib.util.find_spec('mmcv').origin), 'cnn', 'bricks',
        'transformer.py')
    with open(path, encoding='utf-8') as file:
        assert COMPILED_OPS.search(file.read())


@pytest.mark.parametrize('package', ['mmw2s', 'mmpretrain', 'mmrazor'])
def test_no_module_uses_the_ops_mmcv_lite_lacks(package):
    users = []
    for path in python_files(package):
        with open(path, encoding='utf-8') as file:
            if COMPILED_OPS.search(file.read()):
                users.append(path)
    assert not users, (f'{package} uses compiled mmcv ops, which mmcv-lite '
                       f'lacks: {users}; the install guide says it needs none')


def test_the_documented_mim_set_up_meets_torchs_setuptools_requirement():
    with open(
            osp.join(REPO_ROOT, 'docs', 'get_started.md'),
            encoding='utf-8') as file:
        (line, ) = [
            line for line in file if line.startswith('pip install openmim')
        ]
    pinned = {
        Requirement(spec).name: Requirement(spec).specifier
        for spec in re.findall(r'"([^"]+)"', line)
    }
    (torch_needs, ) = [
        Requirement(spec).specifier
        for spec in importlib.metadata.requires('torch')
        if Requirement(spec).name == 'setuptools'
    ]
    # setuptools 81 removed pkg_resources, which mim 0.3.9 imports
    assert not pinned['setuptools'].contains('81.0.0')
    assert any(pinned['setuptools'].contains(version)
               and torch_needs.contains(version)
               for version in ('77.0.3', '80.9.0')), (pinned, torch_needs)
    # opendatalab 0.0.10 pulls openxlab, which pins setuptools 60.2
    assert not pinned['opendatalab'].contains('0.0.10')
