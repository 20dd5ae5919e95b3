# The weak teacher of the few-shot setting: ResNet-12 trained as a 64-way
# classifier on miniImageNet's base classes, evaluated on 5-way 1-/5-shot
# episodes of the novel classes.
_base_ = [
    '../_base_/datasets/mini_imagenet_bs16.py',
    '../_base_/schedules/few_shot_sgd_100e.py',
    '../_base_/classifier_runtime.py',
    '../_base_/models/mini_imagenet_classifiers.py'
]

model = dict(
    type='FewShotClassifier',
    data_preprocessor={{_base_.mini_imagenet_preprocessor}},
    backbone={{_base_.resnet12.backbone}},
    neck={{_base_.resnet12.neck}},
    head={{_base_.resnet12.head}})
