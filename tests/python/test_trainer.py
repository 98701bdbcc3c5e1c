"""mlp.Trainer over mlp_trainer_*, with Python callbacks."""

import numpy as np
import pytest

import mlp


def blobs(rng, n=200, k=3, d=4):
    centers = rng.normal(scale=4.0, size=(k, d))
    y = rng.randint(0, k, n)
    return (centers[y] + rng.normal(size=(n, d))).astype(np.float32), y.astype(np.int32)


def classifier_net(d=4, k=3, seed=0):
    net = mlp.Network([d, 16, k], activations=["tanh", "identity"], seed=seed)
    net.loss = "softmax_cross_entropy"
    return net


def test_options_by_name():
    tr = mlp.Trainer(classifier_net(), optimizer="nesterov", learning_rate=0.05, epochs=3,
                     batch_size=16, schedule="cosine", shuffle=False)
    assert tr.get("optimizer") == "nesterov" and tr.get("schedule") == "cosine"
    assert tr.get("learning_rate") == pytest.approx(0.05)
    assert tr.get("epochs") == 3 and tr.get("shuffle") == 0
    opts = tr.options()
    assert set(opts) == set(mlp.OPTIONS) and opts["batch_size"] == 16
    with pytest.raises(mlp.MLPError) as e:
        tr.set("learning_rat", 1)
    assert e.value.name == "MLP_ERR_OPTION"
    with pytest.raises(mlp.MLPError):
        tr.set("optimizer", "bfgs")
    with pytest.raises(mlp.MLPError):
        tr.set("learning_rate", -1.0)  # the library's own range check


def test_names_come_from_the_library():
    """Every table is the library's: names in enum order, each parsed back by it."""
    import ctypes
    lib = mlp._clib
    for names, parse in ((mlp.OPTIONS, lib.mlp_option_parse),
                         (mlp.OPTIMIZERS, lib.mlp_optimizer_parse),
                         (mlp.SCHEDULES, lib.mlp_schedule_parse),
                         (mlp.STOP_REASONS, lib.mlp_stop_reason_parse)):
        assert len(names) >= 3 and len(set(names)) == len(names)
        for i, name in enumerate(names):
            out = ctypes.c_int(-1)
            assert parse(name.encode(), ctypes.byref(out)) == 0 and out.value == i
        assert parse(b"no_such_name", ctypes.byref(ctypes.c_int())) != 0
    assert "adamw" in mlp.OPTIMIZERS and "cosine" in mlp.SCHEDULES
    assert mlp.STOP_REASONS[:4] == ("completed", "early_stopping", "callback", "diverged")
    # the estimators' choices follow the library's optimisers and schedules
    from mlp._estimators import LEARNING_RATES, SOLVERS
    assert SOLVERS == set(mlp.OPTIMIZERS) - {"momentum", "nesterov"}
    assert LEARNING_RATES == set(mlp.SCHEDULES) | {"invscaling", "adaptive"}


def test_option_info_is_what_the_trainer_uses():
    """Defaults equal a fresh trainer's options; each end of each range is
    accepted or refused by Trainer.set exactly as option_info says."""
    tr = mlp.Trainer(classifier_net())
    fresh = tr.options()
    for name in mlp.OPTIONS:
        info = mlp.option_info(name)
        assert info["default"] == fresh[name], name
        if name in ("optimizer", "schedule"):
            choices = mlp.OPTIMIZERS if name == "optimizer" else mlp.SCHEDULES
            assert (info["min"], info["max"]) == (0, len(choices) - 1) and info["integer"]
            continue
        for end, is_open, inward in ((info["min"], info["min_open"], np.inf),
                                     (info["max"], info["max_open"], -np.inf)):
            if np.isinf(end):
                assert is_open
                continue
            if is_open:
                with pytest.raises(mlp.MLPError):
                    tr.set(name, end)
                tr.set(name, end + 1 if info["integer"] else np.nextafter(end, inward))
            else:
                tr.set(name, end)
            outward = end - 1 if inward > 0 else end + 1
            if outward != end:
                with pytest.raises(mlp.MLPError):
                    tr.set(name, outward)
        tr.set(name, info["default"])
    with pytest.raises(mlp.MLPError) as e:
        mlp.option_info("learning-rate")
    assert e.value.name == "MLP_ERR_OPTION"


def test_train_learns_and_reports_history(rng):
    X, y = blobs(rng)
    net = classifier_net()
    L0, _ = net.evaluate(X, y)
    seen = []
    tr = mlp.Trainer(net, optimizer="adam", learning_rate=0.01, epochs=15, batch_size=32,
                     callback=seen.append)
    history = tr.train(X, y)
    assert len(history) == 15 == tr.epochs_run and tr.stop_reason == "completed"
    assert [h["epoch"] for h in history] == list(range(1, 16))
    assert all(h["epoch_end"] for h in seen) and len(seen) == 15
    assert seen[-1]["train_loss"] == history[-1]["train_loss"]
    L1, acc = net.evaluate(X, y)
    assert L1 < 0.3 * L0 and acc > 0.95
    assert history[-1]["train_accuracy"] > 0.9
    assert np.isnan(history[0]["val_loss"])


def test_validation_set_and_early_stopping(rng):
    X, y = blobs(rng, n=300)
    net = classifier_net()
    tr = mlp.Trainer(net, learning_rate=0.02, epochs=200, batch_size=32, patience=3,
                     min_delta=1e-3)
    h = tr.train(X[:240], y[:240], X[240:], y[240:])
    assert tr.stop_reason == "early_stopping" and len(h) < 200
    assert 1 <= tr.best_epoch <= len(h)
    assert all(np.isfinite(e["val_loss"]) and 0 <= e["val_accuracy"] <= 1 for e in h)


def test_callback_stops_training(rng):
    X, y = blobs(rng)
    tr = mlp.Trainer(classifier_net(), epochs=50, batch_size=50)
    tr.callback = lambda p: p["epoch"] >= 4
    h = tr.train(X, y)
    assert len(h) == 4 and tr.stop_reason == "callback"


def test_callback_every_batch(rng):
    X, y = blobs(rng, n=100)
    seen = []
    tr = mlp.Trainer(classifier_net(), epochs=2, batch_size=25, callback_every_batch=1,
                     callback=seen.append)
    tr.train(X, y)
    assert [(p["epoch"], p["batch"], p["epoch_end"]) for p in seen] == [
        (1, 1, False), (1, 2, False), (1, 3, False), (1, 4, True),
        (2, 1, False), (2, 2, False), (2, 3, False), (2, 4, True)]


class Boom(Exception):
    pass


def test_exception_in_callback_stops_and_is_reraised(rng):
    X, y = blobs(rng)
    calls = []

    def cb(p):
        calls.append(p["epoch"])
        if p["epoch"] == 2:
            raise Boom("from the callback")

    tr = mlp.Trainer(classifier_net(), epochs=20, batch_size=50, callback=cb)
    with pytest.raises(Boom, match="from the callback"):
        tr.train(X, y)
    assert calls == [1, 2] and tr.epochs_run == 2
    # the trainer is usable again afterwards
    tr.callback = None
    tr.set("epochs", 1)
    assert len(tr.train(X, y)) == 1


def test_step_and_mse(rng):
    net = mlp.Network([3, 8, 2], activations=["tanh", "identity"], seed=3)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    T = np.stack([X[:, 0] * X[:, 1], X[:, 2]], axis=1)
    tr = mlp.Trainer(net, optimizer="sgd", learning_rate=0.1)
    J0 = tr.step(X, T)
    for _ in range(200):
        J = tr.step(X, T)
    assert J < 0.5 * J0
    # One trainer per network: the next is refused until this one is closed.
    with pytest.raises(mlp.MLPError) as e:
        mlp.Trainer(net)
    assert e.value.name == "MLP_ERR_BUSY"
    tr.close()
    h = mlp.Trainer(net, epochs=1, batch_size=16).train(X, T)
    assert np.isnan(h[0]["train_accuracy"])


def test_bad_data_is_refused(rng):
    X, y = blobs(rng, n=20)
    tr = mlp.Trainer(classifier_net(), epochs=1)
    X[3, 1] = np.nan
    with pytest.raises(mlp.MLPError) as e:
        tr.train(X, y)
    assert e.value.name == "MLP_ERR_NONFINITE"
    X[3, 1] = 0
    y[0] = 7
    with pytest.raises(mlp.MLPError) as e:
        tr.train(X, y)
    assert e.value.name == "MLP_ERR_LABEL"


def test_divergence_raises_and_keeps_finite_weights(rng):
    net = mlp.Network([2, 8, 1], activations=["relu", "identity"], seed=1)
    X = rng.normal(size=(64, 2)).astype(np.float32) * 100
    T = (X[:, :1] * 1e3).astype(np.float32)
    tr = mlp.Trainer(net, optimizer="sgd", learning_rate=1e3, epochs=50, batch_size=8)
    with pytest.raises(mlp.MLPError) as e:
        tr.train(X, T)
    assert e.value.name == "MLP_ERR_DIVERGED" and tr.stop_reason == "diverged"
    assert all(np.isfinite(W).all() and np.isfinite(b).all() for W, b in net.get_params())


def test_closing_the_network_closes_its_trainers(rng):
    net = classifier_net()
    tr = mlp.Trainer(net)
    net.close()
    with pytest.raises(mlp.MLPError):
        tr.set("epochs", 2)
