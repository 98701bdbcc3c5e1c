"""A float64 numpy reference of the network, written from ARCHITECTURE.md's
formulas (not from the C code), to check the library's forward and gradients."""

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _phi(z):  # standard normal CDF
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))


def act(name, z):
    if name == "identity":
        return z
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "gelu":
        return z * _phi(z)
    if name == "softplus":
        return np.logaddexp(0.0, z)
    raise KeyError(name)


def act_grad(name, z):
    if name == "identity":
        return np.ones_like(z)
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01)
    if name == "gelu":
        return _phi(z) + z * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    if name == "softplus":
        return 1.0 / (1.0 + np.exp(-z))
    raise KeyError(name)


def forward(params, acts, X, scaling=None):
    """Output and the (z, a) of every layer; params as Network.get_params()."""
    a = np.asarray(X, np.float64)
    if scaling is not None:
        a = (a - scaling[0]) * scaling[1]
    zs, As = [], [a]
    for (W, b), f in zip(params, acts):
        z = a @ np.asarray(W, np.float64).T + np.asarray(b, np.float64)
        a = act(f, z)
        zs.append(z)
        As.append(a)
    return a, zs, As


def _logsumexp(o):
    m = o.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(o - m).sum(axis=1, keepdims=True)))[:, 0]


def loss(name, o, t):
    """Per-sample losses averaged over the batch."""
    if name == "mse":
        return 0.5 * np.mean(np.sum((o - t) ** 2, axis=1))
    if name == "softmax_cross_entropy":
        t = np.asarray(t, np.int64)
        return np.mean(_logsumexp(o) - o[np.arange(len(t)), t])
    if name == "sigmoid_cross_entropy":
        return np.mean(np.sum(np.logaddexp(0.0, o) - t * o, axis=1))
    raise KeyError(name)


def output_delta(name, o, t):
    """dL/do for the batch mean."""
    B = o.shape[0]
    if name == "mse":
        d = o - t
    elif name == "softmax_cross_entropy":
        e = np.exp(o - o.max(axis=1, keepdims=True))
        d = e / e.sum(axis=1, keepdims=True)
        d[np.arange(B), np.asarray(t, np.int64)] -= 1.0
    elif name == "sigmoid_cross_entropy":
        d = 1.0 / (1.0 + np.exp(-o)) - t
    else:
        raise KeyError(name)
    return d / B


def loss_and_grad(params, acts, X, t, loss_name, l2=0.0, scaling=None):
    """(J, [(dW, db), ...]) by error-term backpropagation, in float64."""
    o, zs, As = forward(params, acts, X, scaling)
    W64 = [np.asarray(W, np.float64) for W, _ in params]
    J = loss(loss_name, o, t) + 0.5 * l2 * sum(np.sum(W * W) for W in W64)
    delta = output_delta(loss_name, o, t) * act_grad(acts[-1], zs[-1])
    grads = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        grads[l] = (delta.T @ As[l] + l2 * W64[l], delta.sum(axis=0))
        if l:
            delta = (delta @ W64[l]) * act_grad(acts[l - 1], zs[l - 1])
    return J, grads


def rel_err(a, b):
    """Norm-relative error ||a - b|| / max(||a||, ||b||, tiny)."""
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-30)
