"""Network.from_sklearn: libmlp's probabilities and predictions equal
scikit-learn's within 1e-5 relative."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor

import mlp
from convert_cases import assert_close, probabilities

ACTIVATIONS = {"relu": "relu", "logistic": "sigmoid", "tanh": "tanh", "identity": "identity"}


def _data(seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(300, 6) * 2.0
    return X, rng


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _probabilities(net, X):
    return probabilities(net.forward(X), net.loss)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_multiclass_softmax(activation):
    X, _ = _data()
    y = np.digitize(X[:, 0] + X[:, 1] * X[:, 2], [-2, 0, 2])  # four classes
    est = _fit(MLPClassifier((10, 8), activation=activation, max_iter=200, random_state=0), X, y)
    net = mlp.Network.from_sklearn(est)
    assert net.sizes == [6, 10, 8, 4] and net.loss == "softmax_cross_entropy"
    assert net.activations == [ACTIVATIONS[activation]] * 2 + ["identity"]
    assert_close(_probabilities(net, X), est.predict_proba(X), what="predict_proba")
    np.testing.assert_array_equal(est.classes_[net.forward(X).argmax(axis=1)], est.predict(X))


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_binary_logistic(activation):
    X, _ = _data(1)
    y = np.where(X[:, 0] * X[:, 1] > 0, "yes", "no")
    est = _fit(MLPClassifier((9,), activation=activation, max_iter=200, random_state=0), X, y)
    net = mlp.Network.from_sklearn(est)
    assert net.sizes == [6, 9, 1] and net.loss == "sigmoid_cross_entropy"
    assert_close(_probabilities(net, X)[:, 0], est.predict_proba(X)[:, 1], what="predict_proba")


def test_multilabel_logistic():
    X, _ = _data(2)
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] * X[:, 4] > 0], axis=1).astype(int)
    est = _fit(MLPClassifier((12,), activation="tanh", max_iter=200, random_state=0), X, Y)
    net = mlp.Network.from_sklearn(est)
    assert net.n_outputs == 3 and net.loss == "sigmoid_cross_entropy"
    assert_close(_probabilities(net, X), est.predict_proba(X), what="predict_proba")


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("outputs", [1, 2])
def test_regressor_identity(activation, outputs):
    X, rng = _data(3)
    Y = np.stack([np.sin(X[:, 0]) * 3 + X[:, 1], X[:, 2] ** 2 - 4], axis=1)[:, :outputs]
    y = Y[:, 0] if outputs == 1 else Y
    est = _fit(MLPRegressor((11, 5), activation=activation, max_iter=300, random_state=0), X, y)
    net = mlp.Network.from_sklearn(est)
    assert net.loss == "mse" and net.n_outputs == outputs
    assert_close(net.forward(X).reshape(est.predict(X).shape), est.predict(X), what="predict")


def test_refusals():
    X, _ = _data(4)
    y = (X[:, 0] > 0).astype(int)
    cases = [
        (MLPClassifier(), "not fitted"),
        (MLPRegressor(), "not fitted"),
        (_fit(LogisticRegression(), X, y), "LogisticRegression"),
        (_fit(mlp.MLPClassifier(hidden_layer_sizes=(3,), max_iter=2), X, y), "MLPClassifier"),
    ]
    odd = _fit(MLPClassifier((3,), max_iter=5, random_state=0), X, y)
    odd.activation = "softsign"  # an activation libmlp lacks
    cases.append((odd, "'softsign'"))
    odd_out = _fit(MLPRegressor((3,), max_iter=5, random_state=0), X, X[:, 0])
    odd_out.out_activation_ = "exp"
    cases.append((odd_out, "'exp'"))
    for est, named in cases:
        with pytest.raises(mlp.MLPError) as e:
            mlp.Network.from_sklearn(est)
        assert named in str(e.value), (type(est).__name__, str(e.value))
