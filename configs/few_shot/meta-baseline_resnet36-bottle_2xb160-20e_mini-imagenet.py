# Meta-Baseline stage (Chen et al., 2021) of resnet36_bottle, as Guo et al. run
# it (train_meta.py with train_meta_mini.yaml): the plain classifier-stage
# backbone fine-tuned on 5-way 1-shot episodes with cosine logits to the
# support centroids (temperature learnt from 10).
_base_ = [
    '../_base_/datasets/mini_imagenet_episodes.py',
    '../_base_/schedules/few_shot_meta_sgd_20e.py',
    '../_base_/classifier_runtime.py',
    '../_base_/models/mini_imagenet_classifiers.py'
]

model = dict(
    type='FewShotClassifier',
    data_preprocessor={{_base_.mini_imagenet_preprocessor}},
    backbone={{_base_.meta_baseline_resnet36.backbone}},
    neck={{_base_.meta_baseline_resnet36.neck}},
    head={{_base_.meta_baseline_resnet36.head}})
