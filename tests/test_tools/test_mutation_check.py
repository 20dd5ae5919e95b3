# Copyright (c) mmw2s contributors. All rights reserved.
"""The mutation check counts a mutant as killed only when a test failed:
a timeout, or pytest finding no test, is no verdict."""
import importlib.util
import os.path as osp

import pytest
from conftest import REPO_ROOT


def _tool():
    spec = importlib.util.spec_from_file_location(
        'mutation_check',
        osp.join(REPO_ROOT, 'tools', 'analysis', 'mutation_check.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TESTS = {
    'test_fails.py': 'def test_it():\n    assert 1 == 2\n',
    'test_passes.py': 'def test_it():\n    assert 1 == 1\n',
    'test_sleeps.py': 'import time\n\n\ndef test_it():\n'
    '    time.sleep(60)\n',
    'test_nothing.py': 'VALUE = 1\n',
}


@pytest.mark.parametrize('name, verdict', [
    ('test_fails.py', 'killed'),
    ('test_passes.py', 'SURVIVED'),
    ('test_sleeps.py', 'no verdict (timed out after 10 s)'),
    ('test_nothing.py', 'no verdict (no test collected)'),
])
def test_only_a_failed_test_kills_a_mutant(tmp_path, name, verdict):
    tool = _tool()
    (tmp_path / name).write_text(TESTS[name])
    # time for a pytest to start while other test workers hold the cores
    outcome = tool.run_tests(str(tmp_path), [name], timeout=10)
    assert tool.mutant_verdict(outcome) == verdict


def test_every_pytest_exit_code_has_a_name():
    tool = _tool()
    assert [tool.tests_outcome(code) for code in range(6)] == [
        'passed', 'failed', 'interrupted', 'internal error of pytest',
        'usage error of pytest', 'no test collected'
    ]
    assert tool.tests_outcome(-9) == 'pytest exited -9'


def test_every_mutant_applies_to_the_code_once(tmp_path):
    """Each mutant's original text occurs exactly once in its file, so the
    check never stops on a mutant the code has outgrown."""
    tool = _tool()
    for mutant in tool.MUTANTS:
        target = tmp_path / mutant.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(osp.join(REPO_ROOT, mutant.path)) as file:
            target.write_text(file.read())
        original = tool.apply(str(tmp_path), mutant)
        assert target.read_text() == original.replace(mutant.original,
                                                      mutant.mutated)
        target.write_text(original)
    assert len({mutant.name for mutant in tool.MUTANTS}) == len(tool.MUTANTS)
