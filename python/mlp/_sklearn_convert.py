"""A Network from a fitted scikit-learn MLPClassifier or MLPRegressor.

scikit-learn keeps coefs_[l] as (n_in, n_out); libmlp holds (n_out, n_in),
hence the transpose. Hidden layers share the estimator's activation; the
output layer is identity and its output function becomes the loss (softmax
-> softmax cross-entropy, logistic -> sigmoid cross-entropy, identity -> mse),
so libmlp's logits are the estimator's pre-output values.
"""

import numpy as np

from ._errors import fail

_ACTIVATIONS = {"relu": "relu", "logistic": "sigmoid", "tanh": "tanh", "identity": "identity"}
_LOSSES = {"softmax": "softmax_cross_entropy", "logistic": "sigmoid_cross_entropy",
           "identity": "mse"}


def _check(est):
    try:
        from sklearn.neural_network import MLPClassifier, MLPRegressor
    except ImportError as e:
        raise ImportError("from_sklearn needs scikit-learn (Debian: python3-sklearn): %s" % e) from e
    if not isinstance(est, (MLPClassifier, MLPRegressor)):
        hint = " (a fitted libmlp estimator holds its Network as .network_)" if hasattr(
            est, "network_") else ""
        raise fail("MLP_ERR_ARGUMENT", "from_sklearn takes a fitted sklearn.neural_network "
                   "MLPClassifier or MLPRegressor, got %s.%s%s"
                   % (type(est).__module__, type(est).__name__, hint))
    if not hasattr(est, "coefs_") or not hasattr(est, "out_activation_"):
        raise fail("MLP_ERR_ARGUMENT", "from_sklearn: the %s is not fitted (call fit first)"
                   % type(est).__name__)
    if est.activation not in _ACTIVATIONS:
        raise fail("MLP_ERR_ACTIVATION", "from_sklearn: activation %r is not supported (%s)"
                   % (est.activation, ", ".join(_ACTIVATIONS)))
    if est.out_activation_ not in _LOSSES:
        raise fail("MLP_ERR_LOSS", "from_sklearn: output function %r is not supported (%s)"
                   % (est.out_activation_, ", ".join(_LOSSES)))


def from_sklearn(est):
    """A Network whose forward gives est's values before its output function."""
    _check(est)
    from ._network import Network
    coefs = [np.asarray(c, np.float64) for c in est.coefs_]
    sizes = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
    n = len(coefs)
    net = Network(sizes, [_ACTIVATIONS[est.activation]] * (n - 1) + ["identity"])
    net.set_params([(c.T, b) for c, b in zip(coefs, est.intercepts_)])
    net.loss = _LOSSES[est.out_activation_]
    return net
