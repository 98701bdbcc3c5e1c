/* Vectorised copies of element-wise loops. Internal: not API. */
#ifndef MLP_VEC_H
#define MLP_VEC_H

#include "internal.h"

/* Element-wise hot loops: on x86-64 GCC also builds AVX2 and AVX-512
 * copies, picked at load time, while the library stays baseline x86-64.
 * Without FMA contraction (ISO C mode) every copy rounds exactly alike, so
 * results stay bit-identical across machines. Only on static functions:
 * GCC exports the resolver of a cloned extern one whatever its visibility
 * (tests/check_exports.sh). MLP_NO_VEC_CLONES (CMake: -DMLP_VEC_CLONES=OFF)
 * leaves them out: their ifunc resolvers run before ThreadSanitizer's
 * runtime is up, which crashes a -fsanitize=thread build at load. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__) && \
    !defined(MLP_NO_VEC_CLONES)
#define MLP__VEC_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define MLP__VEC_CLONES
#endif

/* Reductions that vectorise keep MLP__LANES running sums (lane j takes
 * the elements whose index is j mod MLP__LANES), where one sum would wait
 * on each add; mlp__lanes_total adds them in one fixed order, so that the
 * total depends on the data alone. */
#define MLP__LANES 8

static inline double mlp__lanes_total(const double lane[MLP__LANES])
{
    return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

#endif /* MLP_VEC_H */
