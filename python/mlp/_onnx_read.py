"""ONNX import: the chain our export writes, and the common equivalents.

Accepted, in order: optional input scaling (Sub by a constant, then Mul by
a constant); per layer a Gemm (alpha = beta = 1, transA = 0, either transB)
or a MatMul with an optional Add of the bias, then at most one activation
(Relu, Sigmoid, Tanh, LeakyRelu with alpha 0.01, Softplus, exact gelu as
Div/Erf/Add/Mul/Mul, Identity); optionally an output head (Softmax on the
last axis, or Sigmoid on a tensor that is itself a graph output), which sets
the loss. Any other node is refused by name.
"""

import math
import os

import numpy as np

from ._errors import fail
from ._onnx import import_onnx

_erf = np.vectorize(math.erf, otypes=[np.float64])
_PROBE = np.linspace(-8.0, 8.0, 65)
_GELU = _PROBE * 0.5 * (1.0 + _erf(_PROBE / math.sqrt(2.0)))
_GELU_OPS = (["Add", "Div", "Erf", "Mul", "Mul"], ["Add", "Erf", "Mul", "Mul", "Mul"])
_EVAL = {"Div": np.divide, "Mul": np.multiply, "Add": np.add, "Erf": _erf}
_ACTS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softplus",
         "LeakyRelu": "leaky_relu"}


def _refuse(node, why="unsupported node"):
    return fail("MLP_ERR_ARGUMENT", "ONNX import: %s %r (op %s)" % (why, node.name, node.op_type))


def _attrs(onnx, node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class _Reader:
    """Walks the node list once, keeping the tensor the chain has reached."""

    def __init__(self, onnx, graph):
        self.onnx = onnx
        self.consts = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
        self.nodes = []
        for n in graph.node:
            if n.op_type == "Constant" and "value" in _attrs(onnx, n):
                self.consts[n.output[0]] = onnx.numpy_helper.to_array(_attrs(onnx, n)["value"])
            else:
                self.nodes.append(n)
        inputs = [v for v in graph.input if v.name not in self.consts]
        if len(inputs) != 1:
            raise fail("MLP_ERR_ARGUMENT", "ONNX import: the graph needs one input, it has %d"
                       % len(inputs))
        self.input = inputs[0]
        self.outputs = [v.name for v in graph.output]
        self.cur = inputs[0].name
        self.layers = []  # [W (n_out, n_in), b, activation or None]
        self.offset = self.scale = None
        self.head = self.head_out = None

    def const(self, name):
        v = self.consts.get(name)
        return None if v is None else np.asarray(v, np.float64)

    def scalar(self, name):
        v = self.const(name)
        return v.reshape(-1) if v is not None and v.size == 1 else None

    def other(self, node):
        """The constant operand of a binary node whose other operand is the chain."""
        if len(node.input) != 2 or self.cur not in node.input:
            return None
        name = node.input[1] if node.input[0] == self.cur else node.input[0]
        return self.const(name)

    # ---- one matcher per construct; each returns how many nodes it took ----

    def scaling(self, i):
        n = self.nodes[i]
        if self.layers or n.op_type not in ("Sub", "Mul") or len(n.input) != 2:
            return 0
        c = self.const(n.input[1]) if n.input[0] == self.cur else None
        if c is None or c.ndim > 2 or (c.ndim == 2 and c.shape[0] != 1):
            return 0
        if n.op_type == "Sub" and self.offset is None and self.scale is None:
            self.offset = c.reshape(-1)
        elif n.op_type == "Mul" and self.scale is None:
            self.scale = c.reshape(-1)
        else:
            return 0
        return self.advance(n)

    def linear(self, i):
        n = self.nodes[i]
        if n.op_type == "Gemm":
            return self.gemm(n)
        if n.op_type != "MatMul" or len(n.input) != 2 or n.input[0] != self.cur:
            return 0
        W = self.const(n.input[1])
        if W is None or W.ndim != 2:
            return 0
        self.add_layer(n, W.T)
        nxt = self.nodes[i + 1] if i + 1 < len(self.nodes) else None
        if nxt is not None and nxt.op_type == "Add" and self.other(nxt) is not None:
            self.set_bias(nxt, self.other(nxt))
            return 2
        return 1

    def gemm(self, n):
        a = _attrs(self.onnx, n)
        if (a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0)
                or n.input[0] != self.cur):
            raise _refuse(n, "Gemm other than x * W' + b (alpha = beta = 1, transA = 0):")
        W = self.const(n.input[1])
        if W is None or W.ndim != 2:
            raise _refuse(n, "Gemm whose weights are not a constant matrix:")
        self.add_layer(n, W if a.get("transB", 0) else W.T)
        if len(n.input) > 2 and n.input[2]:
            self.set_bias(n, self.const(n.input[2]))
        return 1

    def add_layer(self, node, W):
        if self.head is not None or (self.layers and self.layers[-1][0].shape[0] != W.shape[1]):
            raise _refuse(node, "layer that does not continue the chain:")
        self.layers.append([W, np.zeros(W.shape[0]), None])
        self.advance(node)

    def set_bias(self, node, b):
        n_out = self.layers[-1][0].shape[0]
        if b is None or b.size not in (1, n_out) or b.ndim > 2:
            raise _refuse(node, "bias that is not a constant of %d values:" % n_out)
        self.layers[-1][1] = np.broadcast_to(b.reshape(-1), (n_out,)).copy()
        self.advance(node)

    def activation(self, i):
        n = self.nodes[i]
        if n.op_type == "Identity" and n.input[0] == self.cur:
            return self.advance(n)
        if (n.op_type not in _ACTS or not self.pending() or n.input[0] != self.cur
                or (n.op_type == "Sigmoid" and self.cur in self.outputs)):
            return 0
        alpha = _attrs(self.onnx, n).get("alpha", 0.01)
        if n.op_type == "LeakyRelu" and abs(alpha - 0.01) > 1e-7:
            raise _refuse(n, "LeakyRelu with alpha %g (libmlp's is 0.01):" % alpha)
        self.layers[-1][2] = _ACTS[n.op_type]
        return self.advance(n)

    def gelu(self, i):
        """Five nodes of Div, Mul, Add and one Erf, reading only the chain and
        scalar constants, that compute exact gelu: checked by evaluating them
        on probe values, so any order of the products is accepted."""
        ns = self.nodes[i:i + 5]
        ops = sorted(n.op_type for n in ns)
        if len(ns) < 5 or not self.pending() or ops not in _GELU_OPS:
            return 0
        vals = {self.cur: _PROBE}
        for n in ns:
            args = [vals[t] if t in vals else self.scalar(t) for t in n.input]
            if any(a is None for a in args) or len(n.output) != 1:
                return 0
            if len(args) != (1 if n.op_type == "Erf" else 2):
                return 0
            vals[n.output[0]] = _EVAL[n.op_type](*args)
        out = vals[ns[-1].output[0]]
        if out.shape != _PROBE.shape or not np.allclose(out, _GELU, rtol=1e-6, atol=1e-7):
            return 0
        self.layers[-1][2] = "gelu"
        self.cur = ns[-1].output[0]
        return 5

    def output_head(self, i):
        n = self.nodes[i]
        if not self.layers or self.head is not None or n.input[0] != self.cur:
            return 0
        if n.op_type == "Softmax":
            if _attrs(self.onnx, n).get("axis", -1) not in (1, -1):
                raise _refuse(n, "Softmax on an axis other than the last:")
            self.head = "softmax_cross_entropy"
        elif n.op_type == "Sigmoid" and self.cur in self.outputs:
            self.head = "sigmoid_cross_entropy"
        else:
            return 0
        self.head_out = n.output[0]
        return 1

    # ---- the walk ----------------------------------------------------------

    def pending(self):
        return bool(self.layers) and self.layers[-1][2] is None

    def advance(self, node):
        self.cur = node.output[0]
        return 1

    def walk(self):
        i = 0
        while i < len(self.nodes):
            if self.head is not None:
                raise _refuse(self.nodes[i])
            took = (self.scaling(i) or self.linear(i) or self.gelu(i) or self.activation(i)
                    or self.output_head(i))
            if not took:
                raise _refuse(self.nodes[i])
            i += took
        if not self.layers:
            raise fail("MLP_ERR_ARGUMENT", "ONNX import: the graph has no Gemm or MatMul layer")
        ends = {self.cur, self.head_out} - {None}
        stray = [o for o in self.outputs if o not in ends]
        if stray or not self.outputs:
            raise fail("MLP_ERR_ARGUMENT", "ONNX import: graph output %r is not the end of the "
                       "layer chain" % (stray[0] if stray else None,))

    def check_input(self, n_in):
        t = self.input.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        if t.elem_type != self.onnx.TensorProto.FLOAT or len(dims) != 2 or dims[1] not in (None, n_in):
            raise fail("MLP_ERR_ARGUMENT", "ONNX import: input %r must be float (N, %d), got "
                       "element type %d, shape %s" % (self.input.name, n_in, t.elem_type, dims))
        for what, v in (("offset", self.offset), ("scale", self.scale)):
            if v is not None and v.size not in (1, n_in):
                raise fail("MLP_ERR_ARGUMENT", "ONNX import: the input %s has %d values, the "
                           "first layer takes %d inputs" % (what, v.size, n_in))

    def network(self):
        from ._network import Network
        self.walk()
        sizes = [self.layers[0][0].shape[1]] + [W.shape[0] for W, _, _ in self.layers]
        self.check_input(sizes[0])
        net = Network(sizes, [a or "identity" for _, _, a in self.layers])
        net.set_params([(W, b) for W, b, _ in self.layers])
        net.loss = self.head or "mse"
        if self.offset is not None or self.scale is not None:
            n = sizes[0]
            offset = np.zeros(n) if self.offset is None else np.broadcast_to(self.offset, (n,))
            scale = np.ones(n) if self.scale is None else np.broadcast_to(self.scale, (n,))
            net.input_scaling = (offset, scale)
        return net


def from_onnx(source):
    """A Network from an ONNX file path, its bytes, or a ModelProto."""
    onnx = import_onnx()
    if isinstance(source, (bytes, bytearray)):
        model = onnx.load_from_string(bytes(source))
    elif isinstance(source, onnx.ModelProto):
        model = source
    else:
        model = onnx.load(os.fspath(source))
    return _Reader(onnx, model.graph).network()
