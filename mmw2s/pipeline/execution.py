# Copyright (c) mmw2s contributors. All rights reserved.
"""Running a study: its data identified, its backbone pre-trained (or a
matching one found), then its graph of runs sent out by the dispatcher.
Finished work is reused when its key matches, cut-short training resumes,
and a new evaluation only re-tests saved checkpoints."""
import glob
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config

from .data import DataSummary, iterations, split_cfg, summarize
from .dispatch import Dispatcher, Failure, Job
from .graph import Run, Study
from .jobs import (PROGRESS_FILE, TRAIN_FILE, read_json, run_pretraining,
                   run_stage, saved, weights_sha256)
from .plan import EvalSpec, file_sha256, plain, resolve_stage, settings_key
from .stages import init_target, pretrain_cfg, training_cfg

# results[setting][seed][stage]: the stage's training record and test result
Results = Dict[str, Dict[int, Dict[str, dict]]]
# what a run needs (Pipeline.run_state): nothing, its tests, or everything
SAVED, TO_TEST, TO_TRAIN = 'saved', 'trained, to test', 'to train'


class PipelineEvents:
    """What the pipeline tells its caller (a progress display).

    Override any of them; the defaults do nothing.
    """

    def phase_started(self, title: str) -> None:
        """A phase of a study (:mod:`mmw2s.study`) begins; ``title`` says
        what it does and the choices it starts from."""

    def stage_started(self, label: str, cost: int, work: str) -> None:
        """A job of ``cost`` iterations is sent; ``work`` says what it does
        (``'to pre-train'``, ``'to train and test'``, ``'to re-test'``)."""

    def advance(self, iterations: int) -> None:
        """``iterations`` more iterations are done."""

    def stage_finished(self, label: str, result: Optional[dict],
                       outcome: str) -> None:
        """A run ended with ``result`` (None when it failed); ``outcome``
        says whether it was trained, reused or re-tested."""


class StudyFailed(RuntimeError):
    """Some runs of a study failed; the others finished.

    Args:
        failures (dict[str, Failure]): The failed runs, by label.
    """

    def __init__(self, failures: Dict[str, Failure]) -> None:
        self.failures = failures
        lines = [
            f'{label}: {failure.reason} (directory {failure.directory}' +
            (f', log {failure.log})' if failure.log else ')')
            for label, failure in failures.items()
        ]
        super().__init__(f'{len(failures)} run(s) failed:\n' +
                         '\n'.join(lines))


def matching_backbone(path: str, settings: dict) -> bool:
    """Whether the backbone at ``path`` was pre-trained with ``settings``.

    Raises:
        ValueError: Its record matches but the file's SHA-256 does not.
    """
    record = read_json(osp.splitext(path)[0] + '.json')
    if record is None or record.get('settings') != settings \
            or not osp.isfile(path):
        return False
    if file_sha256(path) != record['sha256']:
        raise ValueError(f'{path} does not have the SHA-256 its record '
                         f'states ({record["sha256"]}); it is damaged or '
                         'was replaced. Regenerate it (see its record).')
    return True


class Pipeline:
    """Runs the settings of a study config for some seeds.

    Args:
        plan (Config): The study config.
        work_dir (str): Output directory.
        evaluation (EvalSpec): What every stage is tested on.
        events (PipelineEvents): Progress callbacks.
        dispatcher (Dispatcher): Where jobs run.
    """

    def __init__(self, plan: Config, work_dir: str, evaluation: EvalSpec,
                 events: PipelineEvents, dispatcher: Dispatcher) -> None:
        self.plan = plan
        self.work_dir = work_dir
        self.evaluation = evaluation
        self.events = events
        self.dispatcher = dispatcher
        self.summaries: Dict[str, DataSummary] = {}
        self.pretrained: Optional[str] = None
        self.study: Optional[Study] = None
        # SHA-256 of checkpoints' weights, by (path, modification time, size)
        self.weights_sha256: Dict[Tuple[str, int, int], str] = {}

    def summary(self, split: str) -> DataSummary:
        """What the dataset of ``split`` reads (built once)."""
        if split not in self.summaries:
            self.summaries[split] = summarize(split_cfg(self.plan, split, []))
        return self.summaries[split]

    def uses_pretraining(self, settings: List[str]) -> bool:
        """Whether a stage of ``settings`` starts from the pre-training."""
        return any(
            resolve_stage(self.plan, setting, name).get('init') == 'pretrain'
            for setting in settings
            for name in self.plan.settings[setting].stages)

    # Pre-training
    def pretrain_settings(self) -> dict:
        """Everything the pre-trained backbone depends on: the recipe and
        the unlabelled training images (not their labels, not their
        path)."""
        recipe = {
            key: value
            for key, value in self.plan.pretrain.items()
            if key not in ('title', 'checkpoint', 'student', 'ignore')
        }
        dataset = split_cfg(self.plan, 'unlabelled', [])
        dataset.pop('data_root', None)
        dataset.pop('pipeline')
        return plain(
            dict(
                recipe=recipe,
                dataset=dataset,
                images_sha256=self.summary('unlabelled').images_sha256))

    def pretrain_dir(self) -> str:
        key = settings_key(self.pretrain_settings())
        return osp.join(self.work_dir, f'pretrain-{key[:10]}')

    def find_backbone(self) -> Optional[str]:
        """A backbone pre-trained with these settings (committed, or from an
        earlier run), or None."""
        settings = self.pretrain_settings()
        for path in (self.plan.pretrain.checkpoint,
                     osp.join(self.pretrain_dir(), 'backbone.pth')):
            if matching_backbone(path, settings):
                return path
        return None

    def pretrain(self, command: str) -> str:
        """The pre-trained backbone: a matching one, or trained now on the
        unlabelled training images."""
        label = f'pretrain ({self.plan.pretrain.title})'
        self.pretrained = self.find_backbone()
        if self.pretrained is not None:
            self.events.stage_finished(label, dict(checkpoint=self.pretrained),
                                       'reused')
            return self.pretrained
        directory = self.pretrain_dir()
        spec = self.plan.pretrain
        cost = iterations(
            self.summary('unlabelled').size, spec.batch_size, spec.epochs)
        job = Job(
            key='pretrain',
            directory=directory,
            function=run_pretraining,
            spec=lambda _: dict(
                directory=directory,
                train_cfg=pretrain_cfg(self.plan, directory).to_dict(),
                record=dict(
                    settings=self.pretrain_settings(),
                    command=command,
                    seed=spec.seed),
                threads=self.dispatcher.threads),
            needs=[])
        failures = self._dispatch([job],
                                  {'pretrain': (label, cost, 'to pre-train')})
        if failures:
            raise StudyFailed({label: failures['pretrain']})
        self.pretrained = osp.join(directory, 'backbone.pth')
        return self.pretrained

    def export_pretrained(self) -> None:
        """Copy the pre-trained backbone and its record to the config's
        ``pretrain.checkpoint``, to be committed."""
        target = self.plan.pretrain.checkpoint
        if osp.abspath(self.pretrained) == osp.abspath(target):
            return
        os.makedirs(osp.dirname(osp.abspath(target)), exist_ok=True)
        for source, destination in ((self.pretrained, target),
                                    (osp.splitext(self.pretrained)[0] +
                                     '.json',
                                     osp.splitext(target)[0] + '.json')):
            shutil.copyfile(source, f'{destination}.tmp')
            os.replace(f'{destination}.tmp', destination)

    # The runs
    def plan_study(self, settings: List[str], seeds: List[int]) -> Study:
        """The graph of runs of ``settings`` for ``seeds``."""
        test = None if self.evaluation.split == 'val' else self.summary('test')
        self.study = Study(self.plan, settings, seeds, self.evaluation,
                           self.summary('train'), test, self.pretrained)
        for run in self.study.runs.values():
            run.directory = self._saved_directory(run)
        return self.study

    def _saved_directory(self, run: Run) -> str:
        """The run's directory: where its training was saved, under its own
        name or the name of another stage (a run is named after the first
        stage that uses it, and another study may have named it), else its
        own."""
        candidates = [run.directory] + sorted(
            osp.relpath(path, self.work_dir) for path in glob.glob(
                osp.join(self.work_dir, f'seed_{run.seed}',
                         f'*-{run.key[:10]}')))
        for directory in candidates:
            record = read_json(osp.join(self.work_dir, directory, TRAIN_FILE))
            if record is not None and record.get('key') == run.key:
                return directory
        return run.directory

    def describe(self, settings: List[str], seeds: List[int]) -> List[str]:
        """What the study needs, without running it: each run, its size
        and schedule, whether it is saved, and what the data changed."""
        study = self.plan_study(settings, seeds)
        lines = [] if self.pretrained or not self.uses_pretraining(
            settings) else [
                'pre-training to do first: the runs that start from it are '
                'listed as to train'
            ]
        stages = sum(
            len(entries) for by_seed in study.entries.values()
            for entries in by_seed.values())
        states = {key: self.run_state(run) for key, run in study.runs.items()}
        to_train = [
            run for key, run in study.runs.items() if states[key] == TO_TRAIN
        ]
        lines.append(f'{len(study.runs)} run(s) for {stages} stage(s), '
                     f'{len(to_train)} to train '
                     f'({sum(run.cost for run in to_train):,} iterations); '
                     f'{study.train.size:,} training images, '
                     f'{study.val.count:,} held out for validation, tested '
                     f'on {study.test_images():,} images')
        for key, run in study.runs.items():
            lines.append(f'{run.directory}: {", ".join(run.used_by)}; '
                         f'{run.stage.epochs} epochs, {run.cost} iterations; '
                         f'{states[key]}')
            lines += [f'  {note}' for note in run.notes]
            if states[key] == TO_TRAIN and run.teacher is not None:
                lines += [f'  {note}' for note in self._retraining_note(run)]
        return lines

    def run_state(self, run: Run) -> str:
        """What ``run`` of the planned study needs: :data:`TO_TRAIN`,
        :data:`TO_TEST`, or nothing (:data:`SAVED`)."""
        return _state(run, self._saved(run))

    def _saved(self, run: Run) -> Optional[dict]:
        """The run's saved training and tests (see :func:`saved`); a
        student's only if trained from its teacher's saved checkpoint."""
        teacher_sha256 = None
        if run.teacher is not None:
            checkpoint = self._teacher_checkpoint(run)
            if checkpoint is None:
                return None
            teacher_sha256 = self._weights_sha256(checkpoint)
        return saved(
            osp.join(self.work_dir, run.directory), run.key, list(run.tests),
            teacher_sha256)

    def _retraining_note(self, run: Run) -> List[str]:
        """Why a student whose training is saved under its key trains
        again (none when nothing is saved)."""
        record = read_json(osp.join(self.work_dir, run.directory, TRAIN_FILE))
        if record is None or record.get('key') != run.key:
            return []
        if record.get('teacher_sha256') is None:
            why = ('saved by an earlier version, which did not record its '
                   "teacher's weights: it trains again")
        elif self._teacher_checkpoint(run) is None:
            why = ('saved, but its teacher trains first: it trains again '
                   "unless the teacher's new weights are the ones it was "
                   'trained from')
        else:
            why = ('saved from other weights of its teacher than the ones '
                   'saved now: it trains again')
        return [why]

    def _teacher_checkpoint(self, run: Run) -> Optional[str]:
        """The checkpoint of the run's teacher, None until it is saved."""
        teacher = self.study.runs[run.teacher]
        done = self._saved(teacher)
        if done is None:
            return None
        return osp.abspath(
            osp.join(self.work_dir, teacher.directory,
                     done['train']['checkpoint']))

    def _weights_sha256(self, path: str) -> str:
        status = os.stat(path)
        identity = (path, status.st_mtime_ns, status.st_size)
        if identity not in self.weights_sha256:
            self.weights_sha256[identity] = weights_sha256(path)
        return self.weights_sha256[identity]

    def init_spec(self, run: Run) -> Optional[dict]:
        """What the run starts from, for its job to check before training
        (see :func:`mmw2s.pipeline.jobs.check_init`)."""
        init = run.stage.get('init')
        if init == 'pretrain':
            return dict(
                target='backbone',
                checkpoint=osp.abspath(self.pretrained),
                prefix='backbone.',
                ignore=tuple(self.plan.pretrain.get('ignore', ())))
        if init:
            return dict(
                target=init_target(init),
                checkpoint=osp.abspath(init['checkpoint']),
                prefix=init.get('prefix'),
                ignore=tuple(init.get('ignore', ())))
        return None

    def _spec(self, run: Run, teacher_result: Optional[dict]) -> dict:
        directory = osp.abspath(osp.join(self.work_dir, run.directory))
        teacher_ckpt = None
        if run.teacher is not None:
            teacher_dir = osp.join(self.work_dir,
                                   self.study.runs[run.teacher].directory)
            teacher_ckpt = osp.abspath(
                osp.join(teacher_dir, teacher_result['train']['checkpoint']))
        cfg = training_cfg(
            self.plan,
            run.stage,
            run.seed,
            directory,
            run.val_samples,
            pretrained=osp.abspath(self.pretrained)
            if self.pretrained else None,
            teacher_ckpt=teacher_ckpt,
            teacher_stage=run.teacher_stage,
            keep_checkpoints=bool(run.stage.get('keep_checkpoints'))
            and run.seed in self.evaluation.each_epoch)
        return dict(
            directory=directory,
            key=run.key,
            train_cfg=cfg.to_dict(),
            tests=run.tests,
            init=self.init_spec(run),
            teacher_checkpoint=teacher_ckpt,
            threads=self.dispatcher.threads)

    def run(self, settings: List[str], seeds: List[int]) -> Results:
        """Run (or reuse) every stage of ``settings`` for ``seeds``.

        Returns:
            dict: ``results[setting][seed][stage]``: the run's training
            record and its test's result, with ``outcome`` (``'trained'``,
            ``'reused'`` or ``'re-tested'``) and ``directory``.

        Raises:
            StudyFailed: Some runs failed (the others finished).
        """
        study = self.plan_study(settings, seeds)
        outcomes: Dict[str, dict] = {}
        jobs, labels = [], {}
        for run in study.runs.values():
            directory = osp.join(self.work_dir, run.directory)
            done = self._saved(run)
            if _state(run, done) == SAVED:
                outcomes[run.key] = dict(done, trained=False, tested=[])
                self.events.stage_finished(run.label, done, 'reused')
                continue
            teacher = [run.teacher] if run.teacher is not None and \
                run.teacher not in outcomes else []
            if done is None:
                cost = run.cost + len(run.tests) * study.test_cost()
            else:
                cost = (len(run.tests) - len(done['tests'])) * \
                    study.test_cost()
            labels[run.key] = (run.label, cost, 'to train and test'
                               if done is None else 'to re-test')
            jobs.append(
                Job(key=run.key,
                    directory=directory,
                    function=run_stage,
                    spec=self._spec_builder(run, outcomes),
                    needs=teacher))
        failures = self._dispatch(jobs, labels, outcomes)
        if failures:
            raise StudyFailed({
                study.runs[key].label: failure
                for key, failure in failures.items()
            })
        return self._results(outcomes)

    def _spec_builder(self, run: Run, outcomes: Dict[str, dict]):

        def build(needed: Dict[str, dict]) -> dict:
            teacher = needed.get(run.teacher) or outcomes.get(run.teacher)
            return self._spec(run, teacher)

        return build

    def _dispatch(
            self,
            jobs: List[Job],
            labels: Dict[str, tuple],
            outcomes: Optional[Dict[str, dict]] = None) -> Dict[str, Failure]:
        """Send ``jobs``; report their progress from their progress files;
        keep their results in ``outcomes``."""
        progress: Dict[str, int] = {}
        directories = {job.key: job.directory for job in jobs}

        def started(job: Job) -> None:
            progress[job.key] = 0
            self.events.stage_started(*labels[job.key])

        def poll() -> None:
            for key in progress:
                done = _read_count(osp.join(directories[key], PROGRESS_FILE))
                if done > progress[key]:
                    self.events.advance(done - progress[key])
                    progress[key] = done

        def finished(job: Job, result: Optional[dict]) -> None:
            label, cost, _ = labels[job.key]
            if job.key in progress:
                self.events.advance(max(0, cost - progress.pop(job.key)))
            if result is not None and outcomes is not None:
                outcomes[job.key] = result
            outcome = 'failed' if result is None else _job_outcome(result)
            self.events.stage_finished(label, result, outcome)

        for directory in directories.values():
            if osp.exists(osp.join(directory, PROGRESS_FILE)):
                os.remove(osp.join(directory, PROGRESS_FILE))
        return self.dispatcher.run(jobs, started, finished, poll)

    def _results(self, outcomes: Dict[str, dict]) -> Results:
        results: Results = {}
        for setting, by_seed in self.study.entries.items():
            results[setting] = {}
            for seed, entries in by_seed.items():
                results[setting][seed] = {}
                for name, entry in entries.items():
                    outcome = outcomes[entry.run]
                    run = self.study.runs[entry.run]
                    train = outcome['train']
                    test = outcome['tests'][entry.test]
                    results[setting][seed][name] = dict(
                        _metrics(test),
                        train_images=train['train_images'],
                        epochs=train['epochs'],
                        iterations=train['iterations'],
                        threads=train['threads'],
                        labels_changed=train.get('labels_changed'),
                        key=run.key,
                        test_key=entry.test,
                        checkpoint=osp.join(run.directory,
                                            train['checkpoint']),
                        directory=run.directory,
                        log=osp.join(run.directory, train['log']),
                        train_minutes=train['minutes'],
                        test_minutes=test['minutes'],
                        outcome=_outcome(outcome, entry.test),
                        notes=run.notes)
                    if entry.epoch_tests:
                        epoch_tests = [
                            outcome['tests'][key] for key in entry.epoch_tests
                        ]
                        # the last epoch's test is the run's test
                        results[setting][seed][name].update(
                            each_epoch=[_metrics(t) for t in epoch_tests],
                            epoch_test_minutes=sum(t['minutes']
                                                   for t in epoch_tests[:-1]))
        return results


def _state(run: Run, done: Optional[dict]) -> str:
    """What ``run`` needs, given what of it is saved (``done``)."""
    if done is None:
        return TO_TRAIN
    return SAVED if len(done['tests']) == len(run.tests) else TO_TEST


def _job_outcome(result: dict) -> str:
    """What a job did: trained, re-tested, or found it all saved (a
    student whose teacher trained again to the same weights)."""
    if result.get('trained', True):
        return 'trained'
    return 're-tested' if result.get('tested') else 'reused'


def _metrics(test: dict) -> dict:
    """A test's result without its bookkeeping."""
    return {
        k: v
        for k, v in test.items() if k not in ('key', 'log', 'minutes', 'epoch')
    }


def _outcome(outcome: dict, test: str) -> str:
    if outcome['trained']:
        return 'trained'
    return 're-tested' if test in outcome['tested'] else 'reused'


def _read_count(path: str) -> int:
    try:
        with open(path) as file:
            return int(file.read() or 0)
    except (FileNotFoundError, ValueError):
        return 0
