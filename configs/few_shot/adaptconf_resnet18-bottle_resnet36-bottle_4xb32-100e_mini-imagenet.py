# Few-shot learning ("Vision Superalignment", Sec. 4.3), classifier stage:
# the classifier-stage resnet18_bottle (weak) supervises resnet36_bottle
# (strong) on the 64 base classes with AdaptConf (threshold 8, tau 10), beta
# warmed up over the first 25% of epochs; evaluated on 5-way 1-/5-shot
# episodes of the novel classes.
_base_ = ['./_adaptconf_resnet36-bottle_4xb32-100e_mini-imagenet.py']

model = dict(
    teacher={{_base_.resnet18_bottle}},
    teacher_ckpt='work_dirs/resnet18-bottle_4xb32-100e_mini-imagenet/'
    'epoch_100.pth')
