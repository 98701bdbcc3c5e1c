/* Saving and loading through streams (two models back to back) and paths
 * (a good one, and one in a folder that does not exist). */
#define _POSIX_C_SOURCE 200809L
#include "api.h"

#include <stdio.h>
#include <string.h>

static void api_load_stream(FILE *f, const mlp_network *a, const mlp_network *b)
{
    mlp_network *got = NULL, *sentinel = (mlp_network *)&got, *none = sentinel;
    api_expect(mlp_load_file(&got, f), MLP_OK, "mlp_load_file");
    api_same_net(a, got, "mlp_load_file");
    got = NULL;
    api_expect(mlp_load_file(&got, f), MLP_OK, "mlp_load_file (second model)");
    api_same_net(b, got, "mlp_load_file (second model)");
    api_check(mlp_load_file(&none, f), API_ANY_FAIL, "mlp_load_file at the end");
    if (none != sentinel) api_fail("mlp_load_file", "wrote *out although it failed");
}

void api_op_save_stream(api_state *s)
{
    int a_slot, b_slot;
    mlp_network *a = api_net(s, &a_slot), *b = api_net(s, &b_slot);
    FILE *f;
    mlp_status st;
    if (!a || !b) {
        api_expect(mlp_save_file(a ? a : b, NULL), MLP_ERR_NULL, "mlp_save_file");
        return;
    }
    f = fmemopen(s->blob, sizeof s->blob, "w+b");
    if (!f) api_fail("fmemopen", "");
    /* The stream's buffer: the fuzzer's own, not a fresh allocation per
     * call (under ASan that allocation cost more than the save itself). */
    setvbuf(f, s->iobuf, _IOFBF, sizeof s->iobuf);
    st = mlp_save_file(a, f);
    if (api_saved(a, st, "mlp_save_file")) {
        api_expect(st, MLP_OK, "mlp_save_file");
        st = mlp_save_file(b, f);
        if (api_saved(b, st, "mlp_save_file")) {
            api_expect(st, MLP_OK, "mlp_save_file");
            rewind(f);
            api_load_stream(f, a, b);
        }
    }
    fclose(f);
}

void api_op_save_path(api_state *s)
{
    int slot;
    mlp_network *net = api_net(s, &slot), *sentinel = (mlp_network *)s, *got = sentinel;
    char path[320], bad[320];
    mlp_status st;
    snprintf(path, sizeof path, "%s/m.mlp", api_dir());
    snprintf(bad, sizeof bad, "%s/none/m.mlp", api_dir());
    if (!net) return;
    api_check(mlp_save(net, bad), API_ANY_FAIL, "mlp_save into a missing folder");
    api_check(mlp_load(&got, bad), API_ANY_FAIL, "mlp_load of a missing file");
    if (got != sentinel) api_fail("mlp_load", "wrote *out although it failed");
    st = mlp_save(net, path);
    if (!api_saved(net, st, "mlp_save")) return;
    api_expect(st, MLP_OK, "mlp_save");
    got = NULL;
    api_expect(mlp_load(&got, path), MLP_OK, "mlp_load");
    api_same_net(net, got, "mlp_load");
}
