/* A C side for the Python tests of model files (tests/python/test_files.py):
 *   mlp_py_roundtrip save PATH     writes a 3-5-2 tanh network with known
 *                                  parameters W[i] = sin(i + 1), b[i] = cos(i + 1)
 *                                  per layer, loss softmax cross-entropy, l2 0.125
 *   mlp_py_roundtrip predict PATH  loads PATH, reads rows of input floats from
 *                                  stdin and prints the outputs, one row a line
 * Exits 0 on success, 1 with mlp_last_error() on stderr otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"

static int fail(const char *what, mlp_status st)
{
    fprintf(stderr, "%s: %s: %s\n", what, mlp_status_name(st), mlp_last_error());
    return 1;
}

static int save(const char *path)
{
    size_t sizes[] = {3, 5, 2};
    mlp_activation acts[] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    float buf[64];
    mlp_status st = mlp_create(&net, 2, sizes, acts, 7);
    if (st != MLP_OK) return fail("create", st);
    for (size_t l = 0; l < 2 && st == MLP_OK; l++) {
        size_t nw = sizes[l] * sizes[l + 1], nb = sizes[l + 1];
        for (size_t i = 0; i < nw; i++) buf[i] = (float)sin((double)(i + 1));
        st = mlp_set_weights(net, l, buf, nw);
        for (size_t i = 0; i < nb && st == MLP_OK; i++) buf[i] = (float)cos((double)(i + 1));
        if (st == MLP_OK) st = mlp_set_bias(net, l, buf, nb);
    }
    if (st == MLP_OK) st = mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE);
    if (st == MLP_OK) st = mlp_set_l2(net, 0.125f);
    if (st == MLP_OK) st = mlp_save(net, path);
    mlp_destroy(net);
    return st == MLP_OK ? 0 : fail("save", st);
}

static int predict(const char *path)
{
    mlp_network *net = NULL;
    mlp_status st = mlp_load(&net, path);
    if (st != MLP_OK) return fail("load", st);
    size_t n_in = mlp_input_size(net), n_out = mlp_output_size(net);
    float *x = malloc(n_in * sizeof *x), *y = malloc(n_out * sizeof *y);
    int rc = (x && y) ? 0 : 1;
    while (rc == 0) {
        size_t got = 0;
        while (got < n_in && scanf("%f", &x[got]) == 1) got++;
        if (got == 0) break;
        if (got < n_in || (st = mlp_forward(net, x, 1, y)) != MLP_OK) {
            rc = got < n_in ? 1 : fail("forward", st);
            break;
        }
        for (size_t j = 0; j < n_out; j++) printf(j ? " %.9g" : "%.9g", (double)y[j]);
        printf("\n");
    }
    free(x);
    free(y);
    mlp_destroy(net);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "save") == 0) return save(argv[2]);
    if (argc == 3 && strcmp(argv[1], "predict") == 0) return predict(argv[2]);
    fprintf(stderr, "usage: %s save|predict PATH\n", argv[0]);
    return 2;
}
