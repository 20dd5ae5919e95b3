# Copyright (c) mmw2s contributors. All rights reserved.
"""The weak-to-strong experiment, end to end, with a PGR report.

For each seed: split the training set into halves A and B; train the weak
model on A and the strong ceiling on B with ground truth; label B once with
the weak model; train the strong model on B from the weak labels only, once
per method; evaluate everything on the test set. Then write
``report.md``, ``accuracy.png`` and ``curves.png`` into the work dir.

Stages whose results exist are skipped and a stage cut short resumes from
its last checkpoint, so rerunning the command continues where it stopped.

Example::

    python tools/w2s_pipeline.py \\
        configs/pipeline/w2s_lenet5_resnet18-c16_fashion-mnist.py \\
        --seeds 0 1 2
"""
import argparse
import contextlib
import json
import logging
import os
import os.path as osp
import platform
import sys
import time
from typing import Callable, Dict, List

import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

import mmw2s  # noqa: F401  (patches the stack, registers components)
from mmw2s.apis import compute_weak_logits, deterministic_dataloader_cfg
from mmw2s.models import load_teacher_weights
from mmw2s.pipeline import (WEAK_LOGITS_FILE, classifier_stage, iterations,
                            load_scalars, markdown_table, plot_accuracy,
                            plot_curves, stage_dir, student_stage,
                            summary_rows, weak_labelling_cfg)

TEST_BATCH = 256
TEST_SIZE = 10000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run the weak-to-strong experiment and report PGR')
    parser.add_argument('config', help='pipeline config')
    parser.add_argument(
        '--work-dir',
        help='output directory (default: work_dirs/<config name>)')
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0], help='seeds to run')
    parser.add_argument(
        '--full',
        action='store_true',
        help='use the whole halves A and B instead of the default subsets')
    parser.add_argument(
        '--with-ground-truth',
        action='store_true',
        help="also train the paper's setting: ground truth plus AdaptConf")
    parser.add_argument('--data-root', help='directory of the IDX files')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the pipeline config, e.g. '
        'weak_epochs=1 data.strong_samples=2000')
    return parser.parse_args()


class ProgressHook(Hook):
    """Advances the pipeline's progress bar by each training and test
    iteration."""

    def __init__(self, advance: Callable[[int], None]) -> None:
        self.advance = advance

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        self.advance(1)

    def after_test_iter(self,
                        runner,
                        batch_idx,
                        data_batch=None,
                        outputs=None) -> None:
        self.advance(1)


def _write_json(path: str, content: dict) -> None:
    """Write atomically: a stage counts as done only once this exists."""
    temporary = f'{path}.tmp'
    with open(temporary, 'w') as file:
        json.dump(content, file, indent=2)
    os.replace(temporary, path)


@contextlib.contextmanager
def _console_to(path: str):
    """Send what mmengine prints to ``path``; the progress bar keeps the
    terminal."""
    with open(path, 'a') as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        yield


def run_training_stage(cfg: Config, work_dir: str,
                       advance: Callable[[int], None]) -> float:
    """Train (or resume) and test one stage; returns its top-1 accuracy."""
    os.makedirs(work_dir, exist_ok=True)
    cfg.experiment_name = f'{cfg.experiment_name}_{time.time_ns()}'
    with _console_to(osp.join(work_dir, 'console.log')):
        runner = Runner.from_cfg(cfg)
        for handler in runner.logger.handlers:
            if not isinstance(handler, logging.FileHandler):
                handler.setLevel(logging.WARNING)
        runner.register_hook(ProgressHook(advance), priority='LOWEST')
        runner.train()
        metrics = runner.test()
    return float(metrics['accuracy/top1'])


def label_with_weak_model(plan: Config, seed: int, weak_dir: str,
                          out_file: str, full: bool,
                          advance: Callable[[int], None]) -> None:
    """Write the weak model's logits on half B to ``out_file``."""
    os.makedirs(osp.dirname(out_file), exist_ok=True)
    with _console_to(osp.join(osp.dirname(out_file), 'console.log')):
        _label(plan, seed, weak_dir, out_file, full, advance)


def _label(plan: Config, seed: int, weak_dir: str, out_file: str, full: bool,
           advance: Callable[[int], None]) -> None:
    init_default_scope('mmpretrain')
    from mmpretrain.registry import MODELS
    model = MODELS.build(
        dict(plan.weak_model, data_preprocessor=plan.data_preprocessor))
    with open(osp.join(weak_dir, 'last_checkpoint')) as file:
        load_teacher_weights(model, file.read().strip())
    model.to('cuda' if torch.cuda.is_available() else 'cpu')
    dataloader = Runner.build_dataloader(
        deterministic_dataloader_cfg(
            weak_labelling_cfg(plan, seed, full), 'train', TEST_BATCH))
    logits = compute_weak_logits(model, dataloader, lambda n: advance(1))
    temporary = f'{out_file}.tmp'
    torch.save(dict(weak_logits=logits, seed=seed), temporary)
    os.replace(temporary, out_file)


class Pipeline:
    """Runs the stages of every seed, skipping those already done.

    Args:
        plan (Config): The pipeline config.
        work_dir (str): Output directory.
        full (bool): Use the whole halves.
        with_ground_truth (bool): Add the paper's setting.
    """

    def __init__(self, plan: Config, work_dir: str, full: bool,
                 with_ground_truth: bool) -> None:
        self.plan = plan
        self.work_dir = work_dir
        self.full = full
        self.methods: Dict[str, dict] = dict(plan.methods)
        if with_ground_truth:
            self.methods.update(plan.ground_truth_method)
        self.ground_truth_runs = set(
            plan.ground_truth_method) if with_ground_truth else set()

    @property
    def runs(self) -> List[str]:
        return ['weak', 'ceiling', *self.methods]

    def stage_costs(self) -> Dict[str, int]:
        """Iterations of each stage of one seed (for the progress bar)."""
        test = -(-TEST_SIZE // TEST_BATCH)
        strong = iterations(self.plan, 'B', self.plan.strong_epochs,
                            self.full) + test
        costs = {
            'weak':
            iterations(self.plan, 'A', self.plan.weak_epochs, self.full) +
            test,
            'ceiling':
            strong,
            'weak_labels':
            -(-iterations(self.plan, 'B', 1, self.full) *
              self.plan.batch_size // TEST_BATCH),
        }
        costs.update({method: strong for method in self.methods})
        return costs

    def run_seed(self, seed: int, progress: Progress,
                 task) -> Dict[str, float]:
        """Run (or reuse) every stage of ``seed``; returns accuracies."""
        costs = self.stage_costs()
        results: Dict[str, float] = {}

        def stage(name: str, run: Callable[[Callable[[int], None]],
                                           dict]) -> dict:
            """Run a stage unless its result.json exists; keep the
            progress bar at the stage's planned cost."""
            result_file = osp.join(
                stage_dir(self.work_dir, seed, name), 'result.json')
            progress.update(task, description=f'seed {seed}: {name}')
            start = progress.tasks[task].completed
            if osp.isfile(result_file):
                with open(result_file) as file:
                    result = json.load(file)
            else:
                result = run(lambda n: progress.advance(task, n))
                _write_json(result_file, result)
            done = progress.tasks[task].completed - start
            progress.advance(task, max(0, costs[name] - done))
            return result

        def train(name: str, cfg: Config) -> None:
            directory = stage_dir(self.work_dir, seed, name)
            results[name] = stage(
                name, lambda advance: dict(
                    accuracy=run_training_stage(cfg, directory, advance))
            )['accuracy']

        train(
            'weak',
            self._classifier(seed, 'weak', 'weak_model', 'A',
                             self.plan.weak_epochs))
        train(
            'ceiling',
            self._classifier(seed, 'ceiling', 'strong_model', 'B',
                             self.plan.strong_epochs))
        logits_file = osp.join(
            stage_dir(self.work_dir, seed, 'weak_labels'), WEAK_LOGITS_FILE)

        def label(advance: Callable[[int], None]) -> dict:
            label_with_weak_model(self.plan, seed,
                                  stage_dir(self.work_dir, seed, 'weak'),
                                  logits_file, self.full, advance)
            return dict(weak_logits=logits_file)

        stage('weak_labels', label)
        for method, settings in self.methods.items():
            train(
                method,
                student_stage(
                    self.plan,
                    settings,
                    seed,
                    self.plan.strong_epochs,
                    stage_dir(self.work_dir, seed, method),
                    logits_file,
                    self.full,
                    ground_truth=method in self.ground_truth_runs))
        return results

    def _classifier(self, seed: int, name: str, model_key: str, subset: str,
                    epochs: int) -> Config:
        return classifier_stage(self.plan, model_key, subset, seed, epochs,
                                stage_dir(self.work_dir, seed, name),
                                self.full)

    def write_report(self, results: Dict[int, Dict[str, float]],
                     elapsed: float, command: str) -> str:
        """Write report.md, accuracy.png and curves.png; returns the
        table."""
        weak_runs = [r for r in self.runs if r not in self.ground_truth_runs]
        table = markdown_table(summary_rows(results, weak_runs))
        plot_accuracy(results, self.runs,
                      osp.join(self.work_dir, 'accuracy.png'))
        first_seed = min(results)
        plot_curves(
            {
                method: load_scalars(
                    stage_dir(self.work_dir, first_seed, method))
                for method in self.methods
            }, osp.join(self.work_dir, 'curves.png'))
        lines = [
            '# Weak-to-strong report', '', f'Command: `{command}`', '', table,
            ''
        ]
        if self.ground_truth_runs:
            lines += [
                "Paper's setting (ground truth plus the weak-to-strong "
                'loss; PGR relative to the same weak and ceiling models):', '',
                markdown_table(
                    summary_rows(results, sorted(self.ground_truth_runs))), ''
            ]
        lines += [
            f'- seeds: {sorted(results)}',
            f'- weak model on half A ({self._samples("A")} images), '
            f'{self.plan.weak_epochs} epochs; strong models on half B '
            f'({self._samples("B")} images), {self.plan.strong_epochs} '
            'epochs; test set: the official 10,000 test images',
            f'- hardware: {_cpu_name()}, {os.cpu_count()} cores, '
            f'{_device_name()}; torch {torch.__version__}',
            f'- wall time: {elapsed / 60:.1f} min (stages run in this '
            'invocation)', '', '![accuracy](accuracy.png)', '',
            '![curves](curves.png)', ''
        ]
        with open(osp.join(self.work_dir, 'report.md'), 'w') as file:
            file.write('\n'.join(lines))
        return table

    def _samples(self, subset: str) -> str:
        from mmw2s.pipeline.stages import num_samples
        return f'{num_samples(self.plan, subset, self.full):,}'


def _cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as file:
            for line in file:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def _device_name() -> str:
    if torch.cuda.is_available():
        return f'GPU {torch.cuda.get_device_name(0)}'
    return 'no GPU'


def main() -> None:
    args = parse_args()
    plan = Config.fromfile(args.config)
    if args.data_root:
        plan.data.data_root = args.data_root
    if args.cfg_options:
        plan.merge_from_dict(args.cfg_options)
    work_dir = args.work_dir or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    os.makedirs(work_dir, exist_ok=True)
    pipeline = Pipeline(plan, work_dir, args.full, args.with_ground_truth)
    console = Console(file=sys.stderr)
    total = sum(pipeline.stage_costs().values()) * len(args.seeds)
    results = {}
    start = time.time()
    with Progress(
            TextColumn('{task.description:<24}'),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn('ETA'),
            TimeRemainingColumn(),
            console=console) as progress:
        task = progress.add_task('starting', total=total)
        for seed in args.seeds:
            results[seed] = pipeline.run_seed(seed, progress, task)
    table = pipeline.write_report(results,
                                  time.time() - start,
                                  ' '.join(['python'] + sys.argv))
    print(table)
    print(f'\nReport: {osp.join(work_dir, "report.md")}')


if __name__ == '__main__':
    main()
