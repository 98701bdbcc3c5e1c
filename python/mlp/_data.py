"""libmlp's data readers: IDX (MNIST, Fashion-MNIST) and numeric CSV."""

import ctypes
import os

import numpy as np

from ._errors import check
from ._lib import lib


def _take(ds):
    """(X, classes or None, values or None) copied out of an mlp_dataset."""
    try:
        rows, cols = lib.mlp_dataset_rows(ds), lib.mlp_dataset_cols(ds)
        X = np.ctypeslib.as_array(lib.mlp_dataset_features(ds), shape=(rows, cols)).copy() \
            if rows * cols else np.empty((rows, cols), np.float32)
        cp = lib.mlp_dataset_classes(ds)
        y = np.ctypeslib.as_array(cp, shape=(rows,)).copy() if cp and rows else None
        vp = lib.mlp_dataset_values(ds)
        tc = lib.mlp_dataset_target_cols(ds)
        v = np.ctypeslib.as_array(vp, shape=(rows, tc)).copy() if vp and rows and tc else None
        return X, y, v
    finally:
        lib.mlp_dataset_destroy(ds)


def _path(p):
    return None if p is None else os.fsencode(os.fspath(p))


def load_idx(images_path, labels_path=None, max_bytes=None):
    """(X, y): IDX images (gzip or not) as float32 rows of raw pixel values
    0..255, and int32 labels (None without labels_path).

    max_bytes bounds the memory the load takes (5 bytes per decompressed
    image and label byte): files whose headers declare more raise MLPError
    with MLP_ERR_TOO_LARGE before any data is read. Use it for files from
    untrusted sources (a small gzip file can decompress to gigabytes);
    None: no bound."""
    ds = ctypes.c_void_p()
    if max_bytes is None:
        check(lib.mlp_dataset_load_idx(ctypes.byref(ds), _path(images_path), _path(labels_path)))
    else:
        if int(max_bytes) < 0:
            raise ValueError("max_bytes must be >= 0")
        check(lib.mlp_dataset_load_idx_limit(ctypes.byref(ds), _path(images_path),
                                             _path(labels_path), int(max_bytes)))
    X, y, _ = _take(ds.value)
    return X, y


def load_csv(path, has_header=-1, label_column=-1, classes=True, max_bytes=None):
    """(X, y) from a numeric CSV: y holds int32 classes (classes=True) or float
    values from label_column (-1 = last, None = no target: y is None).
    has_header: True, False or -1 to detect. max_bytes bounds the memory the
    load takes (the file's bytes and the data set): beyond it MLPError with
    MLP_ERR_TOO_LARGE; None: no bound."""
    ds = ctypes.c_void_p()
    col = -2 if label_column is None else int(label_column)
    if max_bytes is None:
        check(lib.mlp_dataset_load_csv(ctypes.byref(ds), _path(path), int(has_header), col,
                                       1 if classes else 0))
    else:
        if int(max_bytes) < 0:
            raise ValueError("max_bytes must be >= 0")
        check(lib.mlp_dataset_load_csv_limit(ctypes.byref(ds), _path(path), int(has_header), col,
                                             1 if classes else 0, int(max_bytes)))
    X, y, v = _take(ds.value)
    return X, (y if classes else (v[:, 0] if v is not None and v.shape[1] == 1 else v))
