"""Network.to_onnx / Network.from_onnx, checked by a real ONNX runtime.

The runtime is npm's onnxruntime-node, run through ort_run.js
(node ort_run.js MODEL.onnx INPUT.f32 ROWS COLS OUTDIR writes OUTDIR/NAME.f32
for every output). MLP_ORT_DIR (else ORT_NODE_DIR, as scripts/onnxruntime.sh
uses) names the folder holding node_modules/onnxruntime-node; MLP_ORT_RUN the
script (default: tests/onnx/ort_run.js). Without them these tests fail, in CI
and out of it: they never skip.
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import onnx
import onnx.checker
from onnx import TensorProto, helper, numpy_helper

import mlp
from convert_cases import assert_close, probabilities, rounding_bound, spread_net

HERE = os.path.dirname(os.path.abspath(__file__))
ACTS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "softplus"]
LOSSES = ["mse", "softmax_cross_entropy", "sigmoid_cross_entropy"]


@pytest.fixture(scope="module")
def ort():
    """A function running the model on X in the ONNX runtime: {output name: array}."""
    ort_dir = os.environ.get("MLP_ORT_DIR") or os.environ.get("ORT_NODE_DIR", "")
    script = os.environ.get("MLP_ORT_RUN") or os.path.join(os.path.dirname(HERE), "onnx", "ort_run.js")
    node = shutil.which("node")
    problems = []
    if not node:
        problems.append("node is not on PATH (Debian: nodejs)")
    if not os.path.isdir(os.path.join(ort_dir, "node_modules", "onnxruntime-node")):
        problems.append("MLP_ORT_DIR=%r holds no node_modules/onnxruntime-node (npm install "
                        "--ignore-scripts onnxruntime-node in that folder)" % ort_dir)
    if not os.path.isfile(script):
        problems.append("MLP_ORT_RUN=%r is not a file (tests/onnx/ort_run.js)" % script)
    if problems:
        pytest.fail("the ONNX runtime tests need onnxruntime-node: " + "; ".join(problems))
    ort_dir = os.path.abspath(ort_dir)  # ort_run.js reads ORT_NODE_DIR; NODE_PATH serves others
    env = dict(os.environ, ORT_NODE_DIR=ort_dir, NODE_PATH=os.path.join(ort_dir, "node_modules"))

    def run(model_path, X, outdir):
        X = np.ascontiguousarray(X, "<f4")
        xpath = os.path.join(outdir, "input.f32")
        X.tofile(xpath)
        r = subprocess.run([node, script, model_path, xpath, str(X.shape[0]), str(X.shape[1]),
                            outdir], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert r.returncode == 0, r.stdout.decode(errors="replace")
        return {name: np.fromfile(os.path.join(outdir, name + ".f32"), "<f4").reshape(X.shape[0], -1)
                for name in ("logits", "probabilities")
                if os.path.exists(os.path.join(outdir, name + ".f32"))}
    return run


# ---- export, checked by the runtime -------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("scaling", [False, True], ids=["raw", "scaled"])
@pytest.mark.parametrize("act", ACTS)
def test_runtime_matches_forward(ort, tmp_path, act, scaling, loss):
    rng = np.random.RandomState(ACTS.index(act) * 10 + scaling)
    net, X = spread_net(act, rng, scaling)
    net.loss = loss
    path = str(tmp_path / "model.onnx")
    net.to_onnx(path)
    onnx.checker.check_model(path, full_check=True)
    for rows in (1, 1000):
        out = tmp_path / ("b%d" % rows)
        out.mkdir()
        got = ort(path, X[:rows], str(out))
        want = net.forward(X[:rows])
        assert sorted(got) == (["logits"] if loss == "mse" else ["logits", "probabilities"])
        assert_close(got["logits"], want, what="logits",
                     bound=2.0 * rounding_bound(net, X[:rows]))
        if loss != "mse":
            assert_close(got["probabilities"], probabilities(want, loss), what="probabilities")
    back = mlp.Network.from_onnx(path)
    assert back.activations == net.activations and back.loss == loss
    assert_close(back.forward(X), net.forward(X), tol=1e-6, what="from_onnx(to_onnx(net))")
    if scaling:
        for a, b in zip(back.input_scaling, net.input_scaling):
            np.testing.assert_array_equal(a, b)
    else:
        assert back.input_scaling is None


def test_graph_layout(tmp_path, rng):
    net = mlp.Network([4, 6, 5, 3], ["gelu", "tanh", "identity"])
    net.input_scaling = (rng.randn(4), rng.rand(4) + 0.5)
    net.loss = "softmax_cross_entropy"
    model = net.to_onnx(str(tmp_path / "m.onnx"))
    assert model.opset_import[0].version == 13
    g = model.graph
    assert [i.name for i in g.input] == ["x"]
    dims = g.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and not dims[0].HasField("dim_value") and dims[1].dim_value == 4
    assert [o.name for o in g.output] == ["logits", "probabilities"]
    ops = [n.op_type for n in g.node]
    assert ops[:2] == ["Sub", "Mul"] and ops.count("Gemm") == 3 and ops[-1] == "Softmax"
    assert "Erf" in ops and "Tanh" in ops
    assert [n.name for n in g.node][:2] == ["input_center", "input_scale"]
    assert g.node[-1].name == "probabilities" and model.ir_version == 7
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for l, (W, b) in enumerate(net.get_params()):
        np.testing.assert_array_equal(inits["W%d" % l], W)  # (n_out, n_in), as libmlp holds it
        np.testing.assert_array_equal(inits["b%d" % l], b)
    np.testing.assert_array_equal(inits["input_offset"], net.input_scaling[0])
    np.testing.assert_array_equal(inits["input_scale"], net.input_scaling[1])
    for n in g.node:
        if n.op_type == "Gemm":
            assert {a.name: helper.get_attribute_value(a) for a in n.attribute} == {"transB": 1}
        if n.op_type == "Softmax":
            assert helper.get_attribute_value(n.attribute[0]) == 1
    props = {p.key: p.value for p in model.metadata_props}
    assert props == {"libmlp_version": mlp.library_version(), "loss": "softmax_cross_entropy",
                     "classes": "3"}


@pytest.mark.parametrize("loss,classes", [("mse", "2"), ("sigmoid_cross_entropy", "2")])
def test_metadata_per_loss(tmp_path, loss, classes):
    net = mlp.Network([3, 2])
    net.loss = loss
    model = net.to_onnx(str(tmp_path / "m.onnx"))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["loss"] == loss and props["classes"] == classes


def test_import_mlp_without_onnx(tmp_path):
    """`import mlp` does not need onnx; to_onnx says what to install."""
    code = ("import sys; sys.modules['onnx'] = None\n"
            "import mlp\n"
            "try:\n"
            "    mlp.Network([2, 1]).to_onnx(sys.argv[1])\n"
            "except ImportError as e:\n"
            "    print('refused:', e)\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.onnx")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    text = r.stdout.decode()
    assert r.returncode == 0 and "refused:" in text and "python3-onnx" in text, text
    assert not (tmp_path / "m.onnx").exists()


# ---- import of the family the export belongs to --------------------------------


def _model(nodes, inits, n_in=3, outputs=("y",), n_out=2):
    g = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_in])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, ["N", n_out]) for o in outputs],
        initializer=[numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def test_matmul_add_and_gemm_without_transb(rng):
    W0, b0 = rng.randn(3, 4), rng.randn(4)  # MatMul holds (n_in, n_out)
    W1, b1 = rng.randn(4, 2), rng.randn(2)
    nodes = [helper.make_node("MatMul", ["x", "W0"], ["m0"], name="mm0"),
             helper.make_node("Add", ["b0", "m0"], ["z0"], name="add0"),
             helper.make_node("Tanh", ["z0"], ["h0"], name="tanh0"),
             helper.make_node("Gemm", ["h0", "W1", "b1"], ["y"], name="gemm1", transB=0),
             helper.make_node("Softmax", ["y"], ["p"], name="head")]
    model = _model(nodes, {"W0": W0, "b0": b0, "W1": W1, "b1": b1}, outputs=("y", "p"))
    onnx.checker.check_model(model)
    net = mlp.Network.from_onnx(model.SerializeToString())
    assert net.sizes == [3, 4, 2] and net.activations == ["tanh", "identity"]
    assert net.loss == "softmax_cross_entropy"
    X = rng.randn(20, 3)
    want = np.tanh(X @ W0.astype(np.float32) + b0.astype(np.float32)) @ W1.astype(np.float32) + b1.astype(np.float32)
    assert_close(net.forward(X), want, what="MatMul + Add import")


def _gelu_model(rng, divisor=np.sqrt(2.0), first="Div"):
    """Gemm then gelu as x * (0.5 * (1 + erf(x / sqrt 2))), with 0.5 from a Constant node."""
    W, b = rng.randn(2, 3), rng.randn(2)
    const = helper.make_node("Constant", [], ["half"], name="c",
                             value=numpy_helper.from_array(np.float32(0.5)))
    k = divisor if first == "Div" else 1.0 / divisor
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["z"], name="g", transB=1), const,
             helper.make_node(first, ["z", "k"], ["d"], name="scale_z"),
             helper.make_node("Erf", ["d"], ["e"], name="erf"),
             helper.make_node("Add", ["e", "one"], ["a"], name="add"),
             helper.make_node("Mul", ["a", "half"], ["m"], name="half_first"),
             helper.make_node("Mul", ["z", "m"], ["y"], name="times_x")]
    return _model(nodes, {"W": W, "b": b, "k": k, "one": 1.0})


@pytest.mark.parametrize("first", ["Div", "Mul"])
def test_constant_nodes_and_other_gelu_orders(rng, first):
    net = mlp.Network.from_onnx(_gelu_model(rng, first=first))
    assert net.activations == ["gelu"] and net.loss == "mse"


def test_refuses_an_inexact_gelu(rng):
    _refused(_gelu_model(rng, divisor=1.5), "scale_z", "Div")


def _refused(model, name, op):
    with pytest.raises(ValueError) as e:
        mlp.Network.from_onnx(model)
    assert isinstance(e.value, mlp.MLPError)
    assert repr(name) in str(e.value) and op in str(e.value), str(e.value)


def test_refuses_unsupported_op(rng):
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["z"], name="g0", transB=1),
             helper.make_node("Elu", ["z"], ["h"], name="the_elu"),
             helper.make_node("Conv", ["h", "W"], ["y"], name="later")]
    _refused(_model(nodes, {"W": rng.randn(2, 3), "b": rng.randn(2)}), "the_elu", "Elu")


def test_refuses_gemm_with_alpha(rng):
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="scaled_gemm", transB=1,
                              alpha=2.0)]
    _refused(_model(nodes, {"W": rng.randn(2, 3), "b": rng.randn(2)}), "scaled_gemm", "Gemm")


def test_refuses_other_leaky_slope(rng):
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["z"], name="g0", transB=1),
             helper.make_node("LeakyRelu", ["z"], ["y"], name="leaky", alpha=0.2)]
    _refused(_model(nodes, {"W": rng.randn(2, 3), "b": rng.randn(2)}), "leaky", "LeakyRelu")


def test_refuses_activation_before_a_layer(rng):
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu_first"),
             helper.make_node("Gemm", ["r", "W", "b"], ["y"], name="g0", transB=1)]
    _refused(_model(nodes, {"W": rng.randn(2, 3), "b": rng.randn(2)}), "relu_first", "Relu")


def test_refuses_node_after_the_head(tmp_path):
    net = mlp.Network([3, 2])
    net.loss = "softmax_cross_entropy"
    model = net.to_onnx(str(tmp_path / "m.onnx"))
    model.graph.node.append(helper.make_node("Relu", ["probabilities"], ["r"], name="after_head"))
    model.graph.output.append(helper.make_tensor_value_info("r", TensorProto.FLOAT, ["N", 2]))
    _refused(model, "after_head", "Relu")


def test_refuses_two_activations_in_a_row(rng):
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["z"], name="g0", transB=1),
             helper.make_node("Relu", ["z"], ["h"], name="first"),
             helper.make_node("Tanh", ["h"], ["y"], name="second")]
    _refused(_model(nodes, {"W": rng.randn(2, 3), "b": rng.randn(2)}), "second", "Tanh")
