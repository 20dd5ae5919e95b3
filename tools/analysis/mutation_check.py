# Copyright (c) mmw2s contributors. All rights reserved.
"""Apply one-line mutations to the core files and report which ones the
tests fail to notice.

Each mutant changes one line of the committed code (``git archive HEAD``,
unpacked into a temporary copy; the working tree is never touched) and runs
the tests that cover that code. A mutant is *killed* when one of those
tests fails, *survives* when they pass; a timeout, or pytest collecting no
test or stopping on an error of its own, is reported as no verdict. The
unmutated copy must pass the same tests first, so a kill is the mutation's
doing.

Usage::

    python tools/analysis/mutation_check.py            # every mutant
    python tools/analysis/mutation_check.py --only noisy_label_is_clean

Exits 1 unless every mutant is killed (one survived, reached no verdict,
or its line is no longer in its file: the list must then be updated with
the code).
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, NamedTuple

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class Mutant(NamedTuple):
    """A one-line change of ``path`` and the tests that must notice it."""
    name: str
    path: str
    original: str
    mutated: str
    tests: List[str]


LOSSES = ['tests/test_models/test_losses']
ALGORITHM = [
    'tests/test_models/test_algorithms/test_weak_to_strong_distill.py'
]
MUTANTS = [
    Mutant('adaptconf_beta_sign',
           'mmw2s/models/losses/confidence_distillation.py',
           '(_at(preds_S, labels_T) - max_S) / threshold)',
           '(max_S - _at(preds_S, labels_T)) / threshold)', LOSSES),
    Mutant('kd_without_tau_squared',
           'mmw2s/models/losses/confidence_distillation.py',
           'kd = tau**2 * kd', 'kd = tau * kd', LOSSES),
    Mutant('masked_teacher_class_not_clamped',
           'mmw2s/models/losses/confidence_distillation.py',
           'if kd.isnan().any():', 'if False:', LOSSES),
    Mutant('fused_gradient_ce_weight',
           'mmw2s/models/losses/confidence_distillation.py',
           'ce_coef = ((grad_ce / num) * weight).unsqueeze(1)',
           'ce_coef = ((grad_ce / num) * (1 - weight)).unsqueeze(1)', LOSSES),
    Mutant('augconf_ignores_warmup', 'mmw2s/models/losses/augconf_loss.py',
           'self.warmup_factor * self.alpha)', 'self.alpha)', LOSSES),
    Mutant('logconf_teacher_weight', 'mmw2s/models/losses/logconf_loss.py',
           'teacher_term = (1 - alpha) *', 'teacher_term = (1 - alpha / 2) *',
           LOSSES),
    Mutant('adaptconf_ignores_warmup', 'mmw2s/models/losses/adaptconf_loss.py',
           'self.threshold, self.warmup_factor)', 'self.threshold, 1.0)',
           LOSSES),
    Mutant('distiller_agreement_inverted',
           'mmw2s/models/distillers/weak_to_strong_distiller.py',
           'agreement = (labels_S == labels_T).float().mean()',
           'agreement = (labels_S != labels_T).float().mean()',
           ['tests/test_models/test_distillers']),
    Mutant('teacher_acc_halved',
           'mmw2s/models/algorithms/weak_to_strong_distill.py',
           'logits.device)).float().mean()',
           'logits.device)).float().mean() / 2', ALGORITHM),
    Mutant('teacher_trains',
           'mmw2s/models/algorithms/weak_to_strong_distill.py',
           '        super().train(mode)\n        self.teacher.eval()',
           '        super().train(mode)\n        self.teacher.train(mode)',
           ALGORITHM),
    Mutant('warmup_epoch_off_by_one',
           'mmw2s/engine/hooks/warmup_factor_hook.py', 'return epoch / ramp',
           'return (epoch + 1) / ramp',
           ['tests/test_engine/test_warmup_factor_hook.py']),
    Mutant('warmup_iter_off_by_one',
           'mmw2s/engine/hooks/warmup_factor_hook.py',
           'min(1.0, iteration / ramp)', 'min(1.0, (iteration + 1) / ramp)',
           ['tests/test_engine/test_warmup_factor_hook.py']),
    Mutant('warmup_constant_ignored',
           'mmw2s/engine/hooks/warmup_factor_hook.py',
           'self._set(runner, self.value)', 'self._set(runner, 1.0)',
           ['tests/test_engine/test_warmup_factor_hook.py']),
    Mutant('nonfinite_flag_local', 'mmw2s/engine/optimizers.py',
           "    all_reduce(flags, op='sum')\n", '\n',
           ['tests/test_engine/test_distributed_decisions.py']),
    Mutant('noisy_label_is_clean', 'mmw2s/datasets/noisy_label_dataset.py',
           "data_info['gt_label'] = int(self.noisy_labels[index])",
           "data_info['gt_label'] = int(self.clean_labels[index])",
           ['tests/test_datasets/test_noisy_label_dataset.py']),
    Mutant('idx_subset_unseeded', 'mmw2s/datasets/idx_dataset.py',
           'np.random.default_rng(self.subset_seed).permutation(',
           'np.random.default_rng().permutation(',
           ['tests/test_datasets/test_idx_dataset.py']),
    Mutant('weak_logit_rows_unchecked', 'mmw2s/datasets/weak_label_dataset.py',
           '        if len(bad_rows) == 0:\n            return',
           '        if True:\n            return',
           ['tests/test_datasets/test_weak_label_dataset.py']),
    Mutant('pgr_over_ceiling', 'mmw2s/evaluation/pgr.py',
           'return (student_acc - weak_acc) / gap',
           'return (student_acc - weak_acc) / ceiling_acc',
           ['tests/test_evaluation/test_pgr.py']),
    Mutant('val_loop_pgr_gap_check',
           'mmw2s/engine/runner/weak_to_strong_val_loop.py',
           'if self.ceiling_acc > weak_acc:',
           'if self.ceiling_acc != weak_acc:',
           ['tests/test_engine/test_weak_to_strong_val_loop.py']),
    Mutant('few_shot_centroid_unnormalised',
           'mmw2s/evaluation/few_shot_metric.py',
           'centroids = _normalise(chosen[:, :num_shots].mean(axis=1))',
           'centroids = chosen[:, :num_shots].mean(axis=1)',
           ['tests/test_evaluation/test_few_shot_metric.py']),
    Mutant('report_population_std', 'mmw2s/pipeline/report.py',
           'values.std(ddof=1)', 'values.std()',
           ['tests/test_pipeline/test_report.py']),
    Mutant('report_claim_ge_as_gt', 'mmw2s/pipeline/report.py',
           "d > 0 if relation == '>' else d >= 0",
           "d > 0 if relation == '>' else d > 0",
           ['tests/test_pipeline/test_report.py']),
    Mutant('report_full_marks_exact', 'mmw2s/pipeline/report.py',
           'value >= FULL_MARKS - FULL_MARKS_TOLERANCE',
           'value >= FULL_MARKS', ['tests/test_pipeline/test_report.py']),
    Mutant('study_dry_run_untested_as_saved', 'mmw2s/study/runner.py',
           'pipeline.run_state(run) == SAVED',
           "pipeline.run_state(run) != 'to train'", [
               'tests/test_tools/test_w2s_study.py::'
               'test_a_dry_run_stops_at_the_first_phase_with_work_left'
           ]),
    Mutant('pipeline_student_of_another_teacher_reused',
           'mmw2s/pipeline/jobs.py',
           "            or record.get('teacher_sha256') != teacher_sha256:",
           '            or False:', [
               'tests/test_tools/test_w2s_pipeline.py::'
               'test_a_student_of_another_teacher_checkpoint_trains_again'
           ]),
    Mutant('pipeline_stale_student_resumed', 'mmw2s/pipeline/jobs.py',
           '    if read_json(osp.join(directory, STARTED_FILE)) == started:',
           '    if True:', [
               'tests/test_tools/test_w2s_pipeline.py::'
               'test_a_student_of_another_teacher_checkpoint_trains_again'
           ]),
    Mutant('dispatch_threads_above_the_shared_cores',
           'mmw2s/pipeline/dispatch.py', 'return min(shared, limit)',
           'return limit', ['tests/test_pipeline/test_dispatch.py']),
    Mutant('pipeline_students_see_labels', 'mmw2s/pipeline/stages.py',
           "calculate_student_loss=stage.get('ground_truth', True),",
           'calculate_student_loss=True,', [
               'tests/test_tools/test_w2s_pipeline.py::'
               'test_weak_only_students_never_see_ground_truth'
           ]),
    Mutant('pipeline_stage_not_resumed', 'mmw2s/pipeline/stages.py',
           '        resume=True,', '        resume=False,', [
               'tests/test_tools/test_w2s_pipeline.py::'
               'test_an_interrupted_stage_resumes_from_its_checkpoint'
           ]),
    Mutant(
        'pipeline_defaults_merged_into_fields', 'mmw2s/pipeline/plan.py',
        '    fields.update(copy.deepcopy(dict(spec.stages[name])))',
        '    fields = ConfigDict(fields); '
        'fields.update(dict(spec.stages[name]))',
        ['tests/test_pipeline/test_plan.py']),
    Mutant(
        'pipeline_missing_weights_allowed', 'mmw2s/pipeline/jobs.py',
        'missing=[key for key in own if checked(key) and key not in state]',
        'missing=[]', ['tests/test_pipeline/test_plan.py']),
    Mutant('pipeline_data_identified_by_index', 'mmw2s/pipeline/data.py',
           '        _update_image(images, info, index)',
           '        images.update(str(index).encode())',
           ['tests/test_pipeline/test_plan.py']),
    Mutant('study_value_chosen_worst', 'mmw2s/study/selection.py',
           '        best = max(accuracy.values())',
           '        best = min(accuracy.values())',
           ['tests/test_study/test_grid.py']),
    Mutant('study_reference_teacher_by_gap_alone', 'mmw2s/study/selection.py',
           'key=lambda name: abs(gaps[name] - study.reference_gap))',
           'key=lambda name: gaps[name])', ['tests/test_study/test_grid.py']),
    Mutant('pipeline_every_seed_tested_each_epoch', 'mmw2s/pipeline/graph.py',
           "if split != 'test' or run.seed not in each_epoch or",
           "if split != 'test' or", ['tests/test_study/test_grid.py']),
    Mutant('fsdp_missing_keys_unreported',
           'mmw2s/engine/strategies/fully_shard_strategy.py',
           'missing=sorted(own - set(state_dict)),', 'missing=[],', [
               'tests/test_engine/test_fully_shard_strategy.py::'
               'test_fsdp_loading_names_missing_and_unexpected_keys'
           ]),
    Mutant('compat_url_checkpoints_unsafe', 'mmw2s/compat.py',
           '         _load_url_checkpoints_safely),',
           '         lambda: None),',
           ['tests/test_utils/test_safe_checkpoint.py']),
    Mutant(
        'compat_cpu_distributed_not_applied', 'mmw2s/compat.py',
        "('mmengine_cpu_distributed', _cuda_is_absent, _distribute_on_cpu)",
        "('mmengine_cpu_distributed', _cuda_is_absent, lambda: None)",
        ['tests/test_compat.py']),
    Mutant('compat_config_formatted_every_time', 'mmw2s/compat.py',
           '         _format_each_config_text_once),',
           '         lambda: None),', ['tests/test_compat.py']),
    Mutant('compat_safe_checkpoints_not_applied', 'mmw2s/compat.py',
           '         _load_local_checkpoints_safely),',
           '         lambda: None),', ['tests/test_compat.py']),
]


def unpack_head(destination: str) -> None:
    """Unpack the committed tree (HEAD) into ``destination``."""
    archive = subprocess.run(['git', 'archive', 'HEAD'],
                             cwd=REPO_ROOT,
                             capture_output=True,
                             check=True).stdout
    subprocess.run(['tar', '-x', '-C', destination], input=archive, check=True)


# pytest's exit codes (pytest.ExitCode) and what they say of a mutant
PASSED, FAILED = 'passed', 'failed'
EXIT_CODES = {
    0: PASSED,
    1: FAILED,
    2: 'interrupted',
    3: 'internal error of pytest',
    4: 'usage error of pytest',
    5: 'no test collected',
}


def tests_outcome(returncode: int) -> str:
    """What pytest's exit code says: ``'passed'``, ``'failed'`` (a test
    failed: the only outcome that kills a mutant), or why no verdict was
    reached."""
    return EXIT_CODES.get(returncode, f'pytest exited {returncode}')


def run_tests(copy_root: str, tests: List[str], timeout: int) -> str:
    """Run ``tests`` in ``copy_root``, with its mmw2s imported (first on
    PYTHONPATH, also in the tools the tests launch); their outcome (see
    :func:`tests_outcome`), or ``'timed out after N s'``."""
    env = dict(os.environ, PYTHONPATH=copy_root)
    command = [
        sys.executable, '-m', 'pytest', '-x', '-q', '-p', 'no:cacheprovider'
    ] + tests
    try:
        result = subprocess.run(
            command,
            cwd=copy_root,
            env=env,
            capture_output=True,
            timeout=timeout)
    except subprocess.TimeoutExpired:
        return f'timed out after {timeout} s'
    return tests_outcome(result.returncode)


def mutant_verdict(outcome: str) -> str:
    """``'killed'`` only when a test failed, ``'SURVIVED'`` when they all
    passed, else ``'no verdict (<why>)'``."""
    if outcome == FAILED:
        return 'killed'
    if outcome == PASSED:
        return 'SURVIVED'
    return f'no verdict ({outcome})'


def check_imports_the_copy(copy_root: str) -> None:
    """Refuse to go on if ``import mmw2s`` does not load the copy."""
    env = dict(os.environ, PYTHONPATH=copy_root)
    found = subprocess.run(
        [sys.executable, '-c', 'import mmw2s; print(mmw2s.__file__)'],
        cwd=copy_root,
        env=env,
        capture_output=True,
        text=True,
        check=True).stdout.strip()
    if not found.startswith(copy_root):
        raise RuntimeError(f'mmw2s is imported from {found}, not from the '
                           f'mutated copy in {copy_root}.')


def apply(copy_root: str, mutant: Mutant) -> str:
    """Mutate the copy's file; return its original text."""
    path = osp.join(copy_root, mutant.path)
    with open(path) as file:
        text = file.read()
    count = text.count(mutant.original)
    if count != 1:
        raise ValueError(f'mutant {mutant.name}: {mutant.original!r} occurs '
                         f'{count} times in {mutant.path}, expected once; '
                         'update the mutant with the code.')
    with open(path, 'w') as file:
        file.write(text.replace(mutant.original, mutant.mutated))
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--only', nargs='+', help='names of mutants to run')
    parser.add_argument(
        '--timeout',
        type=int,
        default=900,
        help='seconds allowed to one mutant\'s tests')
    args = parser.parse_args()
    mutants = [m for m in MUTANTS if not args.only or m.name in args.only]
    unknown = set(args.only or ()) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f'--only: no mutant named {sorted(unknown)}; known: '
                     f'{[m.name for m in MUTANTS]}')
    outcomes: Dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix='mmw2s-mutation-') as copy_root:
        unpack_head(copy_root)
        check_imports_the_copy(copy_root)
        baseline = sorted({test for m in mutants for test in m.tests})
        outcome = run_tests(copy_root, baseline, args.timeout * 4)
        if outcome != PASSED:
            print(f'The unmutated code\'s tests {baseline}: {outcome}; fix '
                  'that first.')
            return 1
        for mutant in mutants:
            start = time.time()
            try:
                original = apply(copy_root, mutant)
            except ValueError as error:
                outcomes[mutant.name] = f'stale ({error})'
            else:
                outcome = run_tests(copy_root, mutant.tests, args.timeout)
                with open(osp.join(copy_root, mutant.path), 'w') as file:
                    file.write(original)
                outcomes[mutant.name] = mutant_verdict(outcome)
            print(
                f'{mutant.name}: {outcomes[mutant.name]} '
                f'({time.time() - start:.0f} s; {mutant.path}; '
                f'{" ".join(mutant.tests)})',
                flush=True)
    survivors = [n for n, o in outcomes.items() if o != 'killed']
    print(f'{len(outcomes) - len(survivors)} of {len(outcomes)} mutants '
          f'killed' + (f'; not killed: {survivors}' if survivors else ''))
    return 1 if survivors else 0


if __name__ == '__main__':
    sys.exit(main())
