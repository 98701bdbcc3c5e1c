/* Dropout masks from counters: a hash of (seed, step, layer, row) keys a
 * row, and a 32-bit hash of the column within it gives the draw. The draw
 * for an element thus never depends on which thread, process or chunk
 * computes it, nor on what was drawn before (docs/RANDOM.md). */
#include "dropout.h"
#include "network.h"
#include "vec.h"

/* splitmix64's finaliser: a bijection with full avalanche. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A 32-bit bijection with low bias (Wellons' lowbias32): 32-bit
 * multiplies, so that eight or sixteen columns hash per AVX2 or AVX-512
 * instruction, where a 64-bit multiply would not vectorise. */
static inline uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    return x ^ (x >> 16);
}

mlp__drop_key mlp__drop_key_next(const mlp_network *net)
{
    mlp__drop_key k;
    k.seed = net->seed;
    k.step = net->steps;
    k.row0 = 0;
    return k;
}

/* 64 bits that key one row of one layer's mask in one step. The salt
 * keeps the seed's other uses (init, split) from meeting these values. */
static uint64_t row_key(const mlp__drop_key *key, size_t layer, size_t row)
{
    uint64_t k = mix64(key->seed ^ 0xD1B54A32D192ED03ULL);
    k = mix64(k ^ key->step);
    k = mix64(k ^ ((uint64_t)layer << 56) ^ (uint64_t)(key->row0 + row));
    return k;
}

/* One mask row: two rounds of mix32 keyed by both halves of the row key;
 * the top 24 bits compare against p in integers, exact and cheap. */
MLP__VEC_CLONES static void mask_row(uint64_t k, uint32_t threshold, float keep, const float *in,
                                     size_t n, float *restrict mask, float *restrict out)
{
    const uint32_t lo = (uint32_t)k, hi = (uint32_t)(k >> 32);
    for (size_t j = 0; j < n; j++) {
        uint32_t u = mix32(mix32((uint32_t)j + lo) ^ hi) >> 8;
        float m = u >= threshold ? keep : 0.0f;
        mask[j] = m;
        out[j] = in[j] * m;
    }
}

void mlp__dropout_rows(const mlp__drop_key *key, size_t layer, float p, const float *In, size_t n,
                       size_t r_begin, size_t r_end, float *mask, float *out)
{
    const float keep = 1.0f / (1.0f - p);
    const uint32_t threshold = (uint32_t)((double)p * 16777216.0);
    for (size_t r = r_begin; r < r_end; r++)
        mask_row(row_key(key, layer, r), threshold, keep, In + r * n, n, mask + r * n,
                 out + r * n);
}
