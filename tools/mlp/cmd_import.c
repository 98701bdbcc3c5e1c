/* mlp import FILE.onnx -o MODEL: an ONNX chain of dense layers as a model. */
#include "cli.h"
#include "onnx.h"

int cmd_import(int argc, char **argv)
{
    const char *out = NULL, *pos[1];
    cli_opt opts[] = {{"out", 'o', CLI_STR, &out, "MODEL", "the model file to write (required)", 0},
                      {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0}};
    size_t n_pos;
    int help, rc;
    mlp_network *net = NULL;
    mlp_status st;

    rc = cli_parse("import", argc, argv, opts, pos, 1, &n_pos, &help);
    if (rc) return rc;
    if (help) {
        cli_usage(stdout, "import", "FILE.onnx -o MODEL",
                  "Reads an ONNX model that is a chain of dense layers (Gemm, or MatMul\n"
                  "and Add, each with a supported activation), as `mlp export` writes\n"
                  "it, and saves it as a libmlp model. Any other node is refused, by\n"
                  "name (see docs/ONNX.md).", opts);
        return 0;
    }
    if (n_pos != 1 || out == NULL)
        return cli_error(CLI_USAGE, "import", "needs an ONNX FILE and -o MODEL (see mlp import --help)");
#ifdef MLP_HAVE_ONNX
    if (cli_onnx_import("import", pos[0], &net)) return CLI_FAIL;
    st = mlp_save(net, out);
    mlp_destroy(net);
    if (st != MLP_OK) return cli_lib_error("import", out, st);
    return 0;
#else
    (void)net;
    (void)st;
    return cli_error(CLI_FAIL, "import",
                     "this mlp was built without ONNX support (it needs protobuf-c and onnx.proto: "
                     "libprotobuf-c-dev, protobuf-c-compiler and libonnx-dev); rebuild with them");
#endif
}
