"""Networks for the conversion tests: every layer's pre-activations reach past
+-6 on the returned inputs, so that a wrong gelu or softplus cannot hide
near zero."""

import numpy as np

import mlp
import reference

SPREAD = 6.0


def spread_net(act, rng, scaling=False, sizes=(5, 16, 3), rows=1000):
    """(net, X): act on every layer; X raw inputs (before the net's scaling)."""
    net = mlp.Network(list(sizes), [act] * (len(sizes) - 1))
    Xs = rng.uniform(-3.0, 3.0, (rows, sizes[0]))  # the scaled inputs
    if scaling:
        offset = rng.randn(sizes[0]) * 2.0
        scale = rng.uniform(0.25, 2.0, sizes[0])
        net.input_scaling = (offset, scale)
        offset, scale = (v.astype(np.float64) for v in net.input_scaling)
        X = Xs / scale + offset
    else:
        X = Xs
    params, a = [], Xs
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = rng.randn(n_out, n_in)
        z = a @ W.T
        k = 4.0 / z.std(axis=0)  # each unit's pre-activations: mean near 0, std 4
        W *= k[:, None]
        b = -z.mean(axis=0) * k + rng.randn(n_out) * 0.5
        params.append((W, b))
        a = reference.act(act, a @ W.T + b)
    net.set_params(params)
    X = X.astype(np.float32)
    assert_spread(net, X)
    return net, X


def assert_spread(net, X):
    _, zs, _ = reference.forward(net.get_params(), net.activations, X, net.input_scaling)
    for l, z in enumerate(zs):
        assert z.min() < -SPREAD and z.max() > SPREAD, "layer %d spans only [%g, %g]" % (
            l, z.min(), z.max())


# max |f'| of each activation (gelu's is 1.129 at z = 2.4)
LIPSCHITZ = {"identity": 1.0, "sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "leaky_relu": 1.0,
             "gelu": 1.13, "softplus": 1.0}
U = 2.0 ** -24  # float32's unit roundoff


def rounding_bound(net, X):
    """A bound on |float32 forward - exact forward| for any summation order,
    with the input scaling applied or folded into the first layer (as
    to_torch does): per layer, gamma(n) times the absolute sums |W||a| + |b|,
    plus the incoming error through |W| and max |f'|, plus a few ulps of
    each activation. Two float32 evaluations differ by at most twice this."""
    params = [(np.asarray(W, np.float64), np.asarray(b, np.float64))
              for W, b in net.get_params()]
    a = np.abs(np.asarray(X, np.float64))
    if net.input_scaling is not None:
        o, s = (np.abs(np.asarray(v, np.float64)) for v in net.input_scaling)
        a = (a + o) * s  # bounds |(x - o) s| and the folded |W s||x| + |W s o|
    err = np.zeros_like(a)
    _, zs, _ = reference.forward(net.get_params(), net.activations, X, net.input_scaling)
    for (W, b), f, z in zip(params, net.activations, zs):
        n = W.shape[1] + 3
        gamma = n * U / (1.0 - n * U)
        ez = err @ np.abs(W).T + gamma * ((a + err) @ np.abs(W).T + np.abs(b))
        a = np.abs(reference.act(f, z))
        err = LIPSCHITZ[f] * ez + 8.0 * U * a
    return err


def assert_close(got, want, tol=1e-5, what="output", bound=None):
    """|got - want| <= tol * max(1, |got|), or <= bound where that is larger."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, "%s: shape %s, expected %s" % (what, got.shape, want.shape)
    bound = tol * np.maximum(1.0, np.abs(got)) if bound is None else np.maximum(
        tol * np.maximum(1.0, np.abs(got)), bound)
    err = np.abs(got - want)
    worst = np.unravel_index(np.argmax(err - bound), err.shape)
    assert np.all(err <= bound), "%s: %g vs %g at %s (tolerance %g)" % (
        what, got[worst], want[worst], worst, bound[worst])


def probabilities(logits, loss):
    """libmlp's output head in float64 from its forward (None for mse)."""
    z = np.asarray(logits, np.float64)
    if loss == "softmax_cross_entropy":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if loss == "sigmoid_cross_entropy":
        return 1.0 / (1.0 + np.exp(-z))
    return None
