/* The public header compiles as strict C99: built with -std=c99 -pedantic
 * -Werror -Wall -Wextra by the test build (R16). Uses enough of it that
 * every declaration is parsed and every type complete where it must be. */
#include "mlp.h"

#include <stddef.h>

/* Compile-time checks (C99 has no _Static_assert). */
typedef char mlp_check_ok_is_zero[MLP_OK == 0 ? 1 : -1];
typedef char mlp_check_version[MLP_VERSION_NUMBER ==
                                       MLP_VERSION_MAJOR * 10000 + MLP_VERSION_MINOR * 100 +
                                           MLP_VERSION_PATCH
                                   ? 1
                                   : -1];
typedef char mlp_check_max_dim[MLP_MAX_DIM == 2147483647u ? 1 : -1];

int mlp_header_c99_probe(void);

int mlp_header_c99_probe(void)
{
    mlp_gradcheck_block block;
    mlp_progress progress;
    mlp_status (*create)(mlp_network **, size_t, const size_t *, const mlp_activation *,
                         uint64_t) = mlp_create;
    mlp_callback cb = NULL;
    const char *v = MLP_VERSION_STRING;
    block.checked = 0;
    progress.epoch = 0;
    (void)create;
    (void)cb;
    return (int)block.checked + (int)progress.epoch + (v[0] != '\0') + (int)MLP_ACT_COUNT_ +
           (int)MLP_LOSS_COUNT_ + (int)MLP_STATUS_END_;
}
