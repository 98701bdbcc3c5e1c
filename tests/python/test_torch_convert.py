"""Network.from_torch / Network.to_torch: outputs equal within 1e-5 relative,
or within float32's rounding bound where summation order can do more (the
folded input scaling cancels)."""

import numpy as np
import pytest
import torch
from torch import nn

import mlp
from convert_cases import assert_close, rounding_bound, spread_net

ACTS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "softplus"]
MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
           "leaky_relu": lambda: nn.LeakyReLU(0.01), "gelu": lambda: nn.GELU(approximate="none"),
           "softplus": nn.Softplus, "identity": nn.Identity}


def _torch_forward(module, X):
    with torch.no_grad():
        return module(torch.from_numpy(np.asarray(X, np.float32))).numpy()


@pytest.mark.parametrize("scaling", [False, True], ids=["raw", "scaled"])
@pytest.mark.parametrize("act", ACTS)
def test_to_torch_and_back(act, scaling):
    rng = np.random.RandomState(ACTS.index(act) + 100 * scaling)
    net, X = spread_net(act, rng, scaling, sizes=(5, 12, 7, 3))
    module = net.to_torch()
    assert isinstance(module, nn.Sequential) and not module.training
    assert all(p.dtype == torch.float32 for p in module.parameters())
    assert [type(m) for m in module if type(m) is nn.Linear] == [nn.Linear] * 3
    want, bound = net.forward(X), 2.0 * rounding_bound(net, X)
    assert_close(_torch_forward(module, X), want, what="to_torch", bound=bound)
    back = mlp.Network.from_torch(module)
    assert back.activations == net.activations and back.loss == "mse"
    assert_close(back.forward(X), want, what="from_torch(to_torch(net))", bound=bound)


@pytest.mark.parametrize("scaling", [False, True], ids=["raw", "scaled"])
def test_rounding_bound_tells_gelu_variants_apart(scaling):
    """The bound allows rounding, not a wrong function: torch's tanh
    approximation of GELU lands far outside it."""
    rng = np.random.RandomState(ACTS.index("gelu") + 100 * scaling)
    net, X = spread_net("gelu", rng, scaling, sizes=(5, 12, 7, 3))
    module = nn.Sequential(*[nn.GELU(approximate="tanh") if isinstance(m, nn.GELU) else m
                             for m in net.to_torch()])
    err = np.abs(_torch_forward(module, X) - net.forward(X))
    assert np.max(err / (2.0 * rounding_bound(net, X))) > 5.0


@pytest.mark.parametrize("act", ACTS)
def test_from_torch(act):
    torch.manual_seed(ACTS.index(act))
    module = nn.Sequential(nn.Linear(5, 9), MODULES[act](), nn.Linear(9, 4), MODULES[act]())
    with torch.no_grad():  # pre-activations across +-6 and more
        for m in module:
            if isinstance(m, nn.Linear):
                m.weight.mul_(6.0)
    net = mlp.Network.from_torch(module)
    assert net.sizes == [5, 9, 4] and net.activations == [act, act]
    X = np.random.RandomState(1).uniform(-3, 3, (1000, 5)).astype(np.float32)
    assert_close(net.forward(X), _torch_forward(module, X), what="from_torch",
                 bound=2.0 * rounding_bound(net, X))


def test_float64_module_without_bias_and_softmax_head():
    module = nn.Sequential(nn.Linear(4, 6, bias=False), nn.Tanh(), nn.Identity(),
                           nn.Linear(6, 3), nn.Softmax(dim=1)).double()
    net = mlp.Network.from_torch(module)
    assert net.loss == "softmax_cross_entropy" and net.activations == ["tanh", "identity"]
    np.testing.assert_array_equal(net.get_params()[0][1], np.zeros(6, np.float32))
    X = np.random.RandomState(2).randn(50, 4)
    with torch.no_grad():
        want = module[:-1](torch.from_numpy(X)).numpy()
    assert_close(net.forward(X), want, what="logits before the Softmax")
    assert mlp.Network.from_torch(module, loss="mse").loss == "mse"


@pytest.mark.parametrize("module,named", [
    (nn.Linear(3, 2), "Sequential"),
    (nn.Sequential(), "no Linear"),
    (nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2)), "Dropout"),
    (nn.Sequential(nn.Linear(3, 4), nn.ELU(), nn.Linear(4, 2)), "ELU"),
    (nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2)), "negative_slope=0.2"),
    (nn.Sequential(nn.Linear(3, 4), nn.Softplus(beta=2)), "beta=2"),
    (nn.Sequential(nn.Linear(3, 4), nn.GELU(approximate="tanh")), "approximate='tanh'"),
    (nn.Sequential(nn.ReLU(), nn.Linear(3, 4)), "ReLU"),
    (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Tanh()), "Tanh"),
    (nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)), "in_features=5"),
    (nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=1), nn.Linear(4, 2)), "Softmax"),
    (nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=0)), "Softmax(dim=0)"),
    (nn.Sequential(nn.Sequential(nn.Linear(3, 4))), "Sequential("),
])
def test_refusals_name_the_module(module, named):
    with pytest.raises(mlp.MLPError) as e:
        mlp.Network.from_torch(module)
    assert named in str(e.value), str(e.value)
