"""The call rule through Python: structural changes from the training
callback raise MLPError(MLP_ERR_BUSY) and change nothing; reading calls and
the live hyperparameters work; one trainer per network."""

import numpy as np
import pytest

import mlp


def data(rng, n=60, d=4, k=3):
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, (np.arange(n) % k).astype(np.int32)


def classifier(d=4, k=3):
    net = mlp.Network([d, 8, k], activations=["relu", "identity"], seed=1)
    net.loss = "softmax_cross_entropy"
    return net


def test_structural_changes_from_the_callback_are_refused(rng):
    X, y = data(rng)
    net = classifier()
    tr = mlp.Trainer(net, optimizer="sgd", epochs=2, batch_size=16)
    seen = []

    def attempt(name, fn):
        try:
            fn()
            seen.append((name, "ok"))
        except mlp.MLPError as e:
            seen.append((name, e.name))

    def callback(p):
        attempt("optimizer", lambda: tr.set("optimizer", "adam"))
        attempt("loss", lambda: setattr(net, "loss", "mse"))
        attempt("l2", lambda: setattr(net, "l2", 0.5))
        attempt("batch_size", lambda: tr.set("batch_size", 3))
        attempt("step", lambda: tr.step(X[:4], y[:4]))
        attempt("predict", lambda: net.forward(X))
        attempt("learning_rate", lambda: tr.set("learning_rate", 0.02))
        return False

    tr.callback = callback
    tr.train(X, y)
    got = dict(seen)
    for name in ("optimizer", "loss", "l2", "batch_size", "step"):
        assert got[name] == "MLP_ERR_BUSY", name
    assert got["predict"] == "ok" and got["learning_rate"] == "ok"
    assert net.loss == "softmax_cross_entropy" and net.l2 == 0.0
    assert tr.get("optimizer") == "sgd" and tr.get("batch_size") == 16
    assert tr.get("learning_rate") == pytest.approx(0.02)
    # After training the same calls work.
    tr.set("optimizer", "adam")
    net.loss = "mse"


def test_one_trainer_per_network():
    net = classifier()
    tr = mlp.Trainer(net)
    with pytest.raises(mlp.MLPError) as e:
        mlp.Trainer(net)
    assert e.value.name == "MLP_ERR_BUSY"
    tr.close()
    mlp.Trainer(net).close()


def test_estimator_refits_reuse_the_network(rng):
    X, y = data(rng)
    clf = mlp.MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, warm_start=True,
                            random_state=0)
    with pytest.warns(Warning):
        clf.fit(X, y)
    net = clf.network_
    with pytest.warns(Warning):
        clf.fit(X, y)  # warm start: the same network, a fresh trainer
    assert clf.network_ is net
