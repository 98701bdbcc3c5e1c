"""Library statuses become mlp.MLPError (a ValueError; file errors are also OSErrors)."""

import ctypes
import ctypes.util
import os
import pickle
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import mlp


@pytest.fixture
def net():
    n = mlp.Network([4, 6, 3], activations=["tanh", "identity"], seed=0)
    yield n
    n.close()


def test_hierarchy():
    assert issubclass(mlp.MLPError, ValueError)
    assert issubclass(mlp.MLPFileError, mlp.MLPError) and issubclass(mlp.MLPFileError, OSError)
    assert issubclass(mlp.MLPMemoryError, MemoryError)


def test_bad_shapes(net):
    with pytest.raises(mlp.MLPError) as e:
        net.forward(np.zeros((2, 5)))
    assert e.value.name == "MLP_ERR_MISMATCH" and e.value.status == mlp.STATUS["MLP_ERR_MISMATCH"]
    assert "5" in str(e.value) and "4" in str(e.value)
    with pytest.raises(ValueError):
        net.forward(np.zeros(4))  # 1-D
    with pytest.raises(mlp.MLPError):
        net.loss_and_grad(np.zeros((3, 4)), [0, 1], loss="softmax_cross_entropy")
    with pytest.raises(mlp.MLPError):
        net.loss_and_grad(np.zeros((3, 4)), np.zeros((3, 2)), loss="mse")
    with pytest.raises(mlp.MLPError):
        net.forward(np.zeros((2, 4)), out=np.zeros((2, 3)))  # float64 out


def test_bad_class_index_carries_the_library_message(net):
    X = np.zeros((3, 4))
    with pytest.raises(mlp.MLPError) as e:
        net.loss_and_grad(X, [0, 3, 1], loss="softmax_cross_entropy")
    err = e.value
    assert err.name == "MLP_ERR_LABEL"
    assert err.message and err.message in str(err)  # mlp_last_error() text
    assert err.description  # mlp_strerror text
    with pytest.raises(mlp.MLPError) as e:
        net.loss_and_grad(X, [0, -1, 1], loss="softmax_cross_entropy")
    assert e.value.name == "MLP_ERR_LABEL"
    with pytest.raises(mlp.MLPError) as e:
        net.loss_and_grad(X, [0, 2**40, 1], loss="softmax_cross_entropy")
    assert e.value.name == "MLP_ERR_LABEL"
    with pytest.raises(mlp.MLPError) as e:
        net.loss_and_grad(X, [0, 1.5, 1], loss="softmax_cross_entropy")
    assert e.value.name == "MLP_ERR_LABEL"


def test_nan(net):
    X = np.zeros((3, 4))
    X[1, 2] = np.nan
    with pytest.raises(mlp.MLPError) as e:
        net.loss_and_grad(X, [0, 1, 2], loss="softmax_cross_entropy")
    assert e.value.name == "MLP_ERR_NONFINITE"
    with pytest.raises(mlp.MLPError) as e:
        net.loss_and_grad(np.zeros((3, 4)), np.full((3, 3), np.inf), loss="mse")
    assert e.value.name == "MLP_ERR_NONFINITE"
    # forward propagates NaN (documented), it does not fail
    assert np.isnan(net.forward(X)[1]).all()
    with pytest.raises(mlp.MLPError) as e:
        net.set_params([(np.full((6, 4), np.nan), np.zeros(6)), net.get_params()[1]])
    assert e.value.name == "MLP_ERR_NONFINITE"


def test_unknown_names(net):
    with pytest.raises(mlp.MLPError) as e:
        mlp.Network([2, 2], activations=["swish"])
    assert e.value.name == "MLP_ERR_ACTIVATION"
    with pytest.raises(mlp.MLPError) as e:
        net.loss_and_grad(np.zeros((1, 4)), [0], loss="hinge")
    assert e.value.name == "MLP_ERR_LOSS"
    with pytest.raises(mlp.MLPError):
        mlp.Network([2, 0, 2])
    with pytest.raises(mlp.MLPError):
        mlp.Network([2, 3, 2], activations=["tanh"])
    with pytest.raises(mlp.MLPError):
        net.l2 = -1.0


def test_missing_file():
    with tempfile.TemporaryDirectory() as d:
        with pytest.raises(mlp.MLPFileError) as e:
            mlp.Network.load(os.path.join(d, "nope.mlp"))
        assert isinstance(e.value, OSError) and isinstance(e.value, mlp.MLPError)
        assert e.value.name == "MLP_ERR_IO"
        # a directory that does not exist
        with pytest.raises(OSError):
            mlp.Network([2, 1]).save(os.path.join(d, "no", "such", "dir", "m.mlp"))


def test_corrupt_file(net):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.mlp")
        net.save(path)
        data = bytearray(open(path, "rb").read())
        bad = os.path.join(d, "bad.mlp")
        open(bad, "wb").write(b"not a model at all, just text")
        with pytest.raises(mlp.MLPFileError) as e:
            mlp.Network.load(bad)
        assert e.value.name == "MLP_ERR_BAD_MAGIC"
        open(bad, "wb").write(data[: len(data) // 2])
        with pytest.raises(mlp.MLPFileError) as e:
            mlp.Network.load(bad)
        assert e.value.name in ("MLP_ERR_TRUNCATED", "MLP_ERR_CORRUPT", "MLP_ERR_CHECKSUM")
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x55
        open(bad, "wb").write(flipped)
        with pytest.raises(mlp.MLPFileError) as e:
            mlp.Network.load(bad)
        assert e.value.name in ("MLP_ERR_CHECKSUM", "MLP_ERR_CORRUPT")
        with pytest.raises(mlp.MLPFileError):
            mlp.Network.from_bytes(bytes(flipped))


def test_errors_pickle():
    e = mlp._errors.fail("MLP_ERR_IO", "disk on fire")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is mlp.MLPFileError and e2.message == "disk on fire" and e2.name == "MLP_ERR_IO"


def _import_in_subprocess(env, pkg_parent):
    env = dict(env, PYTHONPATH=pkg_parent, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-c", "import mlp; print(mlp.library_path)"],
                          env=env, capture_output=True, text=True, cwd=pkg_parent)


def test_explicit_library_path_is_used_or_refused():
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(mlp.__file__)))
    r = _import_in_subprocess(dict(os.environ, MLP_LIBRARY="/nonexistent/libmlp.so"), pkg_parent)
    assert r.returncode != 0
    assert "MLP_LIBRARY=/nonexistent/libmlp.so" in r.stderr and "ImportError" in r.stderr
    r = _import_in_subprocess(dict(os.environ, MLP_LIBRARY=mlp.library_path), pkg_parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == mlp.library_path


def test_library_not_found_names_every_place_tried():
    """A copy of the package far from any build: the error lists each place."""
    src = os.path.dirname(os.path.abspath(mlp.__file__))
    with tempfile.TemporaryDirectory() as d:
        shutil.copytree(src, os.path.join(d, "python", "mlp"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
        env = {k: v for k, v in os.environ.items() if k not in ("MLP_LIBRARY", "LD_LIBRARY_PATH")}
        r = _import_in_subprocess(env, os.path.join(d, "python"))
        assert r.returncode != 0
        assert "MLP_LIBRARY (not set)" in r.stderr
        assert os.path.join(d, "python", "mlp", "libmlp.so") in r.stderr
        assert os.path.join(d, "build", "src", "libmlp.so") in r.stderr
        assert "system loader" in r.stderr
        # the same copy finds a library placed beside the package
        shutil.copy(mlp.library_path, os.path.join(d, "python", "mlp", "libmlp.so"))
        r = _import_in_subprocess(env, os.path.join(d, "python"))
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == os.path.join(d, "python", "mlp", "libmlp.so")


def test_candidates_order():
    here = os.path.dirname(os.path.abspath(mlp._lib.__file__))
    c = mlp._lib.candidates()
    assert c[0] == os.path.join(here, "libmlp.so")
    assert c[2] == os.path.join(os.path.dirname(os.path.dirname(here)), "build", "src", "libmlp.so")


def test_every_declared_function_has_a_signature():
    table = mlp._lib.SIGNATURES
    for name, fn in vars(mlp._clib).items():
        if name.startswith("mlp_"):
            assert fn.argtypes == table[name][1] and fn.restype == table[name][0]


def test_a_library_lacking_functions_is_refused_naming_them_all():
    """_declare refuses a library without some declared functions, naming each."""
    hidden = {"mlp_option_info", "mlp_trainer_step"}

    class Partial:
        def __getattr__(self, name):
            if name in hidden:
                raise AttributeError(name)
            return getattr(mlp._clib._cdll, name)

    with pytest.raises(ImportError) as e:
        mlp._lib._declare(Partial(), "partial.so")
    text = str(e.value)
    assert "partial.so" in text and all(n in text for n in hidden)
    assert "mlp_forward" not in text


def test_import_refuses_a_library_without_the_functions():
    """A real shared library that is not libmlp (zlib): import fails, listing every function."""
    zlib = ctypes.util.find_library("z")
    assert zlib, "zlib is a dependency of libmlp itself"
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(mlp.__file__)))
    r = _import_in_subprocess(dict(os.environ, MLP_LIBRARY=zlib), pkg_parent)
    assert r.returncode != 0 and "ImportError" in r.stderr
    assert all(name in r.stderr for name in mlp._lib.SIGNATURES)


def test_the_library_has_every_declared_function():
    missing = [n for n in mlp._lib.SIGNATURES if not mlp._clib.has(n)]
    assert missing == [], "declared in _lib.py but not exported by %s" % mlp.library_path
