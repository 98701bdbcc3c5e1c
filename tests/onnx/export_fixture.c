/* The libmlp side of the export tests (check_export.py):
 *   export_fixture make DIR      one model per activation x scaling x loss,
 *                                its inputs and libmlp's outputs, listed in
 *                                DIR/cases.txt
 *   export_fixture forward MODEL IN.f32 ROWS OUT.f32
 *   export_fixture dequant MODEL OUT.mlp
 *                                the model with each weight replaced by its
 *                                int8 value times its row's scale, as
 *                                `mlp export --quantize int8` rounds it
 * Files hold raw little-endian float32 (this runs on little-endian hosts). */
#include <mlp.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 1000
#define N_IN 5
#define HIDDEN1 16
#define HIDDEN2 12

static int fail(const char *what)
{
    fprintf(stderr, "export_fixture: %s: %s\n", what, mlp_last_error());
    return 1;
}

static int write_f32(const char *dir, const char *name, const float *v, size_t n)
{
    char path[1024];
    FILE *f;
    int ok;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((f = fopen(path, "wb")) == NULL) return -1;
    ok = fwrite(v, sizeof *v, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static double uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* Shifts each layer's b and scales its W and b so that its pre-activations
 * over X span [-10, 10], and checks that they cover at least [-6, 6]: a
 * wrong gelu or softplus cannot hide near zero. A naive double forward
 * pass. */
static int spread(mlp_network *net, const float *X)
{
    size_t L = mlp_num_layers(net), l, r, i, j, width = N_IN;
    double *a = malloc(ROWS * 32 * sizeof *a), *z = malloc(ROWS * 32 * sizeof *z);
    float W[32 * 32], b[32], off[N_IN], sc[N_IN];
    int scaled = mlp_has_input_scaling(net), rc = 0;

    if (scaled) mlp_get_input_scaling(net, off, sc);
    for (r = 0; r < ROWS; r++)
        for (i = 0; i < N_IN; i++)
            a[r * 32 + i] = scaled ? (double)((X[r * N_IN + i] - off[i]) * sc[i]) : X[r * N_IN + i];
    for (l = 0; l < L && rc == 0; l++) {
        size_t n_out = mlp_layer_size(net, l + 1);
        double lo = HUGE_VAL, hi = -HUGE_VAL, k, mid;
        mlp_get_weights(net, l, W, n_out * width);
        mlp_get_bias(net, l, b, n_out);
        for (r = 0; r < ROWS; r++)
            for (j = 0; j < n_out; j++) {
                double s = b[j];
                for (i = 0; i < width; i++) s += (double)W[j * width + i] * a[r * 32 + i];
                z[r * 32 + j] = s;
                lo = fmin(lo, s);
                hi = fmax(hi, s);
            }
        mid = 0.5 * (lo + hi);
        k = 20.0 / (hi - lo);
        for (i = 0; i < n_out * width; i++) W[i] = (float)(W[i] * k);
        for (j = 0; j < n_out; j++) b[j] = (float)((b[j] - mid) * k);
        lo = (lo - mid) * k;
        hi = (hi - mid) * k;
        if (lo > -6 || hi < 6) {
            fprintf(stderr, "layer %zu: z in [%g, %g]\n", l, lo, hi);
            rc = -1;
        }
        mlp_set_weights(net, l, W, n_out * width);
        mlp_set_bias(net, l, b, n_out);
        for (r = 0; r < ROWS; r++)
            for (j = 0; j < n_out; j++) {
                double v = (z[r * 32 + j] - mid) * k;
                switch (mlp_layer_activation(net, l)) {
                case MLP_ACT_SIGMOID: v = 1 / (1 + exp(-v)); break;
                case MLP_ACT_TANH: v = tanh(v); break;
                case MLP_ACT_RELU: v = v > 0 ? v : 0; break;
                case MLP_ACT_LEAKY_RELU: v = v > 0 ? v : 0.01 * v; break;
                case MLP_ACT_GELU: v = 0.5 * v * (1 + erf(v / sqrt(2.0))); break;
                case MLP_ACT_SOFTPLUS: v = fmax(v, 0) + log1p(exp(-fabs(v))); break;
                default: break;
                }
                a[r * 32 + j] = v;
            }
        width = n_out;
    }
    free(a);
    free(z);
    return rc;
}

/* One case: N_IN-16-12-n_out, act on both hidden layers (and on the output
 * layer too for mse, where no head follows). */
static int make_case(const char *dir, FILE *list, mlp_activation act, int scaled, mlp_loss loss)
{
    size_t sizes[4] = {N_IN, HIDDEN1, HIDDEN2, 4}, i, n_out;
    mlp_activation acts[3];
    static float X[ROWS * N_IN], Y[ROWS * 4];
    float off[N_IN], sc[N_IN];
    char sub[1024], name[128], cmd[1200];
    uint64_t s = 1000u * act + 10u * scaled + loss;
    mlp_network *net = NULL;

    if (loss == MLP_LOSS_MSE) sizes[3] = 3;
    n_out = sizes[3];
    acts[0] = acts[1] = act;
    acts[2] = loss == MLP_LOSS_MSE ? act : MLP_ACT_IDENTITY;
    if (mlp_create(&net, 3, sizes, acts, 7 + s) != MLP_OK) return fail("mlp_create");
    mlp_set_loss(net, loss);
    for (i = 0; i < ROWS * N_IN; i++) X[i] = (float)(uniform(&s) * 6.0 - 3.0);
    for (i = 0; i < N_IN; i++) {
        off[i] = (float)(uniform(&s) * 2.0 - 1.0);
        sc[i] = (float)(0.5 + 1.5 * uniform(&s));
    }
    if (scaled) mlp_set_input_scaling(net, off, sc);
    if (spread(net, X)) return fprintf(stderr, "export_fixture: pre-activations do not span +-6\n"), 1;
    snprintf(name, sizeof name, "%s_%s_%s", mlp_activation_name(act), scaled ? "scaled" : "raw",
             mlp_loss_name(loss));
    snprintf(sub, sizeof sub, "%s/%s", dir, name);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", sub);
    if (system(cmd) != 0) return fail("mkdir");
    snprintf(cmd, sizeof cmd, "%s/model.mlp", sub);
    if (mlp_save(net, cmd) != MLP_OK) return fail("mlp_save");
    if (write_f32(sub, "x.f32", X, ROWS * N_IN)) return fail("write x");
    if (mlp_forward(net, X, ROWS, Y) != MLP_OK || write_f32(sub, "y.f32", Y, ROWS * n_out))
        return fail("forward");
    if (mlp_forward(net, X, 1, Y) != MLP_OK || write_f32(sub, "y1.f32", Y, n_out))
        return fail("forward 1");
    fprintf(list, "%s %d %zu %s %s %d\n", name, N_IN, n_out, mlp_loss_name(loss),
            mlp_activation_name(act), scaled);
    mlp_destroy(net);
    return 0;
}

/* A wider classifier, for the object sizes of float and int8 weights. */
static int make_wide(const char *dir)
{
    size_t sizes[4] = {64, 128, 64, 10};
    mlp_activation acts[3] = {MLP_ACT_RELU, MLP_ACT_RELU, MLP_ACT_IDENTITY};
    char path[1024];
    mlp_network *net = NULL;
    if (mlp_create(&net, 3, sizes, acts, 3) != MLP_OK) return fail("mlp_create");
    mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE);
    snprintf(path, sizeof path, "%s/wide.mlp", dir);
    if (mlp_save(net, path) != MLP_OK) return fail("mlp_save");
    mlp_destroy(net);
    return 0;
}

static int make(const char *dir)
{
    char path[1024];
    FILE *list;
    int act, scaled, loss, rc = make_wide(dir);

    snprintf(path, sizeof path, "%s/cases.txt", dir);
    if ((list = fopen(path, "w")) == NULL) return fail("cases.txt");
    for (act = 0; act < MLP_ACT_COUNT_ && rc == 0; act++)
        for (scaled = 0; scaled < 2 && rc == 0; scaled++)
            for (loss = 0; loss < MLP_LOSS_COUNT_ && rc == 0; loss++)
                rc = make_case(dir, list, (mlp_activation)act, scaled, (mlp_loss)loss);
    return fclose(list) == 0 ? rc : 1;
}

static int forward(const char *model, const char *in, size_t rows, const char *out)
{
    mlp_network *net = NULL;
    float *X, *Y;
    size_t n_in, n_out;
    FILE *f;
    int rc = 1;

    if (mlp_load(&net, model) != MLP_OK) return fail(model);
    n_in = mlp_input_size(net);
    n_out = mlp_output_size(net);
    X = malloc(rows * n_in * sizeof *X);
    Y = malloc(rows * n_out * sizeof *Y);
    if (X != NULL && Y != NULL && (f = fopen(in, "rb")) != NULL) {
        size_t got = fread(X, sizeof *X, rows * n_in, f);
        fclose(f);
        if (got == rows * n_in && mlp_forward(net, X, rows, Y) == MLP_OK &&
            (f = fopen(out, "wb")) != NULL) {
            rc = fwrite(Y, sizeof *Y, rows * n_out, f) != rows * n_out;
            rc |= fclose(f) != 0;
        }
    }
    free(X);
    free(Y);
    mlp_destroy(net);
    return rc ? fail("forward") : 0;
}

/* The rounding of export_c.c: s = max|w_row| / 127, q = round(w / s). */
static int dequant(const char *model, const char *out)
{
    mlp_network *net = NULL;
    size_t l, r, c;
    if (mlp_load(&net, model) != MLP_OK) return fail(model);
    for (l = 0; l < mlp_num_layers(net); l++) {
        size_t n_in = mlp_layer_size(net, l), n_out = mlp_layer_size(net, l + 1);
        float *W = malloc(n_in * n_out * sizeof *W);
        if (W == NULL || mlp_get_weights(net, l, W, n_in * n_out) != MLP_OK) return fail("weights");
        for (r = 0; r < n_out; r++) {
            float m = 0.0f, s;
            for (c = 0; c < n_in; c++) m = fmaxf(m, fabsf(W[r * n_in + c]));
            s = m / 127.0f;
            for (c = 0; c < n_in; c++) {
                long q = s > 0.0f ? lroundf(W[r * n_in + c] / s) : 0;
                q = q > 127 ? 127 : (q < -127 ? -127 : q);
                W[r * n_in + c] = (float)q * s;
            }
        }
        mlp_set_weights(net, l, W, n_in * n_out);
        free(W);
    }
    if (mlp_save(net, out) != MLP_OK) return fail(out);
    mlp_destroy(net);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "make") == 0) return make(argv[2]);
    if (argc == 6 && strcmp(argv[1], "forward") == 0)
        return forward(argv[2], argv[3], (size_t)strtoul(argv[4], NULL, 10), argv[5]);
    if (argc == 4 && strcmp(argv[1], "dequant") == 0) return dequant(argv[2], argv[3]);
    fprintf(stderr, "usage: export_fixture make DIR | forward MODEL IN ROWS OUT | dequant MODEL OUT\n");
    return 2;
}
