"""numpy arrays handed to C: float32/int32, C-contiguous, shapes checked first.

An array that is already float32 (int32 for classes) and C-contiguous passes
as it is, without a copy; anything else is converted once."""

import numpy as np

from ._errors import fail


def address(a):
    """The data pointer of an array, for a c_void_p argument (None stays NULL)."""
    return None if a is None else a.__array_interface__["data"][0]


def as_float32(x, what="X"):
    if hasattr(x, "toarray") and not isinstance(x, np.ndarray):  # scipy.sparse
        x = x.toarray()
    a = np.asarray(x)
    if a.dtype.kind == "c":
        raise fail("MLP_ERR_ARGUMENT", "%s is complex; libmlp takes real numbers" % what)
    if a.dtype.kind not in "biuf":
        try:
            a = a.astype(np.float32)
        except (TypeError, ValueError) as e:
            raise fail("MLP_ERR_ARGUMENT", "%s cannot be converted to float32: %s" % (what, e))
    return np.ascontiguousarray(a, dtype=np.float32)


def matrix(x, cols, what="X"):
    """x as a (rows, cols) float32 C-contiguous array."""
    a = as_float32(x, what)
    if a.ndim != 2:
        raise fail("MLP_ERR_MISMATCH", "%s must be 2-D (rows, %d), got shape %s"
                   % (what, cols, a.shape))
    if a.shape[1] != cols:
        raise fail("MLP_ERR_MISMATCH", "%s has %d columns, the network takes %d"
                   % (what, a.shape[1], cols))
    return a


def weights(w, rows, what="sample_weight"):
    """Per-row weights as a (rows,) float32 array, or None for None."""
    if w is None:
        return None
    a = as_float32(w, what)
    if a.ndim != 1 or a.shape[0] != rows:
        raise fail("MLP_ERR_MISMATCH", "%s must have shape (%d,), got %s" % (what, rows, a.shape))
    return a


def classes(y, rows, n_classes, what="targets"):
    """y as (rows,) int32 class indices. Values beyond int32 are rejected here
    (they would wrap); the library itself checks the range [0, n_classes)."""
    a = np.asarray(y)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1 or a.shape[0] != rows:
        raise fail("MLP_ERR_MISMATCH", "%s must be %d class indices, got shape %s"
                   % (what, rows, a.shape))
    if a.dtype == np.int32:
        return np.ascontiguousarray(a)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise fail("MLP_ERR_NONFINITE", "%s: NaN or infinity among class indices" % what)
        if np.any(a != np.round(a)):
            raise fail("MLP_ERR_LABEL", "%s: class indices must be integers" % what)
    elif a.dtype.kind not in "biu":
        raise fail("MLP_ERR_LABEL", "%s: class indices must be integers, got %s" % (what, a.dtype))
    if a.size and (a.min() < np.iinfo(np.int32).min or a.max() > np.iinfo(np.int32).max):
        bad = a.max() if a.max() > np.iinfo(np.int32).max else a.min()
        raise fail("MLP_ERR_LABEL", "%s: class index %s is out of range [0, %d)"
                   % (what, bad, n_classes))
    return np.ascontiguousarray(a, dtype=np.int32)


def values(y, rows, cols, what="targets"):
    """y as (rows, cols) float32 targets; (rows,) is taken as one column."""
    a = as_float32(y, what)
    if a.ndim == 1 and cols == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2 or a.shape != (rows, cols):
        raise fail("MLP_ERR_MISMATCH", "%s must have shape (%d, %d), got %s"
                   % (what, rows, cols, a.shape))
    return a


def out_matrix(out, rows, cols):
    """A caller-provided output array, checked; or a new one."""
    if out is None:
        return np.empty((rows, cols), dtype=np.float32)
    if (not isinstance(out, np.ndarray) or out.dtype != np.float32 or out.shape != (rows, cols)
            or not out.flags.c_contiguous or not out.flags.writeable):
        raise fail("MLP_ERR_MISMATCH", "out must be a writeable C-contiguous float32 array of "
                   "shape (%d, %d)" % (rows, cols))
    return out
