"""Model files: Python <-> Python, C -> Python and Python -> C."""

import copy
import glob
import os
import pickle
import subprocess
import tempfile

import numpy as np
import pytest

import mlp
import reference as ref

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def roundtrip_exe():
    """The C helper (tests/python/roundtrip.c) that ctest builds and names in MLP_ROUNDTRIP."""
    exe = os.environ.get("MLP_ROUNDTRIP")
    if not exe:
        found = glob.glob(os.path.join(HERE, "..", "..", "build*", "tests", "mlp_py_roundtrip"))
        exe = found[0] if found else None
    if not exe or not os.access(exe, os.X_OK):
        pytest.fail("MLP_ROUNDTRIP must name the mlp_py_roundtrip program (ctest sets it)")
    return exe


@pytest.fixture
def tmp():
    with tempfile.TemporaryDirectory() as d:
        yield d


def trained_like_net(rng):
    net = mlp.Network([6, 9, 4, 3], activations=["gelu", "leaky_relu", "identity"], seed=21)
    net.loss = "softmax_cross_entropy"
    net.l2 = 0.01
    net.set_dropout(1, 0.2)
    net.input_scaling = (rng.normal(size=6), rng.uniform(0.5, 2, size=6))
    return net


def test_save_load_predicts_bit_identically(tmp, rng):
    net = trained_like_net(rng)
    path = os.path.join(tmp, "m.mlp")
    net.save(path)
    back = mlp.Network.load(path)
    assert back.sizes == net.sizes and back.activations == net.activations
    assert back.loss == "softmax_cross_entropy" and back.l2 == net.l2
    assert back.get_dropout(1) == net.get_dropout(1)
    for a, b in zip(back.input_scaling, net.input_scaling):
        assert np.array_equal(a, b)
    X = rng.normal(size=(13, 6))
    assert np.array_equal(back.forward(X), net.forward(X))
    # pathlib paths work too, and saving over an existing file replaces it
    import pathlib
    net2 = mlp.Network([6, 2], seed=1)
    net2.save(pathlib.Path(path))
    assert mlp.Network.load(pathlib.Path(path)).sizes == [6, 2]
    assert os.listdir(tmp) == ["m.mlp"]  # no temporary file left behind


def test_bytes_and_pickle(rng):
    net = trained_like_net(rng)
    data = net.to_bytes()
    assert isinstance(data, bytes) and len(data) > 4 * net.num_params
    X = rng.normal(size=(5, 6))
    assert np.array_equal(mlp.Network.from_bytes(data).forward(X), net.forward(X))
    again = pickle.loads(pickle.dumps(net))
    assert np.array_equal(again.forward(X), net.forward(X))
    assert again.to_bytes() == data  # save(load(file)) reproduces the file
    assert copy.copy(net).to_bytes() == data


def test_c_saved_model_loads_in_python(roundtrip_exe, tmp, rng):
    path = os.path.join(tmp, "from_c.mlp")
    subprocess.run([roundtrip_exe, "save", path], check=True, capture_output=True)
    net = mlp.Network.load(path)
    assert net.sizes == [3, 5, 2] and net.activations == ["tanh", "identity"]
    assert net.loss == "softmax_cross_entropy" and net.l2 == 0.125
    for (W, b), (n_in, n_out) in zip(net.get_params(), [(3, 5), (5, 2)]):
        want_W = np.sin(np.arange(1, n_in * n_out + 1)).reshape(n_out, n_in).astype(np.float32)
        want_b = np.cos(np.arange(1, n_out + 1)).astype(np.float32)
        np.testing.assert_allclose(W, want_W, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(b, want_b, rtol=1e-6, atol=1e-7)
    X = rng.normal(size=(4, 3))
    want, _, _ = ref.forward(net.get_params(), net.activations, X)
    np.testing.assert_allclose(net.forward(X), want, rtol=1e-5, atol=1e-6)


def test_python_saved_model_predicts_the_same_in_c(roundtrip_exe, tmp, rng):
    net = trained_like_net(rng)
    path = os.path.join(tmp, "from_py.mlp")
    net.save(path)
    X = rng.normal(size=(5, 6)).astype(np.float32)
    text = "\n".join(" ".join("%.9g" % v for v in row) for row in X) + "\n"
    r = subprocess.run([roundtrip_exe, "predict", path], input=text, capture_output=True,
                       text=True, check=True)
    got = np.array([[float(v) for v in line.split()] for line in r.stdout.splitlines()])
    # the C side predicts one row at a time (sgemv), Python the batch (sgemm)
    np.testing.assert_allclose(got, net.forward(X), rtol=1e-5, atol=1e-6)
    rows = np.vstack([net.forward(X[i:i + 1]) for i in range(5)])
    assert np.array_equal(got.astype(np.float32), rows)


def test_data_readers(tmp):
    path = os.path.join(tmp, "d.csv")
    with open(path, "w") as f:
        f.write("a,b,label\n1.5,2,0\n-3,4e-1,2\n0,0,1\n")
    X, y = mlp.load_csv(path)
    assert X.dtype == np.float32 and y.dtype == np.int32
    np.testing.assert_array_equal(X, np.array([[1.5, 2], [-3, 0.4], [0, 0]], np.float32))
    np.testing.assert_array_equal(y, [0, 2, 1])
    X, v = mlp.load_csv(path, classes=False)
    np.testing.assert_array_equal(v, np.array([0, 2, 1], np.float32))
    X, none = mlp.load_csv(path, label_column=None)
    assert X.shape == (3, 3) and none is None
    with pytest.raises(mlp.MLPFileError):
        mlp.load_idx(os.path.join(tmp, "missing-images.gz"))
    with open(os.path.join(tmp, "bad.csv"), "w") as f:
        f.write("1,2\n3,x\n")
    with pytest.raises(mlp.MLPError):
        mlp.load_csv(os.path.join(tmp, "bad.csv"))


def test_data_readers_parts(tmp):
    """part=/parts=: the parts in order concatenate to the whole load."""
    import gzip
    path = os.path.join(tmp, "p.csv")
    with open(path, "w") as f:
        f.write("a,b,label\r\n" + "".join(f"{i},{i * 0.5},{i % 3}\r\n" for i in range(7)))
    X, y = mlp.load_csv(path)
    for parts in range(1, 10):
        got = [mlp.load_csv(path, part=r, parts=parts) for r in range(parts)]
        np.testing.assert_array_equal(np.vstack([g[0] for g in got]), X)
        np.testing.assert_array_equal(np.concatenate([g[1] for g in got]), y)
        assert all(g[1].dtype == np.int32 and g[0].shape[1] == 2 for g in got)
    Xv, v = mlp.load_csv(path, classes=False, part=0, parts=2)
    assert v.dtype == np.float32 and len(v) == len(Xv) > 0
    img = os.path.join(tmp, "img.gz")
    lab = os.path.join(tmp, "lab")
    with gzip.open(img, "wb") as f:
        f.write(bytes([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 1]) + bytes(range(10)))
    with open(lab, "wb") as f:
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 5]) + bytes([1, 0, 4, 2, 3]))
    X, y = mlp.load_idx(img, lab)
    for parts in range(1, 8):
        got = [mlp.load_idx(img, lab, part=r, parts=parts) for r in range(parts)]
        np.testing.assert_array_equal(np.vstack([g[0] for g in got]), X)
        np.testing.assert_array_equal(np.concatenate([g[1] for g in got]), y)
    for bad in [dict(part=2, parts=2), dict(part=-1, parts=2), dict(part=0, parts=0)]:
        with pytest.raises(ValueError):
            mlp.load_csv(path, **bad)
        with pytest.raises(ValueError):
            mlp.load_idx(img, **bad)


def test_load_idx_max_bytes(tmp):
    import gzip
    import struct
    # a gzip bomb: the header declares 50 MB of pixels, all zeros
    bomb = os.path.join(tmp, "bomb.gz")
    with gzip.open(bomb, "wb") as f:
        f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, 51200, 32, 32))
        chunk = bytes(1 << 20)
        for _ in range(50):
            f.write(chunk)
    assert os.path.getsize(bomb) < 200 * 1024
    with pytest.raises(mlp.MLPError) as e:
        mlp.load_idx(bomb, max_bytes=10 << 20)
    assert e.value.name == "MLP_ERR_TOO_LARGE"
    small = os.path.join(tmp, "small.gz")
    with gzip.open(small, "wb") as f:
        f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, 4, 2, 2) + bytes(range(16)))
    X, y = mlp.load_idx(small, max_bytes=10 << 20)
    assert X.shape == (4, 4) and y is None and X[3, 3] == 15
    with pytest.raises(ValueError):
        mlp.load_idx(small, max_bytes=-1)


def test_load_csv_max_bytes(tmp):
    path = os.path.join(tmp, "big.csv")
    with open(path, "w") as f:
        f.write("1.25,2.5,0\n" * 50000)  # 550 KB of text
    with pytest.raises(mlp.MLPError) as e:
        mlp.load_csv(path, has_header=False, max_bytes=256 << 10)
    assert e.value.name == "MLP_ERR_TOO_LARGE"
    X, y = mlp.load_csv(path, has_header=False, max_bytes=4 << 20)
    assert X.shape == (50000, 2) and y[-1] == 0
