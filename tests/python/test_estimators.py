"""MLPClassifier and MLPRegressor on small real problems, and their conventions."""

import gzip
import os
import pickle
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pytest

import mlp

FASHION = "/usr/share/datasets/fashion-mnist"


def blobs(rng, n=300, k=3, d=5):
    centers = rng.normal(scale=3.0, size=(k, d))
    y = rng.randint(0, k, n)
    return centers[y] + rng.normal(size=(n, d)), y


def digits():
    sk = pytest.importorskip("sklearn.datasets")
    X, y = sk.load_digits(return_X_y=True)
    return X, y


def split(X, y, frac=0.25, seed=0):
    perm = np.random.RandomState(seed).permutation(len(X))
    k = int(len(X) * frac)
    return X[perm[k:]], y[perm[k:]], X[perm[:k]], y[perm[:k]]


# ---- classification ---------------------------------------------------------

def test_classifier_on_digits():
    X, y = digits()
    Xtr, ytr, Xte, yte = split(X, y)
    clf = mlp.MLPClassifier(hidden_layer_sizes=(64,), random_state=0, input_scaling="standard",
                            max_iter=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mlp._compat.ConvergenceWarning)
        assert clf.fit(Xtr, ytr) is clf
    assert clf.score(Xte, yte) > 0.95
    assert list(clf.classes_) == list(range(10))
    assert clf.n_features_in_ == 64 and clf.n_outputs_ == 10 and clf.n_layers_ == 3
    assert len(clf.loss_curve_) == clf.n_iter_ <= 60
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert [c.shape for c in clf.coefs_] == [(64, 64), (64, 10)]
    assert [b.shape for b in clf.intercepts_] == [(64,), (10,)]
    P = clf.predict_proba(Xte)
    assert P.shape == (len(Xte), 10) and P.dtype == np.float64
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert np.array_equal(clf.classes_[P.argmax(1)], clf.predict(Xte))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(Xte)), P, rtol=1e-10)


def test_classifier_string_labels_and_blobs_without_sklearn_data(rng):
    X, y = blobs(rng)
    names = np.array(["cat", "dog", "eel"])[y]
    clf = mlp.MLPClassifier(hidden_layer_sizes=(16,), random_state=1, max_iter=300)
    clf.fit(X, names)
    assert list(clf.classes_) == ["cat", "dog", "eel"]
    assert np.mean(clf.predict(X) == names) > 0.95
    assert clf.score(X, names) > 0.95


def test_classifier_binary_and_multilabel(rng):
    X, y = blobs(rng, k=2)
    clf = mlp.MLPClassifier(hidden_layer_sizes=(8,), random_state=0, max_iter=300).fit(X, y * 5)
    assert list(clf.classes_) == [0, 5] and clf.predict_proba(X).shape == (300, 2)
    assert clf.score(X, y * 5) > 0.95
    Y = np.stack([X[:, 0] > 0, X[:, 1] > X[:, 2]], axis=1).astype(int)
    ml = mlp.MLPClassifier(hidden_layer_sizes=(32,), random_state=0, max_iter=500,
                           learning_rate_init=0.01).fit(X, Y)
    assert ml.network_.loss == "sigmoid_cross_entropy" and ml.out_activation_ == "logistic"
    P = ml.predict_proba(X)
    assert P.shape == (300, 2) and np.all((P >= 0) & (P <= 1))
    assert np.mean(ml.predict(X) == Y) > 0.9


def test_early_stopping_restores_the_best_validation_weights(rng):
    X, y = blobs(rng, n=400)
    clf = mlp.MLPClassifier(hidden_layer_sizes=(16,), random_state=0, early_stopping=True,
                            validation_fraction=0.2, n_iter_no_change=5, max_iter=500)
    clf.fit(X, y)
    assert clf.best_loss_ == np.inf or clf.best_loss_ is not None
    assert len(clf.validation_scores_) == clf.n_iter_ < 500
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.score(X, y) > 0.9


def test_partial_fit(rng):
    X, y = blobs(rng)
    clf = mlp.MLPClassifier(hidden_layer_sizes=(16,), random_state=0, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    for i in range(30):
        clf.partial_fit(X[:150], y[:150], classes=[0, 1, 2])
        clf.partial_fit(X[150:], y[150:])
    assert clf.n_iter_ == 60 and len(clf.loss_curve_) == 60
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :3], y)
    with pytest.raises(ValueError):
        clf.partial_fit(X, np.full(len(y), 9))


def test_solvers_and_schedules(rng):
    X, y = blobs(rng)
    # every solver and schedule the library has (adam and constant: the defaults)
    from mlp._estimators import SOLVERS
    library = ([{"solver": s} for s in sorted(SOLVERS - {"sgd", "adam"})] +
               [{"learning_rate": s} for s in mlp.SCHEDULES if s != "constant"])
    assert {"solver": "rmsprop"} in library and {"learning_rate": "cosine"} in library
    for kw in [{"solver": "sgd", "momentum": 0.0}, {"solver": "sgd", "nesterovs_momentum": False},
               {"solver": "sgd"},
               {"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.1},
               {"solver": "sgd", "learning_rate": "adaptive", "learning_rate_init": 0.05},
               {"activation": "logistic"}, {"activation": "tanh", "hidden_layer_sizes": (8, 8)},
               {"hidden_layer_sizes": ()}, {"batch_size": 7}, {"alpha": 1.0}] + library:
        clf = mlp.MLPClassifier(hidden_layer_sizes=kw.pop("hidden_layer_sizes", (16,)),
                                random_state=0, max_iter=200, learning_rate_init=kw.pop(
                                    "learning_rate_init", 0.01), **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(X, y)
        assert clf.score(X, y) > 0.85, kw
    opt = {"sgd": "nesterov"}
    c = mlp.MLPClassifier(solver="sgd", random_state=0, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c.fit(X, y)
    assert c._trainer.get("optimizer") == opt["sgd"]
    # alpha maps to lambda = alpha / batch_size
    assert c.network_.l2 == pytest.approx(c.alpha / 200, rel=1e-6)


def test_invalid_parameters_raise_in_fit(rng):
    X, y = blobs(rng, n=30)
    for kw in ({"solver": "bfgs"}, {"activation": "swish"}, {"hidden_layer_sizes": (0,)},
               {"alpha": -1}, {"batch_size": 0}, {"learning_rate": "sometimes"},
               {"momentum": 2.0}, {"max_iter": 0}, {"input_scaling": "log"},
               {"early_stopping": True, "validation_fraction": 0.0}):
        est = mlp.MLPClassifier(**kw)  # __init__ stores, fit validates
        with pytest.raises(ValueError):
            est.fit(X, y)


def test_finiteness_check_of_X(rng):
    # The check sums X first: a sum that overflows (large finite values) or
    # meets inf + -inf (NaN) must fall back to the element test, silently.
    X, y = blobs(rng, n=40)
    clf = mlp.MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mlp._compat.ConvergenceWarning)
        clf.fit(X, y)
    big = np.full((3, X.shape[1]), 3e38, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clf.predict(big).shape == (3,)
    for bad in (np.nan, np.inf, -np.inf):
        Xb = X.copy()
        Xb[3, 1], Xb[7, 2] = bad, -bad
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="NaN, infinity"):
                clf.predict(Xb)
            with pytest.raises(ValueError, match="NaN, infinity"):
                clf.fit(Xb, y)


def test_input_validation(rng):
    X, y = blobs(rng, n=40)
    clf = mlp.MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with pytest.raises(mlp._compat.NotFittedError):
        clf.predict(X)
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(np.where(X > 2, np.nan, X), y)
    with pytest.raises(ValueError, match="inconsistent"):
        clf.fit(X, y[:-1])
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(X, y + 0.5)
    with pytest.raises(ValueError, match="class"):
        clf.fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="2D"):
        clf.fit(X[:, 0], y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X.tolist(), y.tolist())
        clf.fit(np.asfortranarray(X.astype(np.float32)), y.astype(np.int8))
    with pytest.raises(ValueError, match="X has 4 features, but MLPClassifier is expecting 5"):
        clf.predict(X[:, :4])


def test_get_set_params_and_clone_semantics():
    clf = mlp.MLPClassifier(hidden_layer_sizes=(7, 3), alpha=0.5)
    p = clf.get_params()
    assert p["hidden_layer_sizes"] == (7, 3) and p["alpha"] == 0.5 and p["solver"] == "adam"
    for name in ("activation", "batch_size", "learning_rate", "learning_rate_init", "max_iter",
                 "shuffle", "random_state", "tol", "early_stopping", "validation_fraction",
                 "n_iter_no_change", "momentum", "beta_1", "beta_2", "epsilon"):
        assert name in p
    assert clf.set_params(alpha=0.1, max_iter=3) is clf and clf.alpha == 0.1
    with pytest.raises(ValueError):
        clf.set_params(not_a_param=1)
    assert type(clf)(**clf.get_params()).get_params() == clf.get_params()


def test_pickle_and_saved_network(rng):
    X, y = blobs(rng)
    clf = mlp.MLPClassifier(hidden_layer_sizes=(8,), random_state=0, max_iter=50,
                            input_scaling="minmax")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X * 100 + 7, y)
    back = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(back.predict_proba(X * 100 + 7), clf.predict_proba(X * 100 + 7))
    back.partial_fit(X * 100 + 7, y)  # the optimiser is rebuilt after unpickling
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "clf.mlp")
        clf.network_.save(path)
        net = mlp.Network.load(path)  # predicts on raw inputs: the scaling is in the file
        assert np.array_equal(net.forward(X * 100 + 7).argmax(1),
                              clf.predict_proba(X * 100 + 7).argmax(1))


def test_determinism_with_random_state(rng):
    X, y = blobs(rng)
    a = mlp.MLPClassifier(hidden_layer_sizes=(8,), random_state=3, max_iter=20)
    b = mlp.MLPClassifier(hidden_layer_sizes=(8,), random_state=3, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.fit(X, y)
        b.fit(X, y)
    assert a.loss_curve_ == b.loss_curve_
    assert all(np.array_equal(p, q) for p, q in zip(a.coefs_, b.coefs_))


def test_convergence_warning(rng):
    X, y = blobs(rng)
    with pytest.warns(mlp._compat.ConvergenceWarning, match="Maximum iterations"):
        mlp.MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, y)


def test_callback_exception_propagates_from_fit(rng, monkeypatch):
    X, y = blobs(rng)
    clf = mlp.MLPClassifier(hidden_layer_sizes=(4,), max_iter=50, random_state=0)

    def boom(self, p):
        raise KeyError("inside the epoch callback")

    monkeypatch.setattr(mlp.MLPClassifier, "_epoch_end", boom)
    with pytest.raises(KeyError, match="inside the epoch callback"):
        clf.fit(X, y)


# ---- regression ---------------------------------------------------------------

def test_regressor(rng):
    X = rng.uniform(-2, 2, size=(400, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
    Xtr, ytr, Xte, yte = split(X, y)
    reg = mlp.MLPRegressor(hidden_layer_sizes=(32, 32), activation="tanh", random_state=0,
                           learning_rate_init=0.01, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(Xtr, ytr)
    pred = reg.predict(Xte)
    assert pred.shape == (len(Xte),) and pred.dtype == np.float64
    assert reg.score(Xte, yte) > 0.9
    Y = np.stack([y, -2 * y], axis=1)
    multi = mlp.MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", random_state=0,
                             learning_rate_init=0.01, max_iter=300, early_stopping=True)
    multi.fit(X, Y)
    assert multi.predict(X).shape == (400, 2) and multi.n_outputs_ == 2
    assert multi.score(X, Y) > 0.8
    # the R^2 kept for early stopping is the held-out set's
    assert -1 < multi.best_validation_score_ <= 1
    assert multi.best_validation_score_ == max(multi.validation_scores_)


def test_regressor_validation_score_is_r2(rng):
    X = rng.normal(size=(200, 2))
    y = X[:, 0] * 2 + 1
    reg = mlp.MLPRegressor(hidden_layer_sizes=(8,), random_state=0, max_iter=3,
                           early_stopping=True, validation_fraction=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y)
    # rebuild the held-out rows the estimator used and score the restored weights
    perm = np.random.RandomState(mlp._estimators._seed(0)).permutation(200)
    va = np.sort(perm[:50])
    best = max(reg.validation_scores_)
    assert reg.score(X[va], y[va]) == pytest.approx(best, rel=1e-4, abs=1e-5)


# ---- without scikit-learn -------------------------------------------------------

def test_estimators_work_without_sklearn():
    code = r"""
import sys
sys.modules['sklearn'] = None  # any import of scikit-learn now fails
import numpy as np, pickle, warnings
import mlp
assert not mlp.HAVE_SKLEARN
rs = np.random.RandomState(0)
X = rs.normal(size=(200, 4)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
clf = mlp.MLPClassifier(hidden_layer_sizes=(8,), random_state=0, max_iter=100,
                        learning_rate_init=0.01)
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    clf.fit(X, y)
assert clf.score(X, y) > 0.9, clf.score(X, y)
assert clf.get_params()['hidden_layer_sizes'] == (8,)
clf.set_params(max_iter=5)
assert 'MLPClassifier(' in repr(clf)
reg = mlp.MLPRegressor(hidden_layer_sizes=(8,), random_state=0, max_iter=200,
                       learning_rate_init=0.01)
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    reg.fit(X, X[:, 0] - X[:, 1])
assert reg.score(X, X[:, 0] - X[:, 1]) > 0.9
back = pickle.loads(pickle.dumps(reg))
assert np.array_equal(back.predict(X), reg.predict(X))
try:
    mlp.MLPClassifier().predict(X)
except ValueError as e:
    assert isinstance(e, AttributeError)
else:
    raise SystemExit('no NotFittedError')
print('ok')
"""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(mlp.__file__)))
    env["MLP_LIBRARY"] = mlp.library_path
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


# ---- Fashion-MNIST (a subset, read with gzip and numpy) ------------------------------

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def test_fashion_mnist_subset():
    # the 10,000 test images: a subset that loads fast
    images = os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")
    labels = os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz")
    assert os.path.exists(images), "dataset-fashion-mnist is a test dependency (scripts/deps.sh)"
    X = read_idx(images).reshape(10000, -1)[:6000]
    y = read_idx(labels)[:6000]
    # the library's own IDX reader gives the same data
    Xl, yl = mlp.load_idx(images, labels)
    assert Xl.shape == (10000, 784) and Xl.dtype == np.float32 and yl.dtype == np.int32
    assert np.array_equal(Xl[:6000], X) and np.array_equal(yl[:6000], y)
    clf = mlp.MLPClassifier(hidden_layer_sizes=(64,), random_state=0, max_iter=8,
                            batch_size=64, input_scaling="minmax")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X[:5000], y[:5000])
    acc = clf.score(X[5000:], y[5000:])
    assert acc > 0.78, acc


def test_the_fashion_mnist_example_runs():
    """examples/python/fashion_mnist.py on a small subset: accuracy printed, PNG written."""
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                           "python", "fashion_mnist.py")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MLP_LIBRARY=mlp.library_path,
               MPLBACKEND="Agg")
    with tempfile.TemporaryDirectory() as d:
        env["MPLCONFIGDIR"] = d  # matplotlib's cache, not in $HOME
        png = os.path.join(d, "curve.png")
        model = os.path.join(d, "fm.mlp")
        r = subprocess.run([sys.executable, example, png, "--epochs", "2", "--limit", "3000",
                            "--model", model], env=env, capture_output=True, text=True, cwd=d)
        assert r.returncode == 0, r.stderr
        acc = float(r.stdout.split("test accuracy:")[1].split()[0])
        assert 0.7 < acc <= 1.0
        with open(png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        assert mlp.Network.load(model).sizes == [784, 256, 128, 10]
