# The study of configs/study/w2s_fashion-mnist.py at full size, for a GPU
# machine: every training image but the validation part (55,000), 5 seeds.
# The patient schedule still runs with its reference teacher only.
#
#   bash tools/study_gpu.sh
_base_ = ['./w2s_fashion-mnist.py']


def lenet(epochs):
    return dict(
        model='weak', train='train', samples=None, epochs=epochs, min_iters=0)


study = dict(
    title='When does weak-to-strong help? Teacher strength x schedule x '
    'method on Fashion-MNIST, full size',
    student=dict(samples=None),
    teachers=dict(
        lenet_1ep=lenet(1),
        lenet_2ep=lenet(2),
        lenet_8ep=lenet(8),
        lenet_16ep=lenet(16)),
    seeds=[0, 1, 2, 3, 4],
    cut=[
        'the teacher axis under the patient schedule: only its reference '
        'teacher',
        "PGR against the gap under weak supervision only (Burns et al.'s "
        'protocol)',
    ])
