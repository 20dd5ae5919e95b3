# Copyright (c) mmw2s contributors. All rights reserved.
"""The import hook that switches mmrazor's quantization off before mmrazor
imports, and mmrazor's own tools/train.py on a config that imports mmw2s."""
import os.path as osp
import site
import subprocess
import sys

import mmrazor
import pytest
from conftest import REPO_ROOT, TEST_CONFIGS, run_tool

from mmw2s_mmrazor_hook import mmrazor_quantization_is_broken

needs_the_work_around = pytest.mark.skipif(
    not mmrazor_quantization_is_broken(),
    reason='mmrazor quantization imports on this torch')


def run_python(code: str) -> str:
    """Run ``code`` in a fresh interpreter started the way a user's is (no
    PYTHONPATH: what it finds comes from the installation)."""
    result = subprocess.run([sys.executable, '-c', code],
                            cwd=osp.dirname(REPO_ROOT),
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@needs_the_work_around
def test_the_hook_lets_mmrazor_import_without_mmw2s():
    out = run_python(
        'import sys; sys.path.insert(0, %r)\n'
        'import mmw2s_mmrazor_hook; mmw2s_mmrazor_hook.install()\n'
        'from mmrazor.models import SingleTeacherDistill\n'
        "print(type(sys.modules['mmrazor.structures.quantization']).__name__,"
        " 'mmw2s' in sys.modules,"
        ' any(isinstance(f, mmw2s_mmrazor_hook.MmrazorImportHook)'
        ' for f in sys.meta_path))' % REPO_ROOT)
    # placeholders in place, mmw2s not imported, the hook gone once used
    assert out.split() == ['_UnavailableModule', 'False', 'False']


def test_installing_mmw2s_installs_the_hook():
    out = run_python('import sys\n'
                     'print([type(f).__name__ for f in sys.meta_path])')
    assert out.count('MmrazorImportHook') == 1, (
        f'sys.meta_path of a fresh interpreter: {out.strip()}; the hook '
        'comes with `pip install -e .` (mmw2s_mmrazor_hook.pth)')


def test_the_installed_pth_is_silent_where_the_hook_module_is_gone():
    """A moved editable clone leaves ``mmw2s_mmrazor_hook.pth`` behind
    without its module: site must not print a traceback at every start."""
    site_dirs = site.getsitepackages() + [site.getusersitepackages()]
    pth = [
        d for d in site_dirs
        if osp.isfile(osp.join(d, 'mmw2s_mmrazor_hook.pth'))
    ]
    assert pth, f'no mmw2s_mmrazor_hook.pth in {site_dirs}'
    # -S: no site-packages and no editable finder, so no module to find
    result = subprocess.run([
        sys.executable, '-S', '-c',
        'import site, sys\n'
        'site.addpackage(%r, "mmw2s_mmrazor_hook.pth", set())\n'
        'print("mmw2s_mmrazor_hook" in sys.modules)' % pth[0]
    ],
                            cwd=osp.dirname(REPO_ROOT),
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert (result.stdout.split(), result.stderr) == (['False'], '')


@needs_the_work_around
def test_mmrazors_own_train_tool_runs_a_config_that_imports_mmw2s(
        tmp_path, image_root):
    train_script = osp.join(
        osp.dirname(mmrazor.__file__), '.mim', 'tools', 'train.py')
    run_tool([
        sys.executable, train_script,
        osp.join(TEST_CONFIGS, 'w2s_tiny_no_package_base.py'), '--work-dir',
        str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.data_root={image_root}'
    ],
             cwd=str(tmp_path))
    assert osp.isfile(tmp_path / 'epoch_1.pth')
