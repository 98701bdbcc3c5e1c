/* Reading the program: each value the ops need comes from the next bytes;
 * past the end every byte reads as 0, and api_run stops at an op boundary. */
#define _POSIX_C_SOURCE 200809L
#include "api.h"
#include "data_files.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned api_byte(api_state *s) { return s->pos < s->n ? s->p[s->pos++] : (s->pos = s->n, 0u); }

size_t api_pick(api_state *s, size_t n) { return n ? api_byte(s) % n : 0; }

/* Mostly small values in [-4, 4]; the top of the byte range gives the
 * values setters must refuse or survive. */
float api_float(api_state *s)
{
    static const float special[] = {0.0f, 1.0f, -1.0f, 0.5f, 0.999f, 1e3f, -1e3f, 1e30f, -1e30f,
                                    FLT_MAX, -0.0f, 1e-40f, 1e-6f};
    unsigned b = api_byte(s);
    if (b < 200) return ((float)b - 100.0f) / 25.0f;
    if (b == 250) return NAN;
    if (b == 251) return INFINITY;
    if (b == 252) return -INFINITY;
    return special[(b - 200) % (sizeof special / sizeof special[0])];
}

double api_double(api_state *s)
{
    static const double special[] = {0.0,   1.0,    -1.0,  0.5,    1e-3, 0.9,  0.999, 1e-8,
                                     2.0,   3.0,    4.0,   5.0,    6.0,  7.0,  16.0,  1e9,
                                     1e300, -1e300, 1e-300, 4294967296.0, 1.5, 0.99, 1e18, 2e19};
    unsigned b = api_byte(s);
    if (b < 128) return ((double)b - 32.0) / 16.0;
    if (b == 250) return NAN;
    if (b == 251) return INFINITY;
    if (b == 252) return -INFINITY;
    if (b < 150) return (double)(b - 128); /* small integers: enums, counts */
    return special[(b - 150) % (sizeof special / sizeof special[0])];
}

size_t api_size(api_state *s)
{
    static const size_t special[] = {0, 1, 17, 64, 65, 1000, MLP_MAX_DIM + 1, SIZE_MAX,
                                     SIZE_MAX / 2, (size_t)1 << 40};
    unsigned b = api_byte(s);
    if (b < 240) return b % 17;
    return special[(b - 240) % (sizeof special / sizeof special[0])];
}

/* n floats: small pseudo-random values, sometimes with one special value
 * planted, sometimes straight from the program. */
void api_fill(api_state *s, float *x, size_t n)
{
    unsigned mode = api_byte(s) % 4, seed = api_byte(s) * 2654435761u + 1u;
    size_t i, at = n ? api_byte(s) % n : 0;
    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = mode == 3 ? 0.0f : (float)((seed >> 16) % 2001) / 500.0f - 2.0f;
        if (mode == 2 && i < 16) x[i] = api_float(s);
    }
    if (mode == 1 && n) x[at] = api_float(s);
}

/* Targets of `rows` rows for the network's loss, sometimes out of range. */
void api_targets(api_state *s, const mlp_network *net, size_t rows)
{
    size_t n_out = mlp_output_size(net), i, k = rows * n_out;
    unsigned mode = api_byte(s) % 8, seed = api_byte(s) + 7u;
    if (mlp_get_loss(net) == MLP_LOSS_SOFTMAX_CE) {
        for (i = 0; i < rows; i++) {
            seed = seed * 1103515245u + 12345u;
            s->T.i[i] = n_out ? (int32_t)((seed >> 16) % n_out) : 0;
        }
        if (mode == 0 && rows) s->T.i[api_byte(s) % rows] = api_byte(s) % 2 ? -1 : (int32_t)n_out;
        return;
    }
    for (i = 0; i < k && i < API_BUF; i++) {
        seed = seed * 1103515245u + 12345u;
        s->T.f[i] = (float)((seed >> 16) % 1001) / 1000.0f;
    }
    if (mode == 0 && k) s->T.f[api_byte(s) % k] = api_float(s);
}

const char *api_dir(void) { return fz_temp_dir(); }
