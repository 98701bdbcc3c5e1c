/* The allocation seam: every allocation of the library passes here, so the
 * test build can fail the n-th one (out-of-memory tests) and count them
 * (zero allocations per training step). Every block starts on a cache line
 * (ALIGN bytes), whatever state the caller's heap is in: malloc's 16-byte
 * alignment splits AVX-512 loads across two lines, and where a block lands
 * (heap or mmap) moved the small-batch products by up to 20%. */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 64

#ifdef MLP_TESTING
/* Test build only; tests drive the seam from one thread. */
static unsigned long fail_at;   /* 0: never fail */
static unsigned long count;
static long live;

void mlp__alloc_fail_at(unsigned long n) { fail_at = n; }
unsigned long mlp__alloc_count(void) { return count; }
void mlp__alloc_reset_count(void) { count = 0; }
long mlp__alloc_live(void) { return live; }

static int seam_fails(void)
{
    count++;
    if (fail_at == 0) return 0;
    if (--fail_at == 0) return 1;
    return 0;
}
#endif

void *mlp__malloc(size_t size)
{
    void *p;
#ifdef MLP_TESTING
    if (seam_fails()) return NULL;
#endif
    if (posix_memalign(&p, ALIGN, size ? size : 1) != 0) p = NULL;
#ifdef MLP_TESTING
    if (p) live++;
#endif
    return p;
}

void *mlp__calloc(size_t n, size_t size)
{
    void *p;
    size_t bytes;
#ifdef MLP_TESTING
    if (seam_fails()) return NULL;
#endif
    if (!mlp__mul_ok(n ? n : 1, size ? size : 1, &bytes) || posix_memalign(&p, ALIGN, bytes) != 0)
        p = NULL;
    else
        memset(p, 0, bytes);
#ifdef MLP_TESTING
    if (p) live++;
#endif
    return p;
}

void mlp__free(void *p)
{
#ifdef MLP_TESTING
    if (p) live--;
#endif
    free(p);
}

int mlp__mul_ok(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b) return 0;
    *out = a * b;
    return 1;
}
