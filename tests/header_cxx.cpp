// The public header compiles as C++ (-Wall -Wextra -pedantic -Werror) and
// keeps C linkage (R16).
#include "mlp.h"

#include <cstddef>
#include <cstdint>

static_assert(MLP_OK == 0, "MLP_OK is 0");
static_assert(MLP_VERSION_NUMBER ==
                  MLP_VERSION_MAJOR * 10000 + MLP_VERSION_MINOR * 100 + MLP_VERSION_PATCH,
              "version number");

extern "C" int mlp_header_cxx_probe();

int mlp_header_cxx_probe()
{
    mlp_activation act = MLP_ACT_RELU;
    mlp_loss loss = MLP_LOSS_SOFTMAX_CE;
    mlp_status (*create)(mlp_network **, std::size_t, const std::size_t *,
                         const mlp_activation *, std::uint64_t) = &mlp_create;
    void (*destroy)(mlp_network *) = &mlp_destroy;
    mlp_gradcheck_block block = {};
    mlp_progress progress = {};
    (void)create;
    (void)destroy;
    return static_cast<int>(act) + static_cast<int>(loss) + static_cast<int>(block.checked) +
           static_cast<int>(progress.epoch);
}
