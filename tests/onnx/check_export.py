"""Checks `mlp export` and `mlp import` against libmlp's own forward pass.

    check_export.py onnx   ONNX files run by onnxruntime-node, checked by
                           onnx.checker, imported back; refusals
    check_export.py c      C source compiled by gcc and clang, float and int8

Run by ctest (tests/CMakeLists.txt), with MLP_CLI, EXPORT_FIXTURE and
MLP_SOURCE_DIR set; the onnx mode installs onnxruntime-node into
ORT_NODE_DIR with scripts/onnxruntime.sh first. Everything is written into
a temporary folder. Any failure ends the run with a non-zero status.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

CLI = os.environ["MLP_CLI"]
FIXTURE = os.environ["EXPORT_FIXTURE"]
SRC = os.environ["MLP_SOURCE_DIR"]
ROWS = 1000
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what, flush=True)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, errors="replace", **kw)


def must(args):
    p = run(args)
    if p.returncode != 0:
        sys.exit("command failed (%d): %s\n%s%s" % (p.returncode, " ".join(args), p.stdout, p.stderr))
    return p


def f32(path, cols):
    return np.fromfile(path, dtype="<f4").reshape(-1, cols)


def close(got, want, rel, what):
    """Every value within rel * max(1, |want|)."""
    if got.shape != want.shape:
        check(False, "%s: shape %s, expected %s" % (what, got.shape, want.shape))
        return
    err = np.abs(got.astype(np.float64) - want) / np.maximum(1.0, np.abs(want))
    worst = float(err.max()) if err.size else 0.0
    check(worst <= rel, "%s: error %.3g > %.3g" % (what, worst, rel))
    return worst


def cases(tmp):
    must([FIXTURE, "make", tmp])
    out = []
    with open(os.path.join(tmp, "cases.txt")) as f:
        for line in f:
            name, n_in, n_out, loss, act, scaled = line.split()
            out.append(dict(name=name, dir=os.path.join(tmp, name), n_in=int(n_in),
                            n_out=int(n_out), loss=loss, act=act, scaled=scaled == "1"))
    return out


def probabilities(logits, loss):
    z = logits.astype(np.float64)
    if loss == "softmax_cross_entropy":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return 1.0 / (1.0 + np.exp(-z))


# ---- ONNX ------------------------------------------------------------------

def ort(model, x_path, rows, cols, outdir):
    """Runs the model in onnxruntime-node; {output name: array}."""
    p = must(["node", os.path.join(SRC, "tests", "onnx", "ort_run.js"), model, x_path,
              str(rows), str(cols), outdir])
    outs = {}
    for line in p.stdout.split("\n"):
        if line.strip():
            name, *dims = line.split()
            outs[name] = np.fromfile(os.path.join(outdir, name + ".f32"), dtype="<f4").reshape(
                [int(d) for d in dims])
    return outs


def check_onnx_case(c):
    import onnx
    d, name = c["dir"], c["name"]
    path = os.path.join(d, "m.onnx")
    must([CLI, "export", os.path.join(d, "model.mlp"), "-o", path])
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)  # raises on a bad file
    meta = {p.key: p.value for p in m.metadata_props}
    check(meta.get("loss") == c["loss"] and meta.get("classes") == str(c["n_out"])
          and meta.get("libmlp_version"), name + ": metadata " + repr(meta))
    check([o.version for o in m.opset_import if o.domain in ("", "ai.onnx")] == [13],
          name + ": opset")
    dim0 = m.graph.input[0].type.tensor_type.shape.dim[0]
    check(m.graph.input[0].name == "x" and dim0.dim_param == "N", name + ": input x (N, n_in)")
    y = f32(os.path.join(d, "y.f32"), c["n_out"])
    x = f32(os.path.join(d, "x.f32"), c["n_in"])
    x[:1].tofile(os.path.join(d, "x1.f32"))
    want = {ROWS: y, 1: f32(os.path.join(d, "y1.f32"), c["n_out"])}
    for rows, xp in ((ROWS, "x.f32"), (1, "x1.f32")):
        outs = ort(path, os.path.join(d, xp), rows, c["n_in"], os.path.join(d, "ort%d" % rows))
        heads = ["logits"] + ([] if c["loss"] == "mse" else ["probabilities"])
        check(sorted(outs) == sorted(heads), "%s: outputs %s" % (name, sorted(outs)))
        close(outs["logits"], want[rows], 1e-5, "%s: runtime logits, batch %d" % (name, rows))
        if "probabilities" in outs:
            close(outs["probabilities"], probabilities(want[rows], c["loss"]), 1e-5,
                  "%s: runtime probabilities, batch %d" % (name, rows))
    # Back: the same outputs, and the same file when exported again.
    back = os.path.join(d, "back.mlp")
    must([CLI, "import", path, "-o", back])
    must([FIXTURE, "forward", back, os.path.join(d, "x.f32"), str(ROWS), os.path.join(d, "yb.f32")])
    close(f32(os.path.join(d, "yb.f32"), c["n_out"]), y, 1e-6, name + ": round trip")
    must([CLI, "export", back, "-o", os.path.join(d, "back.onnx")])
    with open(path, "rb") as a, open(os.path.join(d, "back.onnx"), "rb") as b:
        check(a.read() == b.read(), name + ": export -> import -> export differs")


def import_equal(c, model, tag):
    """Imports model and compares its forward pass with libmlp's."""
    import onnx
    d = c["dir"]
    onnx.checker.check_model(model, full_check=True)
    p = os.path.join(d, tag + ".onnx")
    onnx.save(model, p)
    out = os.path.join(d, tag + ".mlp")
    must([CLI, "import", p, "-o", out])
    must([FIXTURE, "forward", out, os.path.join(d, "x.f32"), str(ROWS), os.path.join(d, tag + ".f32")])
    close(f32(os.path.join(d, tag + ".f32"), c["n_out"]), f32(os.path.join(d, "y.f32"), c["n_out"]),
          1e-6, "%s: import of the %s form" % (c["name"], tag))


def check_other_forms(c):
    """Gemm with transB = 0 and MatMul + Add import to the same network."""
    import onnx
    from onnx import helper, numpy_helper
    base = onnx.load(os.path.join(c["dir"], "m.onnx"))
    inits = {t.name: t for t in base.graph.initializer}
    for form in ("gemm_transb0", "matmul_add"):
        m = onnx.ModelProto()
        m.CopyFrom(base)
        g = m.graph
        nodes = []
        for n in g.node:
            if n.op_type != "Gemm":
                nodes.append(n)
                continue
            w = numpy_helper.to_array(inits[n.input[1]]).T.copy()
            wt = numpy_helper.from_array(w, n.input[1])
            for i, t in enumerate(g.initializer):
                if t.name == n.input[1]:
                    g.initializer[i].CopyFrom(wt)
            if form == "gemm_transb0":
                nodes.append(helper.make_node("Gemm", list(n.input), list(n.output), name=n.name,
                                              alpha=1.0, beta=1.0, transB=0))
            else:
                mm = n.output[0] + "_mm"
                nodes.append(helper.make_node("MatMul", n.input[:2], [mm], name=n.name + "_mm"))
                nodes.append(helper.make_node("Add", [mm, n.input[2]], list(n.output), name=n.name))
        del g.node[:]
        g.node.extend(nodes)
        import_equal(c, m, form)


def refused(path, what, *needles):
    """mlp import fails cleanly (exit 1, one message) naming needles."""
    p = run([CLI, "import", path, "-o", path + ".mlp"])
    msg = p.stderr.strip()
    check(p.returncode == 1 and msg.startswith("mlp import:") and all(s in msg for s in needles)
          and msg.isprintable()
          and not os.path.exists(path + ".mlp"),
          "%s: exit %d, %r" % (what, p.returncode, msg))


def check_refusals(c, tmp):
    import onnx
    from onnx import helper, numpy_helper
    src = os.path.join(c["dir"], "m.onnx")
    base = onnx.load(src)
    # A Conv in the chain: refused by op type and node name.
    m = onnx.ModelProto()
    m.CopyFrom(base)
    g = m.graph
    first = g.node[0]
    g.initializer.append(numpy_helper.from_array(np.ones((1, 1, 1), np.float32), "k"))
    conv = helper.make_node("Conv", [first.input[0], "k"], ["conved"], name="my_conv")
    first.input[0] = "conved"
    g.node.insert(0, conv)
    p = os.path.join(tmp, "conv.onnx")
    onnx.save(m, p)
    refused(p, "a Conv node", "'my_conv'", "Conv")
    # Gemm with alpha 2; a weight whose dims promise far more than it holds.
    m.CopyFrom(base)
    for n in m.graph.node:
        if n.op_type == "Gemm":
            n.attribute.append(helper.make_attribute("alpha", 2.0))
            break
    onnx.save(m, os.path.join(tmp, "alpha.onnx"))
    refused(os.path.join(tmp, "alpha.onnx"), "Gemm alpha 2", "alpha")
    m.CopyFrom(base)
    w = [t for t in m.graph.initializer if t.name == "W0"][0]
    w.dims[0] = 1 << 40
    with open(os.path.join(tmp, "dims.onnx"), "wb") as f:
        f.write(m.SerializeToString())
    refused(os.path.join(tmp, "dims.onnx"), "inflated dims", "gemm0")
    m.CopyFrom(base)
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = c["n_in"] + 1
    onnx.save(m, os.path.join(tmp, "cols.onnx"))
    refused(os.path.join(tmp, "cols.onnx"), "input columns", "columns")
    # Truncated, garbage and empty files.
    data = open(src, "rb").read()
    rng = np.random.RandomState(5)
    for tag, blob in (("truncated", data[: len(data) // 2]), ("empty", b""),
                      ("garbage", rng.bytes(4096)), ("text", b"hello, not a model\n" * 10)):
        p = os.path.join(tmp, tag + ".onnx")
        with open(p, "wb") as f:
            f.write(blob)
        refused(p, tag + " file")
    # Cuts at 100 places, and 200 copies with a few random bytes changed:
    # refused with a message or read, never a crash.
    blobs = [("cut at %d" % cut, data[:cut]) for cut in range(0, len(data), max(1, len(data) // 100))]
    for k in range(200):
        b = bytearray(data)
        for pos in rng.randint(0, len(b), size=1 + k % 4):
            b[pos] = rng.randint(0, 256)
        blobs.append(("mutation %d" % k, bytes(b)))
    for what, blob in blobs:
        p = os.path.join(tmp, "bad.onnx")
        with open(p, "wb") as f:
            f.write(blob)
        r = run([CLI, "import", p, "-o", p + ".mlp"])
        one_line = r.stderr.count("\n") == 1 and r.stderr.rstrip("\n").isprintable()
        check(r.returncode == 0 or (r.returncode == 1 and r.stderr.startswith("mlp import:")
                                    and one_line),
              "%s: exit %d %r" % (what, r.returncode, r.stderr))


def main_onnx(tmp):
    ort_dir = os.environ["ORT_NODE_DIR"]
    must(["bash", os.path.join(SRC, "scripts", "onnxruntime.sh"), ort_dir])
    os.environ["ORT_NODE_DIR"] = ort_dir
    all_cases = cases(tmp)
    for c in all_cases:
        check_onnx_case(c)
    c = [c for c in all_cases if c["name"] == "gelu_scaled_softmax_cross_entropy"][0]
    check_other_forms(c)
    check_refusals(c, tmp)
    print("onnx: %d models (every activation, with and without scaling, every loss) "
          "at batch 1 and %d" % (len(all_cases), ROWS))


# ---- C source -----------------------------------------------------------------

CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]


_drivers = {}


def c_driver(cc, tmp, prefix, classifier):
    """The driver object for exports with this prefix (built once)."""
    key = (cc, prefix, classifier)
    if key not in _drivers:
        obj = os.path.join(tmp, "driver_%s_%s_%d.o" % key)
        defs = ["-DPREDICT=%s_predict" % prefix]
        if classifier:
            defs.append("-DPREDICT_CLASS=%s_predict_class" % prefix)
        must([cc] + CFLAGS + defs + ["-c", os.path.join(SRC, "tests", "onnx", "c_driver.c"),
                                     "-o", obj])
        _drivers[key] = obj
    return _drivers[key]


def c_build(cc, d, prefix, classifier):
    """Compiles PREFIX.c (with its header) and links it with the driver."""
    src = os.path.join(d, prefix + ".c")
    obj = os.path.join(d, "%s_%s.o" % (prefix, cc))
    exe = os.path.join(d, "%s_%s" % (prefix, cc))
    must([cc] + CFLAGS + ["-c", src, "-o", obj])
    must([cc, c_driver(cc, os.path.dirname(d), prefix, classifier), obj, "-lm", "-o", exe])
    return obj, exe


def c_contract(d, prefix, obj):
    """Includes only its header and <math.h>; no mutable global state."""
    with open(os.path.join(d, prefix + ".c")) as f:
        incs = [l.strip() for l in f if l.startswith("#include")]
    check(incs == ['#include "%s.h"' % prefix, "#include <math.h>"], "%s: includes %s" % (prefix, incs))
    with open(os.path.join(d, prefix + ".h")) as f:
        check("#include" not in f.read(), prefix + ".h includes something")
    syms = must(["nm", obj]).stdout.split("\n")
    mutable = [s for s in syms if len(s.split()) == 3 and s.split()[1] in "bBdDcC"]
    check(not mutable, "%s: mutable data %s" % (prefix, mutable))
    defined = sorted(s.split()[2] for s in syms if len(s.split()) == 3 and s.split()[1] == "T")
    check(all(s.startswith(prefix + "_") for s in defined), "%s: exports %s" % (prefix, defined))


def check_c_case(c, compilers, int8_worst):
    d, name, n_out = c["dir"], c["name"], c["n_out"]
    model = os.path.join(d, "model.mlp")
    classifier = c["loss"] != "mse"
    y = f32(os.path.join(d, "y.f32"), n_out)
    x = os.path.join(d, "x.f32")
    must([CLI, "export", model, "--format", "c", "-o", os.path.join(d, "m.c"), "--prefix", "m"])
    must([CLI, "export", model, "-o", os.path.join(d, "q.c"), "--prefix", "q", "--quantize", "int8"])
    must([FIXTURE, "dequant", model, os.path.join(d, "dq.mlp")])
    must([FIXTURE, "forward", os.path.join(d, "dq.mlp"), x, str(ROWS), os.path.join(d, "ydq.f32")])
    ydq = f32(os.path.join(d, "ydq.f32"), n_out)
    for cc in compilers:
        obj, exe = c_build(cc, d, "m", classifier)
        c_contract(d, "m", obj)
        must([exe, x, str(ROWS), str(n_out), os.path.join(d, "yc.f32")])
        close(f32(os.path.join(d, "yc.f32"), n_out), y, 1e-5, "%s: C export (%s)" % (name, cc))
        obj, exe = c_build(cc, d, "q", classifier)
        c_contract(d, "q", obj)
        must([exe, x, str(ROWS), str(n_out), os.path.join(d, "yq.f32")])
        yq = f32(os.path.join(d, "yq.f32"), n_out)
        # int8 computes exactly the network with the rounded weights ...
        close(yq, ydq, 1e-5, "%s: int8 C export vs its dequantized weights (%s)" % (name, cc))
        # ... which is near the float network.
        scale = max(1.0, float(np.abs(y).max()))
        worst = float(np.abs(yq - y).max()) / scale
        mean = float(np.abs(yq - y).mean()) / scale
        int8_worst.append((worst, mean))
        check(worst <= INT8_TOL[0] and mean <= INT8_TOL[1],
              "%s: int8 vs float: worst %.3g, mean %.3g of the output scale (%s)"
              % (name, worst, mean, cc))


# Tolerance of int8 against float, as fractions of max(1, max|y|): worst
# value, mean. Each int8 weight is off by up to half a step, max|w_row|/254;
# the fixture scales every layer so that its pre-activations span [-10, 10]
# from 12 to 16 inputs, so one layer's z may move by up to about
# 16 * max|w| / 254 (0.1 to 0.5) in the worst row, and by some 0.02 on
# average (random signs). Measured: worst 0.12 (tanh, mse), mean < 0.01.
# A wrong scheme (a missing or misplaced row scale) is off by orders of
# magnitude, and the exact check against the dequantized weights above
# pins the arithmetic itself to 1e-5.
INT8_TOL = (0.25, 0.03)


def check_sizes(tmp, cc):
    """The wide model's object: int8 weight data about 4x smaller."""
    d = os.path.join(tmp, "wide")
    os.makedirs(d, exist_ok=True)
    sizes = {}
    for prefix, extra in (("m", []), ("q", ["--quantize", "int8"])):
        must([CLI, "export", os.path.join(tmp, "wide.mlp"), "--format", "c", "-o",
              os.path.join(d, prefix + ".c"), "--prefix", prefix] + extra)
        obj = os.path.join(d, prefix + ".o")
        must([cc] + CFLAGS + ["-c", os.path.join(d, prefix + ".c"), "-o", obj])
        sizes[prefix] = int(must(["size", obj]).stdout.split("\n")[1].split()[3])
    ratio = sizes["m"] / sizes["q"]
    print("C export of a 64-128-64-10 network (%s, size): float %d bytes, int8 %d bytes, ratio %.2f"
          % (cc, sizes["m"], sizes["q"], ratio))
    check(ratio >= 3.0, "int8 object only %.2fx smaller" % ratio)


def main_c(tmp):
    compilers = ["gcc", "clang"]
    int8_worst = []
    all_cases = cases(tmp)
    for c in all_cases:
        check_c_case(c, compilers, int8_worst)
    for cc in compilers:
        check_sizes(tmp, cc)
    print("c: %d models x %s; int8 vs float, of the output scale: worst %.3g (limit %g), "
          "largest mean %.3g (limit %g)" % (len(all_cases), "/".join(compilers),
                                            max(w for w, _ in int8_worst), INT8_TOL[0],
                                            max(m for _, m in int8_worst), INT8_TOL[1]))


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("onnx", "c"):
        sys.exit("usage: check_export.py onnx|c")
    tmp = tempfile.mkdtemp(prefix="mlp-export-")
    try:
        (main_onnx if sys.argv[1] == "onnx" else main_c)(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit("%d check(s) failed" % len(failures))
    print("all checks passed")


if __name__ == "__main__":
    main()
