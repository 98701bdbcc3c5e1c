/* Training-set augmentation for images: a validation split taken first
 * (so no mirrored copy of a validation image is trained on), then every
 * training image appended mirrored left-right. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int cli_split_flip(const mlp_dataset *ds, int classes, double val_fraction, uint64_t seed,
                   size_t width, cli_split *out)
{
    size_t n = mlp_dataset_rows(ds), d = mlp_dataset_cols(ds), i, j, r, c;
    size_t tb = classes ? sizeof(int32_t) : mlp_dataset_target_cols(ds) * sizeof(float);
    const unsigned char *t = classes ? (const void *)mlp_dataset_classes(ds)
                                     : (const void *)mlp_dataset_values(ds);
    const float *X = mlp_dataset_features(ds);
    size_t *idx, n_val = (size_t)((double)n * val_fraction), n_tr = n - n_val;
    uint64_t s = seed ^ 0x5DEECE66Dull;

    memset(out, 0, sizeof *out);
    if (width == 0 || d % width != 0 || n_tr == 0)
        return cli_error(CLI_USAGE, "train", "--augment flip needs images %zu pixels wide", width);
    idx = malloc(n * sizeof *idx);
    out->X = malloc(2 * n_tr * d * sizeof(float));
    out->y = malloc(2 * n_tr * tb);
    out->X_val = n_val ? malloc(n_val * d * sizeof(float)) : NULL;
    out->y_val = n_val ? malloc(n_val * tb) : NULL;
    if (idx == NULL || out->X == NULL || out->y == NULL ||
        (n_val && (out->X_val == NULL || out->y_val == NULL))) {
        free(idx);
        cli_split_free(out);
        return cli_error(CLI_FAIL, "train", "out of memory for the augmented data");
    }
    for (i = 0; i < n; i++) idx[i] = i;
    for (i = n; i > 1; i--) { /* Fisher-Yates */
        size_t k = (size_t)(splitmix64(&s) % i), tmp = idx[i - 1];
        idx[i - 1] = idx[k];
        idx[k] = tmp;
    }
    for (i = 0; i < n_val; i++) {
        memcpy(out->X_val + i * d, X + idx[i] * d, d * sizeof(float));
        memcpy((unsigned char *)out->y_val + i * tb, t + idx[i] * tb, tb);
    }
    for (j = 0; j < n_tr; j++) {
        const float *src = X + idx[n_val + j] * d;
        float *plain = out->X + j * d, *mirror = out->X + (n_tr + j) * d;
        memcpy(plain, src, d * sizeof(float));
        for (r = 0; r < d / width; r++)
            for (c = 0; c < width; c++) mirror[r * width + c] = src[r * width + width - 1 - c];
        memcpy((unsigned char *)out->y + j * tb, t + idx[n_val + j] * tb, tb);
        memcpy((unsigned char *)out->y + (n_tr + j) * tb, t + idx[n_val + j] * tb, tb);
    }
    free(idx);
    out->n = 2 * n_tr;
    out->n_val = n_val;
    return 0;
}

void cli_split_free(cli_split *s)
{
    free(s->X);
    free(s->y);
    free(s->X_val);
    free(s->y_val);
    memset(s, 0, sizeof *s);
}
