# Copyright (c) mmw2s contributors. All rights reserved.
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


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


setup(
    name='mmw2s',
    version=read_version(),
    description='Weak-to-strong generalization (AdaptConf) for OpenMMLab '
    'vision models',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    python_requires='>=3.8',
    install_requires=read_requirements('runtime'),
    # mmcv is not in install_requires: GPU users bring the full mmcv with
    # mim (extra `mim`), CPU machines take mmcv-lite (extra `cpu`). Requiring
    # either name would put a second `mmcv` module next to the other.
    extras_require={
        'cpu': read_requirements('cpu'),
        'mim': read_requirements('mminstall'),
        'tests': read_requirements('tests'),
    },
    zip_safe=False)
