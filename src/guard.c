/* Refusing calls on a handle in use (guard.h). */
#include "guard.h"

static const char *state_text(int state)
{
    switch (state) {
    case MLP__IN_CALL: return "another call on it is running (from another thread)";
    case MLP__TRAINING: return "it is training";
    case MLP__IN_CALLBACK: return "it is training (called from the training callback)";
    default: return "it is in use";
    }
}

mlp_status mlp__enter(int *use, enum mlp__access access, const char *fn, const char *what,
                      int *entered)
{
    int state;
    *entered = 0;
    if (mlp__use_swap(use, MLP__IDLE, MLP__IN_CALL)) {
        *entered = 1;
        return MLP_OK;
    }
    state = mlp__use_load(use);
    if (access == MLP__READ && state == MLP__IN_CALLBACK) return MLP_OK;
    return mlp__fail(MLP_ERR_BUSY, "%s: the %s is in use: %s", fn, what, state_text(state));
}
