# The CIFAR-100 classifiers of the paper's distillation tables: a CIFAR
# backbone (mmw2s, as CRD's models), global average pooling and a linear
# head. The data preprocessor is the dataset base's.
num_classes = 100


def _classifier(backbone, channels):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=channels,
            loss=dict(type='CrossEntropyLoss')))


resnet20 = _classifier(dict(type='CIFARResNet', arch='resnet20'), 64)
resnet56 = _classifier(dict(type='CIFARResNet', arch='resnet56'), 64)
resnet32x4 = _classifier(dict(type='CIFARResNet', arch='resnet32x4'), 256)
vgg8 = _classifier(dict(type='CIFARVGG', depth=8), 512)
vgg13 = _classifier(dict(type='CIFARVGG', depth=13), 512)
shufflenet_v1 = _classifier(dict(type='CIFARShuffleNetV1', groups=3), 960)
mobilenet_v2 = _classifier(dict(type='CIFARMobileNetV2', widen_factor=0.5),
                           1280)
resnet50 = _classifier(dict(type='ResNet_CIFAR', depth=50), 2048)
