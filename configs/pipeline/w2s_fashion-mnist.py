# The main job: the settings of "Vision Superalignment" (Guo et al., arXiv
# 2402.03749) in miniature, on real Fashion-MNIST.
#
#   python tools/w2s_pipeline.py configs/pipeline/w2s_fashion-mnist.py
#
# runs the default suite (transfer learning); `--suite all --seeds 0 1 2`
# runs every setting. Each setting is a table of the report; its stages are
# ordinary mmengine runs built by mmw2s.pipeline (see its stages.py for the
# fields of a stage); `pair` names a setting's weak model and its strong
# model alone (the report says when the strong one does not beat the weak).
# Hyper-parameters were chosen on the validation part held out from the
# training images (`--eval-split val`), see the README.
_base_ = ['./_base_/fashion-mnist.py']

suite = ['transfer']

adaptconf = dict(type='AdaptConfLoss', tau=1.0, threshold=0.5)
# chosen on the validation part (docs/results/fashion-mnist_val_*): 85.36%
# with threshold 4.0 against 85.02% with 0.5 (seed 0)
adaptconf_transfer = dict(type='AdaptConfLoss', tau=1.0, threshold=4.0)
augconf = dict(type='AugConfLoss', tau=1.0, alpha=0.5)
kd = dict(type='KLDivergence', tau=1.0)
# the paper warms AugConf's confidence weight up over the first 30% of the
# epochs; with 3 epochs a per-epoch ramp would end before it starts, so it
# ramps per iteration here. AdaptConf's beta needs no warm-up.
augconf_warmup = dict(schedule='iter', ratio=0.3)
logconf = dict(type='LogConfLoss', alpha=0.5)
logconf_warmup = dict(schedule='iter', ratio=0.2)
# Fashion-MNIST's look-alike classes for asymmetric noise: T-shirt -> shirt,
# pullover <-> coat, sandal -> sneaker, sneaker -> ankle boot
fashion_asymmetric = {0: 6, 2: 4, 4: 2, 5: 7, 7: 9}
# Few-shot: the models learn the base classes and are tested on episodes of
# the novel ones (Fashion-MNIST: T-shirt/top, pullover, coat, shirt, bag
# are base; trouser, dress, sandal, sneaker, ankle boot are novel)
base_classes = [0, 2, 4, 6, 8]
novel_classes = [1, 3, 5, 7, 9]
few_shot_test = dict(
    classes=novel_classes,
    features=True,
    # the same 600 seeded episodes for every run: paired comparisons
    evaluator=dict(
        type='FewShotAccuracy',
        num_ways=5,
        num_shots=(1, 5),
        num_queries=15,
        num_episodes=600,
        seed=0))


def noisy_setting(title, noise):
    return dict(
        title=title,
        paper='CIFAR-10/100 with synthetic label noise: the weak and the '
        'strong model both learn from the noisy labels',
        defaults=dict(train='train', samples=10000, epochs=3, noise=noise),
        pair=dict(weak='weak', strong='noisy_alone'),
        stages=dict(
            weak=dict(model='weak', epochs=8,
                      title='weak model, noisy labels'),
            noisy_alone=dict(
                model='strong', init='pretrain',
                title='strong (pre-trained), noisy labels alone'),
            kd=dict(
                model='strong', init='pretrain', teacher='weak', loss=kd,
                title='strong, noisy labels + KD from the weak model'),
            adaptconf=dict(
                model='strong', init='pretrain', teacher='weak',
                loss=adaptconf,
                title='strong, noisy labels + AdaptConf from the weak '
                'model')),
        claims=[
            dict(run='adaptconf', baseline='noisy_alone',
                 claim='AdaptConf > noisy labels alone'),
            dict(run='adaptconf', baseline='kd', relation='>=',
                 claim='AdaptConf >= KD'),
            dict(run='adaptconf', baseline='weak',
                 claim='the student beats its weak teacher'),
        ])


settings = dict(
    transfer=dict(
        title='Transfer learning',
        paper='ImageNet: a ResNet-50 supervises an MAE-pre-trained ViT-B '
        'fine-tuned with the labels',
        defaults=dict(train='train', samples=10000, epochs=3),
        pair=dict(weak='weak', strong='finetune'),
        stages=dict(
            weak=dict(model='weak', epochs=8,
                      title='weak model, labels'),
            finetune=dict(
                model='strong', init='pretrain',
                title='strong (pre-trained), fine-tuned with labels alone'),
            kd=dict(
                model='strong', init='pretrain', teacher='weak', loss=kd,
                title='strong, labels + KD from the weak model'),
            augconf=dict(
                model='strong', init='pretrain', teacher='weak', loss=augconf,
                warmup=augconf_warmup,
                title='strong, labels + AugConf from the weak model'),
            adaptconf=dict(
                model='strong', init='pretrain', teacher='weak',
                loss=adaptconf_transfer,
                title='strong, labels + AdaptConf from the weak model'),
            strong_to_strong=dict(
                model='strong', init='pretrain', teacher='finetune',
                loss=adaptconf_transfer,
                title='strong, labels + AdaptConf from a fine-tuned strong '
                'model')),
        claims=[
            dict(run='adaptconf', baseline='finetune',
                 claim='AdaptConf > fine-tuning alone'),
            dict(run='adaptconf', baseline='strong_to_strong',
                 claim='AdaptConf > strong-to-strong'),
            dict(run='adaptconf', baseline='kd', relation='>=',
                 claim='AdaptConf >= KD'),
            dict(run='adaptconf', baseline='augconf', relation='>=',
                 claim='AdaptConf >= AugConf'),
            dict(run='adaptconf', baseline='weak',
                 claim='the student beats its weak teacher'),
        ]),
    kd=dict(
        title='Knowledge distillation',
        paper='CIFAR-100: a smaller network trained with the labels '
        'supervises a larger one trained from scratch with the labels',
        defaults=dict(train='train', samples=10000, epochs=3),
        pair=dict(weak='weak', strong='scratch'),
        stages=dict(
            weak=dict(model='weak', epochs=8,
                      title='teacher: smaller network, labels'),
            scratch=dict(model='scratch',
                         title='student from scratch, labels alone'),
            kd=dict(model='scratch', teacher='weak', loss=kd,
                    title='student, labels + KD'),
            augconf=dict(
                model='scratch', teacher='weak', loss=augconf,
                warmup=augconf_warmup, title='student, labels + AugConf'),
            adaptconf=dict(
                model='scratch', teacher='weak', loss=adaptconf,
                title='student, labels + AdaptConf')),
        claims=[
            dict(run='adaptconf', baseline='scratch',
                 claim='AdaptConf > labels alone'),
            dict(run='adaptconf', baseline='kd', relation='>=',
                 claim='AdaptConf >= KD'),
            dict(run='adaptconf', baseline='augconf', relation='>=',
                 claim='AdaptConf >= AugConf'),
            dict(run='adaptconf', baseline='weak',
                 claim='the student beats its teacher'),
        ]),
    noisy_sym20=noisy_setting(
        'Noisy labels, symmetric 20%',
        dict(noise_type='symmetric', noise_rate=0.2)),
    noisy_asym40=noisy_setting(
        'Noisy labels, asymmetric 40%',
        dict(noise_type='asymmetric', noise_rate=0.4,
             asymmetric_map=fashion_asymmetric)),
    few_shot=dict(
        title='Few-shot learning',
        paper='miniImageNet: classifiers trained on the 64 base classes '
        '(Meta-Baseline\'s classifier stage), tested on 5-way 1-shot and '
        '5-shot episodes of the 20 novel classes',
        note='The classes are split into base classes (trained on) and '
        'novel classes (never seen in training). Each run is tested on '
        'seeded N-way K-shot episodes of the novel classes (the same '
        'episodes for every run), each query classified by the nearest '
        'centroid (cosine) of the support features, as in Meta-Baseline; '
        'per seed: the mean over the episodes ± its 95% interval.',
        # result key -> column title; every metric is a percentage (the
        # report holds a claim between two runs at 100% undecided)
        metrics={
            'few-shot/5way-1shot': '5-way 1-shot (%)',
            'few-shot/5way-5shot': '5-way 5-shot (%)'
        },
        defaults=dict(
            train='train', samples=20000, epochs=3, classes=base_classes,
            test=few_shot_test),
        pair=dict(weak='weak', strong='alone'),
        stages=dict(
            weak=dict(
                model='weak', epochs=8,
                title='weak model, base classes (features: its base-class '
                'scores)'),
            alone=dict(
                model='strong', init='pretrain',
                title='strong (pre-trained), base-class labels alone'),
            kd=dict(
                model='strong', init='pretrain', teacher='weak', loss=kd,
                title='strong, base-class labels + KD from the weak model'),
            adaptconf=dict(
                model='strong', init='pretrain', teacher='weak',
                loss=adaptconf,
                title='strong, base-class labels + AdaptConf from the weak '
                'model')),
        claims=[
            dict(run='adaptconf', baseline='alone',
                 claim='AdaptConf > base-class labels alone (1-shot)'),
            dict(run='adaptconf', baseline='alone',
                 metric='few-shot/5way-5shot',
                 claim='AdaptConf > base-class labels alone (5-shot)'),
            dict(run='adaptconf', baseline='kd', relation='>=',
                 claim='AdaptConf >= KD (1-shot)'),
            dict(run='adaptconf', baseline='kd', relation='>=',
                 metric='few-shot/5way-5shot',
                 claim='AdaptConf >= KD (5-shot)'),
            dict(run='adaptconf', baseline='weak',
                 claim='the student beats its weak teacher (1-shot)'),
        ]),
    weak_only=dict(
        title='Weak supervision only (Burns et al.)',
        paper='not in the paper: the protocol of Burns et al., where the '
        'strong model never sees a label; PGR = (student - weak) / '
        '(ceiling - weak)',
        defaults=dict(
            model='strong', init='pretrain', train='B', samples=10000,
            epochs=3, ground_truth=False),
        pair=dict(weak='weak', strong='ceiling'),
        stages=dict(
            weak=dict(model='weak', init=None, train='A', epochs=8,
                      ground_truth=True,
                      title='weak model, labels of half A'),
            ceiling=dict(
                ground_truth=True,
                title='strong ceiling: pre-trained, labels of half B'),
            kd=dict(teacher='weak', loss=kd,
                    title='strong, weak model\'s KD on half B only'),
            augconf=dict(
                teacher='weak', loss=augconf, warmup=augconf_warmup,
                title='strong, AugConf on half B only'),
            adaptconf=dict(
                teacher='weak', loss=adaptconf,
                title='strong, AdaptConf on half B only'),
            logconf=dict(
                teacher='weak', loss=logconf, warmup=logconf_warmup,
                title='strong, LogConf on half B only')),
        pgr=dict(weak='weak', ceiling='ceiling'),
        claims=[
            dict(run='adaptconf', pgr=dict(weak='weak', ceiling='ceiling'),
                 claim='PGR of AdaptConf > 0'),
            dict(run='adaptconf', pgr=dict(weak='weak', ceiling='ceiling'),
                 above=0.3, claim='PGR of AdaptConf > 0.3 (target)'),
            dict(run='adaptconf', baseline='kd', relation='>=',
                 pgr=dict(weak='weak', ceiling='ceiling'),
                 claim='PGR of AdaptConf >= PGR of KD'),
        ]),
)
