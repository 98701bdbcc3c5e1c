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
        y = (np.ctypeslib.as_array(cp, shape=(rows,)).copy() if rows else np.empty(0, np.int32)) \
            if cp else None
        vp = lib.mlp_dataset_values(ds)
        tc = lib.mlp_dataset_target_cols(ds)
        v = (np.ctypeslib.as_array(vp, shape=(rows, tc)).copy() if rows
             else np.empty((0, tc), np.float32)) if vp and tc else None
        return X, y, v
    finally:
        lib.mlp_dataset_destroy(ds)


def _path(p):
    return None if p is None else os.fsencode(os.fspath(p))


def _part(part, parts):
    """part and parts as checked ints: 0 <= part < parts."""
    part, parts = int(part), int(parts)
    if parts < 1 or not 0 <= part < parts:
        raise ValueError(f"part {part} of {parts}: needs 0 <= part < parts")
    return part, parts


def _bound(max_bytes, parts):
    """max_bytes as a checked int (None: no bound); parts take no bound."""
    if max_bytes is None:
        return None
    if int(max_bytes) < 0:
        raise ValueError("max_bytes must be >= 0")
    if parts > 1:
        raise ValueError("max_bytes bounds whole loads only (a part takes about 1/parts)")
    return int(max_bytes)


def load_idx(images_path, labels_path=None, max_bytes=None, *, part=0, parts=1):
    """(X, y): IDX images (gzip or not) as float32 rows of raw pixel values
    0..255, and int32 labels (None without labels_path).

    max_bytes bounds the memory the load takes (5 bytes per decompressed
    image and label byte): files whose headers declare more raise MLPError
    with MLP_ERR_TOO_LARGE before any data is read. Use it for files from
    untrusted sources (a small gzip file can decompress to gigabytes);
    None: no bound.

    part, parts: load only images [part*n//parts, (part+1)*n//parts) of n,
    with memory about 1/parts of the whole load (docs/DATA.md); the parts in
    order concatenate to the whole. A part may hold no rows."""
    part, parts = _part(part, parts)
    bound = _bound(max_bytes, parts)
    ds = ctypes.c_void_p()
    if bound is not None:
        check(lib.mlp_dataset_load_idx_limit(ctypes.byref(ds), _path(images_path),
                                             _path(labels_path), bound))
    else:
        check(lib.mlp_dataset_load_idx_part(ctypes.byref(ds), _path(images_path),
                                            _path(labels_path), part, parts))
    X, y, _ = _take(ds.value)
    return X, y


def load_csv(path, has_header=-1, label_column=-1, classes=True, max_bytes=None, *,
             part=0, parts=1):
    """(X, y) from a numeric CSV: y holds int32 classes (classes=True) or float
    values from label_column (-1 = last, None = no target: y is None).
    has_header: True, False or -1 to detect. max_bytes bounds the memory the
    load takes (the file's bytes and the data set): beyond it MLPError with
    MLP_ERR_TOO_LARGE; None: no bound.

    part, parts: load only the lines that start in bytes
    [part*S//parts, (part+1)*S//parts) of the file's S bytes, with memory
    about 1/parts of the whole load (docs/DATA.md); the parts in order
    concatenate to the whole. A part may hold no rows."""
    part, parts = _part(part, parts)
    bound = _bound(max_bytes, parts)
    ds = ctypes.c_void_p()
    col = -2 if label_column is None else int(label_column)
    if bound is not None:
        check(lib.mlp_dataset_load_csv_limit(ctypes.byref(ds), _path(path), int(has_header), col,
                                             1 if classes else 0, bound))
    else:
        check(lib.mlp_dataset_load_csv_part(ctypes.byref(ds), _path(path), int(has_header), col,
                                            1 if classes else 0, part, parts))
    X, y, v = _take(ds.value)
    return X, (y if classes else (v[:, 0] if v is not None and v.shape[1] == 1 else v))
