# Copyright (c) mmw2s contributors. All rights reserved.
"""Benchmark weak-to-strong training against plain distillation.

Every comparison runs its contenders side by side in this process, on the
same inputs, alternating them and repeating; it prints medians and their
**ratios** (the machine is noisy, absolute times are not compared):

1. the loss alone (forward + backward): AdaptConfLoss vs mmrazor's
   KLDivergence vs a naive transcription of AdaptConf;
2. a training step of WeakToStrongDistill vs the student alone, against the
   limit 1 + t(teacher forward) / t(student step);
3. peak memory of the teacher (CUDA: max_memory_allocated; CPU: peak RSS of
   a fresh subprocess) vs its parameter bytes;
4. offline weak logits: the step vs the student alone.

Example::

    python tools/analysis/benchmark_w2s.py --out docs/benchmark_cpu.md
    python tools/analysis/benchmark_w2s.py --ci   # small and fast
"""
import argparse
import platform
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List

import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

import mmw2s  # noqa: F401  (patches the stack, registers components)
from mmw2s.models.losses import AdaptConfLoss

SETTINGS = {
    'full':
    dict(
        classes=(10, 100, 1000, 21841),
        loss_batch=256,
        loss_repeats=30,
        teacher='resnet18',
        student='resnet50',
        cpu_batch=8,
        cpu_size=64,
        gpu_batch=64,
        gpu_size=224,
        step_repeats=10),
    'ci':
    dict(
        classes=(10, 100),
        loss_batch=32,
        loss_repeats=3,
        teacher='resnet18',
        student='resnet18',
        cpu_batch=2,
        cpu_size=32,
        gpu_batch=2,
        gpu_size=32,
        step_repeats=2),
}


def naive_adaptconf(z_s: torch.Tensor, z_t: torch.Tensor, tau: float,
                    threshold: float) -> torch.Tensor:
    """AdaptConf as the formula reads: separate softmaxes, direct exp."""
    p_t = F.softmax(z_t.detach() / tau, dim=1)
    p_s_tau = F.softmax(z_s / tau, dim=1)
    p_s = F.softmax(z_s, dim=1)
    rows = torch.arange(len(z_s), device=z_s.device)
    ce_self = -torch.log(p_s[rows, z_s.argmax(1)])
    ce_teach = -torch.log(p_s[rows, z_t.argmax(1)])
    with torch.no_grad():
        e_self = torch.exp(ce_self / threshold)
        beta = e_self / (e_self + torch.exp(ce_teach / threshold))
    kd = tau**2 * (p_t * (torch.log(p_t) - torch.log(p_s_tau))).sum(1)
    return ((1 - beta) * kd).mean() + (beta * ce_self).mean()


def synchronize(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def race(contenders: Dict[str, Callable[[], None]], repeats: int,
         device: str) -> Dict[str, float]:
    """Median seconds of each contender, run alternately after a warm-up."""
    times: Dict[str, List[float]] = {name: [] for name in contenders}
    for run in contenders.values():
        run()
    for _ in range(repeats):
        for name, run in contenders.items():
            synchronize(device)
            start = time.perf_counter()
            run()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def bench_losses(setting: dict, device: str) -> List[List[str]]:
    rows = []
    for num_classes in setting['classes']:
        generator = torch.Generator().manual_seed(num_classes)
        z_s = torch.randn(
            setting['loss_batch'], num_classes,
            generator=generator).to(device).requires_grad_()
        z_t = torch.randn(
            setting['loss_batch'], num_classes, generator=generator).to(device)
        losses = dict(
            adaptconf=AdaptConfLoss(tau=4.0, threshold=0.5),
            kl=MODELS.build(dict(type='KLDivergence', tau=4.0)),
            naive=lambda s, t: naive_adaptconf(s, t, 4.0, 0.5))

        def step(loss_fn) -> Callable[[], None]:

            def run() -> None:
                z_s.grad = None
                loss_fn(z_s, z_t).backward()

            return run

        medians = race({
            name: step(fn)
            for name, fn in losses.items()
        }, setting['loss_repeats'], device)
        rows.append([
            str(num_classes), f"{medians['adaptconf'] * 1e3:.3f}",
            f"{medians['kl'] * 1e3:.3f}", f"{medians['naive'] * 1e3:.3f}",
            f"{medians['adaptconf'] / medians['kl']:.2f}",
            f"{medians['naive'] / medians['adaptconf']:.2f}"
        ])
    return rows


def classifier(arch: str, num_classes: int = 1000) -> dict:
    depth = int(arch.replace('resnet', ''))
    channels = 2048 if depth >= 50 else 512
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='ResNet', depth=depth),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=channels))


def build(setting: dict, kind: str, device: str,
          channels_last: bool) -> torch.nn.Module:
    """'student', 'w2s' (online teacher) or 'offline' model."""
    preprocessor = dict(
        type='mmpretrain.ClsDataPreprocessor', num_classes=1000)
    if kind == 'student':
        model = MODELS.build(
            dict(
                classifier(setting['student']),
                data_preprocessor=preprocessor))
    else:
        model = MODELS.build(
            dict(
                _scope_='mmrazor',
                type='WeakToStrongDistill',
                data_preprocessor=preprocessor,
                architecture=classifier(setting['student']),
                teacher=None
                if kind == 'offline' else classifier(setting['teacher']),
                calculate_student_loss=True,
                # speed does not depend on the teacher's weights
                allow_random_teacher=True,
                distiller=dict(
                    type='WeakToStrongDistiller',
                    distill_losses=dict(loss_w2s=dict(type='AdaptConfLoss')))))
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def make_batch(setting: dict, device: str, with_weak_logits: bool) -> dict:
    batch = setting['gpu_batch'] if device == 'cuda' else setting['cpu_batch']
    size = setting['gpu_size'] if device == 'cuda' else setting['cpu_size']
    generator = torch.Generator().manual_seed(0)
    samples = []
    for index in range(batch):
        sample = DataSample().set_gt_label(index % 1000)
        if with_weak_logits:
            sample.set_field(
                torch.randn(1000, generator=generator), 'weak_logits')
        samples.append(sample)
    inputs = [
        torch.randint(
            0, 255, (3, size, size), dtype=torch.uint8, generator=generator)
        for _ in range(batch)
    ]
    return dict(inputs=inputs, data_samples=samples)


def train_step(model: torch.nn.Module, data: dict) -> Callable[[], None]:
    optimizer = OptimWrapper(
        torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                        lr=1e-4,
                        momentum=0.9))
    model.train()

    def run() -> None:
        model.train_step(data, optimizer)

    return run


def teacher_forward(model: torch.nn.Module, data: dict) -> Callable[[], None]:

    def run() -> None:
        with torch.no_grad():
            processed = model.data_preprocessor(data, True)
            model.teacher(processed['inputs'], mode='tensor')

    return run


def bench_steps(setting: dict, device: str,
                channels_last: bool) -> Dict[str, float]:
    student = build(setting, 'student', device, channels_last)
    w2s = build(setting, 'w2s', device, channels_last)
    offline = build(setting, 'offline', device, channels_last)
    data = make_batch(setting, device, with_weak_logits=False)
    offline_data = make_batch(setting, device, with_weak_logits=True)
    return race(
        dict(
            student=train_step(student, data),
            w2s=train_step(w2s, data),
            teacher_forward=teacher_forward(w2s, data),
            offline=train_step(offline, offline_data)),
        setting['step_repeats'], device)


def _peak_rss_bytes() -> int:
    with open('/proc/self/status') as file:
        line = next(line for line in file if line.startswith('VmHWM'))
    return int(line.split()[1]) * 1024


def _reset_peak_rss() -> None:
    with open('/proc/self/clear_refs', 'w') as file:
        file.write('5')  # resets VmHWM, the peak resident set size


def measure_peak(setting_name: str, kind: str, device: str) -> int:
    """Peak memory in bytes of two training steps of ``kind``, from right
    before the model is built (run in a fresh process)."""
    setting = SETTINGS[setting_name]
    data = make_batch(setting, device, kind == 'offline')
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
        start = torch.cuda.memory_allocated()
    else:
        _reset_peak_rss()
        start = _peak_rss_bytes()
    step = train_step(build(setting, kind, device, False), data)
    for _ in range(2):
        step()
    if device == 'cuda':
        return torch.cuda.max_memory_allocated() - start
    return _peak_rss_bytes() - start


def peak_memory(setting_name: str, kind: str, device: str) -> int:
    """:func:`measure_peak` in a fresh subprocess."""
    output = subprocess.run([
        sys.executable, __file__, '--measure-peak', kind, '--setting',
        setting_name, '--device', device
    ],
                            capture_output=True,
                            text=True,
                            check=True).stdout
    return int(output.split('PEAK')[-1].split()[0])


def teacher_bytes(setting: dict) -> int:
    model = MODELS.build(classifier(setting['teacher']))
    return sum(p.numel() * p.element_size() for p in model.parameters())


def markdown(headers: List[str], rows: List[List[str]]) -> str:
    lines = ['| ' + ' | '.join(headers) + ' |', '|' + '---:|' * len(headers)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines)


def machine() -> str:
    cpu = platform.processor() or 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as file:
            cpu = next(
                line.split(':', 1)[1].strip() for line in file
                if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() \
        else 'no GPU'
    return (f'{cpu}, {torch.get_num_threads()} threads, {gpu}, '
            f'torch {torch.__version__}')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Benchmark mmw2s')
    parser.add_argument(
        '--ci',
        action='store_true',
        help='small and fast: checks that it runs')
    parser.add_argument(
        '--setting', choices=list(SETTINGS), help=argparse.SUPPRESS)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--out', help='also write the tables to this file')
    parser.add_argument('--measure-peak', help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    name = args.setting or ('ci' if args.ci else 'full')
    setting = SETTINGS[name]
    device = args.device
    if args.measure_peak:
        print('PEAK', measure_peak(name, args.measure_peak, device))
        return
    sections = [
        f'# mmw2s benchmark ({name}, {device})', '', f'Machine: {machine()}',
        ''
    ]

    loss_rows = bench_losses(setting, device)
    sections += [
        f'## Loss alone, forward + backward, N = {setting["loss_batch"]}', '',
        markdown([
            'C', 'AdaptConf ms', 'KLDivergence ms', 'naive ms',
            'AdaptConf / KL (goal <= 1.3 at C >= 1000)',
            'naive / AdaptConf (goal >= 1.3 at 21841)'
        ], loss_rows), ''
    ]

    steps = bench_steps(setting, device, args.channels_last)
    limit = 1 + steps['teacher_forward'] / steps['student']
    ratio = steps['w2s'] / steps['student']
    size = setting['gpu_size'] if device == 'cuda' else setting['cpu_size']
    batch = setting['gpu_batch'] if device == 'cuda' else setting['cpu_batch']
    sections += [
        f'## Training step: {setting["teacher"]} teacher -> '
        f'{setting["student"]} student, batch {batch}, {size} px' +
        (', channels_last' if args.channels_last else ''), '',
        markdown(['measure', 'value'], [
            ['student step ms', f'{steps["student"] * 1e3:.1f}'],
            ['weak-to-strong step ms', f'{steps["w2s"] * 1e3:.1f}'],
            ['teacher forward ms', f'{steps["teacher_forward"] * 1e3:.1f}'],
            ['step ratio w2s / student', f'{ratio:.3f}'],
            ['limit 1 + t(teacher fwd) / t(student step)', f'{limit:.3f}'],
            ['ratio / limit (goal <= 1.03)', f'{ratio / limit:.3f}'],
            [
                'offline step / student (goal <= 1.03)',
                f'{steps["offline"] / steps["student"]:.3f}'
            ],
        ]), ''
    ]

    peaks = {
        kind: peak_memory(name, kind, device)
        for kind in ('student', 'w2s', 'offline')
    }
    parameters = teacher_bytes(setting)
    overhead = peaks['w2s'] - peaks['student']
    sections += [
        '## Peak memory of building the model and two steps (' +
        ('max_memory_allocated' if device == 'cuda' else
         'peak RSS growth in a fresh process') + ')', '',
        markdown(['measure', 'MiB'], [
            ['student alone', f'{peaks["student"] / 2**20:.1f}'],
            ['weak-to-strong', f'{peaks["w2s"] / 2**20:.1f}'],
            ['offline weak logits', f'{peaks["offline"] / 2**20:.1f}'],
            ['teacher overhead', f'{overhead / 2**20:.1f}'],
            ['teacher parameters', f'{parameters / 2**20:.1f}'],
        ]), '', f'teacher overhead / teacher parameter bytes: '
        f'{overhead / parameters:.2f}', ''
    ]
    report = '\n'.join(sections)
    print(report)
    if args.out:
        with open(args.out, 'w') as file:
            file.write(report + '\n')


if __name__ == '__main__':
    main()
