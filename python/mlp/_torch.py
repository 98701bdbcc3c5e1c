"""Network <-> torch.nn.Sequential of Linear and activation modules.

torch is imported only here, when a conversion is asked for. A Linear holds
its weight as (out_features, in_features), as libmlp does, so weights pass
over without a transpose.
"""

import numpy as np

from ._errors import fail


def _torch():
    try:
        import torch
    except ImportError as e:
        raise ImportError("PyTorch conversion needs torch (Debian: python3-torch): %s" % e) from e
    return torch


def _activation_of(nn, m):
    """libmlp's name for activation module m, None if m is not one, or an error
    for a supported type with settings libmlp does not have."""
    simple = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
    if type(m) in simple:
        return simple[type(m)]
    if type(m) is nn.LeakyReLU:
        if m.negative_slope != 0.01:
            raise _refuse(m, "negative_slope must be 0.01 (libmlp's leaky_relu)")
        return "leaky_relu"
    if type(m) is nn.Softplus:
        if m.beta != 1 or m.threshold != 20:
            raise _refuse(m, "beta must be 1 and threshold 20 (the defaults)")
        return "softplus"
    if type(m) is nn.GELU:
        if getattr(m, "approximate", "none") != "none":
            raise _refuse(m, "approximate must be 'none' (libmlp's gelu is exact)")
        return "gelu"
    return None


def _refuse(m, why):
    return fail("MLP_ERR_ARGUMENT", "from_torch: unsupported module %r: %s" % (m, why))


def _softmax_head(nn, m, last):
    return type(m) is nn.Softmax and last and m.dim in (1, -1)


def _layers(nn, module):
    """[[W, b, activation or None], ...] and whether a Softmax ends the module."""
    layers, head = [], False
    children = list(module.children())
    for i, m in enumerate(children):
        if type(m) is nn.Linear:
            if layers and layers[-1][0].shape[0] != m.in_features:
                raise _refuse(m, "in_features does not match the previous Linear's %d outputs"
                              % layers[-1][0].shape[0])
            W = m.weight.detach().cpu().double().numpy()
            b = np.zeros(m.out_features) if m.bias is None else m.bias.detach().cpu().double().numpy()
            layers.append([W, b, None])
        elif type(m) is nn.Identity:
            continue
        elif _softmax_head(nn, m, i == len(children) - 1) and layers:
            head = True
        else:
            act = _activation_of(nn, m)
            if act is None:
                raise _refuse(m, "from_torch takes Linear, ReLU, Sigmoid, Tanh, LeakyReLU, "
                                 "Softplus, GELU, Identity and a final Softmax(dim=1)")
            if not layers or layers[-1][2] is not None:
                raise _refuse(m, "an activation must follow a Linear (one per Linear)")
            layers[-1][2] = act
    return layers, head


def from_torch(module, loss=None):
    """A Network computing module's forward (its logits when a Softmax ends it)."""
    nn = _torch().nn
    if not isinstance(module, nn.Sequential):
        raise fail("MLP_ERR_ARGUMENT", "from_torch takes a torch.nn.Sequential, got %s"
                   % type(module).__name__)
    layers, head = _layers(nn, module)
    if not layers:
        raise fail("MLP_ERR_ARGUMENT", "from_torch: the Sequential holds no Linear layer")
    from ._network import Network
    sizes = [layers[0][0].shape[1]] + [W.shape[0] for W, _, _ in layers]
    net = Network(sizes, [a or "identity" for _, _, a in layers])
    net.set_params([(W, b) for W, b, _ in layers])
    net.loss = loss or ("softmax_cross_entropy" if head else "mse")
    return net


def _module(nn, act):
    return {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "softplus": nn.Softplus,
            "gelu": nn.GELU}[act]() if act != "leaky_relu" else nn.LeakyReLU(0.01)


def _fold(params, scaling):
    """W (x - o) * s + b = (W diag s) x + (b - W diag s o), in float64."""
    if scaling is None:
        return params
    o, s = (np.asarray(v, np.float64) for v in scaling)
    W, b = (np.asarray(v, np.float64) for v in params[0])
    Ws = W * s
    return [(Ws, b - Ws @ o)] + params[1:]


def to_torch(net):
    """A float32 nn.Sequential (eval mode) computing net.forward."""
    torch = _torch()
    nn = torch.nn
    mods = []
    params = _fold(net.get_params(), net.input_scaling)
    for (W, b), act in zip(params, net.activations):
        lin = nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.asarray(W, np.float32)))
            lin.bias.copy_(torch.from_numpy(np.asarray(b, np.float32)))
        mods.append(lin)
        if act != "identity":
            mods.append(_module(nn, act))
    return nn.Sequential(*mods).float().eval()
