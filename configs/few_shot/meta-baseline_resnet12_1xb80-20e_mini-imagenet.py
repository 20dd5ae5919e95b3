# Meta-Baseline stage of the weak teacher: the classifier-stage ResNet-12
# fine-tuned on 5-way 1-shot episodes with cosine logits to the support
# centroids (Chen et al., 2021). 20 epochs of 200 episodes, SGD lr 0.001.
_base_ = [
    '../_base_/datasets/mini_imagenet_episodes.py',
    '../_base_/classifier_runtime.py',
    '../_base_/models/mini_imagenet_classifiers.py'
]

model = dict(
    type='FewShotClassifier',
    data_preprocessor={{_base_.mini_imagenet_preprocessor}},
    backbone={{_base_.meta_baseline_resnet12.backbone}},
    neck={{_base_.meta_baseline_resnet12.neck}},
    head={{_base_.meta_baseline_resnet12.head}})

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4))
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)
