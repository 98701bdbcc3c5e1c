"""L-BFGS and iRPROP- through the Trainer and the estimators, per-sample and
class weights: against scikit-learn's LogisticRegression optimum, on XOR and
two moons, and the weight formulas checked directly (Debian's scikit-learn
1.2 has no MLP sample weights to compare with)."""

import warnings

import numpy as np
import pytest

import mlp

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import make_classification, make_moons  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import balanced_accuracy_score  # noqa: E402

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
XOR_Y = np.array([0, 1, 1, 0])


def _softmax_objective(X, y, W, b, l2):
    """mean softmax cross-entropy + l2/2 ||W||^2, in float64."""
    Z = X.astype(np.float64) @ W.T.astype(np.float64) + b.astype(np.float64)
    Z -= Z.max(axis=1, keepdims=True)
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean() + 0.5 * l2 * float((W.astype(np.float64) ** 2).sum())


@pytest.mark.parametrize("C", [0.1, 1.0])
def test_lbfgs_reaches_logistic_regression_optimum(C):
    X, y = make_classification(n_samples=300, n_features=5, n_informative=4, n_redundant=0,
                               n_classes=3, random_state=0)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    n = len(y)
    # scikit-learn minimises C sum(loss) + 1/2 ||W||^2: divided by C n, the
    # mean loss plus 1/(2 C n) ||W||^2, libmlp's J with l2 = 1/(C n)
    lr = LogisticRegression(C=C, tol=1e-10, max_iter=10000).fit(X.astype(np.float64), y)
    J_sk = _softmax_objective(X, y, lr.coef_, lr.intercept_, 1.0 / (C * n))
    net = mlp.Network([5, 3], activations=["identity"], seed=1)
    net.loss = "softmax_cross_entropy"
    net.l2 = 1.0 / (C * n)
    tr = mlp.Trainer(net, optimizer="lbfgs", epochs=10000, tol=1e-10)
    tr.train(X, y.astype(np.int32))
    assert tr.stop_reason == "converged"
    (W, b), = net.get_params()
    J = _softmax_objective(X, y, W, b, 1.0 / (C * n))
    assert abs(J - J_sk) <= 1e-4, (J, J_sk)
    # the library's own J agrees with the one computed here
    assert abs(net.loss_and_grad(X, y.astype(np.int32))[0] - J) <= 1e-5


@pytest.mark.parametrize("solver", ["lbfgs", "irprop"])
def test_solvers_learn_xor_and_moons(solver):
    clf = mlp.MLPClassifier((8,), activation="tanh", solver=solver, max_iter=500, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(XOR_X, XOR_Y)
    assert clf.score(XOR_X, XOR_Y) == 1.0
    X, y = make_moons(400, noise=0.1, random_state=0)
    Xt, yt = make_moons(400, noise=0.1, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = mlp.MLPClassifier((16,), activation="tanh", solver=solver, max_iter=500,
                                random_state=0).fit(X, y)
    assert clf.score(Xt, yt) >= 0.97


def test_lbfgs_estimator_rules():
    X, y = make_moons(200, noise=0.2, random_state=0)
    clf = mlp.MLPClassifier((8,), solver="lbfgs", max_iter=3, random_state=0)
    with pytest.warns(sklearn.exceptions.ConvergenceWarning, match="lbfgs failed to converge"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    clf = mlp.MLPClassifier((8,), solver="lbfgs", max_fun=4, max_iter=100, random_state=0)
    with pytest.warns(sklearn.exceptions.ConvergenceWarning, match="EVALUATIONS"):
        clf.fit(X, y)
    with pytest.raises(AttributeError, match="stochastic"):
        clf.partial_fit(X, y)


def _flat(clf):
    return np.concatenate([a.ravel() for a in clf.coefs_ + clf.intercepts_])


def test_weight_two_is_the_row_twice():
    net = mlp.Network([3, 6, 3], activations=["tanh", "identity"], seed=4)
    net.loss = "softmax_cross_entropy"
    net.l2 = 0.01
    rng = np.random.RandomState(0)
    X = rng.randn(10, 3).astype(np.float32)
    y = rng.randint(0, 3, 10).astype(np.int32)
    w = np.ones(10, np.float32)
    w[3] = 2.0
    J1, g1 = net.loss_and_grad(X, y, sample_weight=w)
    J2, g2 = net.loss_and_grad(np.vstack([X, X[3:4]]), np.append(y, y[3]))
    a = np.concatenate([np.r_[d.ravel(), e] for d, e in g1])
    b = np.concatenate([np.r_[d.ravel(), e] for d, e in g2])
    assert abs(J1 - J2) <= 1e-6 * abs(J2)
    assert np.linalg.norm(a - b) <= 1e-6 * np.linalg.norm(b)
    # weights of 0: the full-batch gradient of the rows removed
    w0 = np.ones(10, np.float32)
    w0[[1, 5, 8]] = 0.0
    keep = w0 > 0
    J1, g1 = net.loss_and_grad(X, y, sample_weight=w0)
    J2, g2 = net.loss_and_grad(X[keep], y[keep])
    a = np.concatenate([np.r_[d.ravel(), e] for d, e in g1])
    b = np.concatenate([np.r_[d.ravel(), e] for d, e in g2])
    assert abs(J1 - J2) <= 1e-6 * abs(J2)
    assert np.linalg.norm(a - b) <= 1e-6 * np.linalg.norm(b)


def test_lbfgs_weights_equal_duplicated_rows():
    X, y = make_classification(n_samples=200, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=2, flip_y=0.2, random_state=3)
    w = np.random.RandomState(0).randint(0, 3, size=200)
    kw = dict(hidden_layer_sizes=(), solver="lbfgs", alpha=0.0, max_iter=2000, random_state=0)
    a = mlp.MLPClassifier(**kw).fit(X, y, sample_weight=w)
    b = mlp.MLPClassifier(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    assert np.abs(_flat(a) - _flat(b)).max() <= 1e-5
    assert np.abs(a.predict_proba(X) - b.predict_proba(X)).max() <= 1e-5


def test_alpha_scaled_by_sum_of_weights():
    X, y = make_moons(100, noise=0.2, random_state=0)
    w = np.linspace(0.5, 2.5, 100)
    clf = mlp.MLPClassifier((4,), solver="lbfgs", alpha=0.3, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y, sample_weight=w)
    assert clf.network_.l2 == pytest.approx(0.3 / w.sum(), rel=1e-6)
    # unit weights are the unweighted fit, bit for bit
    kw = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = mlp.MLPClassifier(**kw).fit(X, y, sample_weight=np.ones(100))
        b = mlp.MLPClassifier(**kw).fit(X, y)
    assert np.array_equal(_flat(a), _flat(b))


def test_partial_fit_and_regressor_take_weights():
    X, y = make_moons(100, noise=0.2, random_state=0)
    w = np.linspace(0.5, 2.5, 100)
    clf = mlp.MLPClassifier((4,), random_state=0)
    clf.partial_fit(X, y, classes=[0, 1], sample_weight=w)
    reg = mlp.MLPRegressor((4,), solver="irprop", max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y.astype(float), sample_weight=w)
    with pytest.raises(ValueError):
        reg.fit(X, y.astype(float), sample_weight=-w)


def test_class_weight_balanced_helps_the_rare_class():
    X, y = make_classification(n_samples=2000, n_features=5, n_informative=3,
                               weights=[0.95, 0.05], class_sep=0.5, random_state=0)
    Xt, yt, X, y = X[1000:], y[1000:], X[:1000], y[:1000]
    scores = {}
    for cw in (None, "balanced"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = mlp.MLPClassifier((16,), solver="lbfgs", max_iter=300, class_weight=cw,
                                    random_state=0).fit(X, y)
        scores[cw] = balanced_accuracy_score(yt, clf.predict(Xt))
    assert scores["balanced"] >= scores[None] + 0.05, scores
    # a dict: the rare class counted 19 times is "balanced" up to scale
    counts = np.bincount(y)
    clf = mlp.MLPClassifier(class_weight={1: 19.0})
    clf.classes_, clf._label_kind = np.array([0, 1]), "multiclass"
    w = clf._class_weights(y.astype(np.int32))
    assert np.all(w[y == 1] == 19.0) and np.all(w[y == 0] == 1.0)
    clf.class_weight = "balanced"
    w = clf._class_weights(y.astype(np.int32))
    assert w[y == 1][0] == pytest.approx(len(y) / (2 * counts[1]))
