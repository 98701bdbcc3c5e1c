/* libFuzzer target for the CSV reader: the input's first two bytes pick
 * has_header (-1, 0, 1), the label column (-2, -1, 0, 1, 2, 3 or far out)
 * and the class mode (0, 1), and its top 5 bits a memory bound (0: none,
 * else that many KB, through mlp_dataset_load_csv_limit, so that both the
 * refusals and the loads just within a bound are reached); the rest is the
 * file. A failure is a known
 * status that leaves *out alone; a data set that loads is consistent
 * (fuzz/api_check.c); its parts 1 + (byte 0 >> 3) % 5 concatenate to it
 * (fuzz/data_parts.c). tests/fuzz_replay.c runs it over tests/corpus_csv/. */
#define _POSIX_C_SOURCE 200809L
#include "data_files.h"
#include "fuzz_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct csv_call {
    const char *path;
    int has_header, classes;
    long label;
} csv_call;

static mlp_status load_part(mlp_dataset **out, const void *args, size_t part, size_t parts)
{
    const csv_call *c = args;
    return mlp_dataset_load_csv_part(out, c->path, c->has_header, c->label, c->classes, part,
                                     parts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long columns[] = {-2, -1, 0, 1, 2, 3, 1000000, -3};
    char path[320];
    mlp_dataset *sentinel = (mlp_dataset *)&size, *ds = sentinel;
    int has_header, classes;
    long label;
    size_t max_bytes;
    mlp_status st;
    if (size < 2) return 0;
    has_header = (int)(data[0] % 3) - 1;
    classes = (data[0] >> 2) & 1;
    label = columns[data[1] % 8];
    max_bytes = (data[0] >> 3) ? (size_t)(data[0] >> 3) << 10 : SIZE_MAX;
    snprintf(path, sizeof path, "%s/d.csv", fz_temp_dir());
    if (fz_write_file(path, data + 2, size - 2, 0, 0) != 0) api_fail("write", path);
    if (max_bytes == SIZE_MAX) st = mlp_dataset_load_csv(&ds, path, has_header, label, classes);
    else st = mlp_dataset_load_csv_limit(&ds, path, has_header, label, classes, max_bytes);
    api_status(st, "mlp_dataset_load_csv");
    {
        csv_call c;
        c.path = path;
        c.has_header = has_header;
        c.classes = classes;
        c.label = label;
        api_check_parts(st == MLP_OK ? ds : NULL, st, load_part, &c, 1 + (size_t)(data[0] >> 3) % 5,
                        "mlp_dataset_load_csv_part");
    }
    if (getenv("MLP_FUZZ_TRACE")) /* how to read a finding or check a seed */
        fprintf(stderr, "%s %s\n", mlp_status_name(st), mlp_last_error());
    if (st != MLP_OK) {
        if (ds != sentinel) api_fail("mlp_dataset_load_csv", "wrote *out although it failed");
        return 0;
    }
    api_check_dataset(ds, "mlp_dataset_load_csv");
    if (label == -2 && (mlp_dataset_classes(ds) || mlp_dataset_values(ds)))
        api_fail("mlp_dataset_load_csv", "targets although label_column is -2");
    if (label != -2 && classes && !mlp_dataset_classes(ds))
        api_fail("mlp_dataset_load_csv", "no classes although classes were asked for");
    mlp_dataset_destroy(ds);
    return 0;
}
