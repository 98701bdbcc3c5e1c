/* The sharded loaders against the whole load, for the data reader fuzzers:
 * parts 0..P-1 concatenated must be the whole load exactly; when the whole
 * load fails some part must fail too (or every part is empty: a header
 * without rows). A whole load refused for its size is not compared: the
 * part loaders take no bound, so its parts are not even loaded. */
#include "fuzz_common.h"

#include <stdint.h>
#include <string.h>

void api_check_parts(const mlp_dataset *whole, mlp_status sw, api_part_loader load,
                     const void *args, size_t parts, const char *call)
{
    size_t r, rows = 0, failed = 0, nc = 0;
    if (sw == MLP_ERR_TOO_LARGE) return;
    for (r = 0; r < parts; r++) {
        mlp_dataset *sentinel = (mlp_dataset *)&rows, *ds = sentinel;
        mlp_status st = load(&ds, args, r, parts);
        size_t n, c;
        api_status(st, call);
        if (st != MLP_OK) {
            if (ds != sentinel) api_fail(call, "wrote *out although it failed");
            failed++;
            continue;
        }
        n = mlp_dataset_rows(ds);
        c = mlp_dataset_cols(ds);
        if (n > 0) api_check_dataset(ds, call);
        else if (mlp_dataset_num_classes(ds) != 0 || !mlp_dataset_features(ds))
            api_fail(call, "an empty part with classes or without a features array");
        if (sw == MLP_OK) {
            const int32_t *cw = mlp_dataset_classes(whole), *cp = mlp_dataset_classes(ds);
            const float *vw = mlp_dataset_values(whole), *vp = mlp_dataset_values(ds);
            size_t tc = mlp_dataset_target_cols(ds);
            if (c != mlp_dataset_cols(whole) || rows + n > mlp_dataset_rows(whole) ||
                tc != mlp_dataset_target_cols(whole) || (cw == NULL) != (cp == NULL) ||
                (vw == NULL) != (vp == NULL))
                api_fail(call, "a part's shape differs from the whole load's");
            if (n > 0 &&
                (memcmp(mlp_dataset_features(ds), mlp_dataset_features(whole) + rows * c,
                        n * c * sizeof(float)) != 0 ||
                 (cw && memcmp(cp, cw + rows, n * sizeof *cp) != 0) ||
                 (vw && memcmp(vp, vw + rows * tc, n * tc * sizeof *vp) != 0)))
                api_fail(call, "a part's rows differ from the whole load's");
            if (mlp_dataset_num_classes(ds) > nc) nc = mlp_dataset_num_classes(ds);
        }
        rows += n;
        mlp_dataset_destroy(ds);
    }
    if (sw == MLP_OK && (failed || rows != mlp_dataset_rows(whole) ||
                         nc != mlp_dataset_num_classes(whole)))
        api_fail(call, "the parts do not concatenate to the whole load");
    if (sw != MLP_OK && failed == 0 && rows != 0)
        api_fail(call, "the whole load fails but every part loads");
}
