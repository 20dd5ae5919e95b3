# Copyright (c) mmw2s contributors. All rights reserved.
"""Write small IDX files (the format of MNIST and Fashion-MNIST)."""
import gzip
import os
import os.path as osp

import numpy as np

IDX_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype('>i4'): 0x0C}


def write_idx(path: str, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file; gzip it if ``path`` ends with .gz."""
    array = np.ascontiguousarray(array)
    header = bytes([0, 0, IDX_TYPE_CODES[array.dtype], array.ndim])
    header += b''.join(int(size).to_bytes(4, 'big') for size in array.shape)
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'wb') as file:
        file.write(header + array.tobytes())


def write_fashion_like(root: str,
                       num_train: int = 240,
                       num_test: int = 120,
                       gzipped: bool = True,
                       seed: int = 0,
                       sorted_by_class: bool = False) -> str:
    """Learnable 28x28 images of 10 classes, written as the four
    Fashion-MNIST IDX files: each class has its own brightness, which the
    pipeline's crops and flips keep (a class told by position would not
    be). With ``sorted_by_class`` the training labels are stored in class
    order."""
    os.makedirs(root, exist_ok=True)
    rng = np.random.default_rng(seed)
    suffix = '.gz' if gzipped else ''
    for prefix, count in (('train', num_train), ('t10k', num_test)):
        labels = np.arange(count) % 10
        rng.shuffle(labels)
        if sorted_by_class and prefix == 'train':
            labels.sort()
        images = rng.integers(0, 40, size=(count, 28, 28))
        images += 20 * labels[:, None, None].astype(images.dtype)
        write_idx(
            osp.join(root, f'{prefix}-images-idx3-ubyte{suffix}'),
            images.clip(0, 255).astype(np.uint8))
        write_idx(
            osp.join(root, f'{prefix}-labels-idx1-ubyte{suffix}'),
            labels.astype(np.uint8))
    return root


def write_image_folder(root: str,
                       num_train: int = 200,
                       num_test: int = 60,
                       num_classes: int = 10,
                       seed: int = 0) -> str:
    """Learnable colour images in mmpretrain's folder layout,
    ``root/{train,test}/<class>/<n>.png`` (36x36, so that the pipeline
    resizes them): each class has its own brightness."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    for split, count in (('train', num_train), ('test', num_test)):
        for index in range(count):
            label = index % num_classes
            folder = osp.join(root, split, f'class_{label:02d}')
            os.makedirs(folder, exist_ok=True)
            image = rng.integers(0, 40, size=(36, 36, 3)) + 20 * label
            Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(
                osp.join(folder, f'{index:05d}.png'))
    return root
