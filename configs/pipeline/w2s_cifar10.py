# The weak-to-strong study on CIFAR-10's python files (mmpretrain's CIFAR10):
#
#   python tools/w2s_pipeline.py configs/pipeline/w2s_cifar10.py \
#       --data-root data/cifar10
#
# with data/cifar10/cifar-10-batches-py/ as CIFAR's authors ship it
# (CIFAR100 works the same way with its 100 classes). The models, settings
# and schedules are those of w2s_image-folder.py. Not run on this project's
# machines: they hold no CIFAR files, and mmpretrain checks their MD5.
_base_ = ['./w2s_image-folder.py']

data = dict(
    _delete_=True,
    type='CIFAR10',
    data_root='data/cifar10',
    download=False,
    train=dict(split='train'),
    test=dict(split='test'),
    val_size=1 / 12)

# CIFAR's samples are RGB arrays already: no file to load, no resize
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]
data_preprocessor = dict(to_rgb=False)

pretrain = dict(
    pipeline=[
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ],
    data_preprocessor=dict(to_rgb=False),
    checkpoint='checkpoints/mae_vit-p4_cifar10.pth')
