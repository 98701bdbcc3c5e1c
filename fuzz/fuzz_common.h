/* Checks shared by the data reader fuzzers. */
#ifndef MLP_FUZZ_COMMON_H
#define MLP_FUZZ_COMMON_H

#include "mlp.h"

/* Aborts with a message if a loaded data set is inconsistent (shared with
 * the API fuzzer: fuzz/api_check.c). */
void api_check_dataset(const mlp_dataset *ds, const char *call);
void api_status(mlp_status st, const char *call);
void api_fail(const char *what, const char *detail);

#endif
