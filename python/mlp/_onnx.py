"""ONNX export of a Network, with the `onnx` package (imported only when used).

The graph is the one `mlp export` writes (docs/PYTHON_CONVERSIONS.md): input x (N, n_in);
Sub(x, input_offset) then Mul(., input_scale) when the network scales its
input; per layer l one Gemm(h, W{l}, b{l}, transB=1) with W as libmlp holds
it (n_out, n_in), then the activation as ONNX operators; the last layer's
output is `logits`, and the loss adds `probabilities` (Softmax on axis 1 for
softmax cross-entropy, Sigmoid for sigmoid cross-entropy). Opset 13.
The reading side is in _onnx_read.py.
"""

import math
import os
import tempfile

import numpy as np

from ._errors import fail

OPSET = 13
IR_VERSION = 7  # the IR of opset 13, as `mlp export` writes

# libmlp activation -> ONNX operator (gelu is built from Erf below).
_SIMPLE_ACTS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus"}
_HEADS = {"softmax_cross_entropy": ("Softmax", {"axis": 1}), "sigmoid_cross_entropy": ("Sigmoid", {})}


def import_onnx():
    """The onnx package, or an error saying what to install."""
    try:
        import onnx
        import onnx.checker
        import onnx.helper
        import onnx.numpy_helper
    except ImportError as e:
        raise ImportError("ONNX conversion needs the onnx Python package (Debian: python3-onnx): %s"
                          % e) from e
    return onnx


class _Graph:
    """Nodes and initializers being collected for one graph."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes, self.inits, self._names = [], [], set()

    def const(self, name, value):
        if name not in self._names:
            self._names.add(name)
            self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(value, np.float32), name))
        return name

    def node(self, op, inputs, output, name, **attrs):
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), [output], name=name, **attrs))
        return output


def _activation(g, act, z, out, l):
    """Emits act(z) into tensor out."""
    if act in _SIMPLE_ACTS:
        return g.node(_SIMPLE_ACTS[act], [z], out, "act%d" % l)
    if act == "leaky_relu":
        return g.node("LeakyRelu", [z], out, "act%d" % l, alpha=0.01)
    if act == "gelu":  # exact: (z * 0.5) * (1 + erf(z / sqrt 2))
        t, n = "z%d_gelu_" % l, "gelu%d" % l
        d = g.node("Div", [z, g.const("gelu_sqrt2", math.sqrt(2.0))], t + "div", n + "_div")
        e = g.node("Erf", [d], t + "erf", n + "_erf")
        a = g.node("Add", [e, g.const("gelu_one", 1.0)], t + "add", n + "_add")
        h = g.node("Mul", [z, g.const("gelu_half", 0.5)], t + "half", n + "_half")
        return g.node("Mul", [h, a], out, n)
    raise fail("MLP_ERR_ACTIVATION", "layer %d: no ONNX mapping for activation %r" % (l, act))


def _layers(g, net):
    """Scaling and layers; returns the name of the logits tensor."""
    h = "x"
    scaling = net.input_scaling
    if scaling is not None:
        h = g.node("Sub", [h, g.const("input_offset", scaling[0])], "x_centered", "input_center")
        h = g.node("Mul", [h, g.const("input_scale", scaling[1])], "x_scaled", "input_scale")
    params, acts = net.get_params(), net.activations
    for l, ((W, b), act) in enumerate(zip(params, acts)):
        out = "logits" if l == len(params) - 1 else "a%d" % l
        z = out if act == "identity" else "z%d" % l
        g.node("Gemm", [h, g.const("W%d" % l, W), g.const("b%d" % l, b)], z, "gemm%d" % l,
               transB=1)
        h = z if act == "identity" else _activation(g, act, z, out, l)
    return h


def build_model(net):
    """The ModelProto of net (checked by onnx.checker)."""
    onnx = import_onnx()
    helper, FLOAT = onnx.helper, onnx.TensorProto.FLOAT
    g = _Graph(onnx)
    logits = _layers(g, net)
    n_in, n_out, loss = net.n_inputs, net.n_outputs, net.loss
    outputs = [helper.make_tensor_value_info(logits, FLOAT, ["N", n_out])]
    if loss in _HEADS:
        op, attrs = _HEADS[loss]
        g.node(op, [logits], "probabilities", "probabilities", **attrs)
        outputs.append(helper.make_tensor_value_info("probabilities", FLOAT, ["N", n_out]))
    graph = helper.make_graph(g.nodes, "libmlp", [helper.make_tensor_value_info("x", FLOAT, ["N", n_in])],
                              outputs, initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="libmlp", producer_version=_version())
    model.ir_version = IR_VERSION
    helper.set_model_props(model, {"libmlp_version": _version(), "loss": loss,
                                   "classes": str(n_out)})
    onnx.checker.check_model(model)
    return model


def _version():
    from ._lib import lib
    return lib.mlp_version().decode()


def to_onnx(net, path):
    """Writes net as an ONNX file at path (atomically); returns the ModelProto."""
    model = build_model(net)
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(prefix=".onnx-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(model.SerializeToString())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return model
