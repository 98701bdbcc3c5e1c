/* mlp export --format onnx: a network as an ONNX graph (opset 13) of Sub,
 * Mul (input scaling), one Gemm per layer, its activation, and an output
 * head; written with protobuf-c from Debian's onnx.proto. */
#include "cli.h"
#include "onnx.h"
#include "onnx_graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Each layer gives at most 6 nodes (Gemm and gelu's 5) and 2 initializers;
 * the scaling 2 nodes and 2 initializers, the head 1 node, gelu's
 * constants 3 initializers. */
#define NODES_PER_LAYER 6

/* x -> Sub(offset) -> Mul(scale): the same two float operations, in the
 * same order, as libmlp's forward pass. */
static int add_scaling(og_builder *b, const mlp_network *net)
{
    size_t n = mlp_input_size(net);
    int64_t dim = (int64_t)n;
    float *off = malloc(n * sizeof *off), *sc = malloc(n * sizeof *sc);
    int rc = -1;

    if (off != NULL && sc != NULL && mlp_get_input_scaling(net, off, sc) == MLP_OK &&
        og_init(b, "input_offset", &dim, 1, off) == 0 && og_init(b, "input_scale", &dim, 1, sc) == 0 &&
        og_node(b, "Sub", "input_center", "x", "input_offset", NULL, "x_centered") != NULL &&
        og_node(b, "Mul", "input_scale", "x_centered", "input_scale", NULL, "x_scaled") != NULL)
        rc = 0;
    free(off);
    free(sc);
    return rc;
}

/* z = x W^T + b, with W (n_out x n_in) as libmlp holds it: transB = 1. */
static int add_gemm(og_builder *b, const mlp_network *net, size_t i, const char *in, const char *out)
{
    size_t n_in = mlp_layer_size(net, i), n_out = mlp_layer_size(net, i + 1);
    int64_t wdims[2], bdim = (int64_t)n_out;
    float *W = malloc(n_in * n_out * sizeof *W), *bias = malloc(n_out * sizeof *bias);
    char wname[32], bname[32], node[32];
    Onnx__NodeProto *nd;
    int rc = -1;

    wdims[0] = (int64_t)n_out;
    wdims[1] = (int64_t)n_in;
    snprintf(wname, sizeof wname, "W%zu", i);
    snprintf(bname, sizeof bname, "b%zu", i);
    snprintf(node, sizeof node, "gemm%zu", i);
    if (W != NULL && bias != NULL && mlp_get_weights(net, i, W, n_in * n_out) == MLP_OK &&
        mlp_get_bias(net, i, bias, n_out) == MLP_OK && og_init(b, wname, wdims, 2, W) == 0 &&
        og_init(b, bname, &bdim, 1, bias) == 0 &&
        (nd = og_node(b, "Gemm", node, in, wname, bname, out)) != NULL &&
        og_attr_int(b, nd, "transB", 1) == 0)
        rc = 0;
    free(W);
    free(bias);
    return rc;
}

/* Exact gelu, as libmlp computes it: z * 0.5 * (1 + erf(z / sqrt(2))). */
static int add_gelu(og_builder *b, size_t i, const char *z, const char *out, int *consts)
{
    static const float sqrt2 = 1.41421356237309505f, one = 1.0f, half = 0.5f;
    char t[4][40], n[4][40];
    int k;

    if (!*consts) {
        if (og_init(b, "gelu_sqrt2", NULL, 0, &sqrt2) || og_init(b, "gelu_one", NULL, 0, &one) ||
            og_init(b, "gelu_half", NULL, 0, &half))
            return -1;
        *consts = 1;
    }
    for (k = 0; k < 4; k++) {
        static const char *const step[] = {"div", "erf", "add", "half"};
        snprintf(t[k], sizeof t[k], "z%zu_gelu_%s", i, step[k]);
        snprintf(n[k], sizeof n[k], "gelu%zu_%s", i, step[k]);
    }
    if (og_node(b, "Div", n[0], z, "gelu_sqrt2", NULL, t[0]) == NULL ||
        og_node(b, "Erf", n[1], t[0], NULL, NULL, t[1]) == NULL ||
        og_node(b, "Add", n[2], t[1], "gelu_one", NULL, t[2]) == NULL ||
        og_node(b, "Mul", n[3], z, "gelu_half", NULL, t[3]) == NULL)
        return -1;
    snprintf(n[0], sizeof n[0], "gelu%zu", i);
    return og_node(b, "Mul", n[0], t[3], t[2], NULL, out) != NULL ? 0 : -1;
}

static int add_activation(og_builder *b, mlp_activation act, size_t i, const char *z,
                          const char *out, int *gelu_consts)
{
    static const char *const ops[MLP_ACT_COUNT_] = {"Identity", "Sigmoid", "Tanh", "Relu",
                                                    "LeakyRelu", NULL, "Softplus"};
    char name[32];
    Onnx__NodeProto *nd;

    if (act == MLP_ACT_GELU) return add_gelu(b, i, z, out, gelu_consts);
    if ((unsigned)act >= MLP_ACT_COUNT_) return -1;
    snprintf(name, sizeof name, "act%zu", i);
    if ((nd = og_node(b, ops[act], name, z, NULL, NULL, out)) == NULL) return -1;
    return act == MLP_ACT_LEAKY_RELU ? og_attr_float(b, nd, "alpha", 0.01f) : 0;
}

/* The layers, from x (or its scaled copy) to `logits`. */
static int add_layers(og_builder *b, const mlp_network *net)
{
    size_t i, L = mlp_num_layers(net);
    char in[32], z[32], a[32];
    int gelu_consts = 0;

    strcpy(in, mlp_has_input_scaling(net) ? "x_scaled" : "x");
    for (i = 0; i < L; i++) {
        mlp_activation act = mlp_layer_activation(net, i);
        int last = i + 1 == L;
        if (last) strcpy(a, "logits");
        else snprintf(a, sizeof a, "a%zu", i);
        if (act == MLP_ACT_IDENTITY) strcpy(z, a);
        else snprintf(z, sizeof z, "z%zu", i);
        if (add_gemm(b, net, i, in, z)) return -1;
        if (act != MLP_ACT_IDENTITY && add_activation(b, act, i, z, a, &gelu_consts)) return -1;
        strcpy(in, a);
    }
    return 0;
}

/* Inputs, outputs and the probability head of the loss. */
static int add_io(og_builder *b, const mlp_network *net)
{
    mlp_loss loss = mlp_get_loss(net);
    size_t n_out = mlp_output_size(net);
    int head = loss == MLP_LOSS_SOFTMAX_CE || loss == MLP_LOSS_SIGMOID_CE;
    Onnx__GraphProto *g = b->g;
    Onnx__NodeProto *nd;

    g->input = og_alloc(b->a, sizeof *g->input);
    g->output = og_alloc(b->a, 2 * sizeof *g->output);
    if (g->input == NULL || g->output == NULL) return -1;
    if ((g->input[0] = og_value_2d(b->a, "x", mlp_input_size(net))) == NULL) return -1;
    g->n_input = 1;
    if ((g->output[0] = og_value_2d(b->a, "logits", n_out)) == NULL) return -1;
    g->n_output = 1;
    if (!head) return 0;
    if (loss == MLP_LOSS_SOFTMAX_CE) {
        nd = og_node(b, "Softmax", "probabilities", "logits", NULL, NULL, "probabilities");
        if (nd == NULL || og_attr_int(b, nd, "axis", 1)) return -1;
    } else if (og_node(b, "Sigmoid", "probabilities", "logits", NULL, NULL, "probabilities") == NULL) {
        return -1;
    }
    if ((g->output[1] = og_value_2d(b->a, "probabilities", n_out)) == NULL) return -1;
    g->n_output = 2;
    return 0;
}

static int add_meta(og_arena *a, Onnx__ModelProto *m, const mlp_network *net)
{
    char classes[32];
    const char *keys[3] = {"libmlp_version", "loss", "classes"}, *vals[3];
    size_t k;

    snprintf(classes, sizeof classes, "%zu", mlp_output_size(net));
    vals[0] = mlp_version();
    vals[1] = mlp_loss_name(mlp_get_loss(net));
    vals[2] = classes;
    if ((m->metadata_props = og_alloc(a, 3 * sizeof *m->metadata_props)) == NULL) return -1;
    for (k = 0; k < 3; k++) {
        Onnx__StringStringEntryProto *e = og_alloc(a, sizeof *e);
        if (e == NULL) return -1;
        onnx__string_string_entry_proto__init(e);
        e->key = og_strdup(a, keys[k]);
        e->value = og_strdup(a, vals[k]);
        if (e->key == NULL || e->value == NULL) return -1;
        m->metadata_props[m->n_metadata_props++] = e;
    }
    return 0;
}

static Onnx__ModelProto *build_model(og_arena *a, const mlp_network *net)
{
    size_t L = mlp_num_layers(net);
    Onnx__ModelProto *m = og_alloc(a, sizeof *m);
    Onnx__OperatorSetIdProto *ops = og_alloc(a, sizeof *ops);
    og_builder b;

    if (m == NULL || ops == NULL) return NULL;
    onnx__model_proto__init(m);
    onnx__operator_set_id_proto__init(ops);
    ops->domain = og_strdup(a, "");
    ops->has_version = 1;
    ops->version = OG_OPSET;
    m->opset_import = og_alloc(a, sizeof *m->opset_import);
    if (ops->domain == NULL || m->opset_import == NULL) return NULL;
    m->opset_import[0] = ops;
    m->n_opset_import = 1;
    m->has_ir_version = 1;
    m->ir_version = OG_IR_VERSION;
    m->producer_name = og_strdup(a, "libmlp");
    m->producer_version = og_strdup(a, mlp_version());
    if (og_builder_init(&b, a, 3 + NODES_PER_LAYER * L, 5 + 2 * L)) return NULL;
    if ((b.g->name = og_strdup(a, "libmlp")) == NULL) return NULL;
    if (mlp_has_input_scaling(net) && add_scaling(&b, net)) return NULL;
    if (add_layers(&b, net) || add_io(&b, net) || add_meta(a, m, net)) return NULL;
    m->graph = b.g;
    return m->producer_name != NULL && m->producer_version != NULL ? m : NULL;
}

static int write_packed(const char *cmd, const Onnx__ModelProto *m, const char *path)
{
    size_t size = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(size ? size : 1);
    FILE *f;
    int ok;

    if (buf == NULL) return cli_error(CLI_FAIL, cmd, "out of memory (%zu bytes)", size);
    onnx__model_proto__pack(m, buf);
    if ((f = fopen(path, "wb")) == NULL) {
        free(buf);
        return cli_error(CLI_FAIL, cmd, "%s: cannot open for writing", path);
    }
    ok = fwrite(buf, 1, size, f) == size;
    ok = (fclose(f) == 0) && ok;
    free(buf);
    if (!ok) remove(path);
    return ok ? 0 : cli_error(CLI_FAIL, cmd, "%s: write failed", path);
}

int cli_onnx_export(const char *cmd, const mlp_network *net, const char *path)
{
    og_arena a = {NULL, 0};
    Onnx__ModelProto *m = build_model(&a, net);
    int rc;

    if (m == NULL) {
        og_arena_free(&a);
        return cli_error(CLI_FAIL, cmd, "could not build the ONNX graph (out of memory)");
    }
    rc = write_packed(cmd, m, path);
    og_arena_free(&a);
    return rc;
}
