/* Checks shared by the data reader fuzzers. */
#ifndef MLP_FUZZ_COMMON_H
#define MLP_FUZZ_COMMON_H

#include "mlp.h"

/* Aborts with a message if a loaded data set is inconsistent (shared with
 * the API fuzzer: fuzz/api_check.c). */
void api_check_dataset(const mlp_dataset *ds, const char *call);
void api_status(mlp_status st, const char *call);
void api_fail(const char *what, const char *detail);

/* Loads part `part` of `parts` of the file(s) that args describe. */
typedef mlp_status (*api_part_loader)(mlp_dataset **out, const void *args, size_t part,
                                      size_t parts);
/* Aborts unless parts 0..parts-1 concatenated are the whole load (whole,
 * its status sw), or, when the whole load failed, some part fails or every
 * part is empty; a whole load refused as MLP_ERR_TOO_LARGE is skipped,
 * since the part loaders take no bound (fuzz/data_parts.c). */
void api_check_parts(const mlp_dataset *whole, mlp_status sw, api_part_loader load,
                     const void *args, size_t parts, const char *call);

#endif
