# The strong student of the few-shot setting, alone: Guo et al.'s
# resnet36_bottle trained as a 64-way classifier on miniImageNet's base classes
# (train_classifier.py with train_classifier_mini.yaml), evaluated on 5-way
# 1-/5-shot episodes of the novel classes. The meta stage starts its student
# from this run.
_base_ = [
    '../_base_/datasets/mini_imagenet_4xb32.py',
    '../_base_/schedules/few_shot_sgd_100e.py',
    '../_base_/classifier_runtime.py',
    '../_base_/models/mini_imagenet_classifiers.py'
]

model = dict(
    type='FewShotClassifier',
    data_preprocessor={{_base_.mini_imagenet_preprocessor}},
    backbone={{_base_.resnet36_bottle.backbone}},
    neck={{_base_.resnet36_bottle.neck}},
    head={{_base_.resnet36_bottle.head}})
