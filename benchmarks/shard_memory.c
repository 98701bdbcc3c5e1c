/* mlp-shard-mem: the peak resident memory of loading a data set whole or as
 * one part of several, so that the ~1/P memory of sharded loading is
 * measured rather than claimed. One load per process (peak RSS is per
 * process); benchmarks/shard_memory.sh runs the table.
 *
 *   mlp-shard-mem none                              the baseline: no load
 *   mlp-shard-mem idx IMAGES LABELS PART PARTS
 *   mlp-shard-mem csv PATH PART PARTS
 *   mlp-shard-mem gen-csv PATH ROWS COLS            random pixel-like rows, label last
 *
 * Prints: rows cols peak_rss_kib */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "mlp.h"

static long peak_kib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return ru.ru_maxrss; /* KiB on Linux */
}

static int gen_csv(const char *path, size_t rows, size_t cols)
{
    FILE *f = fopen(path, "w");
    unsigned long s = 88172645463325252ul;
    size_t r, c;
    if (f == NULL) return 1;
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            fprintf(f, "%lu%c", c + 1 < cols ? s % 256 : s % 10, c + 1 < cols ? ',' : '\n');
        }
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    mlp_dataset *ds = NULL;
    mlp_status st = MLP_OK;
    if (argc == 2 && strcmp(argv[1], "none") == 0) {
        printf("0 0 %ld\n", peak_kib());
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "gen-csv") == 0)
        return gen_csv(argv[2], strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
    if (argc == 6 && strcmp(argv[1], "idx") == 0)
        st = mlp_dataset_load_idx_part(&ds, argv[2], argv[3], strtoul(argv[4], NULL, 10),
                                       strtoul(argv[5], NULL, 10));
    else if (argc == 5 && strcmp(argv[1], "csv") == 0)
        st = mlp_dataset_load_csv_part(&ds, argv[2], 0, -1, 1, strtoul(argv[3], NULL, 10),
                                       strtoul(argv[4], NULL, 10));
    else {
        fprintf(stderr, "usage: %s none | idx IMAGES LABELS PART PARTS | csv PATH PART PARTS | "
                        "gen-csv PATH ROWS COLS\n", argv[0]);
        return 2;
    }
    if (st != MLP_OK) {
        fprintf(stderr, "mlp-shard-mem: %s\n", mlp_last_error());
        return 1;
    }
    printf("%zu %zu %ld\n", mlp_dataset_rows(ds), mlp_dataset_cols(ds), peak_kib());
    mlp_dataset_destroy(ds);
    return 0;
}
