/* mlp export --format c: a network as one dependency-free C99 source file
 * and its header (see docs/C_EXPORT.md). */
#ifndef MLP_CLI_EXPORT_C_H
#define MLP_CLI_EXPORT_C_H

#include <mlp.h>

/* Writes c_path and, beside it, the header (c_path with .h for its .c
 * suffix, or .h appended). prefix names the functions (a C identifier);
 * int8 != 0 stores the weights as int8 with a float scale per output row.
 * Returns 0, or CLI_FAIL after printing why as "mlp CMD: ...". */
int cli_export_c(const char *cmd, const mlp_network *net, const char *c_path, const char *prefix,
                 int int8);

#endif /* MLP_CLI_EXPORT_C_H */
