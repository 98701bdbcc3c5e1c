/* mlp export --format c: one C99 source file and its header that compute
 * the network's forward pass with nothing but <math.h>: weights as static
 * const arrays, stack buffers sized by the widest layer, no allocation and
 * no mutable global state. The activations are written exactly as libmlp
 * computes them (src/activation.c, src/scalar.h). */
#include "cli.h"
#include "export_c.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct cgen {
    FILE *f;
    const mlp_network *net;
    const char *p; /* the prefix */
    int int8;
    size_t L;
} cgen;

/* The helper each activation becomes; {p} stands for the prefix. */
static const char *const act_code[MLP_ACT_COUNT_] = {
    NULL,
    "static float {p}_sigmoid(float z)\n{\n    float e;\n"
    "    if (z >= 0.0f) return 1.0f / (1.0f + expf(-z));\n"
    "    e = expf(z);\n    return e / (1.0f + e);\n}\n",
    "static float {p}_tanh(float z) { return tanhf(z); }\n",
    "static float {p}_relu(float z) { return z > 0.0f ? z : 0.0f; }\n",
    "static float {p}_leaky_relu(float z) { return z > 0.0f ? z : 0.01f * z; }\n",
    "/* exact gelu: z * Phi(z) */\n"
    "static float {p}_gelu(float z) { return 0.5f * z * (1.0f + erff(z * 0.70710678118654752f)); }\n",
    "/* log(1 + e^z), without overflow */\n"
    "static float {p}_softplus(float z) { return fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z))); }\n",
};

/* Prints text with every {p} replaced by the prefix. */
static void put_code(const cgen *g, const char *text)
{
    const char *s;
    while ((s = strstr(text, "{p}")) != NULL) {
        fwrite(text, 1, (size_t)(s - text), g->f);
        fputs(g->p, g->f);
        text = s + 3;
    }
    fputs(text, g->f);
}

/* A float literal that reads back as exactly v ("%.9g" round-trips). */
static void put_float(FILE *f, float v)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%.9g", (double)v);
    fputs(buf, f);
    if (strpbrk(buf, ".e") == NULL) fputs(".0", f);
    fputc('f', f);
}

static void put_floats(const cgen *g, const char *name, const float *v, size_t n)
{
    size_t i;
    fprintf(g->f, "static const float %s_%s[%zu] = {", g->p, name, n);
    for (i = 0; i < n; i++) {
        fputs(i % 8 ? ", " : (i ? ",\n    " : "\n    "), g->f);
        put_float(g->f, v[i]);
    }
    fputs("\n};\n", g->f);
}

/* Symmetric int8 per output row: q = round(w / s), s = max|w_row| / 127. */
static void put_int8_rows(const cgen *g, size_t i, const float *W, size_t n_out, size_t n_in,
                          float *scale)
{
    size_t r, c;
    fprintf(g->f, "static const signed char %s_q%zu[%zu] = {", g->p, i, n_out * n_in);
    for (r = 0; r < n_out; r++) {
        const float *w = W + r * n_in;
        float m = 0.0f;
        for (c = 0; c < n_in; c++) m = fmaxf(m, fabsf(w[c]));
        scale[r] = m / 127.0f;
        for (c = 0; c < n_in; c++) {
            long q = scale[r] > 0.0f ? lroundf(w[c] / scale[r]) : 0;
            q = q > 127 ? 127 : (q < -127 ? -127 : q);
            fputs((r * n_in + c) % 16 ? ", " : (r + c ? ",\n    " : "\n    "), g->f);
            fprintf(g->f, "%ld", q);
        }
    }
    fputs("\n};\n", g->f);
}

static int all_finite(const float *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

/* Layer i's weights (float, or int8 and row scales) and bias. */
static int put_layer(const cgen *g, size_t i)
{
    size_t n_in = mlp_layer_size(g->net, i), n_out = mlp_layer_size(g->net, i + 1);
    float *W = malloc(n_in * n_out * sizeof *W), *b = malloc(n_out * sizeof *b);
    float *s = malloc(n_out * sizeof *s);
    char name[32];
    int rc = -1;

    if (W != NULL && b != NULL && s != NULL &&
        mlp_get_weights(g->net, i, W, n_in * n_out) == MLP_OK &&
        mlp_get_bias(g->net, i, b, n_out) == MLP_OK && all_finite(W, n_in * n_out) &&
        all_finite(b, n_out)) {
        if (g->int8) {
            put_int8_rows(g, i, W, n_out, n_in, s);
            snprintf(name, sizeof name, "s%zu", i);
            put_floats(g, name, s, n_out);
        } else {
            snprintf(name, sizeof name, "w%zu", i);
            put_floats(g, name, W, n_in * n_out);
        }
        snprintf(name, sizeof name, "b%zu", i);
        put_floats(g, name, b, n_out);
        rc = 0;
    }
    free(W);
    free(b);
    free(s);
    return rc;
}

static int put_scaling(const cgen *g)
{
    size_t n = mlp_input_size(g->net);
    float *off = malloc(n * sizeof *off), *sc = malloc(n * sizeof *sc);
    int rc = -1;
    if (off != NULL && sc != NULL && mlp_get_input_scaling(g->net, off, sc) == MLP_OK &&
        all_finite(off, n) && all_finite(sc, n)) {
        put_floats(g, "in_offset", off, n);
        put_floats(g, "in_scale", sc, n);
        rc = 0;
    }
    free(off);
    free(sc);
    return rc;
}

/* The dense kernel (one for the weight type) and the activations in use. */
static void put_helpers(const cgen *g)
{
    int used[MLP_ACT_COUNT_] = {0}, a;
    size_t i;

    if (g->int8)
        put_code(g, "\n/* z = Q x * s + b, row by row: Q (n_out x n_in) int8, s one scale per row */\n"
                    "static void {p}_dense(const signed char *Q, const float *s, const float *b,\n"
                    "                      const float *x, float *z, long n_in, long n_out)\n{\n"
                    "    long j, i;\n    for (j = 0; j < n_out; j++) {\n"
                    "        const signed char *q = Q + j * n_in;\n        float acc = 0.0f;\n"
                    "        for (i = 0; i < n_in; i++) acc += (float)q[i] * x[i];\n"
                    "        z[j] = acc * s[j] + b[j];\n    }\n}\n");
    else
        put_code(g, "\n/* z = W x + b, row by row: W (n_out x n_in) as libmlp holds it */\n"
                    "static void {p}_dense(const float *W, const float *b, const float *x, float *z,\n"
                    "                      long n_in, long n_out)\n{\n"
                    "    long j, i;\n    for (j = 0; j < n_out; j++) {\n"
                    "        const float *w = W + j * n_in;\n        float acc = 0.0f;\n"
                    "        for (i = 0; i < n_in; i++) acc += w[i] * x[i];\n"
                    "        z[j] = acc + b[j];\n    }\n}\n");
    for (i = 0; i < g->L; i++) used[mlp_layer_activation(g->net, i)] = 1;
    for (a = 0; a < MLP_ACT_COUNT_; a++)
        if (used[a] && act_code[a] != NULL) {
            fputc('\n', g->f);
            put_code(g, act_code[a]);
        }
}

/* The body of predict, into a memory stream: which of the two stack
 * buffers it uses is known only once it is written. */
static void put_body(const cgen *g, FILE *f, int *used)
{
    size_t i;
    int scaled = mlp_has_input_scaling(g->net), cur = -1; /* -1: x, 0: a, 1: c */
    static const char *const buf[2] = {"a", "c"};

    if (scaled) {
        fprintf(f, "    for (i = 0; i < %zu; i++) a[i] = (x[i] - %s_in_offset[i]) * %s_in_scale[i];\n",
                mlp_input_size(g->net), g->p, g->p);
        cur = 0;
        used[0] = used[2] = 1;
    }
    for (i = 0; i < g->L; i++) {
        mlp_activation act = mlp_layer_activation(g->net, i);
        int last = i + 1 == g->L, next = cur == 0 ? 1 : 0;
        const char *in = cur < 0 ? "x" : buf[cur], *out = last ? "y" : buf[next];
        size_t n_out = mlp_layer_size(g->net, i + 1);
        if (g->int8)
            fprintf(f, "    %s_dense(%s_q%zu, %s_s%zu, %s_b%zu, %s, %s, %zu, %zu);\n", g->p, g->p, i,
                    g->p, i, g->p, i, in, out, mlp_layer_size(g->net, i), n_out);
        else
            fprintf(f, "    %s_dense(%s_w%zu, %s_b%zu, %s, %s, %zu, %zu);\n", g->p, g->p, i, g->p, i,
                    in, out, mlp_layer_size(g->net, i), n_out);
        if (act != MLP_ACT_IDENTITY) {
            fprintf(f, "    for (i = 0; i < %zu; i++) %s[i] = %s_%s(%s[i]);\n", n_out, out, g->p,
                    mlp_activation_name(act), out);
            used[2] = 1;
        }
        if (!last) used[next] = 1;
        cur = next;
    }
}

static int put_predict(const cgen *g)
{
    char *body = NULL;
    size_t len = 0, i, wide = 0;
    int used[3] = {0, 0, 0}; /* buffer a, buffer c, the index i */
    FILE *m = open_memstream(&body, &len);

    if (m == NULL) return -1;
    put_body(g, m, used);
    if (fclose(m) != 0 || body == NULL) return free(body), -1;
    if (mlp_has_input_scaling(g->net)) wide = mlp_input_size(g->net);
    for (i = 1; i < g->L; i++)
        if (mlp_layer_size(g->net, i) > wide) wide = mlp_layer_size(g->net, i);
    fprintf(g->f, "\nvoid %s_predict(const float *x, float *y)\n{\n", g->p);
    if (used[0]) fprintf(g->f, "    float a[%zu];\n", wide);
    if (used[1]) fprintf(g->f, "    float c[%zu];\n", wide);
    if (used[2]) fprintf(g->f, "    long i;\n");
    if (used[0] || used[1] || used[2]) fputc('\n', g->f);
    fputs(body, g->f);
    fputs("}\n", g->f);
    free(body);
    return 0;
}

/* Softmax cross-entropy: the largest output; sigmoid cross-entropy: the
 * same, or for one output whether its logit is positive. */
static int is_classifier(const mlp_network *net)
{
    mlp_loss loss = mlp_get_loss(net);
    return loss == MLP_LOSS_SOFTMAX_CE || loss == MLP_LOSS_SIGMOID_CE;
}

static void put_predict_class(const cgen *g)
{
    size_t n_out = mlp_output_size(g->net);
    fprintf(g->f, "\nint %s_predict_class(const float *x)\n{\n    float y[%zu];\n", g->p, n_out);
    if (n_out == 1) {
        fprintf(g->f, "\n    %s_predict(x, y);\n    return y[0] > 0.0f;\n}\n", g->p);
        return;
    }
    fprintf(g->f, "    int k, best = 0;\n\n    %s_predict(x, y);\n", g->p);
    fprintf(g->f, "    for (k = 1; k < %zu; k++)\n        if (y[k] > y[best]) best = k;\n", n_out);
    fputs("    return best;\n}\n", g->f);
}

static void put_header(const cgen *g, FILE *f, const char *guard)
{
    size_t i, L = g->L;
    char up[128];

    for (i = 0; g->p[i] && i + 1 < sizeof up; i++) up[i] = (char)toupper((unsigned char)g->p[i]);
    up[i] = '\0';
    fprintf(f, "/* Generated by `mlp export --format c` (libmlp %s). */\n", mlp_version());
    fprintf(f, "#ifndef %s\n#define %s\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", guard, guard);
    fprintf(f, "/* Network: ");
    for (i = 0; i <= L; i++) fprintf(f, "%s%zu", i ? "-" : "", mlp_layer_size(g->net, i));
    fprintf(f, "; activations:");
    for (i = 0; i < L; i++) fprintf(f, " %s", mlp_activation_name(mlp_layer_activation(g->net, i)));
    fprintf(f, "; loss %s%s%s. */\n", mlp_loss_name(mlp_get_loss(g->net)),
            mlp_has_input_scaling(g->net) ? "; input scaling included" : "",
            g->int8 ? "; weights int8, one float scale per output row" : "");
    fprintf(f, "#define %s_N_INPUTS %zu\n#define %s_N_OUTPUTS %zu\n\n", up, mlp_input_size(g->net), up,
            mlp_output_size(g->net));
    fprintf(f, "/* y (%s_N_OUTPUTS floats) = the network's output (libmlp's forward pass)\n"
               " * for one input row x (%s_N_INPUTS floats, raw: the scaling is inside).\n"
               " * Reentrant: uses only the stack. */\n"
               "void %s_predict(const float *x, float *y);\n", up, up, g->p);
    if (is_classifier(g->net))
        fprintf(f, "/* The predicted class of x. */\nint %s_predict_class(const float *x);\n", g->p);
    fprintf(f, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s */\n", guard);
}

/* The header's path (c_path with .h for .c, or .h appended) and the
 * guard macro made from its file name. */
static char *header_path(const char *c_path, char *guard, size_t cap)
{
    size_t n = strlen(c_path), i, k = 0;
    char *h = malloc(n + 3);
    const char *base;

    if (h == NULL) return NULL;
    strcpy(h, c_path);
    if (n >= 2 && strcmp(h + n - 2, ".c") == 0) h[n - 1] = 'h';
    else strcat(h, ".h");
    base = strrchr(h, '/') ? strrchr(h, '/') + 1 : h;
    for (i = 0; base[i] && k + 2 < cap; i++)
        guard[k++] = isalnum((unsigned char)base[i]) ? (char)toupper((unsigned char)base[i]) : '_';
    guard[k] = '\0';
    if (!isalpha((unsigned char)guard[0])) guard[0] = 'H';
    return h;
}

static int write_source(const cgen *g, const char *h_base)
{
    size_t i, L = g->L;
    fprintf(g->f, "/* Generated by `mlp export --format c` (libmlp %s): the forward pass of\n"
                  " * a libmlp network. Needs only <math.h>; no allocation, no mutable state. */\n",
            mlp_version());
    fprintf(g->f, "#include \"%s\"\n\n#include <math.h>\n\n", h_base);
    if (mlp_has_input_scaling(g->net) && put_scaling(g)) return -1;
    for (i = 0; i < L; i++)
        if (put_layer(g, i)) return -1;
    put_helpers(g);
    if (put_predict(g)) return -1;
    if (is_classifier(g->net)) put_predict_class(g);
    return 0;
}

int cli_export_c(const char *cmd, const mlp_network *net, const char *c_path, const char *prefix,
                 int int8)
{
    char guard[160];
    char *h_path = header_path(c_path, guard, sizeof guard);
    const char *h_base;
    cgen g;
    FILE *hf;
    int ok;

    if (h_path == NULL) return cli_error(CLI_FAIL, cmd, "out of memory");
    h_base = strrchr(h_path, '/') ? strrchr(h_path, '/') + 1 : h_path;
    g.net = net;
    g.p = prefix;
    g.int8 = int8;
    g.L = mlp_num_layers(net);
    g.f = fopen(c_path, "w");
    hf = g.f != NULL ? fopen(h_path, "w") : NULL;
    if (g.f == NULL || hf == NULL) {
        if (g.f != NULL) fclose(g.f);
        cli_error(CLI_FAIL, cmd, "%s: cannot open for writing", g.f == NULL ? c_path : h_path);
        free(h_path);
        return CLI_FAIL;
    }
    put_header(&g, hf, guard);
    ok = write_source(&g, h_base) == 0;
    ok = !ferror(g.f) && !ferror(hf) && ok;
    ok = (fclose(g.f) == 0) && ok;
    ok = (fclose(hf) == 0) && ok;
    if (!ok) {
        remove(c_path);
        remove(h_path);
        cli_error(CLI_FAIL, cmd, "%s: could not write the C export (out of memory, a write failure "
                                 "or a non-finite parameter)", c_path);
    }
    free(h_path);
    return ok ? 0 : CLI_FAIL;
}
