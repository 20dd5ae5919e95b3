# Copyright (c) mmw2s contributors. All rights reserved.
import os
import pickle

import numpy as np
import pytest
from PIL import Image

import mmw2s  # noqa: F401
from mmw2s.datasets import MiniImageNet


def images(count, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (count, 84, 84, 3), dtype=np.uint8)


def test_csv_format(tmp_path):
    os.makedirs(tmp_path / 'images')
    rows = ['filename,label']
    for index, name in enumerate(['n02', 'n01', 'n02', 'n01', 'n03']):
        Image.fromarray(images(1, index)[0]).save(tmp_path / 'images' /
                                                  f'{index}.jpg')
        rows.append(f'{index}.jpg,{name}')
    (tmp_path / 'test.csv').write_text('\n'.join(rows) + '\n')
    dataset = MiniImageNet(str(tmp_path), split='test')
    assert len(dataset) == 5
    assert dataset.metainfo['classes'] == ('n01', 'n02', 'n03')
    assert [dataset.get_data_info(i)['gt_label']
            for i in range(5)] == [1, 0, 1, 0, 2]
    assert dataset.get_data_info(0)['img_path'].endswith('images/0.jpg')


def test_cache_pickle_format(tmp_path):
    data = images(6)
    with open(tmp_path / 'mini-imagenet-cache-val.pkl', 'wb') as file:
        pickle.dump(
            {
                'image_data': data,
                'class_dict': {
                    'n9': [0, 2, 4],
                    'n1': [1, 3, 5]
                }
            }, file)
    dataset = MiniImageNet(str(tmp_path), split='val')
    info = dataset.get_data_info(2)
    assert np.array_equal(info['img'], data[2]) and info['gt_label'] == 1
    assert dataset.get_data_info(1)['gt_label'] == 0


def test_metaoptnet_pickle_format(tmp_path):
    data = images(4)
    path = tmp_path / 'miniImageNet_category_split_train_phase_train.pickle'
    with open(path, 'wb') as file:
        pickle.dump({'data': data, 'labels': [70, 12, 70, 40]}, file)
    dataset = MiniImageNet(str(tmp_path), split='train')
    assert [dataset.get_data_info(i)['gt_label']
            for i in range(4)] == [2, 0, 2, 1]


class RunsACommand:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / 'pwned'
    with open(tmp_path / 'mini-imagenet-cache-test.pkl', 'wb') as file:
        pickle.dump({'image_data': RunsACommand(str(marker))}, file)
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        MiniImageNet(str(tmp_path), split='test')
    assert not marker.exists()


def test_missing_split_names_the_expected_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='test.csv'):
        MiniImageNet(str(tmp_path), split='test')
    with pytest.raises(ValueError, match='split must be one of'):
        MiniImageNet(str(tmp_path), split='novel')
