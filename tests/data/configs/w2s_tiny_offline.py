# The CNN-to-ViT run from offline weak logits: no teacher network; the tests
# set the weak-logits file and the data root.
_base_ = ['./w2s_tiny_cnn_to_vit.py']

model = dict(teacher=None, calculate_student_loss=False)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='WeakLabelDataset',
        weak_logits_file=None,
        dataset=dict(
            type='CustomDataset',
            data_root=None,
            data_prefix='train',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='PackInputs', algorithm_keys=['weak_logits']),
            ])))
val_cfg = dict(weak_acc=25.0)
