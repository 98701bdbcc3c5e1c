/* Subnormal floats flushed to zero while the library computes.
 *
 * Training that saturates (a softmax near certainty, L-BFGS near its
 * optimum) makes float values below FLT_MIN (1.2e-38) in the error terms;
 * on x86 an operation on or giving one takes a microcode assist of about a
 * hundred cycles, and a product full of them runs at a fraction of its
 * speed (benchmarks/README.md, "Subnormal floats"). The compute entry
 * points of mlp.h set flush-to-zero and denormals-are-zero on the calling
 * thread and give the caller its own mode back on return and around the
 * training callback; the pool's helpers keep it set, and so does each
 * part of a pass run on OpenBLAS's workers (blas_team.c). A value below FLT_MIN
 * then counts as zero, as in TensorFlow's and oneDNN's CPU kernels; other
 * values change only where a flushed one fed into them. OpenBLAS's worker
 * threads take the caller's mode with each product in Debian's build
 * (CONSISTENT_FPCSR: a 2-thread sgemm flushes every entry), so the products
 * flush at every thread count there. Internal: not API. */
#ifndef MLP_FPMODE_H
#define MLP_FPMODE_H

#if defined(__SSE2__) || defined(__x86_64__)
#include <xmmintrin.h>
#define MLP__FPMODE_FLUSH 0x8040u /* MXCSR: FTZ (bit 15), DAZ (bit 6) */
#define MLP__FPMODE_STATUS 0x3fu  /* MXCSR: the sticky exception flags */
typedef unsigned mlp__fpmode;
static inline mlp__fpmode mlp__fpmode_get(void) { return _mm_getcsr(); }
static inline void mlp__fpmode_set(mlp__fpmode m) { _mm_setcsr(m); }
#elif defined(__aarch64__)
#define MLP__FPMODE_FLUSH (1u << 24) /* FPCR: FZ */
#define MLP__FPMODE_STATUS 0u        /* the flags live in FPSR */
typedef unsigned long mlp__fpmode;
static inline mlp__fpmode mlp__fpmode_get(void)
{
    mlp__fpmode m;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(m));
    return m;
}
static inline void mlp__fpmode_set(mlp__fpmode m) { __asm__ __volatile__("msr fpcr, %0" : : "r"(m)); }
#else
#define MLP__FPMODE_FLUSH 0u /* elsewhere subnormals keep their hardware's rule */
#define MLP__FPMODE_STATUS 0u
typedef unsigned mlp__fpmode;
static inline mlp__fpmode mlp__fpmode_get(void) { return 0; }
static inline void mlp__fpmode_set(mlp__fpmode m) { (void)m; }
#endif

/* Sets flushing on this thread; returns the mode to restore. */
static inline mlp__fpmode mlp__flush_subnormals(void)
{
    mlp__fpmode saved = mlp__fpmode_get();
    if ((saved & MLP__FPMODE_FLUSH) != MLP__FPMODE_FLUSH) mlp__fpmode_set(saved | MLP__FPMODE_FLUSH);
    return saved;
}

/* Gives this thread the mode mlp__flush_subnormals returned; exception
 * flags raised meanwhile stay raised, as after any other call. */
static inline void mlp__fpmode_restore(mlp__fpmode saved)
{
    if ((saved & MLP__FPMODE_FLUSH) != MLP__FPMODE_FLUSH)
        mlp__fpmode_set((saved & ~(mlp__fpmode)MLP__FPMODE_STATUS) |
                        (mlp__fpmode_get() & MLP__FPMODE_STATUS));
}

#endif /* MLP_FPMODE_H */
