# AdaptConf on the logits together with a FitNets-style L2 loss on the last
# stage's features (through a 1x1 connector): resnet20 -> resnet56, CIFAR-100.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/cifar100_w2s_runtime.py',
    '../_base_/models/cifar100_classifiers.py',
]

teacher_ckpt = 'work_dirs/resnet20_8xb64-240e_cifar100/epoch_240.pth'

model = dict(
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor={{_base_.data_preprocessor}},
    architecture={{_base_.resnet56}},
    teacher={{_base_.resnet20}},
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='WeakToStrongDistiller',
        student_recorders=dict(
            feat=dict(type='ModuleOutputs', source='backbone.layers')),
        teacher_recorders=dict(
            feat=dict(type='ModuleOutputs', source='backbone.layers')),
        connectors=dict(
            student_feat=dict(
                type='ConvModuleConnector',
                in_channel=64,
                out_channel=64,
                kernel_size=1)),
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=1.0, threshold=0.5, loss_weight=1.0),
            loss_fitnets=dict(type='L2Loss', loss_weight=10.0)),
        loss_forward_mappings=dict(
            loss_fitnets=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='feat',
                    connector='student_feat'),
                t_feature=dict(from_student=False, recorder='feat')))))
