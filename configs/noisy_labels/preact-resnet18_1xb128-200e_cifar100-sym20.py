# The weak teacher of the noisy-label setting: PreAct-ResNet-18 trained on
# CIFAR-100 with 20% symmetric label noise.
_base_ = [
    '../_base_/datasets/cifar100_noisy_bs128.py',
    '../_base_/schedules/noisy_sgd_200e.py', '../_base_/classifier_runtime.py'
]

train_dataloader = dict(
    # Sel-CL's symmetric noise, as in the authors' runs: labels drawn from all
    # classes, so 20% x (C - 1) / C of them change
    dataset=dict(
        noise_type='symmetric', noise_rate=0.2,
        symmetric_draw='all_classes'))

model = dict(
    type='ImageClassifier',
    data_preprocessor={{_base_.noisy_preprocessor}},
    backbone={{_base_.preact_resnet18.backbone}},
    neck={{_base_.preact_resnet18.neck}},
    head={{_base_.preact_resnet18.head}})
