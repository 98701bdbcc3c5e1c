/* mlp import: an ONNX graph that is a chain of dense layers (Gemm, or
 * MatMul + Add), each with an optional supported activation, optionally
 * preceded by the input scaling and followed by a Softmax or Sigmoid head,
 * as `mlp export` writes it. Anything else is refused by name. The file is
 * untrusted: every count is checked before it sizes an allocation. */
#include "cli.h"
#include "onnx.h"
#include "onnx_graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The largest model file read, and the largest tensor accepted. */
#define MAX_FILE ((long)1 << 31)
#define MAX_COUNT ((size_t)1 << 30)

typedef struct imp_layer {
    size_t n_in, n_out;
    float *W, *b;  /* n_out x n_in as libmlp holds it; n_out */
    mlp_activation act;
    int has_act;
} imp_layer;

typedef struct importer {
    const char *cmd, *path;
    const Onnx__GraphProto *g;
    const char *input;   /* the graph input's name */
    const char *cur;     /* the tensor the chain has reached */
    imp_layer *layers;   /* room for one per node */
    size_t n_layers;
    float *offset, *scale;
    size_t n_scaling;
    int loss;            /* an mlp_loss, or -1 while no head has set it */
    int matmul_open;     /* the last layer is a MatMul still without its Add */
    int head_done;
    const char *head_out;
} importer;

static const char *str(const char *s) { return s != NULL ? s : ""; }

/* A name from the file, fit for a message: printable ASCII, at most 64
 * characters. */
static const char *shown(const char *s, char *buf, size_t cap)
{
    size_t i;
    s = str(s);
    for (i = 0; s[i] && i + 4 < cap; i++) buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (s[i]) memcpy(buf + i, "...", 3), i += 3;
    buf[i] = '\0';
    return buf;
}

static int refuse(importer *im, const Onnx__NodeProto *n, const char *why)
{
    char name[68], op[68];
    return cli_error(CLI_FAIL, im->cmd, "%s: node '%s' (op %s): %s", im->path,
                     shown(n->name, name, sizeof name), shown(n->op_type, op, sizeof op), why);
}

static const Onnx__TensorProto *find_init(const importer *im, const char *name)
{
    size_t k;
    for (k = 0; k < im->g->n_initializer; k++)
        if (im->g->initializer[k]->name != NULL && strcmp(im->g->initializer[k]->name, name) == 0)
            return im->g->initializer[k];
    return NULL;
}

/* The values of initializer `name` as a new array of *count floats, with
 * the count checked against the stored data before anything is allocated. */
static float *init_floats(const importer *im, const char *name, size_t *count, size_t *rows,
                          size_t *cols)
{
    const Onnx__TensorProto *t = find_init(im, name);
    size_t n, stored;
    float *v;

    if (t == NULL || t->n_dims > 2 || (n = og_tensor_count(t, MAX_COUNT)) == 0) return NULL;
    stored = t->has_raw_data && t->raw_data.len ? t->raw_data.len / 4 : t->n_float_data;
    if (stored != n || (v = malloc(n * sizeof *v)) == NULL) return NULL;
    if (og_tensor_floats(t, v, n) != 0) {
        free(v);
        return NULL;
    }
    *count = n;
    *rows = t->n_dims == 2 ? (size_t)t->dims[0] : 1;
    *cols = t->n_dims == 0 ? 1 : (size_t)t->dims[t->n_dims - 1];
    return v;
}

/* A scalar (any rank, one element) initializer equal to want. */
static int is_const(const importer *im, const char *name, float want)
{
    size_t n, r, c;
    float *v = init_floats(im, name, &n, &r, &c);
    int ok = v != NULL && n == 1 && fabsf(v[0] - want) <= 1e-6f * fabsf(want);
    free(v);
    return ok;
}

static int is_cur(const importer *im, const Onnx__NodeProto *n, size_t k)
{
    return n->n_input > k && strcmp(n->input[k], im->cur) == 0;
}

/* Of a binary node, the input that is not the chain's tensor (either order). */
static const char *other_input(const importer *im, const Onnx__NodeProto *n)
{
    if (n->n_input != 2) return NULL;
    if (is_cur(im, n, 0)) return n->input[1];
    if (is_cur(im, n, 1)) return n->input[0];
    return NULL;
}

static int add_layer(importer *im, const Onnx__NodeProto *n, float *W, size_t n_in, size_t n_out,
                     float *b)
{
    imp_layer *l = &im->layers[im->n_layers];
    if (im->n_layers > 0 && im->layers[im->n_layers - 1].n_out != n_in) {
        free(W);
        free(b);
        return refuse(im, n, "its input size differs from the previous layer's output size");
    }
    if (b == NULL && (b = calloc(n_out, sizeof *b)) == NULL) {
        free(W);
        return refuse(im, n, "out of memory");
    }
    l->n_in = n_in;
    l->n_out = n_out;
    l->W = W;
    l->b = b;
    l->act = MLP_ACT_IDENTITY;
    l->has_act = 0;
    im->n_layers++;
    return 0;
}

/* W given as (n_in x n_out), as MatMul and Gemm with transB = 0 hold it. */
static float *transposed(float *W, size_t rows, size_t cols)
{
    float *T = malloc(rows * cols * sizeof *T);
    size_t i, j;
    if (T != NULL)
        for (i = 0; i < rows; i++)
            for (j = 0; j < cols; j++) T[j * rows + i] = W[i * cols + j];
    free(W);
    return T;
}

/* alpha = beta = 1, transA = 0; *trans_b from the node (default 0). */
static const char *gemm_attrs(const Onnx__NodeProto *n, int *trans_b)
{
    size_t k;
    *trans_b = 0;
    for (k = 0; k < n->n_attribute; k++) {
        const Onnx__AttributeProto *a = n->attribute[k];
        const char *name = str(a->name);
        if (strcmp(name, "alpha") == 0 || strcmp(name, "beta") == 0) {
            if (!a->has_f || a->f != 1.0f) return "alpha and beta must be 1";
        } else if (strcmp(name, "transA") == 0) {
            if (!a->has_i || a->i != 0) return "transA must be 0";
        } else if (strcmp(name, "transB") == 0) {
            if (!a->has_i || (a->i != 0 && a->i != 1)) return "transB must be 0 or 1";
            *trans_b = (int)a->i;
        } else {
            return "unknown attribute";
        }
    }
    return NULL;
}

/* Gemm(x, W, C) or MatMul(x, W): a new layer. */
static int on_dense(importer *im, const Onnx__NodeProto *n, int gemm)
{
    size_t count, rows, cols, bc, br, bcols, n_in, n_out;
    float *W, *b = NULL;
    int trans_b = 0;
    const char *why = gemm ? gemm_attrs(n, &trans_b) : (n->n_attribute ? "unknown attribute" : NULL);

    if (why != NULL) return refuse(im, n, why);
    if (!is_cur(im, n, 0) || n->n_input < 2 || n->n_input > (gemm ? 3u : 2u))
        return refuse(im, n, "its input is not the previous layer's output and a weight initializer");
    W = init_floats(im, n->input[1], &count, &rows, &cols);
    if (W == NULL || count != rows * cols || rows < 1)
        return free(W), refuse(im, n, "the weights are not a 2-D float initializer");
    n_out = trans_b ? rows : cols;
    n_in = trans_b ? cols : rows;
    if (!trans_b && (W = transposed(W, rows, cols)) == NULL) return refuse(im, n, "out of memory");
    if (gemm && n->n_input == 3) {
        b = init_floats(im, n->input[2], &bc, &br, &bcols);
        if (b == NULL || bc != n_out || bcols != n_out)
            return free(W), free(b), refuse(im, n, "the bias is not a float initializer of the output size");
    }
    im->matmul_open = !gemm;
    return add_layer(im, n, W, n_in, n_out, b);
}

/* Add(z, b) right after a MatMul: its bias. */
static int on_add(importer *im, const Onnx__NodeProto *n)
{
    imp_layer *l = &im->layers[im->n_layers - 1];
    const char *bname = other_input(im, n);
    size_t count, rows, cols;
    float *b;

    if (!im->matmul_open || bname == NULL) return refuse(im, n, "an Add is accepted only as a MatMul's bias");
    b = init_floats(im, bname, &count, &rows, &cols);
    if (b == NULL || count != l->n_out || cols != l->n_out)
        return free(b), refuse(im, n, "the bias is not a float initializer of the output size");
    free(l->b);
    l->b = b;
    im->matmul_open = 0;
    return 0;
}

/* Sub(x, offset) then Mul(., scale) before the first layer. */
static int on_scaling(importer *im, const Onnx__NodeProto *n, int sub)
{
    const char *name = sub ? (is_cur(im, n, 0) && n->n_input == 2 ? n->input[1] : NULL) : other_input(im, n);
    size_t count, rows, cols, i;
    float *v;

    if (im->n_layers > 0 || name == NULL || (sub && im->offset != NULL) || im->scale != NULL)
        return refuse(im, n, sub ? "a Sub is accepted only as the input offset, before the first layer"
                                 : "a Mul is accepted only as the input scale, before the first layer");
    v = init_floats(im, name, &count, &rows, &cols);
    if (v == NULL || rows != 1 || (im->n_scaling && count != im->n_scaling))
        return free(v), refuse(im, n, "the operand is not a float vector initializer of the input size");
    im->n_scaling = count;
    if (sub) {
        im->offset = v;
    } else {
        im->scale = v;
        for (i = 0; i < count; i++)
            if (!isfinite(v[i])) return refuse(im, n, "the input scale is not finite");
    }
    return 0;
}

static int set_act(importer *im, const Onnx__NodeProto *n, mlp_activation act)
{
    imp_layer *l;
    if (im->n_layers == 0) return refuse(im, n, "an activation before the first layer");
    l = &im->layers[im->n_layers - 1];
    if (l->has_act) return refuse(im, n, "a second activation on one layer");
    if (im->matmul_open) im->matmul_open = 0; /* a MatMul without Add: bias 0 */
    l->act = act;
    l->has_act = 1;
    return 0;
}

/* LeakyRelu with libmlp's slope (ONNX's default alpha is the same 0.01). */
static int on_leaky(importer *im, const Onnx__NodeProto *n)
{
    size_t k;
    for (k = 0; k < n->n_attribute; k++) {
        const Onnx__AttributeProto *a = n->attribute[k];
        if (strcmp(str(a->name), "alpha") != 0 || !a->has_f || fabsf(a->f - 0.01f) > 1e-9f)
            return refuse(im, n, "only alpha = 0.01 is supported");
    }
    return set_act(im, n, MLP_ACT_LEAKY_RELU);
}

/* The five nodes of exact gelu, as onnx_export.c writes them:
 * d = Div(z, sqrt 2); e = Erf(d); p = Add(e, 1); h = Mul(z, 0.5); Mul(h, p).
 * Returns the number of nodes consumed, or -1. */
static int on_gelu(importer *im, size_t at)
{
    const Onnx__NodeProto *const *nd = (const Onnx__NodeProto *const *)im->g->node + at;
    const char *z = im->cur, *c;
    size_t k;

    if (at + 5 > im->g->n_node) return -1;
    for (k = 0; k < 5; k++)
        if (nd[k]->n_output != 1) return -1;
    if (nd[0]->n_input != 2 || !is_cur(im, nd[0], 0) ||
        !is_const(im, nd[0]->input[1], 1.41421356237309505f))
        return -1;
    if (strcmp(str(nd[1]->op_type), "Erf") || nd[1]->n_input != 1 ||
        strcmp(nd[1]->input[0], nd[0]->output[0]))
        return -1;
    if (strcmp(str(nd[2]->op_type), "Add") || nd[2]->n_input != 2) return -1;
    im->cur = nd[1]->output[0];
    c = other_input(im, nd[2]);
    im->cur = z;
    if (c == NULL || !is_const(im, c, 1.0f)) return -1;
    if (strcmp(str(nd[3]->op_type), "Mul") || (c = other_input(im, nd[3])) == NULL ||
        !is_const(im, c, 0.5f))
        return -1;
    if (strcmp(str(nd[4]->op_type), "Mul") || nd[4]->n_input != 2) return -1;
    if (!((strcmp(nd[4]->input[0], nd[3]->output[0]) == 0 &&
           strcmp(nd[4]->input[1], nd[2]->output[0]) == 0) ||
          (strcmp(nd[4]->input[1], nd[3]->output[0]) == 0 &&
           strcmp(nd[4]->input[0], nd[2]->output[0]) == 0)))
        return -1;
    return 5;
}

static int is_graph_output(const importer *im, const char *name)
{
    size_t k;
    for (k = 0; k < im->g->n_output; k++)
        if (strcmp(str(im->g->output[k]->name), name) == 0) return 1;
    return 0;
}

/* Softmax(logits, axis 1) or Sigmoid(logits) where logits is an output:
 * the probabilities head, which sets the loss and ends the chain. */
static int on_head(importer *im, const Onnx__NodeProto *n, mlp_loss loss)
{
    size_t k;
    if (im->n_layers == 0) return refuse(im, n, "a head before the first layer");
    for (k = 0; k < n->n_attribute; k++) {
        const Onnx__AttributeProto *a = n->attribute[k];
        if (loss != MLP_LOSS_SOFTMAX_CE || strcmp(str(a->name), "axis") != 0 || !a->has_i ||
            (a->i != 1 && a->i != -1))
            return refuse(im, n, "only a Softmax over axis 1 is supported");
    }
    im->matmul_open = 0;
    im->loss = (int)loss;
    im->head_done = 1;
    im->head_out = n->output[0];
    return 0;
}

/* One node of the chain; *used: how many nodes it consumed. */
static int on_node(importer *im, size_t at, size_t *used)
{
    const Onnx__NodeProto *n = im->g->node[at];
    const char *op = str(n->op_type), *dom = str(n->domain);
    int k;

    *used = 1;
    if ((*dom && strcmp(dom, "ai.onnx") != 0) || n->n_output != 1)
        return refuse(im, n, "unsupported node (not a default-domain node with one output)");
    if (im->head_done) return refuse(im, n, "unsupported node after the output head");
    if (strcmp(op, "Identity") == 0) return is_cur(im, n, 0) ? 0 : refuse(im, n, "unsupported node");
    if (strcmp(op, "Gemm") == 0) return on_dense(im, n, 1);
    if (strcmp(op, "MatMul") == 0) return on_dense(im, n, 0);
    if (strcmp(op, "Sub") == 0) return on_scaling(im, n, 1);
    if (strcmp(op, "Mul") == 0) return on_scaling(im, n, 0);
    if (strcmp(op, "Add") == 0) return on_add(im, n);
    if (n->n_input != 1 || !is_cur(im, n, 0)) {
        if (strcmp(op, "Div") == 0 && (k = on_gelu(im, at)) > 0) {
            *used = (size_t)k;
            return set_act(im, n, MLP_ACT_GELU);
        }
        return refuse(im, n, "unsupported node (not on the chain of dense layers)");
    }
    if (n->n_attribute && strcmp(op, "LeakyRelu") != 0 && strcmp(op, "Softmax") != 0)
        return refuse(im, n, "unsupported attribute");
    if (strcmp(op, "Relu") == 0) return set_act(im, n, MLP_ACT_RELU);
    if (strcmp(op, "Tanh") == 0) return set_act(im, n, MLP_ACT_TANH);
    if (strcmp(op, "Softplus") == 0) return set_act(im, n, MLP_ACT_SOFTPLUS);
    if (strcmp(op, "LeakyRelu") == 0) return on_leaky(im, n);
    if (strcmp(op, "Softmax") == 0) return on_head(im, n, MLP_LOSS_SOFTMAX_CE);
    if (strcmp(op, "Sigmoid") == 0) {
        if (is_graph_output(im, im->cur)) return on_head(im, n, MLP_LOSS_SIGMOID_CE);
        return set_act(im, n, MLP_ACT_SIGMOID);
    }
    return refuse(im, n, "unsupported node");
}

/* The one graph input that is not an initializer: a float (N, n_in) tensor. */
static int find_input(importer *im)
{
    size_t k;
    for (k = 0; k < im->g->n_input; k++) {
        const Onnx__ValueInfoProto *v = im->g->input[k];
        const Onnx__TypeProto *tp = v->type;
        if (v->name == NULL || find_init(im, v->name) != NULL) continue;
        if (im->cur != NULL)
            return cli_error(CLI_FAIL, im->cmd, "%s: more than one graph input", im->path);
        if (tp != NULL && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
            tp->tensor_type->has_elem_type &&
            tp->tensor_type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
            return cli_error(CLI_FAIL, im->cmd, "%s: the graph input is not float", im->path);
        im->cur = v->name;
    }
    if (im->cur == NULL) return cli_error(CLI_FAIL, im->cmd, "%s: the graph has no input", im->path);
    im->input = im->cur;
    return 0;
}

/* The column count the graph input declares, or -1 when it names none. */
static int64_t input_cols(const importer *im)
{
    size_t k;
    for (k = 0; k < im->g->n_input; k++) {
        const Onnx__ValueInfoProto *v = im->g->input[k];
        const Onnx__TensorShapeProto *sh;
        if (v->name == NULL || strcmp(v->name, im->input) != 0 || v->type == NULL ||
            v->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
            (sh = v->type->tensor_type->shape) == NULL)
            continue;
        if (sh->n_dim != 2) return 0; /* never a layer's size: refused */
        if (sh->dim[1]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            return sh->dim[1]->dim_value;
    }
    return -1;
}

/* Walks the nodes in file order (ONNX requires topological order). */
static int walk(importer *im)
{
    size_t at = 0, used;
    char buf[68];
    if (find_input(im)) return -1;
    if (im->g->n_node == 0) return cli_error(CLI_FAIL, im->cmd, "%s: the graph has no nodes", im->path);
    if ((im->layers = calloc(im->g->n_node, sizeof *im->layers)) == NULL)
        return cli_error(CLI_FAIL, im->cmd, "out of memory");
    while (at < im->g->n_node) {
        if (on_node(im, at, &used)) return -1;
        if (!im->head_done) im->cur = im->g->node[at + used - 1]->output[0];
        at += used;
    }
    if (im->n_layers == 0) return cli_error(CLI_FAIL, im->cmd, "%s: no dense layer", im->path);
    for (at = 0; at < im->g->n_output; at++) {
        const char *o = str(im->g->output[at]->name);
        if (strcmp(o, im->cur) != 0 && (im->head_out == NULL || strcmp(o, im->head_out) != 0))
            return cli_error(CLI_FAIL, im->cmd, "%s: output '%s' is not the end of the chain",
                             im->path, shown(o, buf, sizeof buf));
    }
    if (!is_graph_output(im, im->cur) && im->head_out == NULL)
        return cli_error(CLI_FAIL, im->cmd, "%s: the chain's end '%s' is not a graph output",
                         im->path, shown(im->cur, buf, sizeof buf));
    if (input_cols(im) >= 0 && (size_t)input_cols(im) != im->layers[0].n_in)
        return cli_error(CLI_FAIL, im->cmd, "%s: the graph input has %lld columns, the first layer %zu",
                         im->path, (long long)input_cols(im), im->layers[0].n_in);
    if (im->n_scaling && im->n_scaling != im->layers[0].n_in)
        return cli_error(CLI_FAIL, im->cmd, "%s: the input scaling has %zu values for %zu inputs",
                         im->path, im->n_scaling, im->layers[0].n_in);
    return 0;
}

/* Without a head, the loss our export names in the metadata, else mse. */
static mlp_loss loss_of(const importer *im, const Onnx__ModelProto *m)
{
    size_t k;
    mlp_loss loss;
    if (im->loss >= 0) return (mlp_loss)im->loss;
    for (k = 0; k < m->n_metadata_props; k++)
        if (strcmp(str(m->metadata_props[k]->key), "loss") == 0 &&
            mlp_loss_parse(str(m->metadata_props[k]->value), &loss) == MLP_OK &&
            loss == MLP_LOSS_MSE)
            return loss;
    return MLP_LOSS_MSE;
}

static int build(importer *im, const Onnx__ModelProto *m, mlp_network **out)
{
    size_t i, L = im->n_layers;
    size_t *sizes = malloc((L + 1) * sizeof *sizes);
    mlp_activation *acts = malloc(L * sizeof *acts);
    mlp_network *net = NULL;
    mlp_status st = MLP_ERR_NOMEM;

    if (sizes != NULL && acts != NULL) {
        sizes[0] = im->layers[0].n_in;
        for (i = 0; i < L; i++) {
            sizes[i + 1] = im->layers[i].n_out;
            acts[i] = im->layers[i].act;
        }
        st = mlp_create(&net, L, sizes, acts, 0);
    }
    for (i = 0; st == MLP_OK && i < L; i++) {
        const imp_layer *l = &im->layers[i];
        st = mlp_set_weights(net, i, l->W, l->n_in * l->n_out);
        if (st == MLP_OK) st = mlp_set_bias(net, i, l->b, l->n_out);
    }
    if (st == MLP_OK) st = mlp_set_loss(net, loss_of(im, m));
    if (st == MLP_OK && im->n_scaling) {
        float *off = im->offset, *sc = im->scale;
        if (off == NULL) off = im->offset = calloc(im->n_scaling, sizeof *off);
        if (sc == NULL && (sc = im->scale = malloc(im->n_scaling * sizeof *sc)) != NULL)
            for (i = 0; i < im->n_scaling; i++) sc[i] = 1.0f;
        st = off != NULL && sc != NULL ? mlp_set_input_scaling(net, off, sc) : MLP_ERR_NOMEM;
    }
    free(sizes);
    free(acts);
    if (st != MLP_OK) {
        mlp_destroy(net);
        return cli_lib_error(im->cmd, im->path, st);
    }
    *out = net;
    return 0;
}

/* The whole file, at most MAX_FILE bytes. */
static uint8_t *read_all(const char *cmd, const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (f == NULL) return cli_error(CLI_FAIL, cmd, "%s: cannot open", path), NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > MAX_FILE || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return cli_error(CLI_FAIL, cmd, "%s: cannot read (or larger than 2 GiB)", path), NULL;
    }
    buf = malloc(n ? (size_t)n : 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return cli_error(CLI_FAIL, cmd, "%s: read failed", path), NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void importer_free(importer *im)
{
    size_t i;
    for (i = 0; i < im->n_layers; i++) {
        free(im->layers[i].W);
        free(im->layers[i].b);
    }
    free(im->layers);
    free(im->offset);
    free(im->scale);
}

int cli_onnx_import(const char *cmd, const char *path, mlp_network **out)
{
    importer im;
    size_t size = 0;
    uint8_t *buf = read_all(cmd, path, &size);
    Onnx__ModelProto *m;
    int rc = CLI_FAIL;

    if (buf == NULL) return CLI_FAIL;
    m = onnx__model_proto__unpack(NULL, size, buf);
    free(buf);
    if (m == NULL || m->graph == NULL) {
        if (m != NULL) onnx__model_proto__free_unpacked(m, NULL);
        return cli_error(CLI_FAIL, cmd, "%s: not an ONNX model (truncated, corrupt or another format)",
                         path);
    }
    memset(&im, 0, sizeof im);
    im.cmd = cmd;
    im.path = path;
    im.g = m->graph;
    im.loss = -1;
    if (walk(&im) == 0 && build(&im, m, out) == 0) rc = 0;
    importer_free(&im);
    onnx__model_proto__free_unpacked(m, NULL);
    return rc;
}
