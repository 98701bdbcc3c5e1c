"""dtype and layout conversion, and float32 C-contiguous arrays passing without a copy."""

import numpy as np
import pytest

import mlp
import reference as ref


@pytest.fixture
def net():
    n = mlp.Network([5, 7, 3], activations=["tanh", "identity"], seed=2)
    yield n
    n.close()


@pytest.fixture
def X(rng):
    return rng.normal(size=(11, 5)).astype(np.float32)


def expected(net, X):
    return ref.forward(net.get_params(), net.activations, np.asarray(X, np.float64))[0]


def test_conversions_give_the_same_result(net, X):
    want = net.forward(X)
    variants = {
        "float64": X.astype(np.float64),
        "fortran": np.asfortranarray(X),
        "list": X.tolist(),
        "tuple": tuple(map(tuple, X.tolist())),
        "strided rows": np.repeat(X, 2, axis=0)[::2],
        "strided cols": np.repeat(X, 2, axis=1)[:, ::2],
        "transposed": np.ascontiguousarray(X.T).T,
        "read-only": np.frombuffer(X.tobytes(), np.float32).reshape(X.shape),
    }
    for name, v in variants.items():
        got = net.forward(v)
        assert got.dtype == np.float32 and got.shape == (11, 3), name
        assert np.array_equal(got, want), name
    Xi = np.arange(22).reshape(11, 2) % 5
    net2 = mlp.Network([2, 3], activations=["identity"], seed=1)
    np.testing.assert_allclose(net2.forward(Xi), expected(net2, Xi), rtol=1e-5, atol=1e-5)


def test_targets_conversion(net, X, rng):
    y = rng.randint(0, 3, 11)
    J = net.loss_and_grad(X, y.astype(np.int32), loss="softmax_cross_entropy")[0]
    for v in (y.astype(np.int64), y.astype(np.uint8), y.astype(np.float64), y.tolist(),
              y.reshape(-1, 1)):
        assert net.loss_and_grad(X, v, loss="softmax_cross_entropy")[0] == J
    T = rng.normal(size=(11, 3))
    J = net.loss_and_grad(X, T.astype(np.float32), loss="mse")[0]
    assert net.loss_and_grad(X, np.asfortranarray(T), loss="mse")[0] == J
    assert net.loss_and_grad(X, T.tolist(), loss="mse")[0] == J


class Recorder:
    """Wraps a C function to record the pointers it receives."""

    def __init__(self, fn):
        self.fn = fn
        self.calls = []

    def __call__(self, *args):
        self.calls.append(args)
        return self.fn(*args)


def test_float32_c_contiguous_passes_without_copy(net, X, monkeypatch, rng):
    clib = mlp._clib
    fwd = Recorder(clib.mlp_forward)
    monkeypatch.setattr(clib, "mlp_forward", fwd)
    out = np.empty((11, 3), np.float32)
    Y = net.forward(X, out=out)
    assert Y is out
    (_, x_ptr, rows, y_ptr), = fwd.calls
    assert x_ptr == X.ctypes.data and y_ptr == out.ctypes.data and rows == 11
    # a float64 array is converted: the pointer is a new buffer
    net.forward(X.astype(np.float64))
    assert fwd.calls[-1][1] != X.ctypes.data

    lg = Recorder(clib.mlp_loss_grad)
    monkeypatch.setattr(clib, "mlp_loss_grad", lg)
    y = rng.randint(0, 3, 11).astype(np.int32)
    net.loss_and_grad(X, y, loss="softmax_cross_entropy")
    (_, x_ptr, rows, t_ptr, _), = lg.calls
    assert x_ptr == X.ctypes.data and t_ptr == y.ctypes.data


def test_conversion_happens_once(net, X, monkeypatch):
    """A non-conforming array is converted by one np.ascontiguousarray call."""
    calls = []
    real = np.ascontiguousarray

    def counting(a, dtype=None):
        out = real(a, dtype=dtype)
        if out is not a:
            calls.append(1)
        return out

    monkeypatch.setattr(mlp._arrays.np, "ascontiguousarray", counting)
    net.forward(np.asfortranarray(X.astype(np.float64)))
    assert len(calls) == 1
    monkeypatch.undo()


def test_bad_inputs_are_refused_before_the_call(net, monkeypatch):
    fwd = Recorder(mlp._clib.mlp_forward)
    monkeypatch.setattr(mlp._clib, "mlp_forward", fwd)
    for bad in (np.zeros((3, 4)), np.zeros((2, 3, 5)), np.zeros(5), np.zeros((3, 5), complex)):
        with pytest.raises(mlp.MLPError):
            net.forward(bad)
    with pytest.raises(ValueError):
        net.forward([["a"] * 5])
    assert fwd.calls == []
