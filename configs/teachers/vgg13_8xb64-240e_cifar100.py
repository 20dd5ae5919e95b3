# vgg13 trained alone on CIFAR-100 with ground truth: the weak
# teacher of the weak-to-strong configs (and the strong ceiling).
# The authors' vgg8 -> vgg13 recipe (cifar_v1.yaml): AutoAugment, mixup.
_base_ = [
    '../_base_/datasets/cifar100_autoaug-mixup_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/cifar100_classifier_runtime.py',
    '../_base_/models/cifar100_classifiers.py',
]

model = dict(
    type='ImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone={{_base_.vgg13.backbone}},
    neck={{_base_.vgg13.neck}},
    head={{_base_.vgg13.head}})
