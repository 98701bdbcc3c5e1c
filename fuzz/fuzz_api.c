/* libFuzzer target: the public API driven as a program of calls on a small
 * pool of handles (fuzz/api.h explains the pieces). Besides "no crash, no
 * leak, no undefined behaviour", every status is checked against the
 * promises of include/mlp.h. tests/fuzz_replay_api.c runs this same
 * function over tests/corpus_api/ in every test run. */
#include "api.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const api_op api_ops[] = {
    api_op_create,       api_op_clone,          api_op_destroy,         api_op_setter,
    api_op_set_params,   api_op_scaling,        api_op_reserve,         api_op_forward,
    api_op_workspace,    api_op_forward_ws,     api_op_loss_grad,       api_op_evaluate,
    api_op_gradcheck,    api_op_getters,        api_op_trainer_create,  api_op_trainer_destroy,
    api_op_trainer_set,  api_op_trainer_get,    api_op_step,            api_op_train,
    api_op_save_buffer,  api_op_save_stream,    api_op_save_path,       api_op_csv,
    api_op_idx,          api_op_dataset_use,
};
#define API_N_OPS (sizeof api_ops / sizeof api_ops[0])
static const char *const api_op_names[API_N_OPS] = {
    "create",      "clone",          "destroy",     "setter",      "set_params", "scaling",
    "reserve",     "forward",        "workspace",   "forward_ws",  "loss_grad",  "evaluate",
    "gradcheck",   "getters",        "trainer_create", "trainer_destroy", "trainer_set",
    "trainer_get", "step",           "train",       "save_buffer", "save_stream", "save_path",
    "csv",         "idx",            "dataset_use",
};

/* MLP_FUZZ_TRACE=1 prints each op as it runs (indented inside callbacks):
 * how to read a finding or check a hand-made seed. */
static int api_trace(void)
{
    static int trace = -1;
    if (trace < 0) trace = getenv("MLP_FUZZ_TRACE") != NULL;
    return trace;
}

int api_run(api_state *s, size_t count)
{
    while (count-- > 0) {
        if (s->pos >= s->n || s->ops >= API_MAX_OPS) return 0;
        unsigned op = api_byte(s) % API_N_OPS;
        s->ops++;
        if (api_trace()) fprintf(stderr, "%*s%s\n", 2 * s->depth, "", api_op_names[op]);
        api_ops[op](s);
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One state for the process: its buffers are large, and clearing them
     * (or allocating them) each time would cost more than most programs. */
    static api_state state;
    api_state *s = &state;
    int j;
    memset(s, 0, offsetof(api_state, X));
    s->p = data;
    s->n = size;
    for (j = 0; j < API_TRAINERS; j++) s->tr_net[j] = -1;
    while (api_run(s, 1)) {
    }
    api_cleanup(s);
    return 0;
}
