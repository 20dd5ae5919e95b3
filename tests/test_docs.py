# Copyright (c) mmw2s contributors. All rights reserved.
"""The documentation site builds offline with warnings as errors (broken
internal links are warnings), and every shell command its pages show is
either run by a named test or marked as not run by the tests, with why."""
import ast
import glob
import os.path as osp
import re
import subprocess
import sys
from typing import List, Tuple

from conftest import REPO_ROOT

DOCS = osp.join(REPO_ROOT, 'docs')
TESTED = re.compile(r'#\s*tested by (\S+?)::(\w+)')
NOT_RUN = re.compile(r'#\s*not run by the tests: \S')
ASSIGNMENT = re.compile(r'^\w+=("[^"]*"|\S*)$')


def shell_commands(text: str) -> List[Tuple[str, str]]:
    """``(marker, command)`` for every command line of the ``bash`` blocks
    of a Markdown text: a marker comment covers the commands after it, up
    to the next marker or the end of the block; variable assignments are
    not commands."""
    found = []
    for block in re.findall(r'^```(?:bash|shell|sh)\n(.*?)^```', text,
                            re.M | re.S):
        marker = ''
        for line in block.replace('\\\n', ' ').splitlines():
            line = line.strip()
            if TESTED.match(line) or NOT_RUN.match(line):
                marker = line
            elif line and not line.startswith('#') \
                    and not ASSIGNMENT.match(line):
                found.append((marker, line))
    return found


def program(command: str) -> str:
    """The name of the script a command runs (``dist_train`` for
    ``NNODES=2 tools/dist_train.sh CONFIG 8``), or '' for none."""
    for word in command.split():
        if re.search(r'\.(py|sh)$', word) and '/' in word:
            return osp.splitext(osp.basename(word))[0]
    return ''


def test_commands_are_split_into_covered_lines():
    text = ('```bash\n# not run by the tests: no GPU\ntools/a.sh X 8\n'
            'DATA=dir\n# tested by tests/t.py::test_b\npython tools/b.py \\\n'
            '  --opt 1\n```\n```bash\nunmarked\n```\n')
    assert shell_commands(text) == [
        ('# not run by the tests: no GPU', 'tools/a.sh X 8'),
        ('# tested by tests/t.py::test_b', 'python tools/b.py    --opt 1'),
        ('', 'unmarked'),
    ]
    assert program('NNODES=2 tools/dist_train.sh CONFIG 8') == 'dist_train'
    assert program('pip install -e .') == ''


def test_every_shown_command_is_tested_or_says_why_not():
    pages = glob.glob(osp.join(DOCS, '**', '*.md'), recursive=True)
    problems, tested = [], 0
    for page in pages:
        with open(page, encoding='utf-8') as file:
            commands = shell_commands(file.read())
        for marker, command in commands:
            where = f'{osp.relpath(page, REPO_ROOT)}: {command}'
            match = TESTED.match(marker)
            if not match:
                if not NOT_RUN.match(marker):
                    problems.append(f'{where}: no marker')
                continue
            path, name = match.groups()
            source = osp.join(REPO_ROOT, path)
            if not osp.isfile(source):
                problems.append(f'{where}: {path} does not exist')
                continue
            with open(source, encoding='utf-8') as file:
                text = file.read()
            functions = {
                node.name
                for node in ast.walk(ast.parse(text))
                if isinstance(node, ast.FunctionDef)
            }
            if name not in functions:
                problems.append(f'{where}: no test {name} in {path}')
            elif program(command) not in text:
                problems.append(
                    f'{where}: {path} never mentions {program(command)}')
            tested += 1
    assert problems == []
    # the guides' tested commands: offline logits, export, pipeline, study,
    # FSDP, resume, the documentation build
    assert tested >= 12


def test_the_documentation_builds_without_warnings(tmp_path):
    result = subprocess.run([
        sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q', '-b',
        'html', DOCS,
        str(tmp_path / 'html')
    ],
                            capture_output=True,
                            text=True,
                            cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    assert osp.isfile(tmp_path / 'html' / 'api.html')


def test_the_readmes_relative_links_exist():
    with open(osp.join(REPO_ROOT, 'README.md'), encoding='utf-8') as file:
        targets = re.findall(r'\]\(([^)#:]+)(?:#[^)]*)?\)', file.read())
    missing = [
        target for target in targets
        if not osp.exists(osp.join(REPO_ROOT, target))
    ]
    assert missing == [] and len(targets) >= 8
