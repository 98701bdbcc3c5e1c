/* ONNX export and import of the `mlp` command line (onnx_export.c,
 * onnx_import.c). Built only when protobuf-c and Debian's onnx.proto are
 * found (MLP_HAVE_ONNX); the core library never depends on them. */
#ifndef MLP_CLI_ONNX_H
#define MLP_CLI_ONNX_H

#include <mlp.h>

/* Writes net as an ONNX model (opset 13) to path. Returns 0, or CLI_FAIL
 * after printing why as "mlp CMD: ...". */
int cli_onnx_export(const char *cmd, const mlp_network *net, const char *path);

/* Reads an ONNX model that is a chain of dense layers (see docs/ONNX.md)
 * into a new network (*out, owned by the caller). Returns 0, or CLI_FAIL
 * after printing why, naming the first node it cannot map. The file is
 * untrusted: every size and count in it is checked. */
int cli_onnx_import(const char *cmd, const char *path, mlp_network **out);

#endif /* MLP_CLI_ONNX_H */
