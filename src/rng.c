/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. The state
 * lives in the handle: no global generator. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void mlp__rng_seed(mlp__rng *rng, uint64_t seed)
{
    int i;
    for (i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

uint64_t mlp__rng_next(mlp__rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double mlp__rng_uniform(mlp__rng *rng)
{
    return (double)(mlp__rng_next(rng) >> 11) * 0x1.0p-53;
}

double mlp__rng_normal(mlp__rng *rng)
{
    /* Box-Muller; 1 - u keeps the logarithm finite. */
    double u = 1.0 - mlp__rng_uniform(rng);
    double v = mlp__rng_uniform(rng);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

uint64_t mlp__rng_below(mlp__rng *rng, uint64_t n)
{
    /* Lemire-free rejection: discard the biased top of the range. */
    uint64_t limit, x;
    if (n <= 1) return 0;
    limit = UINT64_MAX - UINT64_MAX % n;
    do x = mlp__rng_next(rng);
    while (x >= limit);
    return x % n;
}
