"""mlp.Network: one libmlp network handle."""

import ctypes
import os
import threading
import weakref

import numpy as np

from . import _arrays as arr
from ._errors import check, fail
from ._lib import lib, GradcheckBlock



def _names(name_of):
    """Every name the library has, in enum order (the name functions give NULL past the end)."""
    out = []
    while name_of(len(out)):
        out.append(name_of(len(out)).decode())
    return tuple(out)


ACTIVATIONS = _names(lib.mlp_activation_name)  # "identity", "sigmoid", "tanh", "relu", ...
LOSSES = _names(lib.mlp_loss_name)  # "mse", "softmax_cross_entropy", "sigmoid_cross_entropy"
INITS = ("auto", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal")
SCALINGS = ("none", "minmax", "standard")


def _parse(kind, name):
    """Name -> enum value through the library's own parser."""
    if not isinstance(name, str):
        raise fail("MLP_ERR_ACTIVATION" if kind == "activation" else "MLP_ERR_LOSS",
                   "%s must be a name (str), got %r" % (kind, name))
    out = ctypes.c_int()
    parse = lib.mlp_activation_parse if kind == "activation" else lib.mlp_loss_parse
    check(parse(name.encode(), ctypes.byref(out)))
    return out.value


def _name(kind, value):
    f = lib.mlp_activation_name if kind == "activation" else lib.mlp_loss_name
    s = f(value)
    return s.decode() if s else None


def _index(name, choices, what):
    try:
        return choices.index(name)
    except ValueError:
        raise fail("MLP_ERR_ARGUMENT", "unknown %s %r; one of %s" % (what, name, ", ".join(choices)))


class Network:
    """A multilayer perceptron held by libmlp.

    Network(sizes, activations=None, seed=0): sizes lists the layer widths,
    input first ([4, 16, 3] is 4 inputs, 16 hidden units, 3 outputs);
    activations holds one name per weight layer, or one name for every hidden
    layer (the output layer then gets "identity"); None means "relu" hidden
    and "identity" out. A Network is not shared between threads at once: its
    calls take a lock, so concurrent use is safe but serialised. Distinct
    networks run in parallel (the GIL is released inside libmlp).
    """

    def __init__(self, sizes, activations=None, seed=0):
        self._h = None
        self._lock = threading.RLock()
        self._trainers = weakref.WeakSet()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise fail("MLP_ERR_ARGUMENT", "sizes needs at least an input and an output size, got %r"
                       % (sizes,))
        if any(s <= 0 for s in sizes):
            raise fail("MLP_ERR_SIZE", "sizes must be positive, got %r" % (sizes,))
        n = len(sizes) - 1
        if activations is None:
            activations = ["relu"] * (n - 1) + ["identity"]
        elif isinstance(activations, str):
            activations = [activations] * (n - 1) + ["identity"]
        activations = list(activations)
        if len(activations) != n:
            raise fail("MLP_ERR_ARGUMENT", "%d weight layers need %d activations, got %d"
                       % (n, n, len(activations)))
        acts = (ctypes.c_int * n)(*[_parse("activation", a) for a in activations])
        csizes = (ctypes.c_size_t * (n + 1))(*sizes)
        h = ctypes.c_void_p()
        check(lib.mlp_create(ctypes.byref(h), n, csizes, acts, int(seed) & (2**64 - 1)))
        self._h = h.value

    @classmethod
    def _adopt(cls, h):
        net = cls.__new__(cls)
        net._lock = threading.RLock()
        net._trainers = weakref.WeakSet()
        net._h = h
        return net

    # ---- lifetime ------------------------------------------------------

    def close(self):
        """Frees the C network now (also done when the object is collected)."""
        with self._lock:
            for t in list(self._trainers):
                t.close()  # a trainer must not outlive its network
            h, self._h = self._h, None
            if h:
                lib.mlp_destroy(h)

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            self._h = None
            lib.mlp_destroy(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def closed(self):
        return self._h is None

    @property
    def handle(self):
        """The mlp_network * as an integer, for other ctypes code."""
        if not self._h:
            raise fail("MLP_ERR_NULL", "the network is closed")
        return self._h

    def copy(self):
        """A deep copy (mlp_clone): parameters, settings, RNG and training state."""
        out = ctypes.c_void_p()
        with self._lock:
            check(lib.mlp_clone(self.handle, ctypes.byref(out)))
        return Network._adopt(out.value)

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        return (Network.from_bytes, (self.to_bytes(),))

    def __repr__(self):
        if not self._h:
            return "Network(closed)"
        return "Network(%r, activations=%r)" % (self.sizes, self.activations)

    # ---- shape and settings --------------------------------------------

    @property
    def num_layers(self):
        return lib.mlp_num_layers(self.handle)

    @property
    def sizes(self):
        h = self.handle
        return [lib.mlp_layer_size(h, i) for i in range(lib.mlp_num_layers(h) + 1)]

    @property
    def activations(self):
        h = self.handle
        return [_name("activation", lib.mlp_layer_activation(h, i))
                for i in range(lib.mlp_num_layers(h))]

    @property
    def n_inputs(self):
        return lib.mlp_input_size(self.handle)

    @property
    def n_outputs(self):
        return lib.mlp_output_size(self.handle)

    @property
    def num_params(self):
        return lib.mlp_num_params(self.handle)

    @property
    def loss(self):
        """The network's loss by name (used by training; saved with the model)."""
        return _name("loss", lib.mlp_get_loss(self.handle))

    @loss.setter
    def loss(self, name):
        with self._lock:
            check(lib.mlp_set_loss(self.handle, _parse("loss", name)))

    @property
    def l2(self):
        """lambda in J = L + lambda/2 * sum ||W||^2."""
        return float(lib.mlp_get_l2(self.handle))

    @l2.setter
    def l2(self, value):
        with self._lock:
            check(lib.mlp_set_l2(self.handle, float(value)))

    def penalty(self):
        return float(lib.mlp_penalty(self.handle))

    def set_dropout(self, layer, p):
        """Dropout probability p on the inputs of layer (0 = the input itself);
        active only in training."""
        with self._lock:
            check(lib.mlp_set_dropout(self.handle, int(layer), float(p)))

    def get_dropout(self, layer):
        return float(lib.mlp_get_dropout(self.handle, int(layer)))

    @property
    def dropout(self):
        """Per-layer dropout probabilities (a list; assign a list to set all)."""
        return [self.get_dropout(i) for i in range(self.num_layers)]

    @dropout.setter
    def dropout(self, ps):
        ps = list(ps)
        if len(ps) != self.num_layers:
            raise fail("MLP_ERR_ARGUMENT", "dropout needs %d probabilities, got %d"
                       % (self.num_layers, len(ps)))
        for i, p in enumerate(ps):
            self.set_dropout(i, p)

    @property
    def input_scaling(self):
        """(offset, scale) float32 arrays with x' = (x - offset) * scale, or None."""
        h = self.handle
        if not lib.mlp_has_input_scaling(h):
            return None
        n = lib.mlp_input_size(h)
        offset = np.empty(n, np.float32)
        scale = np.empty(n, np.float32)
        check(lib.mlp_get_input_scaling(h, arr.address(offset), arr.address(scale)))
        return offset, scale

    @input_scaling.setter
    def input_scaling(self, value):
        h = self.handle
        with self._lock:
            if value is None:
                check(lib.mlp_set_input_scaling(h, None, None))
                return
            offset, scale = value
            n = lib.mlp_input_size(h)
            offset = arr.as_float32(offset, "offset").reshape(-1)
            scale = arr.as_float32(scale, "scale").reshape(-1)
            if offset.shape != (n,) or scale.shape != (n,):
                raise fail("MLP_ERR_MISMATCH", "offset and scale need %d values each, got %d and %d"
                           % (n, offset.size, scale.size))
            check(lib.mlp_set_input_scaling(h, arr.address(offset), arr.address(scale)))

    def fit_input_scaling(self, X, kind="standard"):
        """Sets the input scaling from data: "standard", "minmax" or "none"."""
        k = _index(kind, SCALINGS, "scaling")
        X = arr.matrix(X, self.n_inputs)
        with self._lock:
            check(lib.mlp_fit_input_scaling(self.handle, arr.address(X), X.shape[0], k))

    def init_params(self, scheme="auto", seed=0):
        """Re-initialises the weights (biases to 0) and reseeds the RNG."""
        with self._lock:
            check(lib.mlp_init_params(self.handle, _index(scheme, INITS, "init"),
                                      int(seed) & (2**64 - 1)))

    def reserve(self, max_batch):
        with self._lock:
            check(lib.mlp_reserve(self.handle, int(max_batch)))

    @property
    def capacity(self):
        return lib.mlp_capacity(self.handle)

    # ---- parameters ------------------------------------------------------

    def get_params(self):
        """[(W, b), ...] float32 copies; W has shape (n_out, n_in)."""
        h = self.handle
        out = []
        with self._lock:
            for i in range(lib.mlp_num_layers(h)):
                n_in, n_out = lib.mlp_layer_size(h, i), lib.mlp_layer_size(h, i + 1)
                W = np.empty((n_out, n_in), np.float32)
                b = np.empty(n_out, np.float32)
                check(lib.mlp_get_weights(h, i, arr.address(W), W.size))
                check(lib.mlp_get_bias(h, i, arr.address(b), b.size))
                out.append((W, b))
        return out

    def set_params(self, params):
        """Sets every layer from [(W, b), ...]; all shapes are checked before
        anything changes."""
        h = self.handle
        n = lib.mlp_num_layers(h)
        params = list(params)
        if len(params) != n:
            raise fail("MLP_ERR_MISMATCH", "params needs %d (W, b) pairs, got %d" % (n, len(params)))
        conv = []
        for i, pair in enumerate(params):
            W, b = pair
            n_in, n_out = lib.mlp_layer_size(h, i), lib.mlp_layer_size(h, i + 1)
            W = arr.as_float32(W, "W")
            b = arr.as_float32(b, "b")
            if W.shape != (n_out, n_in):
                raise fail("MLP_ERR_MISMATCH", "layer %d: W must have shape (%d, %d), got %s"
                           % (i, n_out, n_in, W.shape))
            if b.shape != (n_out,):
                raise fail("MLP_ERR_MISMATCH", "layer %d: b must have shape (%d,), got %s"
                           % (i, n_out, b.shape))
            conv.append((W, b))
        with self._lock:
            for i, (W, b) in enumerate(conv):
                check(lib.mlp_set_weights(h, i, arr.address(W), W.size))
                check(lib.mlp_set_bias(h, i, arr.address(b), b.size))

    def _flat(self, which):
        """A read-only numpy view of the flat params or grads (valid while open)."""
        h = self.handle
        p = lib.mlp_params(h) if which == "params" else lib.mlp_grads(h)
        n = lib.mlp_num_params(h)
        v = np.ctypeslib.as_array(p, shape=(n,))
        v.flags.writeable = False
        return v

    def _flat_set(self, flat):
        """Writes a whole flat parameter array (as _flat("params") gave it)."""
        h = self.handle
        n = lib.mlp_num_params(h)
        flat = np.ascontiguousarray(flat, dtype=np.float32)
        if flat.shape != (n,):
            raise fail("MLP_ERR_MISMATCH", "flat parameters need %d floats, got %s" % (n, flat.shape))
        with self._lock:
            np.ctypeslib.as_array(lib.mlp_params(h), shape=(n,))[:] = flat

    def _split(self, flat):
        """Copies of per-layer (W, b) out of a flat array laid out like params."""
        h = self.handle
        out = []
        for i in range(lib.mlp_num_layers(h)):
            n_in, n_out = lib.mlp_layer_size(h, i), lib.mlp_layer_size(h, i + 1)
            w, b = lib.mlp_weights_offset(h, i), lib.mlp_bias_offset(h, i)
            out.append((flat[w:w + n_out * n_in].reshape(n_out, n_in).copy(),
                        flat[b:b + n_out].copy()))
        return out

    # ---- passes ----------------------------------------------------------

    def forward(self, X, out=None):
        """The network's output (B, n_out) float32 for X (B, n_in). out: an
        optional float32 C-contiguous (B, n_out) array written in place."""
        h = self.handle
        X = arr.matrix(X, lib.mlp_input_size(h))
        Y = arr.out_matrix(out, X.shape[0], lib.mlp_output_size(h))
        if X.shape[0]:
            with self._lock:
                check(lib.mlp_forward(h, arr.address(X), X.shape[0], arr.address(Y)))
        return Y

    __call__ = forward

    def predictor(self, max_batch=256):
        """A Predictor: inference from another thread without this network's lock."""
        return Predictor(self, max_batch)

    def _targets(self, targets, rows, loss):
        n_out = lib.mlp_output_size(self.handle)
        if loss == "softmax_cross_entropy":
            return arr.classes(targets, rows, n_out)
        return arr.values(targets, rows, n_out)

    class _Settings:
        """Temporarily sets loss and l2 (restored on exit)."""

        def __init__(self, net, loss, l2):
            self.net, self.loss, self.l2 = net, loss, l2

        def __enter__(self):
            h = self.net.handle
            self.old = (lib.mlp_get_loss(h), lib.mlp_get_l2(h))
            if self.loss is not None:
                check(lib.mlp_set_loss(h, _parse("loss", self.loss)))
            if self.l2 is not None:
                try:
                    check(lib.mlp_set_l2(h, float(self.l2)))
                except BaseException:
                    lib.mlp_set_loss(h, self.old[0])
                    raise

        def __exit__(self, *exc):
            h = self.net.handle
            lib.mlp_set_loss(h, self.old[0])
            lib.mlp_set_l2(h, self.old[1])

    def _prepare(self, X, targets, loss):
        h = self.handle
        if loss is not None:
            _parse("loss", loss)
        X = arr.matrix(X, lib.mlp_input_size(h))
        name = loss if loss is not None else self.loss
        T = self._targets(targets, X.shape[0], name)
        return X, T

    def loss_and_grad(self, X, targets, loss=None, l2=None, sample_weight=None):
        """(J, grads): J = mean loss + l2/2 * sum ||W||^2 as a float, and
        [(dW, db), ...] like get_params(). loss and l2 default to the
        network's own settings, which are left unchanged either way. Targets:
        integer classes for "softmax_cross_entropy", else (B, n_out) floats.
        sample_weight (B,): the mean becomes sum w_i l_i / sum w_i."""
        X, T = self._prepare(X, targets, loss)
        W = arr.weights(sample_weight, X.shape[0])
        J = ctypes.c_double()
        with self._lock, self._Settings(self, loss, l2):
            if W is None:
                check(lib.mlp_loss_grad(self.handle, arr.address(X), X.shape[0], arr.address(T),
                                        ctypes.byref(J)))
            else:
                check(lib.mlp_loss_grad_weighted(self.handle, arr.address(X), X.shape[0],
                                                 arr.address(T), arr.address(W), ctypes.byref(J)))
            grads = self._split(self._flat("grads"))
        return J.value, grads

    def evaluate(self, X, targets, loss=None):
        """(mean loss without the penalty, accuracy); accuracy is NaN for mse."""
        X, T = self._prepare(X, targets, loss)
        L, acc = ctypes.c_double(), ctypes.c_double()
        with self._lock, self._Settings(self, loss, None):
            check(lib.mlp_evaluate(self.handle, arr.address(X), X.shape[0], arr.address(T),
                                   ctypes.byref(L), ctypes.byref(acc)))
        return L.value, acc.value

    def gradcheck(self, X, targets, loss=None, l2=None, eps=0.0, max_per_block=0, seed=0,
                  blocks=False):
        """The worst norm-relative error between the analytic gradient and
        central differences over every parameter block (W and b of each
        layer). blocks=True returns (worst, [dict per block]) instead."""
        X, T = self._prepare(X, targets, loss)
        h = self.handle
        n = 2 * lib.mlp_num_layers(h)
        out = (GradcheckBlock * n)()
        with self._lock, self._Settings(self, loss, l2):
            check(lib.mlp_gradcheck(h, arr.address(X), X.shape[0], arr.address(T), float(eps),
                                    int(max_per_block), int(seed) & (2**64 - 1), out))
        info = [{f: getattr(b, f) for f, _ in GradcheckBlock._fields_} for b in out]
        worst = max(b["error"] for b in info)
        return (worst, info) if blocks else worst

    # ---- files and text --------------------------------------------------

    def save(self, path):
        """Writes the model file (atomically: temporary file, then rename)."""
        with self._lock:
            check(lib.mlp_save(self.handle, os.fsencode(os.fspath(path))))

    @classmethod
    def load(cls, path):
        h = ctypes.c_void_p()
        check(lib.mlp_load(ctypes.byref(h), os.fsencode(os.fspath(path))))
        return cls._adopt(h.value)

    def to_bytes(self):
        """The model file image as bytes."""
        size = ctypes.c_size_t()
        with self._lock:
            st = lib.mlp_save_buffer(self.handle, None, 0, ctypes.byref(size))
            if st != 0 and size.value == 0:
                check(st)
            buf = ctypes.create_string_buffer(size.value)
            check(lib.mlp_save_buffer(self.handle, buf, size.value, ctypes.byref(size)))
        return buf.raw[:size.value]

    @classmethod
    def from_bytes(cls, data):
        data = bytes(data)
        h = ctypes.c_void_p()
        check(lib.mlp_load_buffer(ctypes.byref(h), data, len(data)))
        return cls._adopt(h.value)

    # ---- other frameworks (docs/PYTHON_CONVERSIONS.md) --------------------

    def to_onnx(self, path):
        """Writes the network as an ONNX file (opset 13; needs the onnx
        package); returns the ModelProto."""
        from ._onnx import to_onnx
        return to_onnx(self, path)

    @classmethod
    def from_onnx(cls, source):
        """A Network from an ONNX file (path, bytes or ModelProto) holding a
        chain of Gemm or MatMul + Add layers and supported activations."""
        from ._onnx_read import from_onnx
        return from_onnx(source)

    def to_torch(self):
        """A float32 torch.nn.Sequential of Linear and activation modules
        computing forward() (input scaling folded into the first Linear)."""
        from ._torch import to_torch
        return to_torch(self)

    @classmethod
    def from_torch(cls, module, loss=None):
        """A Network from an nn.Sequential of Linear and supported activation
        modules (a trailing Softmax sets softmax cross-entropy)."""
        from ._torch import from_torch
        return from_torch(module, loss)

    @classmethod
    def from_sklearn(cls, estimator):
        """A Network from a fitted scikit-learn MLPClassifier or MLPRegressor."""
        from ._sklearn_convert import from_sklearn
        return from_sklearn(estimator)

    def to_dot(self):
        """The forward and backward computation graph as Graphviz DOT text."""
        needed = ctypes.c_size_t()
        with self._lock:
            st = lib.mlp_graph_dot(self.handle, None, 0, ctypes.byref(needed))
            if st != 0 and needed.value == 0:
                check(st)
            buf = ctypes.create_string_buffer(needed.value)
            check(lib.mlp_graph_dot(self.handle, buf, needed.value, ctypes.byref(needed)))
        return buf.value.decode("utf-8")


class Predictor:
    """Inference on a shared Network from one thread, with a workspace of its
    own (mlp_forward_ws): several threads, one Predictor each, predict on one
    network at once and in parallel. The network must not change (training,
    set_params, settings) while its predictors run.

        net = mlp.Network.load(path)
        def serve(X):
            with mlp.Predictor(net) as p:   # or net.predictor()
                return p.forward(X)
    """

    def __init__(self, net, max_batch=256):
        self._ws = None
        self.net = net  # kept alive while the workspace exists
        out = ctypes.c_void_p()
        check(lib.mlp_workspace_create(net.handle, int(max_batch), ctypes.byref(out)))
        self._ws = out.value
        self._lock = threading.Lock()  # one thread per workspace

    def close(self):
        ws, self._ws = self._ws, None
        if ws:
            lib.mlp_workspace_destroy(ws)

    def __del__(self):
        ws = getattr(self, "_ws", None)
        if ws:
            self._ws = None
            lib.mlp_workspace_destroy(ws)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def forward(self, X, out=None):
        """As Network.forward, without taking the network's lock."""
        if not self._ws:
            raise fail("MLP_ERR_NULL", "the predictor is closed")
        h = self.net.handle
        X = arr.matrix(X, lib.mlp_input_size(h))
        Y = arr.out_matrix(out, X.shape[0], lib.mlp_output_size(h))
        if X.shape[0]:
            with self._lock:
                check(lib.mlp_forward_ws(h, self._ws, arr.address(X), X.shape[0],
                                         arr.address(Y)))
        return Y

    __call__ = forward
