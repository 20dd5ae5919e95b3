# Copyright (c) mmw2s contributors. All rights reserved.
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
# what `mim train/test/search mmw2s` look for in the installed package's
# `.mim` folder
MIM_ITEMS = ('tools', 'configs', 'model-index.yml')
# site runs this line at every interpreter start; where the module is gone
# (an editable clone moved or deleted) it does nothing instead of printing
# a traceback
HOOK_PTH = ('mmw2s_mmrazor_hook.pth',
            "import importlib.util; importlib.util.find_spec("
            "'mmw2s_mmrazor_hook') and "
            "__import__('mmw2s_mmrazor_hook').install()\n")


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/{name}.txt``, without comments."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as file:
        lines = (line.split('#')[0].strip() for line in file)
        return [line for line in lines if line]


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join(HERE, 'mmw2s', 'version.py')) as file:
        exec(compile(file.read(), 'version.py', 'exec'), namespace)
    return namespace['__version__']


def link_mim_folder(package_dir: str) -> None:
    """Make ``{package_dir}/.mim/{item}`` a relative link to the item at the
    repository root (an editable install's package is the source tree)."""
    mim_dir = osp.join(package_dir, '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for item in MIM_ITEMS:
        target = osp.join(mim_dir, item)
        if osp.islink(target) or osp.isfile(target):
            os.remove(target)
        elif osp.isdir(target):
            shutil.rmtree(target)
        os.symlink(osp.relpath(osp.join(HERE, item), mim_dir), target)


def copy_mim_folder(package_dir: str) -> None:
    """Copy the items into ``{package_dir}/.mim`` (a wheel)."""
    mim_dir = osp.join(package_dir, '.mim')
    shutil.rmtree(mim_dir, ignore_errors=True)
    os.makedirs(mim_dir)
    for item in MIM_ITEMS:
        source = osp.join(HERE, item)
        if osp.isdir(source):
            shutil.copytree(
                source,
                osp.join(mim_dir, item),
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(source, osp.join(mim_dir, item))


class BuildPyWithMimAndHook(build_py):
    """``build_py`` that adds ``mmw2s/.mim`` (copied into a wheel, linked
    for an editable install) and ``mmw2s_mmrazor_hook.pth`` at the top of
    site-packages (see ``mmw2s_mmrazor_hook.py``)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            link_mim_folder(osp.join(HERE, 'mmw2s'))
            # an editable wheel holds what is written to its install dir,
            # not build_lib (setuptools' editable_wheel._configure_build)
            top_dir = self.get_finalized_command('install').install_lib
        else:
            copy_mim_folder(osp.join(self.build_lib, 'mmw2s'))
            top_dir = self.build_lib
        name, line = HOOK_PTH
        with open(osp.join(top_dir, name), 'w') as file:
            file.write(line)


setup(
    name='mmw2s',
    version=read_version(),
    description='Weak-to-strong generalization (AdaptConf) for OpenMMLab '
    'vision models',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    py_modules=['mmw2s_mmrazor_hook'],
    python_requires='>=3.8',
    install_requires=read_requirements('runtime'),
    # mmcv is not in install_requires: mmcv-lite (extra `cpu`) serves CPU
    # and GPU machines, a full mmcv already installed stays (extra `mim`
    # names it). Requiring either would put a second `mmcv` module next to
    # the other.
    extras_require={
        'cpu': read_requirements('cpu'),
        'mim': read_requirements('mminstall'),
        'tests': read_requirements('tests') + read_requirements('docs'),
        'docs': read_requirements('docs'),
    },
    cmdclass={'build_py': BuildPyWithMimAndHook},
    zip_safe=False)
