"""Network: the low-level surface, checked against the float64 reference."""

import copy

import numpy as np
import pytest

import mlp
import reference as ref

ACTS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "softplus"]
LOSSES = ["mse", "softmax_cross_entropy", "sigmoid_cross_entropy"]


def targets_for(loss, rng, B, n_out):
    if loss == "softmax_cross_entropy":
        return rng.randint(0, n_out, size=B)
    if loss == "sigmoid_cross_entropy":
        return rng.uniform(size=(B, n_out))
    return rng.normal(size=(B, n_out))


def test_surface_of_the_issue(rng):
    net = mlp.Network([4, 16, 3], activations=["tanh", "identity"], seed=0)
    assert net.sizes == [4, 16, 3]
    assert net.activations == ["tanh", "identity"]
    params = net.get_params()
    assert [(W.shape, b.shape) for W, b in params] == [((16, 4), (16,)), ((3, 16), (3,))]
    assert all(W.dtype == np.float32 and b.dtype == np.float32 for W, b in params)
    net.set_params(params)
    X = rng.normal(size=(5, 4))
    Y = net.forward(X)
    assert Y.shape == (5, 3) and Y.dtype == np.float32
    J, grads = net.loss_and_grad(X, [0, 1, 2, 1, 0], loss="softmax_cross_entropy", l2=0.0)
    assert isinstance(J, float)
    assert [(dW.shape, db.shape) for dW, db in grads] == [((16, 4), (16,)), ((3, 16), (3,))]
    err = net.gradcheck(X, rng.normal(size=(5, 3)), loss="mse", l2=0.0)
    assert isinstance(err, float) and 0 <= err < 1e-2
    dot = net.to_dot()
    assert dot.lstrip().startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")


def test_to_dot_draws_every_layer_forward_and_back():
    net = mlp.Network([5, 7, 6, 2], activations=["relu", "sigmoid", "identity"])
    net.loss = "softmax_cross_entropy"
    dot = net.to_dot()
    for l, (n_in, n_out, act) in enumerate([(5, 7, "relu"), (7, 6, "sigmoid"),
                                            (6, 2, "identity")], start=1):
        assert "W(%d)\\n%d x %d" % (l, n_out, n_in) in dot
        assert "%s(z(%d))" % (act, l) in dot
        assert "δ(%d)" % l in dot
    assert "J = L + s" in dot


def test_names_and_defaults():
    assert set(ACTS) <= set(mlp.ACTIVATIONS)
    net = mlp.Network([3, 5, 4, 2])
    assert net.activations == ["relu", "relu", "identity"]
    assert mlp.Network([3, 5, 2], activations="tanh").activations == ["tanh", "identity"]
    assert net.num_layers == 3 and net.n_inputs == 3 and net.n_outputs == 2
    assert net.num_params == 3 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2
    assert net.loss == "mse" and net.l2 == 0.0
    net.loss = "sigmoid_cross_entropy"
    net.l2 = 0.25
    assert net.loss == "sigmoid_cross_entropy" and net.l2 == 0.25


def test_seed_determines_parameters():
    a = mlp.Network([6, 7, 3], seed=5).get_params()
    b = mlp.Network([6, 7, 3], seed=5).get_params()
    c = mlp.Network([6, 7, 3], seed=6).get_params()
    for (Wa, ba), (Wb, bb) in zip(a, b):
        assert np.array_equal(Wa, Wb) and np.array_equal(ba, bb)
    assert not np.array_equal(a[0][0], c[0][0])


def test_set_params_round_trip_and_forward_uses_them(rng):
    net = mlp.Network([3, 4, 2], activations=["sigmoid", "identity"])
    params = [(rng.normal(size=(4, 3)), rng.normal(size=4)),
              (rng.normal(size=(2, 4)), rng.normal(size=2))]
    net.set_params(params)
    for (W, b), (W2, b2) in zip(params, net.get_params()):
        assert np.array_equal(W.astype(np.float32), W2) and np.array_equal(b.astype(np.float32), b2)
    X = rng.normal(size=(6, 3))
    want, _, _ = ref.forward(net.get_params(), net.activations, X)
    np.testing.assert_allclose(net.forward(X), want, rtol=1e-5, atol=1e-6)


def test_set_params_checks_every_shape_before_changing_anything(rng):
    net = mlp.Network([3, 4, 2], seed=1)
    before = net.get_params()
    bad = [(np.ones((4, 3)), np.ones(4)), (np.ones((2, 5)), np.ones(2))]
    with pytest.raises(mlp.MLPError) as e:
        net.set_params(bad)
    assert e.value.name == "MLP_ERR_MISMATCH"
    for (W, b), (W2, b2) in zip(before, net.get_params()):
        assert np.array_equal(W, W2) and np.array_equal(b, b2)
    with pytest.raises(mlp.MLPError):
        net.set_params(before[:1])


@pytest.mark.parametrize("act", ACTS)
def test_forward_matches_reference(act, rng):
    net = mlp.Network([5, 8, 6, 3], activations=[act, act, act], seed=3)
    X = rng.normal(size=(17, 5))
    want, _, _ = ref.forward(net.get_params(), [act] * 3, X)
    got = net.forward(X)
    assert ref.rel_err(got, want) < 1e-5
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # one row (the GEMV path) agrees with the batch
    np.testing.assert_allclose(net.forward(X[3:4]), got[3:4], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ACTS)
def test_loss_and_grad_match_reference(act, loss, rng):
    sizes = [4, 7, 5, 3]
    net = mlp.Network(sizes, activations=[act, act, "identity"], seed=11)
    X = rng.normal(size=(9, 4))
    t = targets_for(loss, rng, 9, 3)
    l2 = 0.03
    J, grads = net.loss_and_grad(X, t, loss=loss, l2=l2)
    J_ref, g_ref = ref.loss_and_grad(net.get_params(), net.activations, X, t, loss, l2)
    assert J == pytest.approx(J_ref, rel=1e-5, abs=1e-6)
    for l, ((dW, db), (rW, rb)) in enumerate(zip(grads, g_ref)):
        assert ref.rel_err(dW, rW) < 1e-4, "layer %d W" % l
        assert ref.rel_err(db, rb) < 1e-4, "layer %d b" % l
    # the network's own settings are left as they were
    assert net.loss == "mse" and net.l2 == 0.0


@pytest.mark.parametrize("loss", LOSSES)
def test_output_activation_and_network_settings(loss, rng):
    """Defaults come from the network; a non-identity output layer is honoured."""
    net = mlp.Network([3, 6, 4], activations=["tanh", "sigmoid"], seed=2)
    net.loss = loss
    net.l2 = 0.1
    X = rng.normal(size=(5, 3))
    t = targets_for(loss, rng, 5, 4)
    J, grads = net.loss_and_grad(X, t)
    J_ref, g_ref = ref.loss_and_grad(net.get_params(), net.activations, X, t, loss, 0.1)
    assert J == pytest.approx(J_ref, rel=1e-5)
    for (dW, db), (rW, rb) in zip(grads, g_ref):
        assert ref.rel_err(dW, rW) < 1e-4 and ref.rel_err(db, rb) < 1e-4


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softplus", "gelu"])
def test_gradcheck(act, loss, rng):
    net = mlp.Network([4, 6, 3], activations=[act, "identity"], seed=4)
    X = rng.normal(size=(6, 4))
    t = targets_for(loss, rng, 6, 3)
    worst, blocks = net.gradcheck(X, t, loss=loss, l2=0.01, blocks=True)
    assert len(blocks) == 4 and all(b["checked"] > 0 for b in blocks)
    assert worst == max(b["error"] for b in blocks)
    assert worst < 1e-2
    assert all(b["grad_norm"] > 0 for b in blocks)


def test_gradcheck_relu_reports_skips(rng):
    net = mlp.Network([4, 16, 3], activations=["relu", "identity"], seed=4)
    X = rng.normal(size=(8, 4))
    worst, blocks = net.gradcheck(X, rng.randint(0, 3, 8), loss="softmax_cross_entropy",
                                  blocks=True)
    assert worst < 1e-2
    assert sum(b["checked"] for b in blocks) > 0


def test_evaluate(rng):
    net = mlp.Network([3, 5, 4], activations=["tanh", "identity"], seed=8)
    X = rng.normal(size=(30, 3))
    y = rng.randint(0, 4, 30)
    L, acc = net.evaluate(X, y, loss="softmax_cross_entropy")
    o, _, _ = ref.forward(net.get_params(), net.activations, X)
    assert L == pytest.approx(ref.loss("softmax_cross_entropy", o, y), rel=1e-5)
    assert acc == pytest.approx(np.mean(np.argmax(o, 1) == y))
    L, acc = net.evaluate(X, rng.normal(size=(30, 4)), loss="mse")
    assert np.isnan(acc)


def test_input_scaling(rng):
    net = mlp.Network([3, 4, 2], activations=["tanh", "identity"], seed=1)
    assert net.input_scaling is None
    off = np.array([1.0, -2.0, 0.5])
    sc = np.array([0.5, 2.0, 1.0])
    net.input_scaling = (off, sc)
    got_off, got_sc = net.input_scaling
    assert np.array_equal(got_off, off.astype(np.float32)) and np.array_equal(got_sc, sc.astype(np.float32))
    X = rng.normal(size=(7, 3))
    want, _, _ = ref.forward(net.get_params(), net.activations, X, scaling=(off, sc))
    np.testing.assert_allclose(net.forward(X), want, rtol=1e-5, atol=1e-6)
    net.fit_input_scaling(X * 10 + 3, "standard")
    o2, s2 = net.input_scaling
    np.testing.assert_allclose(o2, (X * 10 + 3).mean(0), rtol=1e-4)
    net.input_scaling = None
    assert net.input_scaling is None
    with pytest.raises(mlp.MLPError):
        net.input_scaling = (np.zeros(2), np.ones(2))


def test_dropout_settings():
    net = mlp.Network([3, 4, 2])
    assert net.dropout == [0.0, 0.0]
    net.set_dropout(1, 0.25)
    assert net.get_dropout(1) == 0.25
    net.dropout = [0.1, 0.0]
    assert net.dropout == [pytest.approx(0.1), 0.0]
    with pytest.raises(mlp.MLPError):
        net.set_dropout(0, 1.0)


def test_copy_is_deep(rng):
    net = mlp.Network([3, 4, 2], seed=9)
    net.loss = "softmax_cross_entropy"
    dup = copy.deepcopy(net)
    assert dup.loss == "softmax_cross_entropy" and dup.sizes == net.sizes
    W, b = net.get_params()[0]
    dup.set_params([(W + 1, b), net.get_params()[1]])
    assert np.array_equal(net.get_params()[0][0], W)
    X = rng.normal(size=(3, 3))
    assert not np.array_equal(dup.forward(X), net.forward(X))


def test_close_and_context_manager():
    with mlp.Network([2, 3, 1]) as net:
        assert not net.closed
    assert net.closed
    net.close()  # twice is harmless
    with pytest.raises(mlp.MLPError):
        net.forward(np.zeros((1, 2)))
    assert "closed" in repr(net)


def test_init_params_and_reserve():
    net = mlp.Network([3, 4, 2], seed=1)
    net.init_params("glorot_normal", seed=3)
    assert all(np.all(b == 0) for _, b in net.get_params())
    net.reserve(300)
    assert net.capacity >= 300
    X = np.ones((300, 3), np.float32)
    assert net.forward(X).shape == (300, 2)


def test_empty_batch_gives_empty_output():
    net = mlp.Network([3, 4, 2])
    assert net.forward(np.zeros((0, 3))).shape == (0, 2)


def test_blas_threads_and_version():
    assert mlp.library_version() == "%d.%d.%d" % (0, 1, 0) or mlp.library_version().count(".") == 2
    n = mlp.get_num_threads()
    mlp.set_num_threads(1)
    assert mlp.get_num_threads() == 1
    mlp.set_num_threads(n)
    assert isinstance(mlp.blas_config(), str)
    assert mlp.blas_coretype_hint() in (None, "SkylakeX", "Haswell")


def test_names_come_from_the_library():
    assert mlp.ACTIVATIONS[:5] == ("identity", "sigmoid", "tanh", "relu", "leaky_relu")
    assert mlp.LOSSES == ("mse", "softmax_cross_entropy", "sigmoid_cross_entropy")
    assert mlp.__version__ == mlp.library_version()
