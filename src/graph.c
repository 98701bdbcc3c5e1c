/* The computation graph as Graphviz DOT: the forward pass in solid black,
 * the error terms flowing back in dashed red. Layers are numbered 1..L as
 * in the mathematics. */
#include "network.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Writes into a buffer (counting what does not fit) or to a stream. */
typedef struct sink {
    char *buf;
    size_t cap, len;
    FILE *f;
    int failed;
} sink;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(sink *s, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    if (s->f) {
        if (vfprintf(s->f, fmt, ap) < 0) s->failed = 1;
    } else {
        size_t room = s->len < s->cap ? s->cap - s->len : 0;
        n = vsnprintf(room ? s->buf + s->len : NULL, room, fmt, ap);
        if (n < 0) s->failed = 1;
        else s->len += (size_t)n;
    }
    va_end(ap);
}

static void emit(const mlp_network *net, sink *s)
{
    const size_t L = net->n_layers;
    size_t l;
    put(s, "digraph mlp {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n"
           "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    put(s, "  x [shape=box, label=\"x = a(0)\\n%zu%s\"];\n", net->sizes[0],
        net->in_offset ? "\\n(scaled: (x - offset) * scale)" : "");
    put(s, "  y [shape=box, label=\"y (targets)\"];\n");
    for (l = 1; l <= L; l++) {
        const mlp__layer *ly = &net->layers[l - 1];
        put(s, "  W%zu [shape=box, style=filled, fillcolor=\"#e8eefc\", label=\"W(%zu)\\n%zu x %zu\"];\n",
            l, l, ly->n_out, ly->n_in);
        put(s, "  b%zu [shape=box, style=filled, fillcolor=\"#e8eefc\", label=\"b(%zu)\\n%zu\"];\n", l, l,
            ly->n_out);
        put(s, "  z%zu [label=\"z(%zu) = W(%zu) a(%zu) + b(%zu)\"];\n", l, l, l, l - 1, l);
        put(s, "  a%zu [label=\"a(%zu) = %s(z(%zu))\"];\n", l, l, mlp_activation_name(ly->act), l);
        if (l == 1) put(s, "  x -> z1");
        else put(s, "  a%zu -> z%zu", l - 1, l);
        /* Dropout acts on the layer's input, in training only. */
        if (ly->dropout > 0.0f) put(s, " [label=\"dropout %g (training)\"]", (double)ly->dropout);
        put(s, ";\n");
        put(s, "  W%zu -> z%zu;\n  b%zu -> z%zu;\n  z%zu -> a%zu;\n", l, l, l, l, l, l);
    }
    put(s, "  L [shape=ellipse, style=filled, fillcolor=\"#fdf2d0\", label=\"L = mean %s(a(%zu), y)\"];\n",
        mlp_loss_name(net->loss), L);
    put(s, "  s [shape=ellipse, style=filled, fillcolor=\"#fdf2d0\", "
           "label=\"s = λ/2 Σ‖W(l)‖²\\nλ = %g\"];\n", (double)net->l2);
    put(s, "  J [shape=doubleoctagon, style=filled, fillcolor=\"#fdf2d0\", label=\"J = L + s\"];\n");
    put(s, "  a%zu -> L;\n  y -> L;\n  L -> J;\n  s -> J;\n", L);
    for (l = 1; l <= L; l++) put(s, "  W%zu -> s [style=dotted];\n", l);

    /* Backward: error terms and the gradients they give. */
    put(s, "  edge [color=\"#c0392b\", fontcolor=\"#c0392b\", style=dashed];\n");
    put(s, "  node [color=\"#c0392b\", fontcolor=\"#c0392b\"];\n");
    put(s, "  d%zu [label=\"δ(%zu) = ∂L/∂z(%zu)\"];\n  J -> d%zu [label=\"%s\"];\n", L, L, L, L,
        net->loss == MLP_LOSS_SOFTMAX_CE   ? "softmax(a) - onehot(y)"
        : net->loss == MLP_LOSS_SIGMOID_CE ? "sigmoid(a) - y"
                                            : "a - y");
    for (l = L; l >= 1; l--) {
        put(s, "  gW%zu [shape=box, label=\"∂J/∂W(%zu) = δ(%zu) a(%zu)ᵀ + λ W(%zu)\"];\n", l, l,
            l, l - 1, l);
        put(s, "  gb%zu [shape=box, label=\"∂J/∂b(%zu) = Σ over the batch of δ(%zu)\"];\n", l, l, l);
        put(s, "  d%zu -> gW%zu;\n  d%zu -> gb%zu;\n", l, l, l, l);
        if (l > 1) {
            put(s, "  d%zu [label=\"δ(%zu) = f'(z(%zu)) ⊙ W(%zu)ᵀ δ(%zu)\"];\n", l - 1, l - 1,
                l - 1, l, l);
            put(s, "  d%zu -> d%zu [label=\"W(%zu)ᵀ\"];\n", l, l - 1, l);
        }
    }
    put(s, "}\n");
}

mlp_status mlp_graph_dot(const mlp_network *net, char *buf, size_t cap, size_t *needed)
{
    sink s = {NULL, 0, 0, NULL, 0};
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(needed);
    if (!buf && cap) return mlp__fail(MLP_ERR_NULL, "mlp_graph_dot: buf is NULL but cap is %zu", cap);
    s.buf = buf;
    s.cap = cap;
    emit(net, &s);
    if (s.failed) return mlp__fail(MLP_ERR_IO, "formatting the graph failed");
    *needed = s.len + 1;
    if (s.len + 1 > cap)
        return mlp__fail(MLP_ERR_BUFFER, "the graph needs %zu bytes, the buffer has %zu", s.len + 1, cap);
    return MLP_OK;
}

mlp_status mlp_graph_write(const mlp_network *net, FILE *f)
{
    sink s = {NULL, 0, 0, NULL, 0};
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(f);
    s.f = f;
    emit(net, &s);
    if (s.failed) return mlp__fail(MLP_ERR_IO, "writing the graph failed");
    return MLP_OK;
}
