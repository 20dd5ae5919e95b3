# Few-shot learning, Meta-Baseline stage ("Vision Superalignment", Sec. 4.3):
# resnet36_bottle learns on 5-way 1-shot episodes from the query labels and,
# with AdaptConf (threshold 0.25, tau 10), from the encoder of a weak
# resnet18_bottle, taken from its plain Meta-Baseline stage
# (meta-baseline_resnet18-bottle_2xb160-20e_mini-imagenet.py), with the episode
# centroid head at the fixed temperature 10. Their --teacher_meta_model run.
_base_ = [
    './_adaptconf-meta-baseline_resnet36-bottle_2xb160-20e_mini-imagenet.py'
]

model = dict(teacher={{_base_.meta_teacher_resnet18_meta}})
