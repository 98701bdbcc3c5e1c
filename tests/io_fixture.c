/* Networks and helpers shared by the model-file tests. */
#define _POSIX_C_SOURCE 200809L
#include "io_fixture.h"
#include "io_format.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exactly representable values, so the fixture does not depend on libm. */
static float pattern(size_t i, int salt) { return (float)((int)((i * 37u + (unsigned)salt * 11u) % 101u) - 50) / 64.0f; }

static int set_extras(mlp_network *net, size_t opt_len)
{
    size_t i, n_in = mlp_input_size(net);
    float off[64], sc[64];
    if (n_in > 64) return -1;
    for (i = 0; i < n_in; i++) {
        off[i] = (float)i * 0.5f - 1.0f;
        sc[i] = 1.0f / (float)(i + 2);
    }
    if (mlp_set_input_scaling(net, off, sc) != MLP_OK) return -1;
    net->opt_kind = MLP_OPT_ADAM;
    net->opt_state = mlp__malloc(opt_len * sizeof(float));
    if (!net->opt_state) return -1;
    net->opt_state_len = opt_len;
    for (i = 0; i < opt_len; i++) net->opt_state[i] = pattern(i, 3) * 0.01f;
    net->epochs_trained = 3;
    net->steps = 17;
    for (i = 0; i < 5; i++) mlp__rng_next(&net->rng); /* a state no seed gives */
    return 0;
}

mlp_network *io_fixture_net(enum io_fixture_kind kind)
{
    static const size_t full[] = {5, 7, 4, 3}, tiny[] = {1, 1}, deep[] = {3, 8, 1, 9, 2, 5, 4};
    static const mlp_activation full_a[] = {MLP_ACT_TANH, MLP_ACT_RELU, MLP_ACT_IDENTITY},
                                tiny_a[] = {MLP_ACT_IDENTITY},
                                deep_a[] = {MLP_ACT_SIGMOID, MLP_ACT_LEAKY_RELU, MLP_ACT_GELU,
                                            MLP_ACT_SOFTPLUS, MLP_ACT_RELU, MLP_ACT_TANH};
    mlp_network *net = NULL;
    size_t i;
    int bad = 0;
    switch (kind) {
    case IO_NET_FULL:
        if (mlp_create(&net, 3, full, full_a, 42) != MLP_OK) return NULL;
        bad = mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE) != MLP_OK ||
              mlp_set_l2(net, 1e-3f) != MLP_OK || mlp_set_dropout(net, 1, 0.25f) != MLP_OK ||
              set_extras(net, 2 * mlp_num_params(net)) != 0;
        break;
    case IO_NET_TINY:
        if (mlp_create(&net, 1, tiny, tiny_a, 7) != MLP_OK) return NULL;
        break;
    case IO_NET_DEEP:
        if (mlp_create(&net, 6, deep, deep_a, 0xdeadbeefULL) != MLP_OK) return NULL;
        bad = mlp_set_loss(net, MLP_LOSS_SIGMOID_CE) != MLP_OK ||
              mlp_set_dropout(net, 0, 0.1f) != MLP_OK || mlp_set_dropout(net, 4, 0.5f) != MLP_OK;
        break;
    default:
        return NULL;
    }
    if (bad) {
        mlp_destroy(net);
        return NULL;
    }
    for (i = 0; i < mlp_num_params(net); i++) mlp_params(net)[i] = pattern(i, (int)kind);
    return net;
}

unsigned char *io_fixture_image(const mlp_network *net, size_t *size)
{
    size_t need = 0;
    unsigned char *img;
    if (mlp_save_buffer(net, NULL, 0, &need) != MLP_ERR_BUFFER) return NULL;
    img = malloc(need);
    if (!img) return NULL;
    if (mlp_save_buffer(net, img, need, size) != MLP_OK || *size != need) {
        free(img);
        return NULL;
    }
    return img;
}

void io_fixture_fix_crc(unsigned char *img, size_t size)
{
    mlp__put_u32(img + size - 4, mlp__crc32(0, img, size - 4));
}

void io_fixture_inputs(float *X, size_t rows, size_t n_in)
{
    size_t i;
    for (i = 0; i < rows * n_in; i++) X[i] = (float)((int)(i * 7u % 23u) - 11) / 4.0f;
}

char *io_fixture_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir;
    if (!base || !*base) base = "/tmp";
    dir = malloc(strlen(base) + sizeof "/mlp-io-XXXXXX");
    if (!dir) return NULL;
    strcpy(dir, base);
    strcat(dir, "/mlp-io-XXXXXX");
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

void io_fixture_rmdir(char *dir)
{
    DIR *d;
    struct dirent *e;
    if (!dir) return;
    d = opendir(dir);
    if (d) {
        while ((e = readdir(d)) != NULL) {
            char path[4096];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path) != 0) rmdir(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

int io_fixture_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}
