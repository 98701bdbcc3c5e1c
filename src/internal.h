/* What every source file of the library needs: the hidden-symbol marker,
 * errors and the allocation seam. Each module's own declarations are in its
 * header (network.h, pass.h, ...). Not API: names with a double underscore
 * (mlp__) are hidden from the .so. */
#ifndef MLP_INTERNAL_H
#define MLP_INTERNAL_H

#include "mlp.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define MLP__HIDDEN __attribute__((visibility("hidden")))
#else
#define MLP__HIDDEN
#endif

/* ---- errors (status.c) ------------------------------------------- */

/* Records a formatted message for mlp_last_error() and returns status. */
MLP__HIDDEN mlp_status mlp__fail(mlp_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
MLP__HIDDEN void mlp__clear_error(void);

/* One-line argument guards. */
#define MLP__CHECK_NULL(p)                                                       \
    do {                                                                         \
        if ((p) == NULL) return mlp__fail(MLP_ERR_NULL, "%s: %s is NULL", __func__, #p); \
    } while (0)

/* ---- allocation seam (alloc.c) ------------------------------------ */

/* All library allocations go through these. In the test build
 * (MLP_TESTING) they can be told to fail the n-th call and they count. */
MLP__HIDDEN void *mlp__malloc(size_t size);
MLP__HIDDEN void *mlp__calloc(size_t count, size_t size);
MLP__HIDDEN void mlp__free(void *p);
/* a * b (and a * b * c) with overflow reported: returns 0 on overflow. */
MLP__HIDDEN int mlp__mul_ok(size_t a, size_t b, size_t *out);

#ifdef MLP_TESTING
/* Make the n-th allocation from now fail (1 = the next); 0 disables. */
MLP__HIDDEN void mlp__alloc_fail_at(unsigned long n);
/* Allocations made since the counter was last reset, and live blocks. */
MLP__HIDDEN unsigned long mlp__alloc_count(void);
MLP__HIDDEN void mlp__alloc_reset_count(void);
MLP__HIDDEN long mlp__alloc_live(void);
#endif

#endif /* MLP_INTERNAL_H */
