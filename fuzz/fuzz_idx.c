/* libFuzzer target for the IDX reader: the input becomes an images file
 * and a labels file, raw or gzip-compressed at run time (zlib), well formed
 * or not: mismatched counts, truncated streams, stray bytes, and gzip
 * bombs whose header claims far more than arrives (fuzz/data_files.c).
 * A failure is a known status that leaves *out alone; a data set that
 * loads is consistent, with pixels in 0..255 and classes below 256.
 * Loads go through mlp_dataset_load_idx_limit with a bound, so that a
 * bomb whose header declares gigabytes is refused instead of taking the
 * fuzzer's memory. Its parts (2 to 4, from the input's length) concatenate
 * to it (fuzz/data_parts.c); they are compared only when the whole load
 * was not refused for its size, since the part loaders take no bound.
 * tests/fuzz_replay.c runs it over tests/corpus_idx/. */
#define _POSIX_C_SOURCE 200809L
#include "data_files.h"
#include "fuzz_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* 64 MB: far above what a 4 KB input can fill honestly, far below
 * libFuzzer's default rss limit of 2 GB. */
#define FUZZ_IDX_MAX_BYTES ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mlp_status load_part(mlp_dataset **out, const void *args, size_t part, size_t parts)
{
    const char *const *paths = args;
    return mlp_dataset_load_idx_part(out, paths[0], paths[1], part, parts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char images[320], labels[320];
    mlp_dataset *sentinel = (mlp_dataset *)&size, *ds = sentinel;
    int has_labels;
    size_t i, n;
    const float *F;
    mlp_status st;
    snprintf(images, sizeof images, "%s/i.idx", fz_temp_dir());
    snprintf(labels, sizeof labels, "%s/l.idx", fz_temp_dir());
    fz_idx_files(data, size, images, labels, &has_labels);
    st = mlp_dataset_load_idx_limit(&ds, images, has_labels ? labels : NULL, FUZZ_IDX_MAX_BYTES);
    api_status(st, "mlp_dataset_load_idx_limit");
    {
        const char *paths[2];
        paths[0] = images;
        paths[1] = has_labels ? labels : NULL;
        api_check_parts(st == MLP_OK ? ds : NULL, st, load_part, paths, 2 + size % 3,
                        "mlp_dataset_load_idx_part");
    }
    if (getenv("MLP_FUZZ_TRACE")) /* how to read a finding or check a seed */
        fprintf(stderr, "%s %s\n", mlp_status_name(st), mlp_last_error());
    if (st != MLP_OK) {
        if (ds != sentinel) api_fail("mlp_dataset_load_idx", "wrote *out although it failed");
        return 0;
    }
    api_check_dataset(ds, "mlp_dataset_load_idx");
    F = mlp_dataset_features(ds);
    n = mlp_dataset_rows(ds) * mlp_dataset_cols(ds);
    for (i = 0; i < n; i++)
        if (!(F[i] >= 0.0f && F[i] <= 255.0f && F[i] == (float)(int)F[i]))
            api_fail("mlp_dataset_load_idx", "a pixel that is not a byte");
    if (has_labels != (mlp_dataset_classes(ds) != NULL) || mlp_dataset_num_classes(ds) > 256)
        api_fail("mlp_dataset_load_idx", "labels asked for and labels given differ");
    mlp_dataset_destroy(ds);
    return 0;
}
