# Copyright (c) mmw2s contributors. All rights reserved.
import os
import os.path as osp

import numpy as np
import pytest
from idx_helpers import write_fashion_like, write_idx

import mmw2s  # noqa: F401
from mmw2s.datasets import FashionMNISTIDX, IDXDataset, read_idx
from mmw2s.datasets.idx_dataset import subset_indices


@pytest.mark.parametrize('suffix', ['', '.gz'])
def test_read_idx_round_trips(tmp_path, suffix):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = str(tmp_path / f'images{suffix}')
    write_idx(path, images)
    assert np.array_equal(read_idx(path), images)


def test_read_idx_rejects_bad_and_truncated_files(tmp_path):
    bad = tmp_path / 'bad'
    bad.write_bytes(b'\x01\x02\x03\x04')
    with pytest.raises(ValueError, match='not an IDX file'):
        read_idx(str(bad))
    path = str(tmp_path / 'short')
    write_idx(path, np.zeros((4, 5), dtype=np.uint8))
    with open(path, 'rb') as file:
        content = file.read()
    with open(path, 'wb') as file:
        file.write(content[:-3])
    with pytest.raises(ValueError, match='truncated'):
        read_idx(path)


@pytest.mark.parametrize('gzipped', [True, False])
def test_fashion_mnist_reader_on_generated_files(tmp_path, gzipped):
    root = write_fashion_like(str(tmp_path), gzipped=gzipped)
    train = FashionMNISTIDX(data_root=root, split='train')
    test = FashionMNISTIDX(data_root=root, split='test')
    assert len(train) == 240 and len(test) == 120
    info = train.get_data_info(0)
    assert info['img'].shape == (28, 28) and info['img'].dtype == np.uint8
    assert 0 <= info['gt_label'] < 10
    assert train.metainfo['classes'][0] == 'T-shirt/top'
    labels = read_idx(
        osp.join(root, 't10k-labels-idx1-ubyte' + ('.gz' if gzipped else '')))
    assert [test.get_data_info(i)['gt_label']
            for i in range(len(test))] == labels.tolist()


def test_halves_are_disjoint_seeded_and_cover_the_split(tmp_path):
    root = write_fashion_like(str(tmp_path))

    def images(subset, seed, max_samples=None):
        dataset = FashionMNISTIDX(
            data_root=root,
            subset=subset,
            subset_seed=seed,
            max_samples=max_samples)
        return {
            dataset.get_data_info(i)['img'].tobytes()
            for i in range(len(dataset))
        }

    half_a, half_b = images('A', 0), images('B', 0)
    assert len(half_a) == len(half_b) == 120
    assert not half_a & half_b
    assert images('A', 0) == half_a
    assert images('A', 1) != half_a
    assert len(images('B', 0, max_samples=30)) == 30
    assert images('B', 0, max_samples=30) <= half_b


def test_subsets_keep_their_seeded_order(tmp_path):
    """Offline weak logits are matched row by row, so a subset's order (not
    only its content) must be the same for the same seed."""
    root = write_fashion_like(str(tmp_path))

    def order(subset, seed, max_samples=None):
        dataset = FashionMNISTIDX(
            data_root=root,
            subset=subset,
            subset_seed=seed,
            max_samples=max_samples)
        return [
            dataset.get_data_info(i)['img'].tobytes()
            for i in range(len(dataset))
        ]

    for subset in ('A', 'B', 'train', None):
        first = order(subset, 0, max_samples=50)
        assert order(subset, 0, max_samples=50) == first
        assert order(subset, 1, max_samples=50) != first
    np.testing.assert_array_equal(
        subset_indices(240, 'A', 5, None), subset_indices(240, 'A', 5, None))


def test_missing_files_name_the_path_and_the_install_command(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        FashionMNISTIDX(data_root=str(tmp_path / 'nowhere'))
    message = str(error.value)
    assert str(tmp_path / 'nowhere' / 'train-images-idx3-ubyte') in message
    assert 'apt-get install -y dataset-fashion-mnist' in message


def test_invalid_arguments_and_out_of_range_labels(tmp_path):
    root = write_fashion_like(str(tmp_path))
    with pytest.raises(ValueError, match='subset must be None or one of'):
        FashionMNISTIDX(data_root=root, subset='C')
    with pytest.raises(ValueError, match='split must be one of'):
        FashionMNISTIDX(data_root=root, split='val')
    write_idx(
        osp.join(root, 'train-labels-idx1-ubyte.gz'),
        np.full(240, 12, dtype=np.uint8))
    with pytest.raises(ValueError, match='Label 12 .* out of range'):
        FashionMNISTIDX(data_root=root)
    assert len(
        IDXDataset(data_root=root, classes=[str(i) for i in range(13)])) == 240


def test_validation_part_is_held_out_and_halves_split_the_rest(tmp_path):
    root = write_fashion_like(str(tmp_path))

    def indices(subset, seed=0, max_samples=None):
        return subset_indices(240, subset, seed, max_samples, val_samples=40)

    val, rest = indices('val'), indices('train')
    half_a, half_b = indices('A'), indices('B')
    assert len(val) == 40 and len(rest) == 200
    assert not set(val) & set(rest)
    assert sorted(set(half_a) | set(half_b)) == rest.tolist()
    assert not set(half_a) & set(half_b)
    assert indices('val', seed=1).tolist() != val.tolist()
    # a cut-down part is a seeded random draw in a fixed order (offline
    # logits rely on the order), not the first images of the file, which
    # may be sorted by class
    subset = indices('train', max_samples=50)
    assert subset.tolist() == indices('train', max_samples=50).tolist()
    assert subset.tolist() == sorted(subset.tolist())
    assert set(subset) < set(rest) and subset.tolist() != rest[:50].tolist()
    dataset = FashionMNISTIDX(
        data_root=root, subset='val', subset_seed=0, val_samples=40)
    labels = read_idx(osp.join(root, 'train-labels-idx1-ubyte.gz'))
    assert [dataset.get_data_info(i)['gt_label']
            for i in range(len(dataset))] == labels[val].tolist()
    with pytest.raises(ValueError, match='val_samples must be in'):
        subset_indices(240, 'val', 0, None, val_samples=240)


def test_unlabelled_dataset_never_opens_the_labels_file(tmp_path):
    root = write_fashion_like(str(tmp_path))
    os.remove(osp.join(root, 'train-labels-idx1-ubyte.gz'))
    dataset = FashionMNISTIDX(data_root=root, labelled=False)
    assert len(dataset) == 240
    assert set(dataset.get_data_info(0)) >= {'img'}
    assert 'gt_label' not in dataset.get_data_info(0)
    with pytest.raises(FileNotFoundError, match='train-labels-idx1-ubyte'):
        FashionMNISTIDX(data_root=root)


def test_unnamed_classes_are_named_by_their_labels(tmp_path):
    root = str(tmp_path)
    for prefix, labels in (('train', [0, 3, 1, 3]), ('t10k', [2, 0])):
        write_idx(f'{root}/{prefix}-images-idx3-ubyte',
                  np.zeros((len(labels), 4, 4), dtype=np.uint8))
        write_idx(f'{root}/{prefix}-labels-idx1-ubyte',
                  np.array(labels, dtype=np.uint8))
    assert IDXDataset(data_root=root).metainfo['classes'] == ('0', '1', '2',
                                                              '3')
    assert IDXDataset(
        data_root=root, split='test').metainfo['classes'] == ('0', '1', '2')
    named = IDXDataset(data_root=root, classes=['a', 'b', 'c', 'd'])
    assert named.metainfo['classes'] == ('a', 'b', 'c', 'd')
